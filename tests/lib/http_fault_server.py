"""A small HTTP server on loopback that fails in one chosen way, for the remote
compile cache tests: the client must notice the failure, say so once, stop
asking, and compile locally.

    with FaultServer("500") as server:
        server.url("pyc")          # http://127.0.0.1:PORT/pyc
        server.count()             # requests received so far (also .requests: [(method, path)])

Modes (every request, GET or PUT, unless said otherwise):
  ok           a working cache in memory: PUT stores (201), GET answers 200 with
               what was stored or 404 (the control case; .store holds the bodies)
  miss         GET answers 404, PUT 201, nothing is kept
  slow         waits `delay` seconds (default 30, longer than any client timeout
               the tests use) before answering 404/201
  500          answers 500 Internal Server Error
  reset        closes the connection without answering, with SO_LINGER 0 (the
               client sees a connection reset)
  truncated    GET answers 200 with a Content-Length larger than the bytes sent,
               then closes the connection; PUT answers 201
  wrong-bytes  GET answers 200 with `body` (default: bytes that are not a marshal
               code object); PUT answers 201
  put-500      GET answers 404 (a miss), PUT answers 500

The server is a threaded http.server on 127.0.0.1, port 0 (a free port), in a
thread of this process. stop() (or leaving the `with`) wakes any request that
is waiting in "slow", closes every open connection, and joins every thread.
"""
import http.server
import socket
import socketserver
import struct
import sys
import threading

