"""OpenSearch analysis settings as the spec tests/lucene/Analyze.java builds analyzers from.

Each OpenSearch component type is mapped onto the Lucene factory OpenSearch itself
wraps, and each parameter onto that factory's argument; a parameter not known here
fails, so a new setting in mapping.py cannot be silently left out of the parity test.
"""

from __future__ import annotations

from pathlib import Path

# OpenSearch type -> Lucene SPI name (stemmer: the language's Snowball filter).
SPI = {
    "mapping": "mapping", "pattern": "pattern", "whitespace": "whitespace",
    "standard": "standard", "word_delimiter_graph": "wordDelimiterGraph",
    "flatten_graph": "flattenGraph", "lowercase": "lowercase", "asciifolding": "asciiFolding",
    "pattern_replace": "patternReplace", "length": "length", "stop": "stop",
    "keyword_marker": "keywordMarker", "stemmer": "snowballPorter",
}
# Parameters written as files (a list in OpenSearch, a resource file for Lucene).
FILES = {"mappings": "mapping", "type_table": "types", "stopwords": "words"}
# OpenSearch's defaults that Lucene's factories require spelled out.
REQUIRED = {"length": {"max": "2147483647"}}
_FLAGS = {"word_delimiter_graph"}  # booleans as 1/0 for this factory, true/false elsewhere


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _mapping_rule(rule: str) -> str:
    """``\\u2019 => '`` as Lucene's mapping file writes it: ``"\\u2019" => "'"``."""
    source, target = (side.strip() for side in rule.split("=>"))
    return f'"{source}" => "{target}"'


def _arguments(kind: str, spec: dict, name: str, folder: Path) -> list[str]:
    """key=value arguments of a Lucene factory, writing list parameters to files."""
    args = dict(REQUIRED.get(kind, {}))
    for key, value in spec.items():
        if key == "type":
            continue
        if key in FILES:
            lines = [_mapping_rule(r) for r in value] if key == "mappings" else value
            path = folder / f"{name}.{key}.txt"
            path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
            args[FILES[key]] = path.name
        elif kind == "stemmer" and key == "language":
            args["language"] = value.capitalize()
        elif kind == "keyword_marker" and key == "keywords_pattern":
            args["pattern"] = value
        elif kind == "pattern_replace" and key == "all":
            args["replace"] = "all" if value else "first"
        elif isinstance(value, bool):
            args[_camel(key)] = ("1" if value else "0") if kind in _FLAGS else str(value).lower()
        elif isinstance(value, (str, int)):
            args[_camel(key)] = str(value)
        else:
            raise ValueError(f"{name}: no Lucene argument for {key}={value!r}")
    if any("\t" in v or "\n" in v for v in args.values()):
        raise ValueError(f"{name}: a tab or newline cannot go in the spec")
    return [f"{key}={value}" for key, value in sorted(args.items())]


def _component(role: str, name: str, defined: dict, folder: Path) -> str:
    spec = defined.get(name, {"type": name})  # a built-in, named by its type
    kind = spec["type"]
    if kind not in SPI:
        raise ValueError(f"{name}: no Lucene factory for OpenSearch type {kind}")
    return "\t".join([role, SPI[kind], *_arguments(kind, spec, name, folder)])


def write(settings: dict, folder: Path) -> Path:
    """Write the custom analyzers of ``settings["analysis"]`` as a spec; return its path."""
    chain = settings["analysis"]
    lines = []
    for name, analyzer in chain["analyzer"].items():
        if analyzer["type"] != "custom":
            raise ValueError(f"{name}: only custom analyzers are built from components")
        lines.append(f"analyzer\t{name}")
        for part in analyzer.get("char_filter", []):
            lines.append(_component("charfilter", part, chain.get("char_filter", {}), folder))
        lines.append(_component("tokenizer", analyzer["tokenizer"], chain.get("tokenizer", {}),
                                folder))
        for part in analyzer.get("filter", []):
            lines.append(_component("filter", part, chain.get("filter", {}), folder))
        lines.append("end")
    path = folder / "analyzers.spec"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path

