"""A real nginx (Debian's /usr/sbin/nginx) serving a WebDAV-PUT directory on
loopback, for the remote compile cache tests.

    with NginxServer() as server:          # or NginxServer(token="T"), NginxServer(basic_auth=("u", "p"))
        server.url("pyc")                  # http://127.0.0.1:PORT/pyc
        server.files("pyc")                # {name: bytes} stored under /pyc
        server.stop()                      # stops it early (idempotent)

Everything nginx writes (configuration, pid file, error and access logs, its
temporary directories, the data directory) is in one temporary directory that is
removed on exit. nginx runs in the foreground without a master process, as a
child of this process; stop() terminates it, waits, and kills it if it does not
end in time, so no nginx outlives the test. Its port is a free loopback port
(retried when another program takes it first).

nginx is required: NginxServer raises RuntimeError (tests fail, not skip) when
it is missing; .ci/setup installs it (package nginx-light).
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

NGINX = os.environ.get("PYCEMIT_TEST_NGINX", "/usr/sbin/nginx")

CONFIG = """\
daemon off;
master_process off;
worker_processes 1;
pid "{root}/nginx.pid";
error_log "{root}/error.log" info;

events {{
    worker_connections 256;
}}

http {{
    access_log "{root}/access.log";
    client_body_temp_path "{root}/tmp/client_body";
    proxy_temp_path "{root}/tmp/proxy";
    fastcgi_temp_path "{root}/tmp/fastcgi";
    uwsgi_temp_path "{root}/tmp/uwsgi";
    scgi_temp_path "{root}/tmp/scgi";
    default_type application/octet-stream;
    keepalive_requests 100000;

    server {{
        listen 127.0.0.1:{port};
        server_name localhost;

        location / {{
            root "{root}/data";
            dav_methods PUT;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
            client_max_body_size 100m;
{auth}        }}
    }}
}}
"""


def nginx_path():
    """The nginx binary; raises RuntimeError when it is not installed."""
    if not (os.path.isfile(NGINX) and os.access(NGINX, os.X_OK)):
        raise RuntimeError("%s not found: the remote cache tests need nginx (.ci/setup installs nginx-light)" % NGINX)
    return NGINX


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def apr1_hash(password):
    """An htpasswd line's hash for `password`, made by `openssl passwd -apr1`."""
    out = subprocess.run(["openssl", "passwd", "-apr1", password], capture_output=True, text=True, check=True)
    return out.stdout.strip()