MODES = ("ok", "miss", "slow", "500", "reset", "truncated", "wrong-bytes", "put-500")
WRONG_BYTES = b"this is not a marshal code object\n" * 4


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True
    request_queue_size = 256        # a client opening many connections at once gets them all

    def handle_error(self, request, client_address):
        # A client that gives up on an answer (it timed out, or stopped using
        # the remote) is expected here, not an error of the server.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, TimeoutError)):
            super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive, as libcurl uses it
    timeout = 15                    # a connection idle this long is dropped

    def log_message(self, format, *args):
        pass

    def setup(self):
        super().setup()
        self.server.fault.connection_opened(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.fault.connection_closed(self.connection)

    def do_GET(self):
        self.server.fault.handle(self, "GET")

    def do_PUT(self):
        self.server.fault.handle(self, "PUT")

    def do_HEAD(self):
        self.server.fault.handle(self, "HEAD")

    def do_POST(self):
        self.server.fault.handle(self, "POST")


class FaultServer:
    """See the module docstring."""

    def __init__(self, mode, delay=30.0, body=WRONG_BYTES):
        if mode not in MODES:
            raise ValueError("unknown mode %r (one of %s)" % (mode, ", ".join(MODES)))
        self.mode = mode
        self.delay = delay
        self.body = body
        self.requests = []          # [(method, path)] in arrival order
        self.store = {}             # mode "ok": {path: bytes}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections = set()
        self._server = None
        self._thread = None

    # ------------------------------------------------------------ lifecycle

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fault = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fault-server-%s" % self.mode, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stops accepting, wakes sleeping handlers, closes open connections, joins all threads. Idempotent."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        with self._lock:
            open_connections = list(self._connections)
        for connection in open_connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()   # joins the handler threads (block_on_close)
        self._thread.join()
        self._server = None

    def url(self, path=""):
        return "http://127.0.0.1:%d/%s" % (self.port, path.lstrip("/"))

    def count(self, method=None):
        with self._lock:
            return sum(1 for m, _ in self.requests if method is None or m == method)

    # ------------------------------------------------------------ connections

    def connection_opened(self, connection):
        with self._lock:
            self._connections.add(connection)

    def connection_closed(self, connection):
        with self._lock:
            self._connections.discard(connection)

    # ------------------------------------------------------------ behaviour

    def handle(self, handler, method):
        with self._lock:
            self.requests.append((method, handler.path))
        body = self._read_body(handler)
        mode = self.mode
        if mode == "slow":
            if self._stopping.wait(self.delay):
                handler.close_connection = True
                return
            mode = "miss"
        if mode == "reset":
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.connection.close()
            handler.close_connection = True
            return
        if mode == "500" or (mode == "put-500" and method == "PUT"):
            return self._answer(handler, 500, b"internal error\n")
        if method == "PUT":
            if mode == "ok":
                with self._lock:
                    self.store[handler.path] = body
            return self._answer(handler, 201, b"")
        if mode == "truncated":
            handler.send_response(200)
            handler.send_header("Content-Type", "application/octet-stream")
            handler.send_header("Content-Length", str(len(self.body) + 1000))
            handler.end_headers()
            handler.wfile.write(self.body)
            handler.wfile.flush()
            handler.close_connection = True
            return
        if mode == "wrong-bytes":
            return self._answer(handler, 200, self.body)
        if mode == "ok":
            with self._lock:
                stored = self.store.get(handler.path)
            if stored is not None:
                return self._answer(handler, 200, stored)
        return self._answer(handler, 404, b"")

    @staticmethod
    def _read_body(handler):
        length = int(handler.headers.get("Content-Length") or 0)
        if handler.headers.get("Expect", "").lower() == "100-continue":
            handler.send_response_only(100)
            handler.end_headers()
        return handler.rfile.read(length) if length else b""

    @staticmethod
    def _answer(handler, status, body):
        handler.send_response(status)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD" and body:
            handler.wfile.write(body)


def _self_test():
    """Exercises every mode with curl."""
    import subprocess
    import tempfile
    import time

    def curl(*args, timeout=30):
        out = subprocess.run(["curl", "-s", "-w", "\n%{http_code} %{exitcode}"] + list(args),
                             capture_output=True, timeout=timeout)
        body, _, tail = out.stdout.rpartition(b"\n")
        code, exitcode = tail.decode().split()
        return body, code, int(exitcode)

    with tempfile.NamedTemporaryFile() as upload:
        upload.write(b"entry bytes")
        upload.flush()
        with FaultServer("ok") as s:
            assert curl(s.url("pyc/k"))[1] == "404"
            assert curl("-T", upload.name, s.url("pyc/k"))[1] == "201"
            assert curl(s.url("pyc/k"))[:2] == (b"entry bytes", "200")
            # two requests on one kept-alive connection
            body, code, _ = curl(s.url("pyc/k"), s.url("pyc/none"))
            assert code == "404" and s.count() == 5, (code, s.requests)
        with FaultServer("miss") as s:
            assert curl(s.url("a"))[1] == "404" and curl("-T", upload.name, s.url("a"))[1] == "201"
        with FaultServer("500") as s:
            assert curl(s.url("a"))[1] == "500" and curl("-T", upload.name, s.url("a"))[1] == "500"
            assert s.count() == 2 and s.count("PUT") == 1
        with FaultServer("put-500") as s:
            assert curl(s.url("a"))[1] == "404" and curl("-T", upload.name, s.url("a"))[1] == "500"
        with FaultServer("reset") as s:
            _, code, exitcode = curl(s.url("a"))
            assert code == "000" and exitcode in (52, 56), (code, exitcode)   # 56: recv failure (reset)
            assert s.count() == 1
        with FaultServer("truncated") as s:
            body, code, exitcode = curl(s.url("a"))
            assert code == "200" and exitcode == 18 and body == WRONG_BYTES, (code, exitcode)  # 18: partial file
        with FaultServer("wrong-bytes") as s:
            assert curl(s.url("a"))[:2] == (WRONG_BYTES, "200")
        started = time.monotonic()
        with FaultServer("slow", delay=30) as s:
            _, code, exitcode = curl("--max-time", "1", s.url("a"))
            assert code == "000" and exitcode == 28, (code, exitcode)          # 28: timeout
        assert time.monotonic() - started < 5, "stop() must wake a sleeping handler"
    assert [t for t in threading.enumerate() if t.name.startswith("fault-server")] == []
    print("http_fault_server: ok")


if __name__ == "__main__":
    _self_test()
