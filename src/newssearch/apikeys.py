"""API keys for the write endpoints: a file of keys, one a line, read again when it changes."""

from __future__ import annotations

import hmac
import os
import threading
from pathlib import Path


class KeysUnreadable(Exception):
    """The key file cannot be read; the message says which and why."""


class ApiKeys:
    """The keys that may write, from a file that can be edited to add or retire one."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._keys: tuple[bytes, ...] = ()
        self._load()
        if not self._keys:
            raise KeysUnreadable(f"{self.path} holds no key (one a line).")

    def allows(self, authorization: str | None) -> bool:
        """Whether an ``Authorization: Bearer KEY`` header names a current key."""
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return False
        with self._lock:
            self._load()
            keys = self._keys
        candidate = given.strip().encode("utf-8", "replace")
        # Every key is compared, in constant time: timing tells nothing about any of them.
        matches = [hmac.compare_digest(candidate, key) for key in keys]
        return any(matches)

    def _load(self) -> None:
        try:
            info = os.stat(self.path)
            stamp = (info.st_mtime_ns, info.st_size)
            if stamp == self._stamp:
                return
            lines = self.path.read_text("utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            if self._stamp is None:
                raise KeysUnreadable(f"cannot read the API key file {self.path}: {e}") from e
            return  # keep the keys last read: a file being replaced is briefly missing
        self._keys = tuple(k.strip().encode("utf-8") for k in lines
                           if k.strip() and not k.lstrip().startswith("#"))
        self._stamp = stamp
