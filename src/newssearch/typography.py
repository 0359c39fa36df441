"""French typography on rendered HTML: no-break spaces where French puts them."""

from __future__ import annotations

import re

from markupsafe import Markup

_TAG = re.compile(r"(<[^>]*>)")
_SPACES = "[ \t\r\n]+"
# A thin no-break space before ; ! ? and a no-break space before : and inside « »,
# as the Imprimerie nationale's rules have it; none of them may start a line.
_RULES = (
    (re.compile(_SPACES + r"(?=[;!?])"), "\u202f"),
    (re.compile(_SPACES + r"(?=:)"), "\u00a0"),
    (re.compile("«" + _SPACES), "«\u00a0"),
    (re.compile(_SPACES + "»"), "\u00a0»"),
)


def french_spaces(html: str) -> Markup:
    """Put no-break spaces in the text of ``html``, never inside its tags or attributes."""
    parts = _TAG.split(str(html))
    for i in range(0, len(parts), 2):  # even parts are text, odd ones tags
        text = parts[i]
        for pattern, space in _RULES:
            text = pattern.sub(space, text)
        parts[i] = text
    return Markup("".join(parts))

