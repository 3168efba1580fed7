"""Persistence with the real binary: the LZ4 AOF (restart, kill -9 under load with appendfsync
always, torn and corrupt files, --check-aof, interop with redis-server and the lz4 tool)."""
import os
import random
import shutil
import signal
import subprocess
import threading
import time
import unittest

import redis

from harness import REDIS, TROUPE, Raw, Server, main


def aof_server(*extra, keep_dir=None, port=None):
    return Server("--appendonly", "yes", "--appendfilename", "node.aof", *extra, keep_dir=keep_dir, port=port)


class Aof(unittest.TestCase):
    def test_restart_replays_every_write(self):
        s = aof_server("--appendfsync", "everysec", "--slot-actors", "4").start()
        r = s.client()
        r.set("plain", "v")
        r.set("ttl", "v", ex=1000)
        r.incrbyfloat("f", 2.5)
        r.mset({"m1": 1, "m2{x}": 2, "m3{y}": 3})
        r.expire("m1", 2000)
        r3 = s.client(db=3)
        r3.set("in3", "x")
        p = r.pipeline(transaction=True)
        p.set("t1", 1).incr("t1").delete("plain")
        p.execute()
        s.stop()
        self.assertEqual(s.proc.returncode, 0)
        again = aof_server(keep_dir=s.dir, port=s.port).start()
        try:
            r = again.client()
            self.assertIsNone(r.get("plain"))
            self.assertEqual(r.get("f"), "2.5")
            self.assertEqual(r.mget("m1", "m2{x}", "m3{y}"), ["1", "2", "3"])
            self.assertGreater(r.ttl("ttl"), 900)
            self.assertGreater(r.ttl("m1"), 1900)
            self.assertEqual(r.get("t1"), "2")
            self.assertEqual(again.client(db=3).get("in3"), "x")
            self.assertIn("DB loaded from append only file", again.output())
        finally:
            again.stop()

    def test_kill9_under_load_loses_no_acknowledged_write(self):
        s = aof_server("--appendfsync", "always", "--slot-actors", "4").start()
        acked = {}
        lock = threading.Lock()
        stop = threading.Event()

        def writer(n):
            c = s.client(socket_timeout=5)
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    c.set(f"w{n}:{i}", i)
                    c.incr(f"counter{n}")
                except Exception:
                    return
                with lock:
                    acked[n] = i

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.5 + random.random())
        s.proc.send_signal(signal.SIGKILL)
        s.proc.wait()
        stop.set()
        for t in threads:
            t.join()
        self.assertTrue(all(v > 10 for v in acked.values()), acked)
        again = aof_server(keep_dir=s.dir, port=s.port).start()
        try:
            r = again.client()
            for n, last in acked.items():
                # Every SET and INCR the client saw acknowledged is there.
                self.assertEqual(r.get(f"w{n}:{last}"), str(last))
                self.assertGreaterEqual(int(r.get(f"counter{n}")), last)
                missing = [i for i in range(1, last + 1, max(1, last // 50)) if r.get(f"w{n}:{i}") != str(i)]
                self.assertEqual(missing, [])
        finally:
            again.stop()

    def test_torn_tail_is_cut_and_corruption_stops_the_start(self):
        s = aof_server("--appendfsync", "always").start()
        r = s.client()
        for i in range(200):
            r.set(f"k{i}", "x" * 100)
        s.proc.send_signal(signal.SIGKILL)
        s.proc.wait()
        path = os.path.join(s.dir, "node.aof")
        size = os.path.getsize(path)
        with open(path, "r+b") as f:
            f.truncate(size - 7)  # a torn final block
        again = aof_server(keep_dir=s.dir, port=s.port).start()
        try:
            n = again.client().dbsize()
            self.assertGreater(n, 150)
            self.assertLessEqual(n, 200)
        finally:
            again.stop()
        # Flip a byte in the middle: the start fails, naming the file and the offset.
        with open(path, "r+b") as f:
            f.seek(os.path.getsize(path) // 3)
            b = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([b[0] ^ 0xFF]))
        bad = aof_server(keep_dir=s.dir, port=s.port)
        bad.start(wait=False)
        bad.proc.wait(10)
        self.assertEqual(bad.proc.returncode, 1)
        self.assertIn("node.aof", bad.output())
        self.assertIn("offset", bad.output())
        # --check-aof reports it; --fix truncates to the last good command and the node starts.
        r = subprocess.run([TROUPE, "--check-aof", path], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        r = subprocess.run([TROUPE, "--check-aof", "--fix", path], input="y\n", capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        fixed = aof_server(keep_dir=s.dir, port=s.port).start()
        try:
            self.assertGreater(fixed.client().dbsize(), 10)
        finally:
            fixed.stop()

    def test_lz4_decompressed_aof_loads_into_redis_server(self):
        s = aof_server("--appendfsync", "everysec").start()
        r = s.client()
        r.set("a", "1")
        r.set("b", "2", px=900000)
        r.incr("c")
        r.delete("a")
        s.stop()
        d = __import__("tempfile").mkdtemp()
        subprocess.run(["lz4", "-d", "-f", os.path.join(s.dir, "node.aof"), os.path.join(d, "appendonly.aof")],
                       check=True, capture_output=True)
        theirs = Server("--appendonly", "yes", "--appendfilename", "appendonly.aof", binary=REDIS, keep_dir=d).start()
        try:
            t = theirs.client()
            self.assertEqual(t.dbsize(), 2)
            self.assertEqual(t.get("b"), "2")
            self.assertEqual(t.get("c"), "1")
            self.assertGreater(t.pttl("b"), 800000)
        finally:
            theirs.stop()
            shutil.rmtree(d, ignore_errors=True)

    def test_loading_and_actors_show_the_aof_writer(self):
        s = aof_server("--appendfsync", "everysec").start()
        try:
            r = s.client()
            r.set("x", "y")
            line = [l for l in s.cli("ACTORS").split("\n") if l.startswith("name=aof_writer")][0]
            self.assertIn("appendfsync=everysec", line)
            self.assertRegex(line, r"bytes_written=\d+")
            self.assertIn("compression=", line)
            info = r.info("persistence")
            self.assertEqual(info["aof_enabled"], 1)
            self.assertEqual(info["loading"], 0)
        finally:
            s.stop()


if __name__ == "__main__":
    main()
