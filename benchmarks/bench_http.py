"""Load `newssearch serve` over HTTP with the query log, beside /health as the floor.

Starts the server on a free loopback port, waits for /health, warms it up, then runs three
closed-loop loads of --seconds each with --connections keep-alive connections: /health (the
floor: waitress, Flask, JSON, plus opening the index to count its documents), then
/api/openapi.json (a constant body: the HTTP stack alone), then /api/search cycling through
the query log's URLs. The load comes from wrk if it is on PATH (a Lua script cycles the
paths), else from Python threads with http.client. The server's peak RSS (its process and
any children) is polled from /proc every 0.5 s. The server is stopped at the end.

The load generator runs on the same machine and takes some of its CPU.

Run from the repo root:

    .venv/bin/python benchmarks/bench_http.py [--index DIR] [--corpus PATH] [--log FILE]
        [--seconds S] [--connections C] [--threads T] [--warmup S] [--python-client]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import os
import platform
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from common import code_line, ensure_index, machine_line
from querylog import DEFAULT_CORPUS, DEFAULT_LOG, load_log, url_path

ROOT = Path(__file__).resolve().parent.parent

LUA = """
local paths = {%(paths)s}
local stride = %(stride)d
local started = 0
local i = 0

function setup(thread)
  thread:set("offset", started * stride)
  started = started + 1
end

function init(args)
  i = offset or 0
end

function request()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end