class NginxServer:
    """A running nginx; see the module docstring. `token`: requests need
    "Authorization: Bearer TOKEN" (else 401). `basic_auth`: (user, password)
    required by HTTP basic authentication."""

    def __init__(self, token=None, basic_auth=None, start_timeout=10.0):
        self.token = token
        self.basic_auth = basic_auth
        self.start_timeout = start_timeout
        self.process = None
        self.port = None
        self._tmp = None
        self.root = None

    # ------------------------------------------------------------ lifecycle

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def start(self):
        nginx = nginx_path()
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="pycemit-nginx-")
            self.root = os.path.join(self._tmp.name, "srv")
            for sub in ("data", "tmp", "conf"):
                os.makedirs(os.path.join(self.root, sub), exist_ok=True)
        last_error = ""
        for _ in range(5):
            self.port = free_port()
            self._write_config()
            log = open(os.path.join(self.root, "stderr.log"), "ab")
            try:
                self.process = subprocess.Popen(
                    [nginx, "-p", self.root + "/", "-c", self.config_path, "-e", os.path.join(self.root, "error.log")],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
            finally:
                log.close()
            if self._wait_until_answering():
                return self
            last_error = self.error_log()[-2000:]
            self.stop()
            if "Address already in use" not in last_error:
                break
        raise RuntimeError("nginx did not start:\n" + last_error)

    def _write_config(self):
        auth = ""
        if self.token is not None:
            auth += '            if ($http_authorization != "Bearer %s") {\n                return 401;\n            }\n' \
                % self.token
        if self.basic_auth is not None:
            user, password = self.basic_auth
            htpasswd = os.path.join(self.root, "conf", "htpasswd")
            with open(htpasswd, "w") as f:
                f.write("%s:%s\n" % (user, apr1_hash(password)))
            auth += '            auth_basic "pycemit test";\n            auth_basic_user_file "%s";\n' % htpasswd
        self.config_path = os.path.join(self.root, "conf", "nginx.conf")
        with open(self.config_path, "w") as f:
            f.write(CONFIG.format(root=self.root, port=self.port, auth=auth))

    def _wait_until_answering(self):
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"HEAD / HTTP/1.0\r\n\r\n")
                    if s.recv(16).startswith(b"HTTP/"):
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout=5.0):
        """Stops nginx (SIGTERM, then SIGKILL after `timeout` s) and waits for it. Idempotent."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def close(self):
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # ------------------------------------------------------------ contents

    def url(self, path=""):
        return "http://127.0.0.1:%d/%s" % (self.port, path.lstrip("/"))

    @property
    def data_dir(self):
        return os.path.join(self.root, "data")

    def files(self, path=""):
        """{name relative to /path: bytes} of every file stored below /path."""
        top = os.path.join(self.data_dir, path.strip("/"))
        found = {}
        for directory, _, names in os.walk(top):
            for name in names:
                full = os.path.join(directory, name)
                with open(full, "rb") as f:
                    found[os.path.relpath(full, top)] = f.read()
        return found

    def put_file(self, path, data):
        """Stores `data` as /path directly in the data directory (what a PUT would do)."""
        full = os.path.join(self.data_dir, path.strip("/"))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)

    def clear(self):
        shutil.rmtree(self.data_dir)
        os.makedirs(self.data_dir)

    def error_log(self):
        text = ""
        for name in ("stderr.log", "error.log"):
            try:
                with open(os.path.join(self.root, name), errors="replace") as f:
                    text += f.read()
            except OSError:
                pass
        return text

    def access_log(self):
        """Lines of nginx's access log (one per request)."""
        try:
            with open(os.path.join(self.root, "access.log"), errors="replace") as f:
                return f.read().splitlines()
        except OSError:
            return []

    def requests(self, method=None):
        """The access log's requests as (method, path, status)."""
        found = []
        for line in self.access_log():
            try:
                request = line.split('"')[1].split()
                status = int(line.split('"')[2].split()[0])
            except (IndexError, ValueError):
                continue
            if method is None or request[0] == method:
                found.append((request[0], request[1], status))
        return found


def _self_test():
    """Exercises the fixture with curl: PUT, GET, 404, bearer and basic auth."""
    def curl(*args):
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"] + list(args),
                             capture_output=True, text=True, timeout=30)
        return out.stdout

    with tempfile.NamedTemporaryFile() as body:
        body.write(b"\x00\x01hello")
        body.flush()
        with NginxServer() as server:
            assert curl("-T", body.name, server.url("pyc/ab/cd")) in ("201", "204"), server.error_log()
            assert server.files("pyc") == {"ab/cd": b"\x00\x01hello"}, server.files()
            assert urllib.request.urlopen(server.url("pyc/ab/cd")).read() == b"\x00\x01hello"
            assert curl(server.url("pyc/missing")) == "404"
            process = server.process
        assert process.poll() is not None, "nginx outlived the fixture"
        with NginxServer(token="s3cret") as server:
            assert curl("-T", body.name, server.url("pyc/k")) == "401"
            assert curl("-T", body.name, "-H", "Authorization: Bearer s3cret", server.url("pyc/k")) in ("201", "204")
            assert curl("-H", "Authorization: Bearer s3cret", server.url("pyc/k")) == "200"
            assert curl("-H", "Authorization: Bearer wrong", server.url("pyc/k")) == "401"
            assert curl(server.url("pyc/k")) == "401"
        with NginxServer(basic_auth=("user", "pa ss")) as server:
            assert curl("-T", body.name, server.url("pyc/k")) == "401"
            assert curl("-T", body.name, "-u", "user:pa ss", server.url("pyc/k")) in ("201", "204")
            assert curl("-u", "user:pa ss", server.url("pyc/k")) == "200"
            assert curl("-u", "user:wrong", server.url("pyc/k")) == "401"
            server.stop()
            assert curl("--max-time", "2", server.url("pyc/k")) == "000"
    print("nginx_server: ok")


if __name__ == "__main__":
    _self_test()
