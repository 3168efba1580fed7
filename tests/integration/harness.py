"""Starts the real troupe-server (and, for comparisons, the real redis-server) on free ports in
temporary directories, and cleans up every process it started. Used by every integration test."""
import atexit
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import redis

TROUPE = os.environ.get("TROUPE_SERVER") or os.path.join(os.path.dirname(__file__), "../../build/troupe-server")
REDIS = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")
# Flags added to every troupe-server the tests start (CTest runs the suite again with
# "--io-threads 3", so every test also holds with several I/O loops).
TROUPE_ARGS = os.environ.get("TROUPE_ARGS", "").split()
_started = []
_made_dirs = []     # temporary directories the harness made; removed when the test process ends


def _cleanup():
    for p in _started:
        if p.poll() is None:
            p.kill()
            p.wait()
    for d in _made_dirs:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)


def free_port():
    # A port whose bus port (+10000) is free too, for later cluster tests.
    for _ in range(100):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port < 55000:
            return port
    raise RuntimeError("no free port")


def temp_dir(prefix="troupe-test."):
    """A fresh temporary directory, removed when the test process ends."""
    d = tempfile.mkdtemp(prefix=prefix)
    _made_dirs.append(d)
    return d


def wait_for_port(port, timeout=10.0, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout}s")


class PortTaken(RuntimeError):
    pass


