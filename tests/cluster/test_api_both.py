"""The JSON API's tests (tests/test_api.py), run on each backend by this directory's
``index_dir`` fixture."""

from test_api import *  # noqa: F403 - the very same tests, collected here again
