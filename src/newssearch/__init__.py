"""newssearch: full-text search for French news."""

__version__ = "0.1.0"