class Server:
    """One server process. `binary` is troupe-server unless told otherwise."""

    def __init__(self, *args, binary=None, config=None, port=None, keep_dir=None, preexec=None, env=None):
        self.binary = binary or TROUPE
        self.auto_port = port is None
        self.port = port or free_port()
        self.dir = keep_dir or temp_dir()
        self.args = list(args)
        self.config = config
        self.proc = None
        self.preexec = preexec      # run in the child before exec (e.g. resource limits)
        self.env = env              # added to the environment it starts with
        self.stdout_path = os.path.join(self.dir, "stdout.log")
        self.answered_pid = None   # INFO process_id of what answered wait_loaded()

    def command_line(self):
        cmd = [self.binary]
        if self.config is not None:
            path = os.path.join(self.dir, "test.conf")
            with open(path, "w") as f:
                f.write(self.config)
            cmd.append(path)
        cmd += ["--port", str(self.port), "--dir", self.dir, "--save", ""]
        if self.binary == TROUPE:
            cmd += TROUPE_ARGS
        return cmd + self.args

    def start(self, wait=True):
        for attempt in range(3):
            mark = os.path.getsize(self.stdout_path) if os.path.exists(self.stdout_path) else 0
            with open(self.stdout_path, "ab") as out:
                env = dict(os.environ, **self.env) if self.env else None
                self.proc = subprocess.Popen(self.command_line(), cwd=self.dir, stdout=out, stderr=subprocess.STDOUT,
                                             preexec_fn=self.preexec, env=env)
            _started.append(self.proc)
            if not wait:
                return self
            try:
                wait_for_port(self.port, proc=self.proc)
                self.wait_loaded()
                self.check_own_port()
                return self
            except RuntimeError as e:   # (PortTaken among them)
                # free_port() only found the port free a moment ago: another test running at the
                # same time may have taken it. A port the caller chose is not changed.
                with open(self.stdout_path, "rb") as f:
                    f.seek(mark)
                    said = f.read().decode(errors="replace")
                taken = isinstance(e, PortTaken) or "already in use" in said or "Failed listening" in said
                if not (taken and self.auto_port) or attempt == 2:
                    raise
                self.stop()
                self.port = free_port()
        return self

    def check_own_port(self):
        """Raises PortTaken if the server that answered wait_loaded() is not the process just started."""
        if self.proc.poll() is not None:
            raise PortTaken(f"server exited with {self.proc.returncode} after port {self.port} answered")
        if self.answered_pid is not None and self.answered_pid != self.proc.pid:
            raise PortTaken(f"port {self.port} is served by process {self.answered_pid}, not by {self.proc.pid}")

    def wait_loaded(self, timeout=60):
        """Waits while the server answers -LOADING (it listens while it loads its data, as Redis does)."""
        deadline = time.time() + timeout
        self.answered_pid = None
        r = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10)
        try:
            while True:
                try:
                    r.ping()
                    # Which process answered (check_own_port), on this same connection: one more
                    # would count against a small maxclients until the server saw it close.
                    self.answered_pid = r.info("server").get("process_id")
                    return
                except redis.BusyLoadingError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.05)
                except (redis.ResponseError, redis.AuthenticationError):
                    return   # e.g. NOAUTH: it answers commands, just not ours
        finally:
            r.close()

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def client(self, **kw):
        kw.setdefault("decode_responses", True)
        kw.setdefault("socket_timeout", 10)
        return redis.Redis(host="127.0.0.1", port=self.port, **kw)

    def cli(self, *args, input=None, check=True):
        r = subprocess.run(["redis-cli", "-p", str(self.port)] + [str(a) for a in args], input=input,
                           capture_output=True, text=True, timeout=30)
        if check and r.returncode != 0:
            raise RuntimeError(f"redis-cli failed: {r.stderr}")
        return r.stdout

    def output(self):
        with open(self.stdout_path, errors="replace") as f:
            return f.read()

    def diagnostics(self):
        """What to print when the server stops answering: its log's tail, its actors and the state of
        each of its threads (from another connection, with short timeouts)."""
        parts = ["--- log tail:\n" + self.output()[-4000:]]
        for cmd in (["actors"], ["info", "persistence"]):
            try:
                r = subprocess.run(["redis-cli", "-p", str(self.port)] + cmd, capture_output=True, text=True, timeout=10)
                parts.append(f"--- {' '.join(cmd)}:\n{r.stdout}{r.stderr}")
            except subprocess.TimeoutExpired:
                parts.append(f"--- {' '.join(cmd)}: no answer in 10 s")
        threads = []
        for t in sorted(glob.glob(f"/proc/{self.proc.pid}/task/*")):
            try:
                with open(t + "/comm") as c, open(t + "/wchan") as w, open(t + "/stat") as st:
                    f = st.read().split(")")[1].split()   # (fields from the state on: proc(5))
                    threads.append(f"{c.read().strip()} wchan={w.read().strip()} state={f[0]} "
                                   f"cpu_ticks={int(f[11]) + int(f[12])} nice={f[16]}")
            except OSError:
                pass
        parts.append("--- threads:\n" + "\n".join(threads))
        return "\n".join(parts)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Raw:
    """A raw socket speaking RESP, for byte-exact checks and malformed input."""

    def __init__(self, port, timeout=10, host="127.0.0.1"):
        self.s = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def _fill(self):
        chunk = self.s.recv(1 << 20)
        if not chunk:
            raise ConnectionError("closed")
        self.buf += chunk

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line + b"\r\n"

    def exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def reply(self):
        """One complete reply, as raw bytes (RESP2 and RESP3)."""
        line = self.line()
        t = line[:1]
        if t in b"+-:,#_(":
            return line
        if t in b"$=!":
            n = int(line[1:-2])
            return line if n < 0 else line + self.exact(n + 2)
        if t in b"*~>":
            n = int(line[1:-2])
            return line + b"".join(self.reply() for _ in range(max(n, 0)))
        if t == b"%":
            n = int(line[1:-2])
            return line + b"".join(self.reply() for _ in range(2 * n))
        raise ValueError(f"unexpected reply line {line!r}")

    def call(self, *words):
        self.send(encode(*words))
        return self.reply()

    def closed(self, timeout=5):
        """True if the server closes the connection (after any pending bytes)."""
        self.s.settimeout(timeout)
        try:
            while True:
                chunk = self.s.recv(1 << 20)
                if not chunk:
                    return True
                self.buf += chunk
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def close(self):
        self.s.close()


def encode(*words):
    out = [b"*%d\r\n" % len(words)]
    for w in words:
        b = w if isinstance(w, bytes) else str(w).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


def main():
    """Runs the unittest cases of the calling module, verbosely; exit status for CTest."""
    import unittest
    import warnings
    warnings.simplefilter("ignore", ResourceWarning)
    unittest.main(module="__main__", argv=[sys.argv[0], "-v"], exit=True, warnings="ignore")
