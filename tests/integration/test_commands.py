"""Commands through redis-py and redis-cli against the real binary: strings, keys, databases,
expiry, multi-key commands across slot-range actors, AUTH, CLIENT, INFO, ACTORS, DEBUG."""
import re
import subprocess
import threading
import time
import unittest

import redis

from harness import REDIS, Raw, Server, main


def wait_until(pred, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


class Commands(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--slot-actors", "4", "--enable-debug-command", "yes").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self.r = self.server.client()
        self.r.flushall()

    def test_strings(self):
        r = self.r
        self.assertTrue(r.set("s", "hello", ex=100))
        self.assertEqual(r.get("s"), "hello")
        self.assertEqual(r.ttl("s"), 100)
        self.assertEqual(r.append("s", " world"), 11)
        self.assertEqual(r.getrange("s", 0, 4), "hello")
        self.assertEqual(r.setrange("s", 6, "there"), 11)
        self.assertEqual(r.get("s"), "hello there")
        self.assertEqual(r.incrby("n", 5), 5)
        self.assertEqual(r.incrbyfloat("n", 0.5), 5.5)
        self.assertIsNone(r.set("s", "x", nx=True))
        self.assertEqual(r.set("s", "y", get=True), "hello there")
        self.assertEqual(r.getdel("s"), "y")
        self.assertEqual(r.exists("s"), 0)
        self.assertEqual(r.strlen("n"), 3)
        with self.assertRaises(redis.ResponseError) as e:
            r.incr("n")
        self.assertIn("not an integer", str(e.exception))

    def test_multi_key_commands_across_slot_ranges(self):
        r = self.r
        keys = [f"k{i}" for i in range(50)]  # spread over all four slot ranges
        self.assertTrue(r.mset({k: k.upper() for k in keys}))
        self.assertEqual(r.mget(keys), [k.upper() for k in keys])
        self.assertEqual(r.exists(*keys, "missing"), 50)
        self.assertEqual(r.msetnx({"k1": "x", "brand-new": "y"}), False)
        self.assertIsNone(r.get("brand-new"))
        self.assertTrue(r.rename("k1", "k2-renamed"))
        self.assertEqual(r.get("k2-renamed"), "K1")
        self.assertTrue(r.copy("k3", "k3-copy"))
        self.assertEqual(r.get("k3-copy"), "K3")
        self.assertEqual(r.delete(*keys), 49)  # k1 was renamed away
        self.assertEqual(r.dbsize(), 2)
        self.assertEqual(sorted(r.keys("*")), ["k2-renamed", "k3-copy"])

    def test_mset_is_atomic_for_other_clients(self):
        # Two keys that live in different slot ranges are always seen together.
        a, b = "atom:a", "atom:b{x}"
        self.r.mset({a: 0, b: 0})
        stop = threading.Event()
        bad = []

        def writer():
            w = self.server.client()
            i = 0
            while not stop.is_set():
                i += 1
                w.mset({a: i, b: i})

        t = threading.Thread(target=writer)
        t.start()
        reader = self.server.client()
        for _ in range(2000):
            x, y = reader.mget(a, b)
            if x != y:
                bad.append((x, y))
        stop.set()
        t.join()
        self.assertEqual(bad, [])

    def test_databases(self):
        r = self.r
        r.set("d", "zero")
        self.assertTrue(r.move("d", 3))
        r3 = self.server.client(db=3)
        self.assertEqual(r3.get("d"), "zero")
        self.assertTrue(r.swapdb(0, 3))
        self.assertEqual(r.get("d"), "zero")
        self.assertEqual(r.info("keyspace"), {"db0": {"keys": 1, "expires": 0, "avg_ttl": 0}})
        with self.assertRaises(redis.ResponseError) as e:
            r.execute_command("SELECT", 16)
        self.assertIn("DB index is out of range", str(e.exception))
        r3.set("other", "x")
        self.assertTrue(r.flushdb())
        self.assertEqual(r.dbsize(), 0)
        self.assertEqual(r3.dbsize(), 1)

    def test_active_expiry_without_access(self):
        r = self.r
        for i in range(200):
            r.set(f"e{i}", "v", px=100)
        r.set("keep", "v")
        deadline = time.time() + 5
        while r.dbsize() > 1 and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(r.dbsize(), 1)
        self.assertGreaterEqual(r.info("stats")["expired_keys"], 200)

    def test_scan_returns_every_key(self):
        r = self.r
        r.mset({f"scan:{i}": i for i in range(1000)})
        seen = set()
        cursor = 0
        while True:
            cursor, keys = r.scan(cursor, count=50)
            seen.update(keys)
            if cursor == 0:
                break
        self.assertEqual(len(seen), 1000)
        self.assertEqual(set(r.scan_iter(match="scan:99*")), {"scan:99"} | {f"scan:{i}" for i in range(990, 1000)})

    def test_info_fields(self):
        r = self.r
        r.set("i", "1")
        info = r.info()
        self.assertEqual(info["redis_version"], "7.0.15")
        self.assertEqual(info["cluster_enabled"], 0)
        self.assertEqual(info["loading"], 0)
        self.assertEqual(info["db0"]["keys"], 1)
        self.assertGreater(info["used_memory"], 0)
        self.assertGreaterEqual(info["connected_clients"], 1)
        self.assertIn("# Keyspace", self.server.cli("INFO"))

    def test_info_memory_has_redis_fields_in_its_order(self):
        # Monitoring tools read these by name: the same names in the same order as redis-server's,
        # and the same arithmetic as MEMORY STATS (dataset = used - overhead).
        def names(text):
            return [l.split(":")[0] for l in text.splitlines() if l and not l.startswith("#")]
        with Server(binary=REDIS) as theirs:
            expected = names(theirs.cli("INFO", "memory"))
        r = self.r
        r.set("m", "v" * 1000)
        self.assertEqual(names(self.server.cli("INFO", "memory")), expected)
        info = r.info("memory")
        self.assertEqual(info["used_memory_dataset"], info["used_memory"] - info["used_memory_overhead"])
        self.assertGreaterEqual(info["used_memory_overhead"], info["used_memory_startup"])
        self.assertEqual(info["mem_fragmentation_bytes"], info["used_memory_rss"] - info["used_memory"])
        self.assertEqual(info["used_memory_lua"], 0)   # (no scripting)

    def test_instantaneous_ops_follow_the_load(self):
        # Sampled ten times a second and averaged over 16 samples, as Redis does.
        port = str(self.server.port)
        bench = subprocess.Popen(["redis-benchmark", "-p", port, "-t", "set", "-c", "4", "-n", "100000000", "-q"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self.assertTrue(wait_until(lambda: self.r.info("stats")["instantaneous_ops_per_sec"] > 1000))
            stats = self.r.info("stats")
            self.assertGreater(stats["instantaneous_input_kbps"], 0)
            self.assertGreater(stats["instantaneous_output_kbps"], 0)
        finally:
            bench.kill()
            bench.wait()
        self.assertTrue(wait_until(lambda: self.r.info("stats")["instantaneous_ops_per_sec"] < 100))

    def test_error_replies_counted_as_redis_counts_them(self):
        # Errors from the slot ranges (WRONGTYPE, not an integer) count as well as those the
        # connection answers itself (unknown command, arity, CONFIG SET, EXEC without MULTI,
        # EXECABORT) and those of commands inside EXEC: the same total and the same INFO errorstats
        # as redis-server's.
        script = [("RPUSH", "l", "a"), ("GET", "l"), ("INCR", "l"), ("SET", "s", "x"), ("INCR", "s"),
                  ("NOSUCHCMD",), ("GET",), ("LPUSH", "s", "y"), ("CONFIG", "SET", "maxmemory", "lots"),
                  ("EXEC",), ("MULTI",), ("NOSUCHCMD",), ("EXEC",),
                  ("MULTI",), ("INCR", "s"), ("LPUSH", "s", "y"), ("GET", "l"), ("EXEC",)]

        def errors(s):
            raw = Raw(s.port)
            raw.call("CONFIG", "RESETSTAT")
            for c in script:
                raw.call(*c)
            lines = raw.call("INFO", "everything").decode().split("\r\n")
            raw.call("CONFIG", "RESETSTAT")
            after = [l for l in raw.call("INFO", "errorstats").decode().split("\r\n") if l.startswith(("#", "errorstat_"))]
            raw.close()
            return [l for l in lines if l.startswith(("total_error_replies:", "errorstat_"))], after

        with Server(binary=REDIS) as theirs:
            expected = errors(theirs)
        self.r.flushall()
        self.assertEqual(errors(self.server), expected)
        self.assertEqual(expected, (["total_error_replies:13", "errorstat_ERR:count=7", "errorstat_EXECABORT:count=1",
                                     "errorstat_WRONGTYPE:count=5"], ["# Errorstats"]))

    def test_info_memory_comes_from_jemalloc(self):
        # troupe-server allocates with jemalloc, as Redis does: INFO names it the way Redis does,
        # and used_memory (jemalloc's stats.allocated) follows what the dataset holds.
        r = self.r
        info = r.info("memory")
        self.assertRegex(info["mem_allocator"], r"^jemalloc-\d+\.\d+\.\d+$")
        before = info["used_memory"]
        value = "v" * 1000
        p = r.pipeline(transaction=False)
        for i in range(5000):
            p.set(f"jemalloc:{i}", value)
        p.execute()
        grown = r.info("memory")["used_memory"] - before
        self.assertGreater(grown, 5000 * 1000)
        self.assertLess(grown, 5000 * 1000 * 3)
        r.delete(*[f"jemalloc:{i}" for i in range(5000)])
        self.assertLess(r.info("memory")["used_memory"], before + 5000 * 1000)

    def test_memory_commands(self):
        # MEMORY USAGE runs where the key lives (four slot ranges here); MEMORY STATS adds up
        # every range's tables and jemalloc's figures; redis-cli --memkeys reads MEMORY USAGE.
        r = self.r
        p = r.pipeline(transaction=False)
        for i in range(2000):
            p.set(f"mem:{i}", "v" * 100)
        p.execute()
        r.hset("mem:hash", mapping={f"f{i}": "x" * 20 for i in range(1000)})
        r.execute_command("SELECT", 2)
        r.set("in-db-2", "v")
        r.execute_command("SELECT", 0)
        self.assertIsNone(r.memory_usage("nokey"))
        self.assertGreater(r.memory_usage("mem:1"), 100)
        self.assertGreater(r.memory_usage("mem:hash", samples=0), 1000 * 20)
        stats = r.memory_stats()
        self.assertEqual(stats["keys.count"], 2002)
        self.assertEqual(sorted(k for k in stats if k.startswith("db.")), ["db.0", "db.2"])
        self.assertGreater(stats["db.0"]["overhead.hashtable.main"], 2001 * 8)
        self.assertEqual(stats["total.allocated"] - stats["overhead.total"], stats["dataset.bytes"])
        self.assertGreater(stats["dataset.bytes"], 2000 * 100)
        self.assertGreaterEqual(stats["allocator.active"], stats["allocator.allocated"])
        self.assertGreater(float(stats["fragmentation"]), 0)   # (RESP2: a bulk string, as from Redis)
        self.assertTrue(r.execute_command("MEMORY", "DOCTOR"))
        self.assertTrue(r.memory_purge())
        self.assertTrue(r.execute_command("MEMORY", "MALLOC-STATS").startswith("___ Begin jemalloc statistics ___"))
        out = subprocess.run(["redis-cli", "-p", str(self.server.port), "--memkeys"], capture_output=True,
                             text=True, timeout=60).stdout
        m = re.search(r"(\d+) strings with (\d+) bytes", out)
        self.assertIsNotNone(m, out)
        self.assertEqual(int(m.group(1)), 2000)   # (db 0's)
        self.assertGreater(int(m.group(2)), 2000 * 100)
        self.assertIn("Biggest   hash found", out)

    def test_client_commands(self):
        r = self.r
        r.client_setname("me")
        self.assertEqual(r.client_getname(), "me")
        victim = Raw(self.server.port)
        self.assertEqual(victim.call("CLIENT", "SETNAME", "victim"), b"+OK\r\n")
        clients = {c["name"]: c for c in r.client_list()}
        self.assertIn("victim", clients)
        self.assertEqual(clients["me"]["cmd"], "client|list")
        self.assertEqual(clients["victim"]["cmd"], "client|setname")
        self.assertEqual(victim.call("GET", "nokey"), b"$-1\r\n")
        self.assertEqual({c["name"]: c["cmd"] for c in r.client_list()}["victim"], "get")
        self.assertIn("cmd=client|info", r.execute_command("CLIENT", "INFO"))
        self.assertIn("id=", r.execute_command("CLIENT", "INFO"))
        self.assertEqual(r.client_kill_filter(_id=clients["victim"]["id"]), 1)
        self.assertTrue(victim.closed())
        self.assertNotIn("victim", {c["name"] for c in r.client_list()})
        self.assertEqual(r.client_kill_filter(_id=999999), 0)

    def test_client_memory_returns_after_a_large_value(self):
        # The buffers a connection keeps between commands (input, batches, replies) let go of
        # what a 2 MB value made them take: CLIENT LIST tot-mem counts them all.
        c = self.server.client()
        c.client_setname("big")
        c.set("bigvalue", "x" * 2_000_000)
        self.assertEqual(len(c.get("bigvalue")), 2_000_000)
        c.ping()
        c.ping()
        mem = {x["name"]: int(x["tot-mem"]) for x in self.r.client_list()}["big"]
        self.assertGreater(mem, 0)
        self.assertLess(mem, 300_000)
        c.close()

    def test_actors(self):
        lines = self.server.cli("ACTORS").strip().split("\n")
        names = [l.split()[0] for l in lines]
        for expected in ("name=node", "name=listener:%d" % self.server.port, "name=inspector", "name=slot_range:0",
                         "name=slot_range:3"):
            self.assertIn(expected, names)
        self.assertTrue(any(n.startswith("name=connection:") for n in names))
        self.assertNotIn("\r", self.server.cli("ACTORS", "LIST"))
        slot_line = [l for l in lines if l.startswith("name=slot_range:0 ")][0]
        self.assertRegex(slot_line, r"kind=slot_range handled=\d+ mailbox=\d+ slots=0-4095 loop=\d+ keys=\d+")
        info = self.server.cli("ACTORS", "INFO", "slot_range:0")
        self.assertIn("actor_status(", info)
        self.assertIn("slot_range_status(", info)
        self.assertIn("no such actor", self.server.cli("ACTORS", "INFO", "nobody"))

    def test_debug_digest_matches_redis(self):
        commands = [("SET", "a", "1"), ("SET", "b", "hello"), ("SET", "c", "x" * 100), ("SET", "d", "v", "EX", "1000"),
                    ("SELECT", "2"), ("SET", "e", "in-db-2")]
        with Server("--enable-debug-command", "yes", binary=REDIS) as theirs:
            t = theirs.client()
            for c in commands:
                t.execute_command(*c)
            expected = t.execute_command("DEBUG", "DIGEST")
        o = self.server.client()
        for c in commands:
            o.execute_command(*c)
        self.assertEqual(o.execute_command("DEBUG", "DIGEST"), expected)
        self.assertNotEqual(expected, "0" * 40)

    def test_debug_commands(self):
        r = self.r
        r.set("o", "12345")
        self.assertIn("encoding:int", r.execute_command("DEBUG", "OBJECT", "o"))
        start = time.time()
        self.assertTrue(r.execute_command("DEBUG", "SLEEP", "0.2"))
        self.assertGreaterEqual(time.time() - start, 0.2)
        self.assertTrue(r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0"))
        r.set("x", "v", px=50)
        time.sleep(0.4)
        self.assertEqual(r.info("keyspace")["db0"]["keys"], 2)  # nobody expired it
        self.assertTrue(r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1"))
        self.assertIsNone(r.get("x"))


class Auth(unittest.TestCase):
    def test_requirepass(self):
        with Server("--requirepass", "s3cret") as s:
            r = s.client()
            with self.assertRaises(redis.AuthenticationError):
                r.get("x")
            with self.assertRaises((redis.AuthenticationError, redis.ResponseError)) as e:
                s.client(password="wrong").ping()
            self.assertIn("WRONGPASS", str(e.exception))
            ok = s.client(password="s3cret")
            self.assertTrue(ok.set("x", "1"))
            self.assertEqual(s.cli("-a", "s3cret", "--no-auth-warning", "GET", "x").strip(), "1")
            self.assertIn("NOAUTH", s.cli("GET", "x"))
            raw = Raw(s.port)
            self.assertEqual(raw.call("HELLO", "3"), b"-NOAUTH HELLO must be called with the client already "
                             b"authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to "
                             b"authenticate the client and select the RESP protocol version at the same time\r\n")
            self.assertTrue(raw.call("HELLO", "3", "AUTH", "default", "s3cret").startswith(b"%7\r\n"))
            self.assertEqual(raw.call("GET", "x"), b"$1\r\n1\r\n")

    def test_maxclients(self):
        with Server("--maxclients", "2") as s:
            a = s.client()
            a.ping()
            # The harness's own connection (it waited for the server to answer) may not be counted
            # out yet: wait until `a` is the only client.
            deadline = time.time() + 10
            while a.info("clients")["connected_clients"] > 1 and time.time() < deadline:
                time.sleep(0.01)
            b = s.client()
            b.ping()
            with self.assertRaises(redis.ConnectionError):
                s.client().ping()
            self.assertEqual(Raw(s.port).reply(), b"-ERR max number of clients reached\r\n")
            self.assertTrue(a.ping())
            self.assertGreaterEqual(a.info("stats")["rejected_connections"], 2)

    def test_protected_mode(self):
        addrs = [a for a in subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
                 if "." in a and not a.startswith("127.")]
        if not addrs:
            self.skipTest("this machine has no non-loopback IPv4 address")
        with Server() as s:
            r = Raw(s.port)
            self.assertEqual(r.call("PING"), b"+PONG\r\n")  # loopback is served
            outside = Raw(s.port, host=addrs[0])
            self.assertTrue(outside.reply().startswith(b"-DENIED Troupe is running in protected mode"))
            self.assertTrue(outside.closed())
            self.assertEqual(r.call("CONFIG", "SET", "protected-mode", "no"), b"+OK\r\n")
            self.assertEqual(Raw(s.port, host=addrs[0]).call("PING"), b"+PONG\r\n")

    def test_idle_timeout(self):
        with Server("--timeout", "1") as s:
            r = s.client()
            r.ping()
            time.sleep(2.5)
            self.assertNotIn("cmd=ping", s.cli("CLIENT", "LIST"))


if __name__ == "__main__":
    main()
