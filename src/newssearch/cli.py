"""The ``newssearch`` command: index, delete, rollback, stats, search, evaluate, serve."""

from __future__ import annotations

import html
import json
import os
import re
import sys
from pathlib import Path

import click

from newssearch import indexer, store
from newssearch.corpus import Problem
from newssearch.evaluation import EvaluationInputError, load_qrels, load_queries
from newssearch.evaluation import evaluate as run_evaluation
from newssearch.records import SearchRequest
from newssearch.search import SearchService

INDEX_OPTION = click.option(
    "--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
    default=Path("index"), envvar="NEWSSEARCH_INDEX", show_default=True,
    help="Index directory (env NEWSSEARCH_INDEX).")


@click.group()
@click.version_option(package_name="newssearch")
def cli() -> None:
    """Full-text search for French news."""


def _progress_printer(label: str):
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


def _ids(ids: tuple[str, ...], limit: int = 5) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit:,} more" if len(ids) > limit else "")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' if n != 1 else ''}"


def _echo_removals(report: indexer.BuildReport) -> None:
    for r in report.removals:
        click.echo(f"Removed {_plural(len(r.ids), 'article')} from {r.origin} ({r.why}): "
                   f"{_ids(r.ids)}")
    for s in report.spared:
        click.echo(f"Kept {_plural(len(s.ids), 'article')} of {s.origin}: the file could not be "
                   f"read in full this time (see the warnings), so it was not trusted to "
                   f"remove them: {_ids(s.ids)}")


@cli.command("index")
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
@click.option("--wait", type=click.FloatRange(0), default=10.0, show_default=True,
              help="Seconds to wait for another running indexer.")
def index_command(sources: tuple[Path, ...], index_dir: Path, update: bool, force: bool,
                  if_outdated: bool, procs: int, wait: float) -> None:
    """Build the index of SOURCES (files or directories; default: seeds/).

    A rebuild is written beside the live index and swapped in at the end, so the
    old index keeps serving until then, and stays if the build fails; `newssearch
    rollback` puts it back. --update adds and replaces the articles it reads, and
    removes an article only when the file it came from was read again and no
    longer holds it, or has gone from a directory that was read again.

    Example:

        newssearch index ~/articles --index /srv/newssearch
        newssearch index today.jsonl --index /srv/newssearch --update
    """
    sources = sources or (Path("seeds"),)

    def warn(problem: Problem) -> None:
        click.echo(f"warning: {problem}", err=True)

    if if_outdated:
        reason = indexer.outdated(index_dir, sources)
        if reason is None:
            return
        click.echo(reason, err=True)
    if update and store.current_generation(index_dir) is None:
        click.echo(f"No index in {index_dir} yet: building it in full.", err=True)
        update = False
    try:
        if update:
            report = indexer.update(sources, index_dir, on_problem=warn, wait=wait,
                                    progress=_progress_printer("Updating"))
        else:
            report = indexer.rebuild(sources, index_dir, on_problem=warn, procs=procs, wait=wait,
                                     progress=_progress_printer("Indexing"), force=force)
    except (indexer.BuildError, store.IndexUnavailable, store.IndexBusy) as e:
        raise click.ClickException(str(e)) from e
    for name in report.leftovers:
        click.echo(f"Removed {name}, left behind by an interrupted build.", err=True)
    if update:
        moved = f"{report.moved} moved from another file, " if report.moved else ""
        click.echo(f"Updated {index_dir}: {report.added} added, {report.changed} changed, "
                   f"{moved}{report.removed} removed in {report.seconds:.2f} s "
                   f"({_plural(report.documents, 'article')} in the index).")
        _echo_removals(report)
    else:
        click.echo(f"Indexed {report.indexed} articles in {report.seconds:.2f} s "
                   f"({report.rate:.0f} articles/s) into {index_dir}.")
    if report.skipped:
        reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(report.skipped.items()))
        click.echo(f"Skipped or flagged: {reasons}.")


@cli.command()
@click.argument("ids", nargs=-1, required=True)
@INDEX_OPTION
@click.option("--wait", type=click.FloatRange(0), default=10.0, show_default=True,
              help="Seconds to wait for another running indexer.")
def delete(ids: tuple[str, ...], index_dir: Path, wait: float) -> None:
    """Remove the articles with these IDS from the index (- reads ids from standard input).

    The change is a new generation: `newssearch rollback` undoes it.

    Example:

        newssearch delete afp-123 afp-124 --index /srv/newssearch
        cut -f1 retracted.tsv | newssearch delete - --index /srv/newssearch
    """
    wanted = [i for arg in ids for i in (sys.stdin.read().split() if arg == "-" else [arg])]
    try:
        report = indexer.delete(wanted, index_dir, wait=wait)
    except (indexer.BuildError, store.IndexUnavailable, store.IndexBusy) as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"Deleted {_plural(report.removed, 'article')} from {index_dir} "
               f"({_plural(report.documents, 'article')} left) in {report.seconds:.2f} s.")
    if report.unknown:
        click.echo(f"Not in the index, so not deleted: {_ids(report.unknown, 20)}", err=True)


@cli.command()
@INDEX_OPTION
@click.option("--wait", type=click.FloatRange(0), default=10.0, show_default=True,
              help="Seconds to wait for another running indexer.")
