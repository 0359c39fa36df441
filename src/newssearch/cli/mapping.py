"""The ``mapping`` command: the index body, for operators who create indexes themselves."""

from __future__ import annotations

import json

import click

from newssearch.opensearch import connection
from newssearch.opensearch.mapping import index_body


@click.command("mapping")
@click.option("--shards", type=click.IntRange(1, 1024), default=1, show_default=True,
              help="Primary shards (number_of_shards).")
@click.option("--replicas", type=click.IntRange(0, 16), default=1, show_default=True,
              help="Copies of each shard (number_of_replicas).")
@click.option("--analysis", type=click.Choice([connection.CUSTOM, connection.BUILTIN]),
              default=connection.CUSTOM, show_default=True,
              help="Our French chain, or OpenSearch's built-in french analyzer (lower "
                   "quality, for clusters that cannot run the custom chain).")
def mapping(shards: int, replicas: int, analysis: str) -> None:
    """Print the OpenSearch index body (settings and mappings) as JSON.

    The analysis chain is generated from newssearch's own French analyzer (its stop
    list, elided articles and typographic characters). `newssearch index` creates
    its indexes with it; print it to create one by hand.

    Example:

    \b
        newssearch mapping --shards 4 --replicas 2 > body.json
        curl -XPUT localhost:9200/news-1 -H 'Content-Type: application/json' -d @body.json
    """
    body = index_body(shards=shards, replicas=replicas, analysis=analysis)
    click.echo(json.dumps(body, indent=2, ensure_ascii=False))
