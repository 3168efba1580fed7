"""io-threads N: several I/O loops, each with its own connections and its own slot ranges. What a
client sees must not change: counts, atomic multi-key commands and transactions across loops,
blocking pops woken from another loop, CLIENT LIST/KILL, no socket left behind."""
import os
import threading
import time
import unittest

import redis
from redis.crc import key_slot

from harness import Raw, Server, encode, main

LOOPS = 3
RANGES = 6   # slot-actors: two slot ranges per loop


def key_in_range(i, prefix="k"):
    """A key whose slot falls in slot range i of RANGES (ranges are equal runs of the 16384 slots)."""
    n = 0
    while True:
        k = f"{prefix}{n}"
        if key_slot(k.encode()) * RANGES // 16384 == i:
            return k
        n += 1


def run_for(seconds, stop, threads):
    """Starts the threads, lets them run, then sets `stop` and waits for them."""
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()


def actors(server):
    rows = []
    for line in server.cli("ACTORS").strip().split("\n"):
        fields = dict(f.split("=", 1) for f in line.split(" ") if "=" in f)
        rows.append(fields)
    return rows


class IoThreads(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--io-threads", str(LOOPS), "--slot-actors", str(RANGES)).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self.r = self.server.client()
        self.r.flushall()

    def tearDown(self):
        self.r.close()

    def test_info_and_actors_show_the_loops(self):
        info = self.r.info("server")
        self.assertEqual(info["troupe_io_threads"], LOOPS)
        self.assertEqual(info["io_threads_active"], 1)
        clients = [self.server.client() for _ in range(2 * LOOPS)]
        try:
            for c in clients:
                c.ping()
            rows = actors(self.server)
            ranges = [r for r in rows if r.get("kind") == "slot_range"]
            self.assertEqual(len(ranges), RANGES)
            self.assertEqual(sorted(int(r["loop"]) for r in ranges), sorted(i % LOOPS for i in range(RANGES)))
            # Accepted sockets are dealt to the loops in turn: every loop has connections.
            conns = [r for r in rows if r.get("kind") == "connection"]
            self.assertEqual({int(r["loop"]) for r in conns}, set(range(LOOPS)))
        finally:
            for c in clients:
                c.close()

    def test_an_idle_range_of_any_loop_runs_batches_on_the_connections_thread(self):
        # A command for an idle slot range runs at once through the range's door, on the
        # connection's own thread (no message), whether the range lives on the connection's loop or
        # on another; the range counts those from another loop as direct_other_loop.
        c = self.server.client()
        try:
            me = f"connection:{c.client_id()}"
            loop = int(next(r for r in actors(self.server) if r.get("name") == me)["loop"])
            here_range = next(i for i in range(RANGES) if i % LOOPS == loop)
            there_range = next(i for i in range(RANGES) if i % LOOPS != loop)
            here, there = key_in_range(here_range, "here"), key_in_range(there_range, "there")

            def counts():
                rows = actors(self.server)
                conn = next(r for r in rows if r.get("name") == me)
                ranges = {int(r["name"].split(":")[1]): r for r in rows if r.get("kind") == "slot_range"}
                return (int(conn["batches"]), int(conn["direct"]), int(ranges[here_range]["direct_other_loop"]),
                        int(ranges[there_range]["direct_other_loop"]))

            for key, range_index in ((here, here_range), (there, there_range)):
                sent0, direct0, here0, there0 = counts()
                for i in range(20):
                    c.set(key, i)
                sent1, direct1, here1, there1 = counts()
                self.assertGreaterEqual(direct1 - direct0, 1, key)
                self.assertEqual((sent1 - sent0) + (direct1 - direct0), 20, key)
                if range_index == here_range:
                    self.assertEqual(here1 - here0, 0)
                else:
                    self.assertGreaterEqual(there1 - there0, 1)
            self.assertEqual(c.mget(here, there), ["19", "19"])
        finally:
            c.close()

    def test_concurrent_increments_from_every_loop_all_count(self):
        keys = [key_in_range(i % RANGES, f"n{i}-") for i in range(12)]
        per_client, clients = 300, 9

        def work():
            c = self.server.client()
            for _ in range(per_client // 30):
                p = c.pipeline(transaction=False)
                for _ in range(30):
                    for k in keys:
                        p.incr(k)
                p.execute()
            c.close()

        threads = [threading.Thread(target=work) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(self.r.mget(keys), [str(per_client * clients)] * len(keys))

    def test_multi_key_commands_and_transactions_are_atomic_across_loops(self):
        # Money moves between keys of ranges on different loops, by MULTI/EXEC and by MSET; readers
        # taking MGET of all of them must always see the same total.
        accounts = [key_in_range(i, "acct") for i in range(RANGES)]
        self.r.mset({k: 1000 for k in accounts})
        total = 1000 * len(accounts)
        stop = threading.Event()
        seen = []

        def mover(seed):
            c = self.server.client()
            n = 0
            while not stop.is_set():
                a, b = accounts[(seed + n) % RANGES], accounts[(seed + 2 * n + 1) % RANGES]
                if a != b:
                    p = c.pipeline(transaction=True)
                    p.decrby(a, 7).incrby(b, 7)
                    p.execute()
                n += 1
            c.close()

        def reader():
            c = self.server.client()
            while not stop.is_set():
                seen.append(sum(int(v) for v in c.mget(accounts)))
            c.close()

        run_for(2, stop, [threading.Thread(target=mover, args=(s,)) for s in range(4)]
                + [threading.Thread(target=reader) for _ in range(2)])
        self.assertGreater(len(seen), 10)
        self.assertEqual(set(seen), {total})
        self.assertEqual(sum(int(v) for v in self.r.mget(accounts)), total)

    def test_blocked_clients_are_woken_from_another_loop(self):
        # Six waiters and six pushers on connections dealt over every loop, keys in every range.
        keys = [key_in_range(i, "q") for i in range(RANGES)]
        got = {}

        def wait(k):
            c = self.server.client()
            got[k] = c.blpop(k, timeout=10)
            c.close()

        waiters = [threading.Thread(target=wait, args=(k,)) for k in keys]
        for t in waiters:
            t.start()
        deadline = time.time() + 10
        while self.r.info("clients")["blocked_clients"] < len(keys) and time.time() < deadline:
            time.sleep(0.02)
        self.assertEqual(self.r.info("clients")["blocked_clients"], len(keys))
        pushers = [self.server.client() for _ in keys]
        for c, k in zip(pushers, reversed(keys)):
            c.rpush(k, "v-" + k)
        for t in waiters:
            t.join()
        for c in pushers:
            c.close()
        self.assertEqual(got, {k: (k, "v-" + k) for k in keys})

    def test_client_list_and_kill_reach_every_loop(self):
        clients = [self.server.client() for _ in range(2 * LOOPS)]
        try:
            for i, c in enumerate(clients):
                c.client_setname(f"io{i}")
            names = {e["name"] for e in self.r.client_list()}
            self.assertTrue({f"io{i}" for i in range(len(clients))} <= names)
            loops = {int(r["loop"]) for r in actors(self.server) if r.get("kind") == "connection"}
            self.assertEqual(loops, set(range(LOOPS)))
            for i, c in enumerate(clients):
                self.assertEqual(self.r.client_kill_filter(_id=c.client_id()), 1, f"io{i}")
            names = {e["name"] for e in self.r.client_list()}
            self.assertFalse(any(n.startswith("io") for n in names))
        finally:
            for c in clients:
                c.close()

    def test_client_list_and_actors_right_after_a_client_left_do_not_wait_for_it(self):
        # CLIENT LIST and ACTORS ask every connection (every actor); one of another loop that
        # terminates as the question reaches it may never answer. Its going down counts as its
        # answer, instead of CLIENT LIST waiting for its 5 s request timeout (which this client's
        # 4 s socket timeout would hit) and ACTORS for its 2 s one (then listing the connection as
        # "status=unanswered"). A client blocked on keys of two loops keeps the loops busy polling
        # meanwhile, as when it was seen.
        poller = Raw(self.server.port)
        self.addCleanup(poller.s.close)
        poller.send(encode("BLPOP", key_in_range(0), key_in_range(1), "0"))
        for i in range(160):
            leaving = redis.Redis(host="127.0.0.1", port=self.server.port, decode_responses=True)
            leaving.ping()
            leaving.connection_pool.disconnect()
            asking = redis.Redis(host="127.0.0.1", port=self.server.port, decode_responses=True, socket_timeout=4)
            try:
                if i % 2 == 0:
                    self.assertIn(str(asking.client_id()), {e["id"] for e in asking.client_list()})
                else:
                    listing = asking.execute_command("ACTORS")
                    self.assertNotIn("status=unanswered", listing)
                    self.assertIn("name=listener:", listing)
            finally:
                asking.connection_pool.disconnect()

    def test_no_socket_is_left_open(self):
        pid = self.server.proc.pid
        before = len(os.listdir(f"/proc/{pid}/fd"))
        for _ in range(120):
            c = redis.Redis(host="127.0.0.1", port=self.server.port, decode_responses=True)
            c.set(key_in_range(0), "x")
            c.connection_pool.disconnect()   # (close() keeps the pool's socket open)
        deadline = time.time() + 5
        while len(os.listdir(f"/proc/{pid}/fd")) > before and time.time() < deadline:
            time.sleep(0.05)
        self.assertLessEqual(len(os.listdir(f"/proc/{pid}/fd")), before)

    def test_pipelined_benchmark_load_keeps_every_key(self):
        # redis-benchmark's connections land on every loop; each SET of -r keys must be there after.
        import subprocess
        self.r.flushall()
        run = subprocess.run(["redis-benchmark", "-p", str(self.server.port), "-n", "30000", "-c", "12", "-P", "8",
                              "-r", "500", "-t", "set", "-q"], capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(self.r.dbsize(), 500)
        self.assertEqual(self.r.ping(), True)

    def test_info_and_actors_answer_during_cross_range_writes(self):
        # Slot ranges answer status and stats only while no other loop's connection holds their lock
        # (it is changing their tables): INFO and ACTORS keep answering, and the key count is right.
        keys = [key_in_range(i, "w") for i in range(RANGES)]
        stop = threading.Event()
        errors = []

        def writer(n):
            c = self.server.client()
            i = 0
            while not stop.is_set():
                c.mset({k: f"{n}-{i}" for k in keys})
                c.delete(keys[i % RANGES])
                i += 1
            c.close()

        def watcher():
            c = self.server.client()
            try:
                while not stop.is_set():
                    keyspace = c.info("keyspace")
                    if not keyspace or not 0 < keyspace["db0"]["keys"] <= RANGES:
                        errors.append(keyspace)
                    c.execute_command("ACTORS")
            except Exception as e:   # noqa: BLE001 - reported below
                errors.append(repr(e))
            c.close()

        run_for(2, stop, [threading.Thread(target=writer, args=(n,)) for n in range(4)]
                + [threading.Thread(target=watcher) for _ in range(2)])
        self.assertEqual(errors, [])
        self.assertEqual(self.r.ping(), True)

    def test_a_newcomer_parked_behind_a_poller_is_served_after_it(self):
        # A client polling across ranges (P) has data kept for it; a client blocking on that key in
        # its own range (N) parks behind P and must get what P leaves.
        j, k = key_in_range(0, "j"), key_in_range(1, "k")
        for _ in range(10):
            p, n = self.server.client(), self.server.client()
            got = {}
            tp = threading.Thread(target=lambda: got.update(p=p.blpop([j, k], timeout=5)))
            tp.start()
            deadline = time.time() + 5
            while self.r.info("clients")["blocked_clients"] < 1 and time.time() < deadline:
                time.sleep(0.005)
            tn = threading.Thread(target=lambda: got.update(n=n.blpop([k], timeout=5)))
            self.r.rpush(k, "a", "b")
            tn.start()
            tp.join()
            tn.join()
            self.assertEqual(sorted([got["p"], got["n"]]), [(k, "a"), (k, "b")])
            p.close()
            n.close()


class IoThreadsCluster(unittest.TestCase):
    def test_cluster_commands_see_the_keys_of_every_loop(self):
        s = Server("--io-threads", str(LOOPS), "--cluster-enabled", "yes", "--cluster-config-file",
                   "nodes.conf").start()
        try:
            r = s.client()
            r.execute_command("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
            deadline = time.time() + 10
            while "cluster_state:ok" not in s.cli("CLUSTER", "INFO") and time.time() < deadline:
                time.sleep(0.05)
            r.set("{x}k", "v")   # slot 16287: the last slot range
            with self.assertRaises(redis.ResponseError) as e:
                r.execute_command("CLUSTER", "FLUSHSLOTS")
            self.assertIn("DB must be empty", str(e.exception))
            r.delete("{x}k")
            self.assertEqual(r.execute_command("CLUSTER", "FLUSHSLOTS"), "OK")
        finally:
            s.stop()


if __name__ == "__main__":
    main()
