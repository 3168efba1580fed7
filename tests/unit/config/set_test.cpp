// CONFIG SET: validation, all-or-nothing multi-set, immutable / protected directives.
// Expected replies are what redis-server 7.0.15 answers (without the leading '-').
#include <boost/test/unit_test.hpp>

#include "config/config.hpp"
#include "temp_dir.hpp"

using troupe::config::store;
using troupe::config::test::temp_dir;

namespace {

std::string failed(const std::string& name, const std::string& reason) {
  return "ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + reason;
}

std::string value(const store& s, const std::string& name) {
  auto r = s.get({name});
  BOOST_REQUIRE_EQUAL(r.size(), 1u);
  return r[0].second;
}

// Sets one directive on a fresh store; returns the reply, and the value afterwards in `after`.
std::string set1(const std::string& name, const std::string& v, std::string* after = nullptr) {
  store s;
  auto reply = s.set({{name, v}});
  if (after) *after = value(s, name);
  return reply;
}

std::string set_value(const std::string& name, const std::string& v) {
  std::string after;
  auto reply = set1(name, v, &after);
  BOOST_CHECK_MESSAGE(reply.empty(), name << " " << v << ": " << reply);
  return after;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config_set)

BOOST_AUTO_TEST_CASE(multi_set_applies_everything) {
  store s;
  BOOST_CHECK_EQUAL(s.set({{"maxmemory", "2G"}, {"loglevel", "WARNING"}, {"slave-priority", "5"},
                           {"hash-max-ziplist-entries", "1"}, {"hash-max-listpack-entries", "2"}}),
                    "");
  BOOST_CHECK_EQUAL(value(s, "maxmemory"), "2000000000");
  BOOST_CHECK_EQUAL(value(s, "loglevel"), "warning");
  BOOST_CHECK_EQUAL(value(s, "replica-priority"), "5");
  BOOST_CHECK_EQUAL(value(s, "hash-max-listpack-entries"), "2");  // aliases are distinct names: both apply, in order
  BOOST_CHECK_EQUAL(s.version(), 1u);
}

BOOST_AUTO_TEST_CASE(all_or_nothing) {
  store s;
  BOOST_CHECK_EQUAL(s.set({{"port", "100"}, {"maxmemory", "1x"}}),
                    failed("maxmemory", "argument must be a memory value"));
  BOOST_CHECK_EQUAL(value(s, "port"), "6379");
  BOOST_CHECK_EQUAL(s.set({{"hz", "x"}, {"port", "y"}}), failed("hz", "argument couldn't be parsed into an integer"));
  // Names are all checked (unknown, protected, immutable, duplicate) before any value.
  BOOST_CHECK_EQUAL(s.set({{"port", "x"}, {"daemonize", "no"}}), failed("daemonize", "can't set immutable config"));
  BOOST_CHECK_EQUAL(s.set({{"port", "x"}, {"foo", "1"}}),
                    "ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
  BOOST_CHECK_EQUAL(s.set({{"port", "1"}, {"PORT", "2"}}), failed("PORT", "duplicate parameter"));
  BOOST_CHECK_EQUAL(value(s, "port"), "6379");
  BOOST_CHECK_EQUAL(s.version(), 0u);
}

BOOST_AUTO_TEST_CASE(unknown_immutable_protected) {
  store s;
  BOOST_CHECK_EQUAL(s.set({{"foo", "bar"}}), "ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
  BOOST_CHECK_EQUAL(s.set({{"include", "x"}}), "ERR Unknown option or number of arguments for CONFIG SET - 'include'");
  for (auto n : {"daemonize", "databases", "appendfilename", "cluster-enabled", "cluster-config-file", "slaveof",
                 "replicaof", "io-threads", "unixsocketperm", "enable-protected-configs", "metrics-port"})
    BOOST_CHECK_EQUAL(s.set({{n, "1"}}), failed(n, "can't set immutable config"));
  temp_dir t;
  BOOST_CHECK_EQUAL(s.set({{"dir", t.path.string()}}), failed("dir", "can't set protected config"));
  BOOST_CHECK_EQUAL(s.set({{"dbfilename", "x.rdb"}}), failed("dbfilename", "can't set protected config"));

  store local;
  BOOST_REQUIRE(!local.load_args({"--enable-protected-configs", "local"}));
  BOOST_CHECK_EQUAL(local.set({{"dbfilename", "x.rdb"}}), failed("dbfilename", "can't set protected config"));
  BOOST_CHECK_EQUAL(local.set({{"dbfilename", "x.rdb"}}, true), "");
  BOOST_CHECK_EQUAL(value(local, "dbfilename"), "x.rdb");

  store open;
  BOOST_REQUIRE(!open.load_args({"--enable-protected-configs", "yes"}));
  BOOST_CHECK_EQUAL(open.set({{"dir", t.path.string()}}), "");
  BOOST_CHECK_EQUAL(value(open, "dir"), t.path.string());
  BOOST_CHECK_EQUAL(open.set({{"dir", "/nonexistent-troupe-dir"}}), failed("dir", "No such file or directory"));
  BOOST_CHECK_EQUAL(open.set({{"dir", "/etc/hostname"}}), failed("dir", "Not a directory"));
  BOOST_CHECK_EQUAL(open.set({{"dbfilename", "a\\b"}}), failed("dbfilename", "dbfilename can't be a path, just a filename"));
}

BOOST_AUTO_TEST_CASE(integers_and_booleans) {
  std::string after;
  BOOST_CHECK_EQUAL(set1("port", "abc"), failed("port", "argument couldn't be parsed into an integer"));
  BOOST_CHECK_EQUAL(set1("port", "70000"), failed("port", "argument must be between 0 and 65535 inclusive"));
  for (auto bad : {"+5", "05", "-0", "5.0", "0x10", ""})
    BOOST_CHECK_EQUAL(set1("port", bad), failed("port", "argument couldn't be parsed into an integer"));
  BOOST_CHECK_EQUAL(set1("timeout", "-1"), failed("timeout", "argument must be between 0 and 2147483647 inclusive"));
  BOOST_CHECK_EQUAL(set1("maxclients", "4294967296"),
                    failed("maxclients", "argument must be between 1 and 4294967295 inclusive"));
  BOOST_CHECK_EQUAL(set1("slowlog-log-slower-than", "-2"),
                    failed("slowlog-log-slower-than", "argument must be between -1 and 9223372036854775807 inclusive"));
  BOOST_CHECK_EQUAL(set1("appendonly", "maybe"), failed("appendonly", "argument must be 'yes' or 'no'"));
  // Not changed while the server runs (Redis would start or stop the AOF at once): refused, unless
  // it is the value already in effect.
  BOOST_CHECK_EQUAL(set1("appendonly", "YES"),
                    failed("appendonly", "Troupe reads it only at start: restart with the new value"));
  BOOST_CHECK_EQUAL(set_value("appendonly", "NO"), "no");
  BOOST_CHECK_EQUAL(set_value("hz", "0"), "1");
  BOOST_CHECK_EQUAL(set_value("hz", "501"), "500");
  BOOST_CHECK_EQUAL(set_value("list-max-ziplist-size", "-3"), "-3");
  BOOST_CHECK_EQUAL(set_value("slot-actors", "16"), "16");
  BOOST_CHECK_EQUAL(set1("slot-actors", "1025"), failed("slot-actors", "argument must be between 1 and 1024 inclusive"));
}

BOOST_AUTO_TEST_CASE(memory_values) {
  BOOST_CHECK_EQUAL(set_value("maxmemory", "2G"), "2000000000");
  BOOST_CHECK_EQUAL(set_value("maxmemory", "3Mb"), "3145728");
  BOOST_CHECK_EQUAL(set_value("maxmemory", "1kb"), "1024");
  BOOST_CHECK_EQUAL(set_value("maxmemory", "010"), "10");
  BOOST_CHECK_EQUAL(set_value("maxmemory", ""), "0");
  BOOST_CHECK_EQUAL(set_value("maxmemory", "18446744073709551616"), "18446744073709551615");
  for (auto bad : {"1.5mb", "1tb", "+5", "-1", "1e3"})
    BOOST_CHECK_EQUAL(set1("maxmemory", bad), failed("maxmemory", "argument must be a memory value"));
  BOOST_CHECK_EQUAL(set1("proto-max-bulk-len", "1"),
                    failed("proto-max-bulk-len", "argument must be between 1048576 and 9223372036854775807 inclusive"));
  BOOST_CHECK_EQUAL(set1("hash-max-listpack-value", "18446744073709551615"),
                    failed("hash-max-listpack-value", "argument must be between 0 and 9223372036854775807 inclusive"));
  BOOST_CHECK_EQUAL(set_value("maxmemory-clients", "10%"), "10%");
  BOOST_CHECK_EQUAL(set_value("maxmemory-clients", "0%"), "0");
  BOOST_CHECK_EQUAL(set_value("maxmemory-clients", "5kb"), "5120");
  BOOST_CHECK_EQUAL(set1("maxmemory-clients", "101%"),
                    failed("maxmemory-clients", "percentage argument must be less or equal to 100"));
  BOOST_CHECK_EQUAL(set1("maxmemory-clients", "1.5%"), failed("maxmemory-clients", "argument must be a memory or percent value"));
  BOOST_CHECK_EQUAL(set_value("repl-backlog-size", "1"), "16384");  // CONFIG SET raises it to 16kb
}

BOOST_AUTO_TEST_CASE(enums) {
  BOOST_CHECK_EQUAL(set_value("maxmemory-policy", "ALLKEYS-LRU"), "allkeys-lru");
  BOOST_CHECK_EQUAL(set_value("oom-score-adj", "relative"), "yes");
  BOOST_CHECK_EQUAL(set1("maxmemory-policy", "bad"),
                    failed("maxmemory-policy",
                           "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, "
                           "volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"));
  BOOST_CHECK_EQUAL(set1("loglevel", "notice debug"),
                    failed("loglevel", "argument(s) must be one of the following: debug, verbose, notice, warning"));
  BOOST_CHECK_EQUAL(set_value("shutdown-on-sigint", "nosave now"), "nosave now");
  BOOST_CHECK_EQUAL(set_value("shutdown-on-sigint", "force save"), "save force");
  BOOST_CHECK_EQUAL(set_value("shutdown-on-sigint", "default now"), "now");
  BOOST_CHECK_EQUAL(set1("shutdown-on-sigint", "save nosave"),
                    failed("shutdown-on-sigint", "shutdown options SAVE and NOSAVE can't be used simultaneously"));
  BOOST_CHECK_EQUAL(set1("shutdown-on-sigint", ""),
                    failed("shutdown-on-sigint", "argument(s) must be one of the following: default, save, nosave, now, force"));
}

BOOST_AUTO_TEST_CASE(save_parameters) {
  BOOST_CHECK_EQUAL(set_value("save", "100 1 200 2"), "100 1 200 2");
  BOOST_CHECK_EQUAL(set_value("save", ""), "");
  BOOST_CHECK_EQUAL(set_value("save", "+5 1"), "5 1");
  BOOST_CHECK_EQUAL(set_value("save", "1 0"), "1 0");
  for (auto bad : {"1", "0 1", "5 -1", "a 5", "1  1", " 100 1 ", "5 1x"})
    BOOST_CHECK_EQUAL(set1("save", bad), failed("save", "Invalid save parameters"));
  store s;
  BOOST_REQUIRE_EQUAL(s.set({{"save", "900 1 300 10"}}), "");
  BOOST_CHECK(s.save_params() == (std::vector<std::pair<long long, long long>>{{900, 1}, {300, 10}}));
}

BOOST_AUTO_TEST_CASE(multi_word_values) {
  BOOST_CHECK_EQUAL(set_value("bind", "127.0.0.1 ::1"), "127.0.0.1 ::1");
  BOOST_CHECK_EQUAL(set_value("bind", ""), "");
  BOOST_CHECK_EQUAL(set_value("notify-keyspace-events", "KEA"), "AKE");
  BOOST_CHECK_EQUAL(set_value("notify-keyspace-events", "Ex"), "xE");
  BOOST_CHECK_EQUAL(set_value("notify-keyspace-events", "mnEKd"), "dnKEm");
  BOOST_CHECK_EQUAL(set_value("notify-keyspace-events", "Anm"), "Am");
  BOOST_CHECK_EQUAL(set1("notify-keyspace-events", "a"),
                    failed("notify-keyspace-events", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."));
  BOOST_CHECK_EQUAL(set_value("client-output-buffer-limit", "replica 1mb 2mb 3 pubsub 1k 2k 3"),
                    "normal 0 0 0 slave 1048576 2097152 3 pubsub 1000 2000 3");
  BOOST_CHECK_EQUAL(set_value("client-output-buffer-limit", "normal 1 2 4294967296"),
                    "normal 1 2 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
  BOOST_CHECK_EQUAL(set1("client-output-buffer-limit", "master 1 2 3"),
                    failed("client-output-buffer-limit", "Invalid client class specified in buffer limit configuration."));
  BOOST_CHECK_EQUAL(set1("client-output-buffer-limit", "normal 1 2 2147483648"),
                    failed("client-output-buffer-limit",
                           "Error in hard, soft or soft_seconds setting in buffer limit configuration."));
  BOOST_CHECK_EQUAL(set1("client-output-buffer-limit", "normal 1 2 3 slave"),
                    failed("client-output-buffer-limit", "Wrong number of arguments in buffer limit configuration."));
  BOOST_CHECK_EQUAL(set_value("oom-score-adj-values", "-1000 0 1000"), "-1000 0 1000");
  BOOST_CHECK_EQUAL(set1("oom-score-adj-values", "1 2"), failed("oom-score-adj-values", "wrong number of arguments"));
  BOOST_CHECK_EQUAL(set1("oom-score-adj-values", "1 2 2001"),
                    failed("oom-score-adj-values", "Invalid oom-score-adj-values, elements must be between -2000 and 2000."));
  BOOST_CHECK_EQUAL(set_value("latency-tracking-info-percentiles", "0.0000001 33.333333333 12345e-3 5e1"),
                    "0 33.333333 12.345 50");
  BOOST_CHECK_EQUAL(set_value("latency-tracking-info-percentiles", ""), "");
  BOOST_CHECK_EQUAL(set1("latency-tracking-info-percentiles", "101"),
                    failed("latency-tracking-info-percentiles",
                           "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"));
  BOOST_CHECK_EQUAL(set1("latency-tracking-info-percentiles", "nan"),
                    failed("latency-tracking-info-percentiles", "Invalid latency-tracking-info-percentiles parameters"));
}

BOOST_AUTO_TEST_CASE(strings) {
  BOOST_CHECK_EQUAL(set_value("requirepass", "a b\"c"), "a b\"c");
  BOOST_CHECK_EQUAL(set_value("proc-title-template", "{title} x"), "{title} x");
  BOOST_CHECK_EQUAL(set1("proc-title-template", "{title}"),
                    failed("proc-title-template", "template format is invalid or contains unknown variables"));
  BOOST_CHECK_EQUAL(set1("proc-title-template", "{title} {"),
                    failed("proc-title-template", "template format is invalid or contains unknown variables"));
  BOOST_CHECK_EQUAL(set_value("cluster-announce-hostname", "a.b-c"), "a.b-c");
  BOOST_CHECK_EQUAL(set1("cluster-announce-hostname", std::string(256, 'a')),
                    failed("cluster-announce-hostname", "Hostnames must be less than 256 characters"));
  BOOST_CHECK_EQUAL(set_value("key-load-delay", "5"), "5");  // hidden, yet settable
}

BOOST_AUTO_TEST_SUITE_END()
