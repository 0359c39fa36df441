"""What the benchmark scripts share: the machine, the code measured, the index."""

from __future__ import annotations

import hashlib
import os
import platform
import sys
from pathlib import Path

from newssearch import indexer, schema, store

ROOT = Path(__file__).resolve().parent.parent


def machine_line() -> str:
    return (f"nproc {os.cpu_count()} (usable {len(os.sched_getaffinity(0))}), "
            f"Python {platform.python_version()} on {platform.platform()}, "
            f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def ensure_index(index_dir: Path, corpus: Path) -> None:
    """Build the index if it is missing; stop with the reason if it cannot be used."""
    if store.current_generation(index_dir) is None:
        print(f"no newssearch index in {index_dir}: building it from {corpus} ...", flush=True)
        report = indexer.rebuild([corpus], index_dir)
        print(f"  {report.indexed} articles in {report.seconds:.0f} s", flush=True)
    try:
        indexer.open_index(index_dir)[0].close()
    except store.IndexUnavailable as e:
        sys.exit(f"{e}\n(or pass --index NEW_DIR to build a fresh one there)")


def code_line() -> str:
    """Say which newssearch code is measured: others may be editing src/ meanwhile."""
    src = sorted((ROOT / "src" / "newssearch").rglob("*.py"))
    digest = hashlib.sha1(b"".join(p.read_bytes() for p in src)).hexdigest()[:12]
    return f"newssearch schema version {schema.SCHEMA_VERSION}, src digest {digest}"
