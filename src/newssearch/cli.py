"""The ``newssearch`` command: index, stats, search, serve."""

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
    """Return a progress callback: a bar on a terminal, a line per 10 % otherwise."""
    state = {"bar": None, "shown": -1}

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            if state["bar"] is None:
                state["bar"] = click.progressbar(length=total, label=label, file=sys.stderr)
                state["bar"].__enter__()
            state["bar"].update(1)
            if done == total:
                state["bar"].__exit__(None, None, None)
        else:
            tenth = done * 10 // total
            if tenth != state["shown"]:
                state["shown"] = tenth
                click.echo(f"{label}: {done}/{total}", err=True)

    return progress


@cli.command("index")
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@INDEX_OPTION
@click.option("--update", is_flag=True, help="Add new and changed articles, drop vanished ones.")
@click.option("--procs", type=click.IntRange(1, 64), default=indexer.DEFAULT_PROCS,
              show_default=True, help="Indexing processes for a full rebuild.")
@click.option("--wait", type=click.FloatRange(0), default=10.0, show_default=True,
              help="Seconds to wait for another running indexer.")
def index_command(sources: tuple[Path, ...], index_dir: Path, update: bool, procs: int,
                  wait: float) -> None:
    """Build the index of SOURCES (files or directories; default: seeds/).

    A rebuild is written beside the live index and swapped in at the end, so the
    old index keeps serving until then, and stays if the build fails.

    Example:

        newssearch index ~/articles --index /srv/newssearch
    """
    sources = sources or (Path("seeds"),)

    def warn(problem: Problem) -> None:
        click.echo(f"warning: {problem}", err=True)

    if update and store.current_generation(index_dir) is None:
        click.echo(f"No index in {index_dir} yet: building it in full.", err=True)
        update = False
    try:
        if update:
            report = indexer.update(sources, index_dir, on_problem=warn, wait=wait,
                                    progress=_progress_printer("Updating"))
        else:
            report = indexer.rebuild(sources, index_dir, on_problem=warn, procs=procs, wait=wait,
                                     progress=_progress_printer("Indexing"))
    except (indexer.BuildError, store.IndexUnavailable, store.IndexBusy) as e:
        raise click.ClickException(str(e)) from e
    for name in report.leftovers:
        click.echo(f"Removed {name}, left behind by an interrupted build.", err=True)
    if update:
        click.echo(f"Updated {index_dir}: {report.added} added, {report.changed} changed, "
                   f"{report.removed} removed in {report.seconds:.2f} s.")
    else:
        click.echo(f"Indexed {report.indexed} articles in {report.seconds:.2f} s "
                   f"({report.rate:.0f} articles/s) into {index_dir}.")
    if report.skipped:
        reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(report.skipped.items()))
        click.echo(f"Skipped or flagged: {reasons}.")


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
              help="Results kept per query.")
def evaluate(queries: Path, qrels: Path, index_dir: Path, run_path: Path | None,
             k: int) -> None:
    """Measure relevance on judged QUERIES (jsonl) with QRELS (tsv): nDCG@10, MRR@10, R@100.

    Example:

        newssearch evaluate eval/piaf/queries.jsonl eval/piaf/qrels.tsv --index piaf-index
    """
    try:
        judged = load_queries(queries)
        judgements = load_qrels(qrels)
        service = SearchService(index_dir)
        service.generation()
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
    click.echo(f"Recall@100: {report.recall100:.4f}")
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
