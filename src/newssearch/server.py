"""Serving the app with waitress: one process per core, sharing one listening socket.

Python's GIL lets one process use one core, so several processes accept on the
same socket; each has its own SearchService and per-thread searchers.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Callable

import waitress

from newssearch.processes import die_with_parent


def listen(host: str, port: int) -> socket.socket:
    """Bind the listening socket (port 0 picks a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=1024)


def serve(make_app: Callable, sock: socket.socket, workers: int, threads: int) -> None:
    """Serve on ``sock`` until stopped: in this process, or in ``workers`` children."""
    if workers == 1:
        waitress.serve(make_app(), sockets=[sock], threads=threads, ident="newssearch")
        return
    parent = os.getpid()
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # a worker
            die_with_parent(parent)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            code = 0
            try:
                waitress.serve(make_app(), sockets=[sock], threads=threads,
                               ident="newssearch")
            except BaseException as e:  # reported, then the parent stops the others
                print(f"newssearch worker {os.getpid()}: {e}", file=sys.stderr)
                code = 1
            finally:
                os._exit(code)
        children.append(pid)

    stopping = []

    def stop(signum, frame) -> None:
        stopping.append(signum)
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    status = 0
    while children:
        try:
            pid, code = os.wait()
        except ChildProcessError:
            break
        children.remove(pid)
        if code and not stopping:  # a worker died: stop serving rather than limp on
            status = 1
            stop(signal.SIGTERM, None)
    sock.close()
    if status:
        raise SystemExit(status)
