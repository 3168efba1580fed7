// Defaults, CONFIG GET patterns, typed reads, and the text helpers.
// Expected values are what redis-server 7.0.15 answers.
#include <boost/test/unit_test.hpp>

#include <climits>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "config/config.hpp"
#include "config/detail.hpp"

using troupe::config::store;
using pairs = std::vector<std::pair<std::string, std::string>>;

namespace {

std::string get1(const store& s, const std::string& name) {
  auto r = s.get({name});
  BOOST_REQUIRE_EQUAL(r.size(), 1u);
  return r[0].second;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config_defaults)

BOOST_AUTO_TEST_CASE(redis_defaults) {
  store s;
  BOOST_CHECK_EQUAL(get1(s, "port"), "6379");
  BOOST_CHECK_EQUAL(get1(s, "save"), "3600 1 300 100 60 10000");
  BOOST_CHECK_EQUAL(get1(s, "bind"), "* -::*");
  BOOST_CHECK_EQUAL(get1(s, "client-output-buffer-limit"),
                    "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
  BOOST_CHECK_EQUAL(get1(s, "maxmemory"), "0");
  BOOST_CHECK_EQUAL(get1(s, "maxmemory-policy"), "noeviction");
  BOOST_CHECK_EQUAL(get1(s, "appendfsync"), "everysec");
  BOOST_CHECK_EQUAL(get1(s, "appendonly"), "no");
  BOOST_CHECK_EQUAL(get1(s, "appendfilename"), "appendonly.aof");
  BOOST_CHECK_EQUAL(get1(s, "appenddirname"), "appendonlydir");
  BOOST_CHECK_EQUAL(get1(s, "dbfilename"), "dump.rdb");
  BOOST_CHECK_EQUAL(get1(s, "cluster-config-file"), "nodes.conf");
  BOOST_CHECK_EQUAL(get1(s, "cluster-node-timeout"), "15000");
  BOOST_CHECK_EQUAL(get1(s, "hz"), "10");
  BOOST_CHECK_EQUAL(get1(s, "proto-max-bulk-len"), "536870912");
  BOOST_CHECK_EQUAL(get1(s, "client-query-buffer-limit"), "1073741824");
  BOOST_CHECK_EQUAL(get1(s, "oom-score-adj-values"), "0 200 800");
  BOOST_CHECK_EQUAL(get1(s, "latency-tracking-info-percentiles"), "50 99 99.9");
  BOOST_CHECK_EQUAL(get1(s, "proc-title-template"), "{title} {listen-addr} {server-mode}");
  BOOST_CHECK_EQUAL(get1(s, "notify-keyspace-events"), "");
  BOOST_CHECK_EQUAL(get1(s, "replicaof"), "");
  BOOST_CHECK_EQUAL(get1(s, "unixsocketperm"), "0");
  BOOST_CHECK_EQUAL(get1(s, "list-max-listpack-size"), "-2");
  BOOST_CHECK_EQUAL(get1(s, "shutdown-on-sigterm"), "default");
  BOOST_CHECK_EQUAL(get1(s, "io-threads"), "1");
  BOOST_CHECK_EQUAL(get1(s, "slot-actors"), "1");
  BOOST_CHECK_EQUAL(get1(s, "metrics-port"), "0");
  BOOST_CHECK_EQUAL(get1(s, "dir"), std::filesystem::current_path().string());
  BOOST_CHECK_EQUAL(s.config_file(), "");
  BOOST_CHECK_EQUAL(s.version(), 0u);
}

BOOST_AUTO_TEST_CASE(get_star_lists_every_config_once) {
  store s;
  auto all = s.get({"*"});
  // redis-server 7.0.15 answers 192 names to CONFIG GET * (aliases included); Troupe adds three
  // (slot-actors, metrics-port, aof-gather-usec).
  BOOST_CHECK_EQUAL(all.size(), 195u);
  std::set<std::string> names;
  for (auto& [name, value] : all) names.insert(name);
  BOOST_CHECK_EQUAL(names.size(), all.size());
  for (auto n : {"slaveof", "replicaof", "hash-max-ziplist-entries", "hash-max-listpack-entries", "lua-time-limit",
                 "busy-reply-threshold", "aof_rewrite_cpulist", "slot-actors", "metrics-port", "aof-gather-usec"})
    BOOST_CHECK_MESSAGE(names.count(n) == 1, n);
  // Hidden configs and file-only directives are not listed.
  for (auto n : {"key-load-delay", "watchdog-period", "include", "rename-command", "user"})
    BOOST_CHECK_MESSAGE(names.count(n) == 0, n);
}

BOOST_AUTO_TEST_CASE(get_patterns) {
  store s;
  BOOST_CHECK(s.get({"maxmemory-[cp]*"}) == (pairs{{"maxmemory-clients", "0"}, {"maxmemory-policy", "noeviction"}}));
  // An exact name is answered under the name as typed, a glob under the directive's name.
  BOOST_CHECK(s.get({"PORT"}) == (pairs{{"PORT", "6379"}}));
  BOOST_CHECK(s.get({"Port*"}) == (pairs{{"port", "6379"}}));
  BOOST_CHECK(s.get({"port", "Port", "p?rt", "PORT"}) == (pairs{{"port", "6379"}}));
  BOOST_CHECK(s.get({"[!a-x]z"}) == (pairs{{"hz", "10"}}));  // '!' is not a negation in Redis globs
  BOOST_CHECK(s.get({"[^a-x]z"}).empty());
  BOOST_CHECK(s.get({"[i-g]z"}) == (pairs{{"hz", "10"}}));
  BOOST_CHECK(s.get({"h\\z"}).empty());  // no glob character: exact lookup of "h\z"
  BOOST_CHECK(s.get({"nosuch"}).empty());
  BOOST_CHECK(s.get({"key-load*"}).empty());
  BOOST_CHECK(s.get({"KEY-LOAD-DELAY"}) == (pairs{{"KEY-LOAD-DELAY", "0"}}));
  BOOST_CHECK(s.get({"slaveof"}) == (pairs{{"slaveof", ""}}));
  BOOST_CHECK(s.get({"hash-max-*-entries"}) ==
              (pairs{{"hash-max-listpack-entries", "512"}, {"hash-max-ziplist-entries", "512"}}));
  BOOST_CHECK(s.get({"include"}).empty());
  BOOST_CHECK(s.get({"rename-command"}).empty());
}

BOOST_AUTO_TEST_CASE(typed_reads) {
  store s;
  BOOST_CHECK_EQUAL(s.get_int("port"), 6379);
  BOOST_CHECK_EQUAL(s.get_int("client-query-buffer-limit"), 1073741824);
  BOOST_CHECK_EQUAL(s.get_int("protected-mode"), 1);
  BOOST_CHECK_EQUAL(s.get_int("loglevel"), 2);  // debug verbose notice warning
  BOOST_CHECK_EQUAL(s.get_int("SLAVE-PRIORITY"), 100);
  BOOST_CHECK(s.get_bool("protected-mode"));
  BOOST_CHECK(!s.get_bool("daemonize"));
  BOOST_CHECK(s.get_bool("slave-read-only"));
  BOOST_CHECK(s.get_words("bind") == (std::vector<std::string>{"*", "-::*"}));
  BOOST_CHECK(s.get_words("notify-keyspace-events").empty());
  BOOST_CHECK(s.save_params() ==
              (std::vector<std::pair<long long, long long>>{{3600, 1}, {300, 100}, {60, 10000}}));
  BOOST_CHECK_EQUAL(s.get_string("appendfsync"), "everysec");
  BOOST_CHECK_THROW(s.get_int("nosuch"), std::invalid_argument);
  BOOST_CHECK_THROW(s.get_int("requirepass"), std::invalid_argument);
  BOOST_CHECK_THROW(s.get_bool("port"), std::invalid_argument);

  BOOST_CHECK_EQUAL(s.set({{"maxmemory", "18446744073709551615"}, {"maxmemory-clients", "10%"},
                           {"unixsocketperm", "700"}}),
                    "ERR CONFIG SET failed (possibly related to argument 'unixsocketperm') - can't set immutable config");
  BOOST_CHECK_EQUAL(s.set({{"maxmemory", "18446744073709551615"}, {"maxmemory-clients", "10%"}}), "");
  BOOST_CHECK_EQUAL(s.get_int("maxmemory"), LLONG_MAX);
  BOOST_CHECK_EQUAL(s.get_int("maxmemory-clients"), -10);
  BOOST_REQUIRE(!s.load_text("unixsocketperm 700\nshutdown-on-sigint nosave now\n", ""));
  BOOST_CHECK_EQUAL(s.get_int("unixsocketperm"), 0700);
  BOOST_CHECK_EQUAL(s.get_int("shutdown-on-sigint"), 2 | 4);  // save=1 nosave=2 now=4 force=8
}

BOOST_AUTO_TEST_CASE(known_directives) {
  for (auto n : {"port", "PORT", "slaveof", "replicaof", "include", "rename-command", "user", "loadmodule",
                 "list-max-ziplist-entries", "key-load-delay", "slot-actors", "metrics-port", "io-threads"})
    BOOST_CHECK_MESSAGE(store::known(n), n);
  BOOST_CHECK(!store::known("foo"));
  BOOST_CHECK(!store::known(""));
}

BOOST_AUTO_TEST_CASE(effective_flags) {
  store s;
  for (auto n : {"port", "bind", "dir", "pidfile", "logfile", "loglevel", "requirepass", "maxclients", "timeout",
                 "tcp-keepalive", "daemonize", "databases", "protected-mode", "save", "proto-max-bulk-len",
                 "client-query-buffer-limit", "slot-actors", "cluster-enabled", "hz", "always-show-logo",
                 "appendonly", "appendfsync", "dbfilename", "cluster-config-file", "cluster-node-timeout",
                 "rdb-key-save-delay", "key-load-delay", "io-threads", "aof-gather-usec"})
    BOOST_CHECK_MESSAGE(s.is_effective(n), n);
  for (auto n : {"maxmemory", "bind-source-addr", "metrics-port", "rename-command", "io-threads-do-reads"})
    BOOST_CHECK_MESSAGE(!s.is_effective(n), n);
  s.set_effective("maxmemory", true);
  BOOST_CHECK(s.is_effective("maxmemory"));
  BOOST_CHECK_THROW(s.set_effective("nosuch", true), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(config_text)

using namespace troupe::config::detail;

BOOST_AUTO_TEST_CASE(split_args_like_redis_conf) {
  using v = std::vector<std::string>;
  BOOST_CHECK(*split_args("  port   6379  ") == (v{"port", "6379"}));
  BOOST_CHECK(*split_args(R"(a "b c" 'd e')") == (v{"a", "b c", "d e"}));
  BOOST_CHECK(*split_args(R"("\x41\n\t\"\\\q")") == (v{"A\n\t\"\\q"}));
  BOOST_CHECK(*split_args(R"('it\'s')") == (v{"it's"}));
  BOOST_CHECK(*split_args(R"(a"b c")") == (v{"ab c"}));
  BOOST_CHECK(*split_args(R"("" '')") == (v{"", ""}));
  BOOST_CHECK(*split_args(R"("\x4")") == (v{"x4"}));
  BOOST_CHECK(split_args("   ")->empty());
  BOOST_CHECK(!split_args(R"("abc)"));
  BOOST_CHECK(!split_args(R"("7391"x)"));
  BOOST_CHECK(!split_args(R"('ab'c)"));
}

BOOST_AUTO_TEST_CASE(repr_quotes_like_redis) {
  BOOST_CHECK_EQUAL(repr("a b\"c"), R"("a b\"c")");
  BOOST_CHECK_EQUAL(repr(std::string("a\tb\x01\\", 5)), R"("a\tb\x01\\")");
  BOOST_CHECK_EQUAL(repr(""), "\"\"");
}

BOOST_AUTO_TEST_CASE(numbers) {
  BOOST_CHECK(parse_ll("0") == 0);
  BOOST_CHECK(parse_ll("-5") == -5);
  BOOST_CHECK(parse_ll("9223372036854775807") == LLONG_MAX);
  BOOST_CHECK(parse_ll("-9223372036854775808") == LLONG_MIN);
  for (auto bad : {"", "+5", "05", "-0", " 5", "5 ", "5.0", "0x10", "9223372036854775808", "-"})
    BOOST_CHECK_MESSAGE(!parse_ll(bad), bad);
  BOOST_CHECK(parse_memory("1kb") == 1024u);
  BOOST_CHECK(parse_memory("1K") == 1000u);
  BOOST_CHECK(parse_memory("3Mb") == 3145728u);
  BOOST_CHECK(parse_memory("2G") == 2000000000u);
  BOOST_CHECK(parse_memory("1b") == 1u);
  BOOST_CHECK(parse_memory("010") == 10u);
  BOOST_CHECK(parse_memory("") == 0u);
  BOOST_CHECK(parse_memory("k") == 0u);
  BOOST_CHECK(parse_memory("99999999999999999999999") == ULLONG_MAX);
  for (auto bad : {"1.5mb", "1e3", "+5", " 5", "-0", "1tb", "1kbb", "5 kb"})
    BOOST_CHECK_MESSAGE(!parse_memory(bad), bad);
  BOOST_CHECK_EQUAL(memory_to_text(1073741824), "1gb");
  BOOST_CHECK_EQUAL(memory_to_text(2097152), "2mb");
  BOOST_CHECK_EQUAL(memory_to_text(2048), "2kb");
  BOOST_CHECK_EQUAL(memory_to_text(3001), "3001");
  BOOST_CHECK_EQUAL(memory_to_text(0), "0");
  BOOST_CHECK_EQUAL(double_to_text(99.9), "99.9");
  BOOST_CHECK_EQUAL(double_to_text(33.333333333), "33.333333");
  BOOST_CHECK_EQUAL(double_to_text(1e-7), "0");
  BOOST_CHECK_EQUAL(double_to_text(50), "50");
}

BOOST_AUTO_TEST_CASE(glob) {
  BOOST_CHECK(glob_match("*", "", true));
  BOOST_CHECK(glob_match("h*z", "hz", true));
  BOOST_CHECK(glob_match("MAX*", "maxmemory", true));
  BOOST_CHECK(!glob_match("MAX*", "maxmemory", false));
  BOOST_CHECK(glob_match("a\\*b", "a*b", true));
  BOOST_CHECK(!glob_match("a\\*b", "axb", true));
  BOOST_CHECK(glob_match("[a-c]?", "bz", true));
  BOOST_CHECK(!glob_match("[^a-c]?", "bz", true));
  BOOST_CHECK(glob_match("*-*-*", "a-b-c", true));
  BOOST_CHECK(!glob_match("?", "", true));
}

BOOST_AUTO_TEST_SUITE_END()
