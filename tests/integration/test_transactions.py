"""MULTI/EXEC/WATCH with contention between clients and across slot-range actors, and pub/sub
with channels and patterns in RESP2 and RESP3."""
import threading
import time
import unittest

import redis

from harness import REDIS, Raw, Server, encode, main


class Transactions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--slot-actors", "4").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self.r = self.server.client()
        self.r.flushall()

    def test_exec_replies_in_order(self):
        p = self.r.pipeline(transaction=True)
        p.set("a", 1).incr("a").mset({"x1": 1, "y2": 2, "z3": 3}).mget("x1", "y2", "z3").get("a")
        self.assertEqual(p.execute(), [True, 2, True, ["1", "2", "3"], "2"])

    def test_watch_contention_counts_every_increment_once(self):
        # Two clients increment with optimistic locking; every success must be counted exactly once.
        self.r.set("counter", 0)
        per_client, results = 150, []

        def work():
            c = self.server.client()
            done = 0
            while done < per_client:
                with c.pipeline() as p:
                    try:
                        p.watch("counter")
                        v = int(p.get("counter"))
                        p.multi()
                        p.set("counter", v + 1)
                        p.execute()
                        done += 1
                    except redis.WatchError:
                        continue
            results.append(done)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(int(self.r.get("counter")), 2 * per_client)

    def test_watch_fails_when_another_client_writes(self):
        a, b = Raw(self.server.port), Raw(self.server.port)
        self.assertEqual(a.call("WATCH", "w1", "w2{other}"), b"+OK\r\n")
        self.assertEqual(b.call("SET", "w2{other}", "x"), b"+OK\r\n")
        self.assertEqual(a.call("MULTI"), b"+OK\r\n")
        self.assertEqual(a.call("SET", "w1", "mine"), b"+QUEUED\r\n")
        self.assertEqual(a.call("EXEC"), b"*-1\r\n")
        self.assertEqual(a.call("GET", "w1"), b"$-1\r\n")
        # Without interference it goes through, and WATCH was cleared by the failed EXEC.
        self.assertEqual(a.call("WATCH", "w1"), b"+OK\r\n")
        self.assertEqual(a.call("MULTI"), b"+OK\r\n")
        self.assertEqual(a.call("SET", "w1", "mine"), b"+QUEUED\r\n")
        self.assertEqual(a.call("EXEC"), b"*1\r\n+OK\r\n")

    def test_watch_and_setbit_as_redis(self):
        # SETBIT that changes no bit only re-encodes the value (as Redis, a raw string): a WATCH
        # on it holds; one that changes a bit aborts the transaction. The same on redis-server.
        def run(s):
            a, b = s.client(), s.client()
            a.set("k", "5")   # 0011 0101
            outcomes = []
            for bit, value in ((0, 0), (2, 0)):
                p = a.pipeline()
                p.watch("k")
                b.setbit("k", bit, value)
                p.multi()
                p.set("x", str(bit))
                try:
                    outcomes.append(p.execute())
                except redis.WatchError:
                    outcomes.append("aborted")
            return outcomes, a.object("encoding", "k")

        with Server(binary=REDIS) as theirs:
            expected = run(theirs)
        self.assertEqual(expected, ([[True], "aborted"], "raw"))
        self.server.client().flushall()
        self.assertEqual(run(self.server), expected)

    def test_watch_sees_expiry_and_flush(self):
        a = Raw(self.server.port)
        self.r.set("ex", "v", px=100)
        self.assertEqual(a.call("WATCH", "ex"), b"+OK\r\n")
        time.sleep(0.3)
        a.send(encode("MULTI") + encode("PING") + encode("EXEC"))
        self.assertEqual([a.reply(), a.reply(), a.reply()], [b"+OK\r\n", b"+QUEUED\r\n", b"*-1\r\n"])
        self.r.set("f", "v")
        self.assertEqual(a.call("WATCH", "f"), b"+OK\r\n")
        self.r.flushdb()
        a.send(encode("MULTI") + encode("PING") + encode("EXEC"))
        self.assertEqual([a.reply(), a.reply(), a.reply()], [b"+OK\r\n", b"+QUEUED\r\n", b"*-1\r\n"])
        # A watched key that does not exist is not touched by a flush (as Redis 7.0), nor by a
        # SWAPDB with a database that does not have it either; one that the other db has is.
        for flush in (self.r.flushall, self.r.flushdb, lambda: self.r.swapdb(0, 1)):
            self.assertEqual(a.call("WATCH", "missing"), b"+OK\r\n")
            flush()
            a.send(encode("MULTI") + encode("PING") + encode("EXEC"))
            self.assertEqual([a.reply(), a.reply(), a.reply()], [b"+OK\r\n", b"+QUEUED\r\n", b"*1\r\n+PONG\r\n"])
        self.r.execute_command("SELECT", 1)
        self.r.set("elsewhere", "v")
        self.r.execute_command("SELECT", 0)
        self.assertEqual(a.call("WATCH", "elsewhere"), b"+OK\r\n")
        self.r.swapdb(0, 1)
        a.send(encode("MULTI") + encode("PING") + encode("EXEC"))
        self.assertEqual([a.reply(), a.reply(), a.reply()], [b"+OK\r\n", b"+QUEUED\r\n", b"*-1\r\n"])

    def test_exec_is_atomic_for_other_clients(self):
        stop = threading.Event()
        bad = []

        def reader():
            c = self.server.client()
            while not stop.is_set():
                x, y = c.mget("pair:a", "pair:b{z}")
                if x != y:
                    bad.append((x, y))

        self.r.mset({"pair:a": 0, "pair:b{z}": 0})
        t = threading.Thread(target=reader)
        t.start()
        for i in range(300):
            p = self.r.pipeline(transaction=True)
            p.set("pair:a", i).set("pair:b{z}", i)
            p.execute()
        stop.set()
        t.join()
        self.assertEqual(bad, [])


