"""A loopback HTTP server that answers one byte at a time (issue 11, F7): every single read a client
makes finishes well inside any read timeout, yet the answer never ends. Test helper, no tests here."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

#: Seconds between two bytes: far below every read timeout used in the tests.
TRICKLE_INTERVAL: Final = 0.2
_HEAD: Final = b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: 100000\r\n\r\n"


@contextmanager
def trickling_server(*, where: str = "body") -> Iterator[str]:
    """Yield the base URL (``http://127.0.0.1:<port>``) of a server that reads a request and then
    trickles its answer: the status line and headers themselves (``where="head"``) or, after them,
    the body (``where="body"``). It stops at the first failed write (the client gave up) or on exit."""
    stop = threading.Event()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            sock: socket.socket = self.request
            sock.settimeout(5)
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                if where == "body":
                    sock.sendall(_HEAD)
                stream = _HEAD if where == "head" else b"<" + b"x" * 99999
                for byte in stream:
                    if stop.wait(TRICKLE_INTERVAL):
                        return
                    sock.sendall(bytes([byte]))
            except OSError:
                return

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