function done(summary, latency, requests)
  local e = summary.errors
  local mean = latency.mean
  if mean ~= mean then mean = 0 end  -- NaN when no request finished
  io.write(string.format(
    'WRK {"requests": %%d, "duration_us": %%d, "connect": %%d, "read": %%d, "write": %%d, ' ..
    '"status": %%d, "timeout": %%d, "p50_us": %%d, "p99_us": %%d, "mean_us": %%f, ' ..
    '"max_us": %%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), mean, latency.max))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RssMonitor(threading.Thread):
    """Poll the VmRSS (and its anonymous part) of a process tree; keep each phase's peak.

    VmRSS counts file pages mapped by each mmap of the index again; RssAnon is the memory
    the server itself allocated.
    """

    def __init__(self, pid: int, interval: float = 0.5):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.phase = "startup"
        self.peaks: dict[str, float] = {}
        self.anon_peaks: dict[str, float] = {}
        self.stopping = threading.Event()

    def tree(self) -> list[int]:
        pids, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                try:
                    todo.extend(int(c) for c in task.read_text().split())
                except OSError:
                    pass
        return pids

    def rss_mb(self, key: str = "VmRSS") -> float:
        kb = 0
        for pid in self.tree():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith(key + ":"):
                        kb += int(line.split()[1])
            except OSError:
                pass
        return kb / 1024

    def run(self) -> None:
        while not self.stopping.is_set():
            phase, rss, anon = self.phase, self.rss_mb(), self.rss_mb("RssAnon")
            self.peaks[phase] = max(self.peaks.get(phase, 0.0), rss)
            self.anon_peaks[phase] = max(self.anon_peaks.get(phase, 0.0), anon)
            self.stopping.wait(self.interval)


def wait_for_health(base: str, server: subprocess.Popen, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(base + "/health", timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"/health answered {e.code}: {e.read().decode()}") from None
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"no answer from {base}/health after {timeout:.0f} s")


def python_load(port: int, paths: list[str], seconds: float, connections: int,
                timeout: float) -> dict:
    """Closed-loop load from threads, one keep-alive connection each."""
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"non_2xx": 0, "errors": 0, "timeouts": 0}
    deadline = time.monotonic() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        mine: list[float] = []
        while time.monotonic() < deadline:
            path = paths[next(counter) % len(paths)]
            started = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                mine.append((time.perf_counter() - started) * 1000)
                if not 200 <= response.status < 300:
                    with lock:
                        counts["non_2xx"] += 1
            except TimeoutError:
                with lock:
                    counts["timeouts"] += 1
                conn.close()
            except (OSError, http.client.HTTPException):
                with lock:
                    counts["errors"] += 1
                conn.close()
        conn.close()
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if not latencies:
        return {"requests": 0, "rps": 0.0, "p50_ms": None, "p99_ms": None, **counts}
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") \
        if len(latencies) > 1 else [latencies[0]] * 99
    return {"requests": len(latencies), "rps": round(len(latencies) / elapsed, 1),
            "p50_ms": round(cuts[49], 1), "p99_ms": round(cuts[98], 1),
            "mean_ms": round(statistics.fmean(latencies), 1), "max_ms": round(max(latencies), 1),
            **counts}


def wrk_load(port: int, paths: list[str], seconds: float, connections: int, timeout: float,
             threads: int, workdir: Path) -> dict:
    """Closed-loop load from wrk; the Lua script cycles the paths and prints its figures."""
    threads = max(1, min(threads, connections))
    script = workdir / "paths.lua"
    script.write_text(LUA % {"paths": ", ".join(json.dumps(p) for p in paths),
                             "stride": max(1, len(paths) // threads)}, "utf-8")
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s",
           "--timeout", f"{timeout:g}s", "-s", str(script), f"http://127.0.0.1:{port}"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    w = json.loads(next(ln for ln in out.splitlines() if ln.startswith("WRK "))[4:])
    n = w["requests"]
    return {"requests": n, "rps": round(n / (w["duration_us"] / 1e6), 1),
            **{f"{k}_ms": round(w[f"{k}_us"] / 1000, 1) if n else None
               for k in ("p50", "p99", "mean", "max")},
            "non_2xx": w["status"], "errors": w["connect"] + w["read"] + w["write"],
            "timeouts": w["timeout"]}


def print_table(rows: dict[str, dict]) -> dict:
    head = (f"{'endpoint':<16} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'non-2xx':>7} {'errors':>6} {'timeouts':>8} {'peak RSS MB':>11} {'anon MB':>7}")
    print("\n" + head + "\n" + "-" * len(head))
    for name, r in rows.items():
        p50 = f"{r['p50_ms']:.1f}" if r["p50_ms"] is not None else "-"
        p99 = f"{r['p99_ms']:.1f}" if r["p99_ms"] is not None else "-"
        print(f"{name:<16} {r['requests']:>8} {r['rps']:>8.1f} {p50:>8} {p99:>8} "
              f"{r['non_2xx']:>7} {r['errors']:>6} {r['timeouts']:>8} {r['peak_rss_mb']:>11.1f} "
              f"{r['peak_anon_mb']:>7.1f}")
    health, search = rows["/health (floor)"], rows["/api/search"]
    ratios = {"rps": round(search["rps"] / health["rps"], 4) if health["rps"] else None,
              "p50": round(search["p50_ms"] / health["p50_ms"], 1)
              if search["p50_ms"] and health["p50_ms"] else None}
    print(f"{'search/health':<16} {'':>8} {ratios['rps'] or 0:>7.3f}x "
          f"{ratios['p50'] or 0:>7.1f}x")
    return ratios


@contextlib.contextmanager
def serving(args: argparse.Namespace, workdir: Path) -> Iterator[tuple[subprocess.Popen, int]]:
    """Run `newssearch serve` on a free port until the block ends; yield it and its port."""
    port = free_port()
    cmd = [sys.executable, "-m", "newssearch", "serve", "--index", str(args.index),
           "--host", "127.0.0.1", "--port", str(port)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    print("server: " + shlex.join(cmd), flush=True)
    with open(workdir / "server.log", "w+", encoding="utf-8") as server_log:
        server = subprocess.Popen(cmd, cwd=ROOT, stdout=server_log, stderr=subprocess.STDOUT)
        try:
            yield server, port
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            server_log.seek(0)
            tail = server_log.read().splitlines()[-3:]
            print(f"server stopped (exit {server.returncode}); its last lines: {tail}")


def bench(args: argparse.Namespace, workdir: Path) -> None:
    paths = [url_path(r) for r in load_log(args.log, args.corpus.resolve())]
    ensure_index(args.index, args.corpus.resolve())
    use_wrk = shutil.which("wrk") is not None and not args.python_client
    print(f"load generator: {'wrk' if use_wrk else 'python threads + http.client'}, "
          f"{args.connections} connections, {args.seconds:g} s per endpoint", flush=True)
    with serving(args, workdir) as (server, port):
        monitor = RssMonitor(server.pid)
        monitor.start()
        try:
            started = time.perf_counter()
            health = wait_for_health(f"http://127.0.0.1:{port}", server)
            print(f"server up in {time.perf_counter() - started:.1f} s, pid {server.pid}, "
                  f"{health.get('documents')} documents, RSS {monitor.rss_mb():.0f} MB",
                  flush=True)
            monitor.phase = "warm-up"
            warm = python_load(port, paths, args.warmup, 2, args.timeout)
            print(f"warm-up: {warm['requests']} searches in {args.warmup:g} s, "
                  f"{warm['non_2xx']} non-2xx, {warm['errors']} errors", flush=True)
            rows = {}
            for name, urls in (("/health (floor)", ["/health"]), ("/api/openapi.json",
                               ["/api/openapi.json"]), ("/api/search", paths)):
                monitor.phase = name
                print(f"loading {name} for {args.seconds:g} s ...", flush=True)
                if use_wrk:
                    rows[name] = wrk_load(port, urls, args.seconds, args.connections,
                                          args.timeout, args.wrk_threads, workdir)
                else:
                    rows[name] = python_load(port, urls, args.seconds, args.connections,
                                             args.timeout)
                rows[name]["peak_rss_mb"] = round(monitor.peaks.get(name, 0.0), 1)
                rows[name]["peak_anon_mb"] = round(monitor.anon_peaks.get(name, 0.0), 1)
        finally:
            monitor.stopping.set()
    ratios = print_table(rows)
    peak, anon = max(monitor.peaks.values()), max(monitor.anon_peaks.values())
    print(f"peak RSS over the whole run (startup and warm-up included): {peak:.1f} MB "
          f"(anonymous {anon:.1f} MB)")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("RESULT " + json.dumps({
        "index": str(args.index), "code": args.code, "log": str(args.log),
        "urls": len(paths),
        "client": "wrk" if use_wrk else "python", "seconds": args.seconds,
        "connections": args.connections, "server_threads": args.threads or "default",
        "nproc": os.cpu_count(), "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(), "results": rows,
        "ratios_search_over_health": ratios, "peak_rss_mb": round(peak, 1),
        "peak_anon_mb": round(anon, 1)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=Path("/tmp/ixfull"))
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--log", type=Path, default=DEFAULT_LOG)
    parser.add_argument("--seconds", type=float, default=30.0, help="load time per endpoint")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=0,
                        help="server worker threads (default: the server's own default)")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds of searches first")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout, s")
    parser.add_argument("--wrk-threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--python-client", action="store_true", help="do not use wrk")
    args = parser.parse_args()
    print(machine_line())
    args.code = code_line()
    print(args.code)
    print("command: " + shlex.join([sys.executable, *sys.argv]))
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        bench(args, Path(tmp))


if __name__ == "__main__":
    main()