class PubSub(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def wait_message(self, ps):
        deadline = time.time() + 5
        while time.time() < deadline:
            m = ps.get_message(timeout=0.5)
            if m and m["type"] in ("message", "pmessage"):
                return m
        self.fail("no message arrived")

    def test_channels_and_patterns(self):
        r = self.server.client()
        ps = r.pubsub()
        ps.subscribe("news")
        ps.psubscribe("sport.*")
        time.sleep(0.2)
        self.assertEqual(r.publish("news", "hello"), 1)
        self.assertEqual(self.wait_message(ps), {"type": "message", "pattern": None, "channel": "news", "data": "hello"})
        self.assertEqual(r.publish("sport.tennis", "ace"), 1)
        m = self.wait_message(ps)
        self.assertEqual((m["type"], m["pattern"], m["channel"], m["data"]), ("pmessage", "sport.*", "sport.tennis", "ace"))
        self.assertEqual(r.publish("nobody", "x"), 0)
        self.assertEqual(r.pubsub_channels(), ["news"])
        self.assertEqual(r.pubsub_numsub("news", "other"), [("news", 1), ("other", 0)])
        self.assertEqual(r.pubsub_numpat(), 1)
        ps.subscribe("weather")
        time.sleep(0.2)
        stats = r.info("stats")
        self.assertEqual((stats["pubsub_channels"], stats["pubsub_patterns"], stats["pubsubshard_channels"]), (2, 1, 0))
        ps.close()
        time.sleep(0.2)
        self.assertEqual(r.publish("news", "gone"), 0)
        stats = r.info("stats")   # (the connection's end dropped its subscriptions)
        self.assertEqual((stats["pubsub_channels"], stats["pubsub_patterns"]), (0, 0))

    def test_resp3_push_and_subscribed_mode(self):
        sub, pub = Raw(self.server.port), Raw(self.server.port)
        self.assertEqual(sub.call("SUBSCRIBE", "c1"), b"*3\r\n$9\r\nsubscribe\r\n$2\r\nc1\r\n:1\r\n")
        self.assertEqual(sub.call("PING"), b"*2\r\n$4\r\npong\r\n$0\r\n\r\n")
        self.assertTrue(sub.call("GET", "x").startswith(b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE"))
        self.assertEqual(pub.call("PUBLISH", "c1", "m1"), b":1\r\n")
        self.assertEqual(sub.reply(), b"*3\r\n$7\r\nmessage\r\n$2\r\nc1\r\n$2\r\nm1\r\n")
        r3 = Raw(self.server.port)
        r3.call("HELLO", "3")
        self.assertEqual(r3.call("SUBSCRIBE", "c1"), b">3\r\n$9\r\nsubscribe\r\n$2\r\nc1\r\n:1\r\n")
        self.assertEqual(r3.call("GET", "x"), b"_\r\n")  # RESP3 clients may run anything
        self.assertEqual(pub.call("PUBLISH", "c1", "m2"), b":2\r\n")
        self.assertEqual(r3.reply(), b">3\r\n$7\r\nmessage\r\n$2\r\nc1\r\n$2\r\nm2\r\n")
        self.assertEqual(sub.reply(), b"*3\r\n$7\r\nmessage\r\n$2\r\nc1\r\n$2\r\nm2\r\n")
        self.assertEqual(sub.call("UNSUBSCRIBE"), b"*3\r\n$11\r\nunsubscribe\r\n$2\r\nc1\r\n:0\r\n")
        self.assertEqual(sub.call("GET", "x"), b"$-1\r\n")


if __name__ == "__main__":
    main()
