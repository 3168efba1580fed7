"""Several troupe-server (and redis-server) nodes in cluster mode on free ports, joined with the
real redis-cli --cluster create; every process started is stopped at the end."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import REDIS, TROUPE, Server, free_port  # noqa: E402


def cluster_port():
    # A client port whose bus port (+10000) is free as well.
    import socket
    while True:
        p = free_port()
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p + 10000))
            return p
        except OSError:
            continue
        finally:
            s.close()


class Node(Server):
    def __init__(self, binary=None, extra=()):
        port = cluster_port()
        super().__init__("--cluster-enabled", "yes", "--cluster-config-file", f"nodes_{port}.conf",
                         "--cluster-node-timeout", "3000", *extra, binary=binary, port=port)


class Cluster:
    def __init__(self, binaries, replicas=1, dir=None):
        self.nodes = [Node(binary=b) for b in binaries]
        self.replicas = replicas
        self.expected_replicas = len(self.nodes) // (1 + replicas) * replicas if replicas else 0

    def start(self, create=True):
        for n in self.nodes:
            n.start()
        if create:
            self.create()
        return self

    def create(self):
        addrs = [f"127.0.0.1:{n.port}" for n in self.nodes]
        r = subprocess.run(["redis-cli", "--cluster", "create", *addrs, "--cluster-replicas", str(self.replicas),
                            "--cluster-yes"], capture_output=True, text=True, timeout=120)
        if r.returncode != 0 or "[OK] All 16384 slots covered." not in r.stdout:
            raise RuntimeError("cluster create failed:\n" + r.stdout + r.stderr)
        self.wait_ok()
        return r.stdout

    def wait_ok(self, timeout=30, nodes=None):
        deadline = time.time() + timeout
        nodes = nodes or self.nodes
        while time.time() < deadline:
            infos = [n.cli("CLUSTER", "INFO", check=False) for n in nodes]
            views = [n.cli("CLUSTER", "NODES", check=False) for n in nodes]
            replicas = self.expected_replicas
            if all("cluster_state:ok" in i and f"cluster_known_nodes:{len(self.nodes)}" in i for i in infos) and \
                    all(v.count(" slave ") + v.count(",slave ") >= replicas for v in views):
                return
            time.sleep(0.2)
        raise RuntimeError("cluster did not reach cluster_state:ok: "
                           + " | ".join(n.cli("CLUSTER", "INFO", check=False).split("\n")[0] for n in nodes))

    def stop(self):
        for n in self.nodes:
            n.stop()
            shutil.rmtree(n.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def parse_nodes(text):
    """CLUSTER NODES as a list of dicts: id, addr, port, flags, master, slots (list of (a, b))."""
    out = []
    for line in text.strip().split("\n"):
        f = line.split()
        if len(f) < 8:
            continue
        slots = []
        for r in f[8:]:
            if r.startswith("["):
                continue
            a, _, b = r.partition("-")
            slots.append((int(a), int(b or a)))
        out.append({"id": f[0], "addr": f[1], "port": int(f[1].split("@")[0].rsplit(":", 1)[1]),
                    "flags": f[2].split(","), "master": f[3], "slots": slots})
    return out
