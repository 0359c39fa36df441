"""The read path of a query, one stage per module, in the order a query meets them.

parse (the user's syntax → ParsedQuery) → plan (→ a tree of clauses, tree.py) →
execute (the tree → matching documents and BM25F scores, bm25.py) → rank (the page,
collapsed wire copies, facets).
"""
