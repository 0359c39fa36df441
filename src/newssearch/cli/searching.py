"""Commands that read an index: search, evaluate, serve."""

from __future__ import annotations

import html
import json
import os
import re
import sys
from pathlib import Path

import click

from newssearch import notices, store
from newssearch.cli import backends
from newssearch.cli.backends import Target
from newssearch.cli.common import INDEX_OPTION, progress_printer
from newssearch.evaluation import EvaluationInputError, load_qrels, load_queries
from newssearch.evaluation import evaluate as run_evaluation
from newssearch.records import SORTS, SearchRequest

_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


def _terminal(fragment: str, colour: bool) -> str:
    """Turn marked HTML into terminal text, marks in bold yellow when colour is on."""
    def show(m: re.Match) -> str:
        return click.style(m.group(1), fg="yellow", bold=True) if colour else m.group(1)
    return html.unescape(_MARK.sub(show, fragment))


@click.command()
@click.argument("query")
@INDEX_OPTION
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Results per page.")
@click.option("--page", type=click.IntRange(1, 1000), default=1, show_default=True)
@click.option("--sort", type=click.Choice(list(SORTS)), default="relevance",
              show_default=True, help="date: newest first; date_asc: oldest first.")
@click.option("--section", "sections", multiple=True, help="Only this section (repeatable: any).")
@click.option("--source", "sources", multiple=True, help="Only this source (repeatable: any).")
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON response body.")
def search(query: str, index_dir: Target, limit: int, page: int, sort: str,
           sections: tuple[str, ...], sources: tuple[str, ...], as_json: bool) -> None:
    """Search the index for QUERY.

    Example:

        newssearch search 'reforme des retraites -greve' --sort date
    """
    try:
        service = backends.service(index_dir)
        result = service.search(SearchRequest(q=query, page=page, per_page=limit, sort=sort,
                                              sections=sections, sources=sources))
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
    if result.corrected_from and result.suggestion:
        click.echo(f"  {notices.corrected(result.corrected_from, result.suggestion.text)}")
    elif result.suggestion:
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


@click.command()
@click.argument("queries", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("qrels", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@INDEX_OPTION
@click.option("--run", "run_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a TREC run file here.")
@click.option("--k", type=click.IntRange(10, 100), default=100, show_default=True,
              help="Results ranked per query: the depth of recall, R@k.")
def evaluate(queries: Path, qrels: Path, index_dir: Target, run_path: Path | None,
             k: int) -> None:
    """Measure relevance on judged QUERIES (jsonl) with QRELS (tsv): nDCG@10, MRR@10, R@k.

    Example:

        newssearch evaluate eval/piaf/queries.jsonl eval/piaf/qrels.tsv --index piaf-index
    """
    try:
        judged = load_queries(queries)
        judgements = load_qrels(qrels)
        service = backends.service(index_dir)
        service.snapshot()
    except (EvaluationInputError, store.IndexUnavailable) as e:
        raise click.ClickException(str(e)) from e

    def search_ids(text: str, limit: int) -> list[str]:
        request = SearchRequest(q=text, per_page=limit, collapse=False, highlight=False,
                                facets=False)
        return [hit.id for hit in service.search(request).hits]

    report = run_evaluation(search_ids, judged, judgements, k=k, run_path=run_path,
                            progress=progress_printer("Evaluating"))
    click.echo(f"Queries:    {report.queries} ({report.unjudged} without judgements skipped)")
    click.echo(f"nDCG@10:    {report.ndcg10:.4f}")
    click.echo(f"MRR@10:     {report.mrr10:.4f}")
    click.echo(f"{'R@' + str(report.k) + ':':<12}{report.recall:.4f}")
    if run_path:
        click.echo(f"Run file:   {run_path}")


@click.command()
@INDEX_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=os.cpu_count() or 1,
              show_default=True, help="Server processes (one per core).")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Worker threads per process.")
@click.option("--api-key-file", type=click.Path(dir_okay=False, path_type=Path),
              envvar="NEWSSEARCH_API_KEY_FILE",
              help="Keys that may write, one a line (env NEWSSEARCH_API_KEY_FILE); without it "
                   "the write API does not exist.")
@click.option("--write-wait", type=click.FloatRange(0.1, 600), default=10.0, show_default=True,
              help="Seconds a write waits for another indexer before it is refused (503).")
def serve(index_dir: Target, host: str, port: int, workers: int, threads: int,
          api_key_file: Path | None, write_wait: float) -> None:
    """Serve the search page and the JSON API with waitress.

    With --api-key-file, POST /api/articles, PUT and DELETE /api/articles/ID take
    articles pushed with `Authorization: Bearer KEY`.

    Example:

        newssearch serve --index index --port 8000 --workers 2
        newssearch serve --index /srv/newssearch --api-key-file /etc/newssearch/keys
    """
    from newssearch import ingest, server
    from newssearch.apikeys import ApiKeys, KeysUnreadable
    from newssearch.web import create_app

    # The location itself, not its text: its text leaves the password out.
    config: dict[str, object] = {"INDEX_DIR": index_dir, "WRITE_WAIT": write_wait}
    if api_key_file is not None:
        try:
            ApiKeys(api_key_file)
        except KeysUnreadable as e:
            raise click.ClickException(str(e)) from e
        config["API_KEY_FILE"] = str(api_key_file)
        try:  # writes a killed server had spooled (a cluster's are never spooled)
            if isinstance(index_dir, Path):
                ingest.drain(index_dir, wait=write_wait)
        except (store.IndexUnavailable, store.IndexBusy) as e:
            click.echo(f"warning: pending writes not committed yet: {e}", err=True)
    try:
        sock = server.listen(host, port)
    except OSError as e:
        raise click.ClickException(f"cannot listen on {host}:{port}: {e}") from e
    port = sock.getsockname()[1]
    writes = ", writes with a key" if api_key_file else ""
    click.echo(f"Serving {index_dir} on http://{host}:{port}/ with {workers} process(es) "
               f"of {threads} threads{writes} (Ctrl-C to stop)", err=True)

    def make_app():
        app = create_app(config)
        app.extensions["newssearch"].warm_up()
        return app

    server.serve(make_app, sock, workers, threads)
