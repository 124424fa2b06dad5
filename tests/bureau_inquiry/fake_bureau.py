"""A real HTTP server on 127.0.0.1 that plays a credit bureau.

``FakeBureau`` runs the stdlib ``ThreadingHTTPServer`` in a thread on a free
port. Each request takes the next scripted ``Reply`` for its path (or the
path's default, normally a good reply), so a test can say "500, then 500,
then OK" or "slow", "malformed", "429 with Retry-After". Every request is
recorded (path, headers, JSON body) for the test to inspect.
"""

import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPORT_PATH = "/v1/credit-reports"
SKIP_TRACE_PATH = "/v1/skip-traces"


@dataclass
class Reply:
    status: int = 200
    body: object = None  # dict/list → JSON; str/bytes → as is; None → the path's good reply
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a slow bureau)


def good_report(request_id: str = "R-1", score: int | None = 640, **extra) -> dict:
    body = {
        "request_id": request_id,
        "score": score,
        "score_model": "FICO8",
        "tradelines": [
            {
                "creditor": "Bank A",
                "kind": "card",
                "status": "open",
                "opened_on": "2021-03-01",
                "balance": "1200.50",
                "past_due": "0.00",
            },
            {
                "creditor": "Bank B",
                "kind": "instalment",
                "status": "closed",
                "opened_on": "2018-06-15",
                "balance": "0.00",
                "past_due": "0.00",
            },
        ],
        "delinquencies": [
            {"creditor": "Bank C", "reported_on": "2026-09-01", "days_past_due": 60, "amount": "300.00"}
        ],
    }
    body.update(extra)
    return body


def good_trace(request_id: str = "T-1", **extra) -> dict:
    body = {
        "request_id": request_id,
        "addresses": [{"value": "88 Jianguo Road,  Chaoyang, Beijing", "reported_on": "2026-08-01"}],
        "phones": [{"number": "13912345678", "type": "mobile"}],
        "emails": [{"value": "debtor@example.com"}],
        "employer": {"name": "Acme Trading Co.", "phone": "010 6512 3456"},
    }
    body.update(extra)
    return body


class FakeBureau:
    def __init__(self):
        self.script: dict[str, deque] = defaultdict(deque)
        self.requests: list[dict] = []
        self.defaults = {REPORT_PATH: Reply(), SKIP_TRACE_PATH: Reply()}
        self._counter = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeBureau":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def queue(self, path: str, *replies: Reply) -> None:
        self.script[path].extend(replies)

    def hits(self, path: str | None = None) -> int:
        return sum(1 for r in self.requests if path is None or r["path"] == path)

    def _next(self, path: str) -> Reply:
        with self._lock:
            self._counter += 1
            if self.script[path]:
                return self.script[path].popleft(), self._counter
            return self.defaults.get(path, Reply(status=404, body={"error": "no such path"})), self._counter

    def _handler(self):
        bureau = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # quiet test output
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    payload = json.loads(raw or b"null")
                except ValueError:
                    payload = None
                reply, n = bureau._next(self.path)
                with bureau._lock:
                    bureau.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "json": payload}
                    )
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body
                if body is None:
                    body = good_report(f"R-{n}") if self.path == REPORT_PATH else good_trace(f"T-{n}")
                data = (
                    body
                    if isinstance(body, bytes)
                    else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
                )
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test)

        return Handler
