"""SMPs over TLS on loopback: a threading ``http.server`` wrapped in ``ssl``, serving canned answers
by exact raw request path (so the client's percent-encoding is checked byte for byte)."""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/xml; charset=UTF-8"),)
    delay: float = 0.0


class SmpServer:
    """Routes raw paths to answers; logs every requested path."""

    def __init__(self) -> None:
        self.routes: dict[str, Answer] = {}
        self.requests: list[str] = []
        self.port = 0
        self._lock = threading.Lock()

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def route(self, path: str, answer: Answer) -> None:
        with self._lock:
            self.routes[path] = answer

    def xml(self, path: str, body: bytes) -> None:
        self.route(path, Answer(body=body))

    def answer_for(self, path: str) -> Answer:
        with self._lock:
            self.requests.append(path)
            return self.routes.get(path, Answer(status=404, body=b"not found"))


def _handler(server: SmpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in separate writes

        def do_GET(self) -> None:
            answer = server.answer_for(self.path)
            if answer.delay:
                time.sleep(answer.delay)
            try:
                self.send_response(answer.status)
                for name, value in answer.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except OSError:
                pass  # client gave up (timeout tests)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextlib.contextmanager
def running_smp(server: SmpServer, cert_chain: Path, key: Path) -> Iterator[SmpServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert_chain), str(key))
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
