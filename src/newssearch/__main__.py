from newssearch.cli import cli

cli()
