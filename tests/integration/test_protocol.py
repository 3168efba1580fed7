"""RESP2/RESP3, inline commands, pipelining, and bad input: Redis's errors, closes where Redis
closes, never a crash or a hang, and other clients keep being served."""
import socket
import time
import unittest

from harness import Raw, Server, encode, main


class Protocol(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--slot-actors", "4").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def raw(self):
        return Raw(self.server.port)

    def assert_alive(self):
        r = self.raw()
        self.assertEqual(r.call("PING"), b"+PONG\r\n")
        r.close()
        self.assertIsNone(self.server.proc.poll(), "server process died")

    def test_pipeline_of_ten_thousand(self):
        r = self.raw()
        cmds = [encode("SET", f"pipe:{i}", i) for i in range(5000)]
        cmds += [encode("INCR", f"pipe:{i}") for i in range(5000)]
        r.send(b"".join(cmds))
        replies = [r.reply() for _ in range(10000)]
        self.assertEqual(replies[:5000], [b"+OK\r\n"] * 5000)
        self.assertEqual(replies[5000:], [b":%d\r\n" % (i + 1) for i in range(5000)])
        # Replies come back in order even when they are served by different slot ranges.
        r.send(b"".join(encode("GET", f"pipe:{i}") for i in range(0, 5000, 7)))
        for i in range(0, 5000, 7):
            v = str(i + 1).encode()
            self.assertEqual(r.reply(), b"$%d\r\n%s\r\n" % (len(v), v))

    def test_inline_commands(self):
        r = self.raw()
        r.send(b'SET "inline key" "a\\x41\\n"\r\nGET "inline key"\r\n\r\nPING\n')
        self.assertEqual(r.reply(), b"+OK\r\n")
        self.assertEqual(r.reply(), b"$3\r\naA\n\r\n")
        self.assertEqual(r.reply(), b"+PONG\r\n")

    def test_pipelined_inline_commands_keep_their_own_arguments(self):
        # The words of an inline command live in the parser until the next one is parsed; a batch
        # of several must still run each with its own (they are copied, unlike RESP arguments).
        r = self.raw()
        r.send(b"".join(b"SET ik%d v%d\r\n" % (i, i) for i in range(20)) + b"MGET ik0 ik7 ik19\r\n")
        for _ in range(20):
            self.assertEqual(r.reply(), b"+OK\r\n")
        self.assertEqual(r.reply(), b"*3\r\n$2\r\nv0\r\n$2\r\nv7\r\n$3\r\nv19\r\n")

    def test_resp3(self):
        r = self.raw()
        hello = r.call("HELLO", "3")
        self.assertTrue(hello.startswith(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n"))
        self.assertIn(b"$5\r\nproto\r\n:3\r\n", hello)
        self.assertEqual(r.call("GET", "resp3:missing"), b"_\r\n")
        self.assertEqual(r.call("SET", "resp3:k", "v"), b"+OK\r\n")
        self.assertEqual(r.call("MGET", "resp3:k", "resp3:missing"), b"*2\r\n$1\r\nv\r\n_\r\n")
        self.assertEqual(r.call("CONFIG", "GET", "maxclients"), b"%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n")
        info = r.call("INFO", "server")
        self.assertTrue(info.startswith(b"="), info[:20])
        self.assertIn(b"txt:# Server\r\n", info)
        self.assertEqual(r.call("HELLO", "2")[:4], b"*14\r")
        self.assertEqual(r.call("GET", "resp3:missing"), b"$-1\r\n")

    def test_hello_errors(self):
        r = self.raw()
        self.assertEqual(r.call("HELLO", "4"), b"-NOPROTO unsupported protocol version\r\n")
        self.assertEqual(r.call("HELLO", "x"), b"-ERR Protocol version is not an integer or out of range\r\n")
        self.assertEqual(r.call("HELLO", "3", "SETNAME", "a b"),
                         b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n")
        self.assertIn(b"$7\r\nversion\r\n", r.call("HELLO", "3", "SETNAME", "named"))
        self.assertEqual(r.call("CLIENT", "GETNAME"), b"$5\r\nnamed\r\n")

    def test_errors_keep_connection(self):
        r = self.raw()
        self.assertEqual(r.call("NOSUCH", "a", "b"),
                         b"-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \r\n")
        self.assertEqual(r.call("GET"), b"-ERR wrong number of arguments for 'get' command\r\n")
        self.assertEqual(r.call("CONFIG", "NOPE"), b"-ERR unknown subcommand 'NOPE'. Try CONFIG HELP.\r\n")
        self.assertEqual(r.call("SET", "wt", "x"), b"+OK\r\n")
        self.assertEqual(r.call("INCR", "wt"), b"-ERR value is not an integer or out of range\r\n")
        self.assertEqual(r.call("EXPIRE", "wt", "soon"), b"-ERR value is not an integer or out of range\r\n")
        self.assertEqual(r.call("INCRBYFLOAT", "wt", "1"), b"-ERR value is not a valid float\r\n")
        self.assertEqual(r.call("PING"), b"+PONG\r\n")

    def protocol_error(self, payload, message):
        r = self.raw()
        r.send(payload)
        self.assertEqual(r.reply(), b"-ERR Protocol error: " + message + b"\r\n")
        self.assertTrue(r.closed(), "the server closes the connection after a protocol error")
        self.assert_alive()

    def test_garbage_and_bad_lengths(self):
        self.protocol_error(b"*1\r\nxx\r\n", b"expected '$', got 'x'")
        self.protocol_error(b"*abc\r\n", b"invalid multibulk length")
        self.protocol_error(b"*2000000\r\n", b"invalid multibulk length")
        self.protocol_error(b"*1\r\n$600000000\r\n", b"invalid bulk length")
        self.protocol_error(b"*1\r\n$-5\r\n", b"invalid bulk length")
        self.protocol_error(b'GET "unterminated\r\n', b"unbalanced quotes in request")

    def test_huge_inline_line(self):
        r = self.raw()
        try:
            r.send(b"A" * (1024 * 1024))
        except OSError:
            pass  # the server may close before we finished writing
        self.assertEqual(r.reply(), b"-ERR Protocol error: too big inline request\r\n")
        self.assertTrue(r.closed())
        self.assert_alive()

    def test_unterminated_multibulk_does_not_block_others(self):
        stuck = self.raw()
        stuck.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nonly part")
        self.assert_alive()
        other = self.raw()
        self.assertEqual(other.call("SET", "other", "1"), b"+OK\r\n")
        stuck.send(b"x" * 91 + b"\r\n")
        self.assertEqual(stuck.reply(), b"+OK\r\n")
        self.assertEqual(other.call("STRLEN", "k"), b":100\r\n")

    def test_random_garbage_never_kills_the_server(self):
        import random
        rnd = random.Random(42)
        for _ in range(50):
            r = self.raw()
            try:
                r.send(bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 300))) + b"\r\n")
                r.s.settimeout(0.2)
                try:
                    r.s.recv(65536)
                except (socket.timeout, ConnectionResetError):
                    pass
            except OSError:
                pass
            r.close()
        self.assert_alive()

    def test_big_value_round_trip(self):
        r = self.raw()
        value = b"x" * (8 * 1024 * 1024)
        self.assertEqual(r.call("SET", "big", value), b"+OK\r\n")
        self.assertEqual(r.call("STRLEN", "big"), b":%d\r\n" % len(value))
        self.assertEqual(r.call("GET", "big"), b"$%d\r\n" % len(value) + value + b"\r\n")

    def test_quit_closes_after_reply(self):
        r = self.raw()
        r.send(encode("SET", "q", "1") + encode("QUIT") + encode("SET", "q", "2"))
        self.assertEqual(r.reply(), b"+OK\r\n")
        self.assertEqual(r.reply(), b"+OK\r\n")
        self.assertTrue(r.closed())
        self.assertEqual(self.raw().call("GET", "q"), b"$1\r\n1\r\n")

    def test_connections_ended_by_the_server_leave_no_actor_behind(self):
        # QUIT and a protocol error end a connection inside the call that hands it what its socket
        # read (its direct_scribe): the connection actor must be cleaned up then, not at whatever
        # message reaches it next; CLIENT LIST and ACTORS count only the clients still connected.
        def connections():
            return sum(1 for line in self.server.cli("ACTORS").split("\n") if "kind=connection" in line)

        deadline = time.time() + 10
        while connections() > 1 and time.time() < deadline:   # earlier tests' clients leaving
            time.sleep(0.05)
        before = connections()
        ended = []
        for i in range(10):
            r = self.raw()
            if i % 2:
                r.send(encode("SET", f"gone:{i}", "v") + encode("QUIT"))
                self.assertEqual(r.reply(), b"+OK\r\n")
                self.assertEqual(r.reply(), b"+OK\r\n")
            else:
                r.send(b"*1\r\n$x\r\n")
                self.assertTrue(r.reply().startswith(b"-ERR Protocol error"))
            ended.append(r)
        for r in ended:
            self.assertTrue(r.closed())
            r.close()
        # The server shut each socket from inside that call, and cleans the actor up before the
        # call returns: by the time a client sees its connection closed, it is gone.
        self.assertLessEqual(connections(), before)
        clients = self.server.cli("CLIENT", "LIST").strip().split("\n")
        self.assertLessEqual(len(clients), before)
        self.assert_alive()


if __name__ == "__main__":
    main()