def rollback(index_dir: Path, wait: float) -> None:
    """Put back the generation that served before the last rebuild, update or delete.

    The swap is atomic, as a rebuild's; the generation replaced is kept, so a
    second rollback undoes the first.

    Example:

        newssearch rollback --index /srv/newssearch
    """
    try:
        restored, replaced = indexer.rollback(index_dir, wait=wait)
    except (store.IndexUnavailable, store.IndexBusy) as e:
        raise click.ClickException(str(e)) from e
    now, before = store.IndexMeta.read(restored), store.IndexMeta.read(replaced)
    click.echo(f"Rolled back {index_dir}: {restored.name} ({_plural(now.documents, 'article')}, "
               f"built {now.built_at}) is live again; {replaced.name} "
               f"({_plural(before.documents, 'article')}) is kept as the previous generation.")


@cli.command()
@INDEX_OPTION
def stats(index_dir: Path) -> None:
    """Describe the index: documents, sections, sources, dates, size, version.

    Example:

        newssearch stats --index index
    """
    try:
        s = indexer.stats(index_dir)
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
                   f"{_plural(g.documents, 'article')}, built {g.built_at})")


_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


def _terminal(fragment: str, colour: bool) -> str:
    """Turn marked HTML into terminal text, marks in bold yellow when colour is on."""
    def show(m: re.Match) -> str:
        return click.style(m.group(1), fg="yellow", bold=True) if colour else m.group(1)
    return html.unescape(_MARK.sub(show, fragment))


@cli.command()
@click.argument("query")
@INDEX_OPTION
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Results per page.")
@click.option("--page", type=click.IntRange(1, 1000), default=1, show_default=True)
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance",
              show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON response body.")
def search(query: str, index_dir: Path, limit: int, page: int, sort: str,
           as_json: bool) -> None:
    """Search the index for QUERY.

    Example:

        newssearch search 'reforme des retraites -greve' --sort date
    """
    try:
        service = SearchService(index_dir)
        result = service.search(SearchRequest(q=query, page=page, per_page=limit, sort=sort))
    except store.IndexUnavailable as e:
        raise click.ClickException(str(e)) from e
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False))
        return
    colour = sys.stdout.isatty()
    click.echo(f"{result.total} résultat{'s' if result.total != 1 else ''} "
               f"({result.took_ms / 1000:.3f} s) pour « {result.query} »")
    for notice in result.notices:
        click.echo(f"  {notice}")
    if result.suggestion:
        click.echo(f"  Essayez avec l’orthographe : {result.suggestion.text} "
                   f"({result.suggestion.total})")
    for n, hit in enumerate(result.hits, (page - 1) * limit + 1):
        meta = " · ".join(x for x in (hit.date.isoformat() if hit.date else "", hit.source,
                                      hit.section) if x)
        dups = f"  (+ {hit.duplicates} similaires)" if hit.duplicates else ""
        click.echo(f"\n{n}. {_terminal(hit.title_html, colour)}{dups}")
        click.echo(f"   {meta}  [{hit.id}]")
        click.echo(f"   {_terminal(hit.snippet_html, colour)}")
    if result.pages > page:
        click.echo(f"\nPage {page}/{result.pages} — suivante : --page {page + 1}")


@cli.command()
@click.argument("queries", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("qrels", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@INDEX_OPTION
@click.option("--run", "run_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a TREC run file here.")
@click.option("--k", type=click.IntRange(10, 100), default=100, show_default=True,
              help="Results ranked per query: the depth of recall, R@k.")
def evaluate(queries: Path, qrels: Path, index_dir: Path, run_path: Path | None,
             k: int) -> None:
    """Measure relevance on judged QUERIES (jsonl) with QRELS (tsv): nDCG@10, MRR@10, R@k.

    Example:

        newssearch evaluate eval/piaf/queries.jsonl eval/piaf/qrels.tsv --index piaf-index
    """
    try:
        judged = load_queries(queries)
        judgements = load_qrels(qrels)
        service = SearchService(index_dir)
        service.snapshot()
    except (EvaluationInputError, store.IndexUnavailable) as e:
        raise click.ClickException(str(e)) from e

    def search_ids(text: str, limit: int) -> list[str]:
        request = SearchRequest(q=text, per_page=limit, collapse=False, highlight=False,
                                facets=False)
        return [hit.id for hit in service.search(request).hits]

    report = run_evaluation(search_ids, judged, judgements, k=k, run_path=run_path,
                            progress=_progress_printer("Evaluating"))
    click.echo(f"Queries:    {report.queries} ({report.unjudged} without judgements skipped)")
    click.echo(f"nDCG@10:    {report.ndcg10:.4f}")
    click.echo(f"MRR@10:     {report.mrr10:.4f}")
    click.echo(f"{'R@' + str(report.k) + ':':<12}{report.recall:.4f}")
    if run_path:
        click.echo(f"Run file:   {run_path}")


@cli.command()
@INDEX_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=os.cpu_count() or 1,
              show_default=True, help="Server processes (one per core).")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Worker threads per process.")
def serve(index_dir: Path, host: str, port: int, workers: int, threads: int) -> None:
    """Serve the search page and the JSON API with waitress.

    Example:

        newssearch serve --index index --port 8000 --workers 2
    """
    from newssearch import server
    from newssearch.web import create_app

    try:
        sock = server.listen(host, port)
    except OSError as e:
        raise click.ClickException(f"cannot listen on {host}:{port}: {e}") from e
    port = sock.getsockname()[1]
    click.echo(f"Serving {index_dir} on http://{host}:{port}/ with {workers} process(es) "
               f"of {threads} threads (Ctrl-C to stop)", err=True)

    def make_app():
        app = create_app({"INDEX_DIR": str(index_dir)})
        app.extensions["newssearch"].warm_up()
        return app

    server.serve(make_app, sock, workers, threads)


def main() -> None:  # pragma: no cover - for `python -m newssearch`
    cli(prog_name=os.path.basename(sys.argv[0]) or "newssearch")
