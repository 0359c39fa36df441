"""The ``newssearch`` command: index, delete, rollback, stats, search, evaluate, serve."""

from __future__ import annotations

import os
import sys

import click

from newssearch.cli import indexing, searching
from newssearch.cli.mapping import mapping


@click.group()
@click.version_option(package_name="newssearch")
def cli() -> None:
    """Full-text search for French news."""


for command in (indexing.index_command, indexing.delete, indexing.rollback, indexing.stats,
                searching.search, searching.evaluate, searching.serve):
    cli.add_command(command)
cli.add_command(mapping)


def main() -> None:  # pragma: no cover - for `python -m newssearch`
    cli(prog_name=os.path.basename(sys.argv[0]) or "newssearch")
