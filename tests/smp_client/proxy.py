"""A minimal HTTP CONNECT proxy on loopback (tunnels bytes, records the CONNECT targets)."""

from __future__ import annotations

import contextlib
import select
import socket
import socketserver
import threading
from collections.abc import Iterator


class ConnectProxy:
    def __init__(self) -> None:
        self.targets: list[str] = []
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _handler(proxy: ConnectProxy) -> type[socketserver.BaseRequestHandler]:
    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            request = self.rfile.readline(8192).decode("latin-1").split()
            while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                pass
            if len(request) < 2 or request[0] != "CONNECT":
                self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
                return
            host, _, port = request[1].rpartition(":")
            proxy.targets.append(request[1])
            upstream = socket.create_connection((host, int(port)), timeout=10)
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            client = self.connection
            sockets = [client, upstream]
            with upstream:
                while True:
                    readable, _, _ = select.select(sockets, [], [], 10)
                    if not readable:
                        return
                    for sock in readable:
                        data = sock.recv(65536)
                        if not data:
                            return
                        (upstream if sock is client else client).sendall(data)

    return Handler


@contextlib.contextmanager
def running_connect_proxy() -> Iterator[ConnectProxy]:
    proxy = ConnectProxy()
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _handler(proxy))
    server.daemon_threads = True
    proxy.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
