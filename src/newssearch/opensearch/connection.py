"""Where a cluster index lives: the ``opensearch+http(s)://`` location and its client.

An index location is a directory (the embedded Whoosh index) or
``opensearch+http(s)://[user:password@]host:port/NAME[?analysis=builtin]``, where NAME
is the alias searches go through. ``analysis=builtin`` uses OpenSearch's own
``french`` analyzer, for clusters or test servers that cannot run our chain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from newssearch.store import IndexUnavailable

SCHEME = "opensearch+"
CUSTOM, BUILTIN = "custom", "builtin"
# OpenSearch index names: lowercase, no spaces, none of \ / * ? " < > | , # :
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,200}")


@dataclass(frozen=True)
class Location:
    """A cluster index: its server, its alias and how its text is analysed."""

    url: str                      # http(s)://host:port, without credentials
    alias: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    analysis: str = CUSTOM

    def __str__(self) -> str:
        """The location as typed, without the password."""
        user = f"{self.user}@" if self.user else ""
        scheme, rest = self.url.split("://", 1)
        query = f"?analysis={self.analysis}" if self.analysis != CUSTOM else ""
        return f"{SCHEME}{scheme}://{user}{rest}/{self.alias}{query}"


def is_location(text: str) -> bool:
    """Whether an index location names a cluster index rather than a directory."""
    return str(text).startswith(SCHEME)


def parse(text: str) -> Location:
    """Read an ``opensearch+http(s)://…/NAME`` location (ValueError saying what is wrong)."""
    if not is_location(text):
        raise ValueError(f"not an OpenSearch location: {text}")
    parts = urlsplit(text[len(SCHEME):])
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{text}: expected opensearch+http://host:port/NAME "
                         "or opensearch+https://…")
    name = parts.path.strip("/")
    if not _NAME.fullmatch(name):
        raise ValueError(f"{text}: NAME must be one lowercase index name "
                         "(letters, digits, - _ .), such as /news")
    analysis = parse_qs(parts.query).get("analysis", [CUSTOM])[-1]
    if analysis not in (CUSTOM, BUILTIN):
        raise ValueError(f"{text}: analysis is {CUSTOM} (the default) or {BUILTIN}")
    port = parts.port or (443 if parts.scheme == "https" else 9200)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return Location(f"{parts.scheme}://{host}:{port}", name,
                    unquote(parts.username) if parts.username else None,
                    unquote(parts.password) if parts.password else None, analysis)


def client(location: Location, timeout: float = 30.0):
    """An opensearch-py client for the location (not connected until first used)."""
    from opensearchpy import OpenSearch

    auth = (location.user, location.password or "") if location.user else None
    return OpenSearch(hosts=[location.url], http_auth=auth, timeout=timeout,
                      verify_certs=location.url.startswith("https"),
                      retry_on_timeout=True, max_retries=2)


def failure(location: Location, error: BaseException) -> IndexUnavailable:
    """The error of a cluster that is down, refuses us or lost the index: what to do."""
    from opensearchpy import exceptions as os_errors

    where = str(location)
    if isinstance(error, os_errors.ConnectionError):
        why = "the cluster does not answer; check that it runs and the address is right"
    elif isinstance(error, os_errors.AuthenticationException):
        why = "the cluster refused the credentials (user and password in the location)"
    elif isinstance(error, os_errors.AuthorizationException):
        why = "the cluster's user may not read or write this index"
    elif isinstance(error, os_errors.NotFoundError):
        why = f"the cluster holds no index {location.alias}; build it with: newssearch index"
    else:
        why = f"{type(error).__name__}: {error}"
    return IndexUnavailable(f"{where}: {why}")
