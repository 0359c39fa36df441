"""The real server: loopback only by default, safe headers, read-only, and odd requests."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from newssearch import indexer

LISTEN = "0A"  # TCP state in /proc/net/tcp


@pytest.fixture
def server(tmp_path: Path, serve, make_articles, write_jsonl):
    """``newssearch serve`` started without --host, on 120 generated articles."""
    src = write_jsonl(tmp_path / "src" / "news.jsonl", make_articles(120, seed=14))
    indexer.rebuild([src.parent], tmp_path / "index")
    return serve(tmp_path / "index", host=None)


def listening(port: int) -> list[str]:
    """The local addresses (hex, as the kernel shows them) listening on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.rpartition(":")
            if int(hex_port, 16) == port and state == LISTEN:
                found.append(address)
    return found


def test_serve_binds_loopback_only_by_default(server):
    addresses = listening(server.port)
    refused = False
    with socket.socket() as s:
        s.settimeout(2)
        try:
            s.connect(("127.0.0.2", server.port))  # loopback too, but not 127.0.0.1
        except ConnectionRefusedError:
            refused = True
    print(f"\nbind: listening on {addresses} (0100007F is 127.0.0.1); 127.0.0.2 refused: "
          f"{refused}")
    assert addresses == ["0100007F"]
    assert refused


def csp_forbids_inline_script(policy: str) -> bool:
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    script = directives.get("script-src", directives.get("default-src"))
    return script is not None and not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:",
                                       "http:", "https:"} & set(script)


def test_every_response_carries_the_security_headers(server):
    _, found = server.get_json("/api/search?q=gouvernement&per_page=1")
    article = found["hits"][0]["id"]
    paths = ["/", "/?q=gouvernement", f"/articles/{article}", "/static/style.css",
             "/static/suggest.js", "/api/search?q=gouvernement", "/api/suggest?q=gouv",
             f"/api/articles/{article}", "/health", "/api/openapi.json", "/nulle-part",
             "/api/articles/inconnu", "/api/search?page=0", "/?page=abc"]
    seen = {}
    for path in paths:
        status, headers, _ = server.request("GET", path)
        seen[path] = status
        assert csp_forbids_inline_script(headers.get("content-security-policy", "")), path
        assert headers.get("x-content-type-options") == "nosniff", path
    status, headers, _ = server.request("POST", "/api/search")
    assert status == 405 and headers.get("x-content-type-options") == "nosniff"
    print(f"\nheaders: CSP without inline script and nosniff on {len(paths) + 1} responses "
          f"({sorted(set(seen.values()))} and 405)")
    assert sorted(set(seen.values())) == [200, 400, 404]


def snapshot(index_dir: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(index_dir)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(index_dir.rglob("*")) if p.is_file()}


def test_no_request_can_write(server):
    before = snapshot(server.index_dir)
    paths = ["/", "/articles/art-00001", "/api/search", "/api/suggest", "/api/articles/art-00001",
             "/health", "/api/openapi.json", "/static/style.css"]
    body = json.dumps({"id": "x", "title": "<script>", "body": "écrit"}).encode()
    statuses = []
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        for path in paths:
            status, headers, answer = server.request(
                method, path, body, {"Content-Type": "application/json"})
            statuses.append(status)
            assert status == 405, (method, path, status)
            if path.startswith(("/api/", "/health")):
                assert json.loads(answer)["error"]["code"] == "method_not_allowed"
    print(f"\nwrites: {len(statuses)} POST/PUT/DELETE/PATCH requests, all 405; index files "
          f"unchanged: {snapshot(server.index_dir) == before}")
    assert snapshot(server.index_dir) == before


def raw_request(port: int, target: bytes) -> tuple[int, bytes]:
    """Send a request line with bytes http.client would refuse; return status and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


WIRE = [
    "/api/search?q=" + quote("gouvernement " * 770),
    "/api/search?q=gouv%00ernement%01%1b%7f",
    "/api/search?q=%ED%A0%80gouvernement%ED%BF%BF",
    "/api/search?q=%FF%FE%C0%AFgouvernement",
    "/api/search?q=" + quote("\u202egouvernement\u200f\u200b e\u0301\u0301 🇫🇷 👨‍👩‍👧"),
    "/api/search?q=" + quote(" ".join(f"mot{i}" for i in range(2000))),
    "/api/search?q=" + quote(" OR ".join(["gouvernement"] * 1500)),
    "/api/search?q=%22gouvernement&page=999999999999999999999&per_page=-3",
    "/api/search?q=gouvernement&from=2024-02-30&to=hier",
    "/api/search?q=a&q=b&page=1&page=2&inconnu=1",
    "/api/suggest?q=" + quote("gouv" * 5000),
    "/api/articles/..%2F..%2F..%2Fetc%2Fpasswd",
    "/api/articles/" + "a" * 100_000,
    "/articles/%00%ED%A0%80",
    "/?q=" + quote("<script>alert(1)</script>") + "&section=%00",
]
RAW = [b"/api/search?q=\xff\xfe\xed\xa0\x80gouvernement", b"/api/articles/\xc0\xaf..\xc0\xafetc",
       b"/?q=\x80\x81"]


def test_odd_requests_over_the_wire_never_fail_or_hang(server):
    conn = server.connection(timeout=5)
    results, slowest = [], 0.0
    try:
        for path in WIRE:
            started = time.perf_counter()
            status, _, body = server.fetch(conn, "GET", path)
            slowest = max(slowest, time.perf_counter() - started)
            results.append((path[:60], status, body))
    finally:
        conn.close()
    for target in RAW:
        started = time.perf_counter()
        status, body = raw_request(server.port, target)
        slowest = max(slowest, time.perf_counter() - started)
        results.append((repr(target[:60]), status, body))
    statuses = sorted({status for _, status, _ in results})
    print(f"\nwire: {len(results)} odd requests through waitress, statuses {statuses}, "
          f"slowest {slowest:.3f} s")
    for what, status, body in results:
        assert status in (200, 400, 404), (what, status, body[:300])
        assert b"Traceback" not in body
    assert slowest < 1.0
    assert "Traceback" not in server.output()


def test_an_internal_error_shows_no_debug_page(server):
    # Nested parentheses overflow the query parser's recursion (see test_hostile_input);
    # whatever the status, neither a debugger nor a traceback may reach the client.
    api = server.request("GET", "/api/search?q=" + "(" * 900 + "x")
    page = server.request("GET", "/?q=" + "(" * 900 + "x")
    print(f"\ninternal error: /api/search {api[0]}, / {page[0]}, no traceback shown")
    for _, _, body in (api, page):
        text = body.decode("utf-8", "replace")
        for leak in ("Traceback", "Werkzeug Debugger", "RecursionError", "parse.py",
                     'File "'):
            assert leak not in text
    if api[0] == 500:
        assert json.loads(api[2]) == {"error": {"code": "internal_server_error",
                                                "message": "Erreur interne du serveur."}}
    if page[0] == 500:
        assert "<p>Erreur interne du serveur.</p>" in page[2].decode()
