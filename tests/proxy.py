"""A recording HTTP proxy on 127.0.0.1 for crawls that must not leave their target.

The crawl under test gets `http_proxy`/`https_proxy` pointing here (Scrapy's HttpProxyMiddleware
honours them), so every request it makes arrives here first, whatever URL the code under test
chose: requests to the allowed origins are forwarded as they are (redirects not followed, bodies
untouched); any other request, and every CONNECT tunnel, is answered 403 and recorded. Nothing
is ever sent to another host, even when the code under test is wrong.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class RecordingProxy:
    def __init__(self, allowed: list[str]) -> None:
        """`allowed`: origins (`http://127.0.0.1:8080`) whose requests are forwarded."""
        self.allowed = {self.origin(url) for url in allowed}
        self.forwarded: list[str] = []
        self.refused: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_CONNECT(self) -> None:
                proxy.refused.append(f"CONNECT {self.path}")
                self._refuse()

            def do_GET(self) -> None:
                self._forward()

            def do_HEAD(self) -> None:
                self._forward()

            def do_POST(self) -> None:
                self._forward()

            def _refuse(self) -> None:
                body = b"refused by the test proxy: outside the allowed origins"
                self.send_response(403)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _forward(self) -> None:
                url = self.path
                if proxy.origin(url) not in proxy.allowed:
                    proxy.refused.append(f"{self.command} {url}")
                    self._refuse()
                    return
                proxy.forwarded.append(url)
                parts = urlsplit(url)
                length = int(self.headers.get("Content-Length") or 0)
                payload = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("proxy-connection", "connection", "keep-alive", "host")}
                conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=60)
                try:
                    path = parts.path + (f"?{parts.query}" if parts.query else "")
                    conn.request(self.command, path or "/", body=payload, headers=headers)
                    answer = conn.getresponse()
                    body = answer.read()
                finally:
                    conn.close()
                self.send_response(answer.status, answer.reason)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @staticmethod
    def origin(url: str) -> str:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
        return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"

    def env(self) -> dict[str, str]:
        """Environment variables that send a crawl's every request through this proxy."""
        return {"http_proxy": self.url, "https_proxy": self.url, "HTTP_PROXY": self.url, "HTTPS_PROXY": self.url,
                "no_proxy": "", "NO_PROXY": ""}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
