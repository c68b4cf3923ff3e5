"""The evaluation sites on 127.0.0.1, each in a thread of the process that crawls or tests it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from portalscraper.crawl.httputil import REPLICA_HEADER, REPLICA_VALUE

# (path with query, request headers) -> (status, response headers, body)
Answer = Callable[[str, dict[str, str]], tuple[int, list[tuple[str, str]], bytes]]


class LoopbackServer:
    """A site answering `answer` on 127.0.0.1 (a free port unless given); `hits` are the paths asked
    for. `replica`: it says it is the project's own (crawls read it at full speed once it answered)."""

    def __init__(self, answer: Answer, port: int = 0, replica: bool = True) -> None:
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.hits.append(self.path)
                status, headers, body = answer(self.path, dict(self.headers.items()))
                try:
                    self.send_response(status)
                    own = [(REPLICA_HEADER, REPLICA_VALUE)] if replica else []
                    for name, value in [*headers, ("Content-Length", str(len(body))), *own]:
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the crawler hung up on an oversized answer
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
