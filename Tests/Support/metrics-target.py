#!/usr/bin/env python3
"""The application the analysis tests look at, as a tiny HTTP server on a loopback port.

GET  /metrics   what Prometheus scrapes: the exposition text last PUT to /metrics (empty at first).
PUT  /metrics   replaces that text (the test's control).
GET  /health    200 "ok" for the first --healthy requests, then 500 "broken" (an app that starts failing).
GET  /health-requests   how many /health requests came, as text.

Prints "listening on PORT" once it serves.
"""
import argparse
import http.server
import threading

state = {"metrics": b"", "health": 0}
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, code, body, content_type="text/plain; version=0.0.4"):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/metrics":
            with lock:
                body = state["metrics"]
            self.answer(200, body)
        elif self.path == "/health":
            with lock:
                state["health"] += 1
                healthy = state["health"] <= args.healthy
            self.answer(200 if healthy else 500, b"ok" if healthy else b"broken", "text/plain")
        elif self.path == "/health-requests":
            with lock:
                count = state["health"]
            self.answer(200, str(count).encode(), "text/plain")
        else:
            self.answer(404, b"not found", "text/plain")

    def do_PUT(self):
        if self.path != "/metrics":
            return self.answer(404, b"not found", "text/plain")
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            state["metrics"] = body
        self.answer(204, b"", "text/plain")

    def log_message(self, *_):
        pass


parser = argparse.ArgumentParser()
parser.add_argument("--healthy", type=int, default=1 << 30, help="healthy /health answers before it breaks")
args = parser.parse_args()
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"listening on {server.server_address[1]}", flush=True)
server.serve_forever()
