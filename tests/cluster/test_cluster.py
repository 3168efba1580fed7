"""Cluster mode with the real tools: the seed flow (six nodes, redis-cli --cluster create),
redirection, READONLY replicas, pub/sub across nodes, a restart rejoining from nodes.conf,
failure detection, bad input on the bus, and mixed clusters with redis-server 7.0."""
import os
import socket
import subprocess
import sys
import time
import unittest

import redis
from redis.cluster import RedisCluster

from cluster_harness import REDIS, TROUPE, Cluster, Node, parse_nodes

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Raw, main  # noqa: E402


class SeedFlow(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster([TROUPE] * 6).start()

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()

    def entry(self):
        return self.cluster.nodes[0]

    def test_every_node_ok_and_check_passes(self):
        for n in self.cluster.nodes:
            info = n.cli("CLUSTER", "INFO")
            self.assertIn("cluster_state:ok", info)
            self.assertIn("cluster_slots_assigned:16384", info)
            self.assertIn("cluster_known_nodes:6", info)
            self.assertIn("cluster_size:3", info)
            self.assertIn("cluster_enabled:1", n.cli("INFO", "cluster"))
        r = subprocess.run(["redis-cli", "--cluster", "check", f"127.0.0.1:{self.entry().port}"],
                           capture_output=True, text=True, timeout=60)
        self.assertIn("[OK] All nodes agree about slots configuration.", r.stdout)
        self.assertIn("[OK] All 16384 slots covered.", r.stdout)
        nodes = self.entry().cli("CLUSTER", "NODES").strip().split("\n")
        self.assertEqual(len(nodes), 6)
        view = parse_nodes(self.entry().cli("CLUSTER", "NODES"))
        self.assertEqual(sum("slave" in n["flags"] for n in view), 3)
        self.assertEqual(sum("master" in n["flags"] for n in view), 3)
        masters = {n["id"] for n in view if "master" in n["flags"]}
        self.assertEqual({n["master"] for n in view if "slave" in n["flags"]}, masters)

    def roles(self):
        view = parse_nodes(self.entry().cli("CLUSTER", "NODES"))
        by_port = {n.port: n for n in self.cluster.nodes}
        return view, by_port

    def owner_of(self, slot):
        view, by_port = self.roles()
        for n in view:
            if "master" in n["flags"] and any(a <= slot <= b for a, b in n["slots"]):
                return n, by_port[n["port"]]
        self.fail(f"nobody serves slot {slot}")

    def test_redirections(self):
        slot = int(self.entry().cli("CLUSTER", "KEYSLOT", "foo"))
        info, home = self.owner_of(slot)
        view, by_port = self.roles()
        other = next(by_port[n["port"]] for n in view if "master" in n["flags"] and n["id"] != info["id"])
        self.assertEqual(Raw(other.port).call("GET", "foo"), f"-MOVED {slot} 127.0.0.1:{home.port}\r\n".encode())
        self.assertEqual(Raw(home.port).call("SET", "foo", "bar"), b"+OK\r\n")
        self.assertEqual(Raw(home.port).call("MSET", "a", "1", "b", "2"),
                         b"-CROSSSLOT Keys in request don't hash to the same slot\r\n")
        self.assertEqual(Raw(home.port).call("SELECT", "1"), b"-ERR SELECT is not allowed in cluster mode\r\n")
        self.assertEqual(Raw(home.port).call("SELECT", "0"), b"+OK\r\n")
        self.assertEqual(other.cli("-c", "GET", "foo").strip(), "bar")
        # A replica MOVEDs ordinary clients and serves reads to READONLY ones.
        replica = next(by_port[n["port"]] for n in view if n["master"] == info["id"])
        raw = Raw(replica.port)
        self.assertEqual(raw.call("GET", "foo"), f"-MOVED {slot} 127.0.0.1:{home.port}\r\n".encode())
        self.assertEqual(raw.call("READONLY"), b"+OK\r\n")
        self.assertEqual(raw.call("GET", "foo"), b"$-1\r\n")  # no replication yet: its own (empty) data
        self.assertTrue(raw.call("SET", "foo", "x").startswith(b"-MOVED"))
        self.assertEqual(raw.call("READWRITE"), b"+OK\r\n")
        self.assertTrue(raw.call("GET", "foo").startswith(b"-MOVED"))

    def test_redis_py_cluster_client(self):
        rc = RedisCluster(host="127.0.0.1", port=self.entry().port, decode_responses=True)
        for i in range(1000):
            rc.set(f"py:{i}", i)
        self.assertEqual([rc.get(f"py:{i}") for i in range(0, 1000, 97)], [str(i) for i in range(0, 1000, 97)])
        self.assertTrue(rc.mset({"{tag}a": "1", "{tag}b": "2"}))
        self.assertEqual(rc.mget("{tag}a", "{tag}b"), ["1", "2"])
        counts = [rc.execute_command("DBSIZE", target_nodes=n) for n in rc.get_primaries()]
        self.assertEqual(len(counts), 3)
        self.assertTrue(all(c > 200 for c in counts), counts)
        rc.close()

    def test_redis_benchmark_cluster(self):
        r = subprocess.run(["redis-benchmark", "--cluster", "-p", str(self.entry().port), "-t", "set,get", "-n", "3000",
                            "-q"], capture_output=True, text=True, timeout=120)
        self.assertIn("SET:", r.stdout)
        self.assertIn("GET:", r.stdout)

    def test_pubsub_across_nodes(self):
        a, b = self.cluster.nodes[0], self.cluster.nodes[4]
        sub = Raw(b.port)
        self.assertEqual(sub.call("SUBSCRIBE", "news"), b"*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n")
        time.sleep(0.2)
        self.assertEqual(Raw(a.port).call("PUBLISH", "news", "hello"), b":0\r\n")  # no local subscriber
        self.assertEqual(sub.reply(), b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n")

    def test_sharded_pubsub_stays_in_its_shard(self):
        slot = int(self.entry().cli("CLUSTER", "KEYSLOT", "chan"))
        info, master = self.owner_of(slot)
        view, by_port = self.roles()
        other = next(by_port[n["port"]] for n in view if "master" in n["flags"] and n["id"] != info["id"])
        self.assertEqual(Raw(other.port).call("SSUBSCRIBE", "chan"),
                         f"-MOVED {slot} 127.0.0.1:{master.port}\r\n".encode())
        sub = Raw(master.port)
        self.assertEqual(sub.call("SSUBSCRIBE", "chan"), b"*3\r\n$10\r\nssubscribe\r\n$4\r\nchan\r\n:1\r\n")
        self.assertEqual(Raw(master.port).call("SPUBLISH", "chan", "m"), b":1\r\n")
        self.assertEqual(sub.reply(), b"*3\r\n$8\r\nsmessage\r\n$4\r\nchan\r\n$1\r\nm\r\n")

    def test_cluster_commands(self):
        n = self.entry()
        myid = n.cli("CLUSTER", "MYID").strip()
        self.assertRegex(myid, r"^[0-9a-f]{40}$")
        self.assertEqual(n.cli("CLUSTER", "KEYSLOT", "{user1000}.following").strip(), "3443")
        slots = n.client().execute_command("CLUSTER", "SLOTS")
        self.assertEqual(sorted((s[0], s[1]) for s in slots), [(0, 5460), (5461, 10922), (10923, 16383)])
        self.assertEqual(n.cli("CLUSTER", "ADDSLOTS", "0").strip(), "ERR Slot 0 is already busy")
        self.assertEqual(n.cli("CLUSTER", "ADDSLOTS", "16384").strip(), "ERR Invalid or out of range slot")
        self.assertEqual(n.cli("CLUSTER", "FORGET", myid).strip(), "ERR I tried hard but I can't forget myself...")
        self.assertEqual(n.cli("CLUSTER", "FORGET", "f" * 40).strip(), "ERR Unknown node " + "f" * 40)
        self.assertEqual(len(n.client().execute_command("CLUSTER", "REPLICAS", myid)), 1)
        self.assertIn("cluster_current_epoch:", n.cli("CLUSTER", "INFO"))
        self.assertEqual(n.cli("CLUSTER", "MEET", "127.0.0.1", "notaport").strip(),
                         "ERR Invalid TCP base port specified: notaport")
        shards = n.client().execute_command("CLUSTER", "SHARDS")
        self.assertEqual(len(shards), 3)
        peers = [l for l in n.cli("ACTORS").split("\n") if "kind=gossip_peer" in l]
        self.assertGreaterEqual(len(peers), 5)
        self.assertIn("last_message_ms=", peers[0])


class Resilience(unittest.TestCase):
    def test_restart_failure_and_bad_bus_input(self):
        with Cluster([TROUPE] * 6) as c:
            master = c.nodes[1]
            myid = master.cli("CLUSTER", "MYID").strip()
            # Garbage and a truncated message on the bus: logged and dropped, the cluster stays up.
            s = socket.create_connection(("127.0.0.1", master.port + 10000))
            s.sendall(b"GARBAGE" * 500)
            s.close()
            s = socket.create_connection(("127.0.0.1", master.port + 10000))
            s.sendall(b"RCmb\x00\x00\x08\xd0\x00\x01")
            s.close()
            self.assertEqual(c.nodes[0].cli("CLUSTER", "MEET", "10.255.255.1", "6379").strip(), "OK")
            time.sleep(1)
            c.wait_ok(nodes=[c.nodes[0], master])
            # Restart: the node comes back with its identity from nodes.conf.
            master.stop()
            master.start()
            self.assertEqual(master.cli("CLUSTER", "MYID").strip(), myid)
            c.wait_ok()
            # A master killed for good is marked FAIL by the others.
            master.stop(__import__("signal").SIGKILL)
            deadline = time.time() + 20
            while time.time() < deadline:
                line = [l for l in c.nodes[0].cli("CLUSTER", "NODES").split("\n") if l.startswith(myid)][0]
                if "fail" in line.split()[2] and "fail?" not in line.split()[2]:
                    break
                time.sleep(0.3)
            else:
                self.fail("the killed master was not marked as failing: " + line)
            deadline = time.time() + 5
            while "cluster_state:fail" not in c.nodes[0].cli("CLUSTER", "INFO") and time.time() < deadline:
                time.sleep(0.1)
            self.assertIn("cluster_state:fail", c.nodes[0].cli("CLUSTER", "INFO"))
            self.assertIn("CLUSTERDOWN The cluster is down", c.nodes[0].cli("GET", "x"))


class Mixed(unittest.TestCase):
    def test_troupe_and_redis_form_one_cluster(self):
        with Cluster([TROUPE, TROUPE, REDIS, TROUPE, REDIS, TROUPE]) as c:
            for n in c.nodes:
                self.assertIn("cluster_state:ok", n.cli("CLUSTER", "INFO"))
            rc = RedisCluster(host="127.0.0.1", port=c.nodes[2].port, decode_responses=True)
            for i in range(300):
                rc.set(f"m:{i}", i)
            self.assertEqual(rc.get("m:123"), "123")
            rc.close()
            # add-node: a Troupe node joins through the redis-server node.
            extra = Node().start()
            try:
                r = subprocess.run(["redis-cli", "--cluster", "add-node", f"127.0.0.1:{extra.port}",
                                    f"127.0.0.1:{c.nodes[2].port}"], capture_output=True, text=True, timeout=60)
                self.assertIn("[OK] New node added correctly.", r.stdout)
                c.nodes.append(extra)
                c.wait_ok()
            finally:
                pass


if __name__ == "__main__":
    main()
