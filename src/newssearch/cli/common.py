"""What the commands share: the --index (a directory or a cluster) and --wait options,
progress, plural and lists."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from newssearch.opensearch import connection
from newssearch.opensearch.connection import Location


class IndexLocation(click.ParamType):
    """An index directory, or a cluster index: ``opensearch+http(s)://…/NAME``."""

    name = "DIRECTORY|opensearch+URL"

    def convert(self, value, param, ctx) -> Path | Location:
        if isinstance(value, Path | Location):
            return value
        if connection.is_location(value):
            try:
                return connection.parse(value)
            except ValueError as e:
                self.fail(str(e), param, ctx)
        path = Path(value)
        if path.exists() and not path.is_dir():
            self.fail(f"{value} is a file, not an index directory.", param, ctx)
        return path


INDEX_OPTION = click.option(
    "--index", "index_dir", type=IndexLocation(), default="index", envvar="NEWSSEARCH_INDEX",
    show_default=True,
    help="Index directory, or opensearch+http(s)://[user:password@]host:port/NAME for a "
         "cluster index (env NEWSSEARCH_INDEX).")

WAIT_OPTION = click.option(
    "--wait", type=click.FloatRange(0), default=10.0, show_default=True,
    help="Seconds to wait for another running indexer.")


def progress_printer(label: str):
    """Return a progress callback: a bar counting articles on a terminal, a line per 10 %
    otherwise."""
    state = {"bar": None, "shown": -1, "done": 0}

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            if state["bar"] is None:
                state["bar"] = click.progressbar(length=total, label=label, file=sys.stderr,
                                                 show_pos=True)
                state["bar"].__enter__()
            # Callers report how many are done, not one step per call.
            state["bar"].update(done - state["done"])
            state["done"] = done
            if done == total:
                state["bar"].__exit__(None, None, None)
        else:
            tenth = done * 10 // total
            if tenth != state["shown"]:
                state["shown"] = tenth
                click.echo(f"{label}: {done}/{total}", err=True)

    return progress


def listed(ids: tuple[str, ...], limit: int = 5) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit:,} more" if len(ids) > limit else "")


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' if n != 1 else ''}"


