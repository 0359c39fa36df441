"""The OpenSearch backend: the same newssearch on a cluster."""
