"""Commands that write or describe an index: index, delete, rollback, stats."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from newssearch import indexer, store
from newssearch.articles import Problem
from newssearch.cli import backends
from newssearch.cli.backends import Target
from newssearch.cli.common import INDEX_OPTION, WAIT_OPTION, listed, plural, progress_printer


def _echo_removals(report: indexer.BuildReport) -> None:
    for r in report.removals:
        click.echo(f"Removed {plural(len(r.ids), 'article')} from {r.origin} ({r.why}): "
                   f"{listed(r.ids)}")
    for s in report.spared:
        click.echo(f"Kept {plural(len(s.ids), 'article')} of {s.origin}: the file could not be "
                   f"read in full this time (see the warnings), so it was not trusted to "
                   f"remove them: {listed(s.ids)}")


@click.command("index")
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@INDEX_OPTION
@click.option("--update", is_flag=True,
              help="Add new and changed articles; remove only those their own file no longer "
                   "holds.")
@click.option("--force", is_flag=True,
              help="Rebuild even if the new index would hold less than half the live one.")
@click.option("--if-outdated", is_flag=True,
              help="Build only if there is no index, or if an older newssearch built it from "
                   "these same sources (scripts/run uses this for its demo index).")
@click.option("--procs", type=click.IntRange(1, 64), default=indexer.DEFAULT_PROCS,
              show_default=True, help="Indexing processes for a full rebuild.")
@click.option("--shards", type=click.IntRange(1, 1024), default=1, show_default=True,
              help="Primary shards of a cluster index (about one per 10 to 30 GB).")
@click.option("--replicas", type=click.IntRange(0, 16), default=1, show_default=True,
              help="Copies of each shard on other nodes of a cluster, once it is built.")
@WAIT_OPTION
def index_command(sources: tuple[Path, ...], index_dir: Target, update: bool, force: bool,
                  if_outdated: bool, procs: int, shards: int, replicas: int,
                  wait: float) -> None:
    """Build the index of SOURCES (files or directories; default: seeds/).

    A rebuild is written beside the live index and swapped in at the end, so the
    old index keeps serving until then, and stays if the build fails; `newssearch
    rollback` puts it back. --update adds and replaces the articles it reads, and
    removes an article only when the file it came from was read again and no
    longer holds it, or has gone from a directory that was read again.

    On a cluster (--index opensearch+http://host:9200/NAME) a rebuild loads a new
    index NAME-<timestamp> and moves the alias NAME onto it; --update and delete
    change the live index in place.

    Example:

        newssearch index ~/articles --index /srv/newssearch
        newssearch index today.jsonl --index /srv/newssearch --update
        newssearch index ~/articles --index opensearch+https://search:9200/news --shards 4
    """
    sources = sources or (Path("seeds"),)

    def warn(problem: Problem) -> None:
        click.echo(f"warning: {problem}", err=True)

    try:
        if if_outdated:
            reason = backends.outdated(index_dir, sources)
            if reason is None:
                return
            click.echo(reason, err=True)
        if update and not backends.built(index_dir):
            click.echo(f"No index in {index_dir} yet: building it in full.", err=True)
            update = False
        if update:
            report = backends.update(sources, index_dir, on_problem=warn, wait=wait,
                                     progress=progress_printer("Updating"))
        else:
            report = backends.rebuild(sources, index_dir, on_problem=warn, procs=procs,
                                      wait=wait, shards=shards, replicas=replicas,
                                      progress=progress_printer("Indexing"), force=force)
    except (indexer.BuildError, store.IndexUnavailable, store.IndexBusy) as e:
        raise click.ClickException(str(e)) from e
    for name in report.leftovers:
        click.echo(f"Removed {name}, left behind by an interrupted build.", err=True)
    if update:
        moved = f"{report.moved} moved from another file, " if report.moved else ""
        click.echo(f"Updated {index_dir}: {report.added} added, {report.changed} changed, "
                   f"{moved}{report.removed} removed in {report.seconds:.2f} s "
                   f"({plural(report.documents, 'article')} in the index).")
        _echo_removals(report)
    else:
        click.echo(f"Indexed {report.indexed} articles in {report.seconds:.2f} s "
                   f"({report.rate:.0f} articles/s) into {index_dir}.")
        if report.pushed:
            click.echo(f"Kept {plural(report.pushed, 'article')} pushed through the write API "
                       "(they have no file to be rebuilt from; delete them by id).")
    if report.skipped:
        reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(report.skipped.items()))
        click.echo(f"Skipped or flagged: {reasons}.")


@click.command()
@click.argument("ids", nargs=-1, required=True)
@INDEX_OPTION
@WAIT_OPTION
def delete(ids: tuple[str, ...], index_dir: Target, wait: float) -> None:
    """Remove the articles with these IDS from the index (- reads ids from standard input).

    The change is a new generation: `newssearch rollback` undoes it.

    Example:

        newssearch delete afp-123 afp-124 --index /srv/newssearch
        cut -f1 retracted.tsv | newssearch delete - --index /srv/newssearch
    """
    wanted = [i for arg in ids for i in (sys.stdin.read().split() if arg == "-" else [arg])]
    try:
        report = backends.delete(wanted, index_dir, wait=wait)
    except (indexer.BuildError, store.IndexUnavailable, store.IndexBusy) as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"Deleted {plural(report.removed, 'article')} from {index_dir} "
               f"({plural(report.documents, 'article')} left) in {report.seconds:.2f} s.")
    if report.unknown:
        click.echo(f"Not in the index, so not deleted: {listed(report.unknown, 20)}", err=True)


@click.command()
@INDEX_OPTION
@WAIT_OPTION
def rollback(index_dir: Target, wait: float) -> None:
    """Put back the generation that served before the last rebuild, update or delete.

    The swap is atomic, as a rebuild's; the generation replaced is kept, so a
    second rollback undoes the first. On a cluster, updates and deletes change the
    live index in place: rollback puts back the index of the rebuild before.

    Example:

        newssearch rollback --index /srv/newssearch
    """
    try:
        restored, now, replaced, before = backends.rollback(index_dir, wait=wait)
    except (store.IndexUnavailable, store.IndexBusy) as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"Rolled back {index_dir}: {restored} ({plural(now.documents, 'article')}, "
               f"built {now.built_at}) is live again; {replaced} "
               f"({plural(before.documents, 'article')}) is kept as the previous generation.")


@click.command()
@INDEX_OPTION
def stats(index_dir: Target) -> None:
    """Describe the index: documents, sections, sources, dates, size, version.

    Example:

        newssearch stats --index index
    """
    try:
        s = backends.stats(index_dir)
    except store.IndexUnavailable as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"Index:          {s.path}")
    click.echo(f"Documents:      {s.documents}")
    click.echo(f"Dates:          {s.first_date or '—'} to {s.last_date or '—'}")
    click.echo(f"Size on disk:   {s.size_bytes / 1e6:.1f} MB")
    click.echo(f"Schema version: {s.schema_version}")
    click.echo(f"Built:          {s.built_at}")
    click.echo("Sections:       " + ", ".join(f"{k} ({n})" for k, n in s.sections))
    click.echo("Sources:        " + ", ".join(f"{k} ({n})" for k, n in s.sources[:10])
               + (f" and {len(s.sources) - 10} more" if len(s.sources) > 10 else ""))
    for n, g in enumerate(s.generations):
        click.echo(f"{'Generations:' if n == 0 else '':<16}{g.name} ({g.role}, "
                   f"{plural(g.documents, 'article')}, built {g.built_at})")


