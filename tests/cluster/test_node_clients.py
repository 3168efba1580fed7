"""The Node.js cluster clients against a six-node Troupe cluster: starts the cluster (three masters,
three replicas, joined with redis-cli --cluster create), installs the pinned ioredis and node-redis
(tests/cluster/package.json and package-lock.json, with `npm ci`) when they are not installed yet, and
runs tests/cluster/clients.test.js with `node --test` against it.

Needs `node` (18 or newer) and `npm` on PATH: on Debian 12, `apt-get install nodejs npm`."""
import json
import os
import shutil
import subprocess
import sys
import time
import unittest

from cluster_harness import TROUPE, Cluster

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import main  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "clients.test.js")
MISSING = ("{} is not installed: the Node.js client tests need node (18 or newer) and npm on PATH "
           "(on Debian 12: apt-get install nodejs npm)")


def installed_version(name):
    try:
        with open(os.path.join(HERE, "node_modules", name, "package.json")) as f:
            return json.load(f).get("version")
    except (OSError, ValueError):
        return None


def needs_install():
    """True unless every dependency of package.json is installed at the pinned version."""
    with open(os.path.join(HERE, "package.json")) as f:
        deps = json.load(f).get("dependencies", {})
    return any(installed_version(name) != version for name, version in deps.items())


class NodeClients(unittest.TestCase):
    def test_ioredis_and_node_redis_against_a_six_node_cluster(self):
        node, npm = shutil.which("node"), shutil.which("npm")
        if node is None:
            self.fail(MISSING.format("node"))
        if npm is None:
            self.fail(MISSING.format("npm"))
        version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
        major = int(version.lstrip("v").split(".")[0]) if version else 0
        self.assertGreaterEqual(major, 18, f"node {version} is too old: the client tests need node 18 or newer")

        if needs_install():
            lock = os.path.exists(os.path.join(HERE, "package-lock.json"))
            cmd = [npm, "ci" if lock else "install", "--no-audit", "--no-fund", "--loglevel=error"]
            started = time.time()
            r = subprocess.run(cmd, cwd=HERE, capture_output=True, text=True, timeout=300)
            if r.returncode != 0:
                self.fail(f"`{' '.join(cmd[1:])}` in {HERE} failed with status {r.returncode}:\n"
                          f"{r.stdout}{r.stderr}")
            print(f"\n{' '.join(['npm'] + cmd[1:2])}: installed in {time.time() - started:.1f}s", file=sys.stderr)

        with Cluster([TROUPE] * 6) as cluster:
            env = dict(os.environ, TROUPE_CLUSTER_PORT=str(cluster.nodes[0].port), TROUPE_CLUSTER_HOST="127.0.0.1")
            env.pop("NODE_OPTIONS", None)
            r = subprocess.run([node, "--test", SCRIPT], cwd=HERE, env=env, capture_output=True, text=True,
                               timeout=180)
            summary = [l for l in r.stdout.splitlines() if l.startswith(("# tests", "# pass", "# fail", "# skipped"))]
            print(f"\nnode {version}, clients.test.js: {', '.join(l[2:] for l in summary)}", file=sys.stderr)
            for line in r.stdout.splitlines():
                if "# SKIP" in line:
                    print(line.strip(), file=sys.stderr)
            if r.returncode != 0:
                print(r.stdout, r.stderr, sep="\n", file=sys.stderr)
                for n in cluster.nodes:
                    if n.proc.poll() is not None:
                        print(f"node on port {n.port} exited with {n.proc.returncode}:\n{n.output()[-3000:]}",
                              file=sys.stderr)
            self.assertEqual(r.returncode, 0, f"node --test {SCRIPT} exited with {r.returncode} (output above)")


if __name__ == "__main__":
    main()
