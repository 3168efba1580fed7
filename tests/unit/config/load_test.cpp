// Loading configuration files and redis-server style flags. Every expected error text is what
// redis-server 7.0.15 prints for the same input (plus the file name Troupe adds for file lines).
#include <boost/test/unit_test.hpp>

#include "config/config.hpp"
#include "temp_dir.hpp"

using troupe::config::store;
using troupe::config::test::temp_dir;

namespace {

std::string value(const store& s, const std::string& name) {
  auto r = s.get({name});
  BOOST_REQUIRE_EQUAL(r.size(), 1u);
  return r[0].second;
}

std::string fatal(const std::string& where, int line, const std::string& text, const std::string& reason) {
  return "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file" + where + ", at line " +
         std::to_string(line) + "\n>>> '" + text + "'\n" + reason + "\n";
}

// The error load_args gives, or "" when it succeeds.
std::string load_error(const std::vector<std::string>& args) {
  store s;
  return s.load_args(args).value_or("");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config_load)

BOOST_AUTO_TEST_CASE(file_with_comments_quotes_and_aliases) {
  temp_dir t;
  auto path = t.write("redis.conf",
                      "# a comment\n"
                      "\n"
                      "   # an indented comment\n"
                      "PORT 7001\n"
                      "  loglevel   warning  \r\n"
                      "requirepass \"a\\x41\\n\\t\\\"b\\\\c\"\n"
                      "masterauth 'it\\'s'\n"
                      "masteruser a\"b c\"\n"
                      "replica-announce-ip ''\n"
                      "slave-read-only no\n"
                      "hash-max-ziplist-entries 100\n"
                      "slaveof 10.0.0.1 6380\n"
                      "maxmemory 2gb\n"
                      "maxmemory 1mb\n"
                      "bind 127.0.0.1 \"::1\"\n"
                      "client-output-buffer-limit normal 1 2 3\n"
                      "client-output-buffer-limit \"pubsub 4kb 5 6\"\n"
                      "shutdown-on-sigterm nosave now\n"
                      "oom-score-adj-values \"1 2 3\"\n"
                      "unixsocketperm 0700\n"
                      "hz 0\n"
                      "notify-keyspace-events \"KEA\"\n"
                      "maxmemory-clients 5%\n"
                      "rename-command FLUSHALL \"\"\n"
                      "list-max-ziplist-entries 5\n");
  store s;
  BOOST_REQUIRE_EQUAL(s.load_args({path}).value_or(""), "");
  BOOST_CHECK_EQUAL(s.config_file(), path);
  BOOST_CHECK_EQUAL(value(s, "port"), "7001");
  BOOST_CHECK_EQUAL(value(s, "loglevel"), "warning");
  BOOST_CHECK_EQUAL(value(s, "requirepass"), "aA\n\t\"b\\c");
  BOOST_CHECK_EQUAL(value(s, "masterauth"), "it's");
  BOOST_CHECK_EQUAL(value(s, "masteruser"), "ab c");
  BOOST_CHECK_EQUAL(value(s, "replica-announce-ip"), "");
  BOOST_CHECK_EQUAL(value(s, "replica-read-only"), "no");
  BOOST_CHECK_EQUAL(value(s, "hash-max-listpack-entries"), "100");
  BOOST_CHECK_EQUAL(value(s, "replicaof"), "10.0.0.1 6380");
  BOOST_CHECK_EQUAL(value(s, "slaveof"), "10.0.0.1 6380");
  BOOST_CHECK_EQUAL(value(s, "maxmemory"), "1048576");  // later lines override
  BOOST_CHECK_EQUAL(value(s, "bind"), "127.0.0.1 ::1");
  BOOST_CHECK_EQUAL(value(s, "client-output-buffer-limit"),
                    "normal 1 2 3 slave 268435456 67108864 60 pubsub 4096 5 6");
  BOOST_CHECK_EQUAL(value(s, "shutdown-on-sigterm"), "nosave now");
  BOOST_CHECK_EQUAL(value(s, "oom-score-adj-values"), "1 2 3");
  BOOST_CHECK_EQUAL(value(s, "unixsocketperm"), "700");
  BOOST_CHECK_EQUAL(value(s, "hz"), "1");  // clamped to [1, 500]
  BOOST_CHECK_EQUAL(value(s, "notify-keyspace-events"), "AKE");
  BOOST_CHECK_EQUAL(value(s, "maxmemory-clients"), "5%");
  BOOST_CHECK(s.file_directives("rename-command") == (std::vector<std::vector<std::string>>{{"FLUSHALL", ""}}));
  BOOST_CHECK_EQUAL(s.version(), 1u);
}

BOOST_AUTO_TEST_CASE(save_accumulates_within_a_load) {
  temp_dir t;
  {
    // The first save replaces the defaults, later ones add rules, bare `save` adds nothing.
    auto path = t.write("a.conf", "save 5 5\nsave\nsave \"6 6\"\n");
    store s;
    BOOST_REQUIRE(!s.load_args({path, "--save", "7", "7"}));
    BOOST_CHECK_EQUAL(value(s, "save"), "5 5 6 6 7 7");
    BOOST_CHECK(s.save_params() == (std::vector<std::pair<long long, long long>>{{5, 5}, {6, 6}, {7, 7}}));
  }
  {
    // save "" resets.
    auto path = t.write("b.conf", "save 1 1\nsave \"\"\nsave 2 2\n");
    store s;
    BOOST_REQUIRE(!s.load_args({path}));
    BOOST_CHECK_EQUAL(value(s, "save"), "2 2");
    store s2;
    BOOST_REQUIRE(!s2.load_args({path, "--save", ""}));
    BOOST_CHECK_EQUAL(value(s2, "save"), "");
  }
  {
    // A bare --save means save "": last argument, or followed by another option.
    store s;
    BOOST_REQUIRE(!s.load_args({"--save"}));
    BOOST_CHECK_EQUAL(value(s, "save"), "");
    store s2;
    BOOST_REQUIRE(!s2.load_args({"--save", "--port", "7000"}));
    BOOST_CHECK_EQUAL(value(s2, "save"), "");
    BOOST_CHECK_EQUAL(value(s2, "port"), "7000");
    store s3;
    BOOST_REQUIRE(!s3.load_args({"--save", "900", "1", "300", "10"}));
    BOOST_CHECK_EQUAL(value(s3, "save"), "900 1 300 10");
  }
}

BOOST_AUTO_TEST_CASE(flags_override_file) {
  temp_dir t;
  auto path = t.write("a.conf", "port 7001\nloglevel warning\nappendonly yes\n");
  store s;
  BOOST_REQUIRE(!s.load_args({path, "--port", "7002", "--loglevel", "debug", "--bind", "127.0.0.1", "::1"}));
  BOOST_CHECK_EQUAL(value(s, "port"), "7002");
  BOOST_CHECK_EQUAL(value(s, "loglevel"), "debug");
  BOOST_CHECK_EQUAL(value(s, "appendonly"), "yes");
  BOOST_CHECK_EQUAL(value(s, "bind"), "127.0.0.1 ::1");
  // "--name value" in one word, and a value starting with -- right after a bare name.
  store s2;
  BOOST_REQUIRE(!s2.load_args({"--port 7003", "--requirepass", "--secret"}));
  BOOST_CHECK_EQUAL(value(s2, "port"), "7003");
  BOOST_CHECK_EQUAL(value(s2, "requirepass"), "--secret");
  // An empty argument stays an empty argument.
  store s3;
  BOOST_REQUIRE(!s3.load_args({"--requirepass", "", "--bind", ""}));
  BOOST_CHECK_EQUAL(value(s3, "requirepass"), "");
  BOOST_CHECK(s3.get_words("bind").empty());
}

BOOST_AUTO_TEST_CASE(seed_line_and_inert_directives) {
  store s;
  auto err = s.load_args({"--port", "6379", "--cluster-enabled", "yes", "--cluster-config-file", "nodes_6379.conf",
                          "--cluster-node-timeout", "5000", "--appendonly", "yes", "--appendfilename",
                          "node_6379.aof", "--dbfilename", "node_6379.rdb", "--logfile", "node_6379.log",
                          "--daemonize", "yes"});
  BOOST_REQUIRE_EQUAL(err.value_or(""), "");
  BOOST_CHECK_EQUAL(s.get_int("port"), 6379);
  BOOST_CHECK(s.get_bool("cluster-enabled"));
  BOOST_CHECK_EQUAL(s.get_string("cluster-config-file"), "nodes_6379.conf");
  BOOST_CHECK_EQUAL(s.get_int("cluster-node-timeout"), 5000);
  BOOST_CHECK_EQUAL(s.get_string("appendfilename"), "node_6379.aof");
  BOOST_CHECK_EQUAL(s.get_string("dbfilename"), "node_6379.rdb");
  BOOST_CHECK_EQUAL(s.get_string("logfile"), "node_6379.log");
  BOOST_CHECK(s.get_bool("daemonize"));
  // Persistence and cluster directives are implemented: none of the seed line is inert.
  BOOST_CHECK(s.inert_directives_set().empty());
  BOOST_REQUIRE(!s.load_text("maxmemory 1\nlazyfree-lazy-eviction yes\n", "x"));
  BOOST_CHECK(s.inert_directives_set() == (std::vector<std::string>{"maxmemory", "lazyfree-lazy-eviction"}));
  s.set_effective("maxmemory", true);
  BOOST_CHECK(s.inert_directives_set() == (std::vector<std::string>{"lazyfree-lazy-eviction"}));
}

BOOST_AUTO_TEST_CASE(inert_list_uses_canonical_names_once) {
  store s;
  BOOST_REQUIRE(!s.load_text("slaveof 1.2.3.4 5\nreplicaof 1.2.3.4 6\nport 1\nrename-command a b\nmaxmemory 1\n", "x"));
  BOOST_CHECK(s.inert_directives_set() == (std::vector<std::string>{"replicaof", "rename-command", "maxmemory"}));
}

BOOST_AUTO_TEST_CASE(include_files) {
  temp_dir t;
  t.write("sub/inc.conf", "tcp-keepalive 100\nloglevel debug\n");
  t.write("conf.d/1.conf", "maxclients 100\n");
  t.write("conf.d/2.conf", "timeout 7\n");
  auto main = t.write("main.conf",
                      "loglevel warning\n"
                      "include " + t.file("sub/inc.conf") + "\n"
                      "include " + t.file("conf.d/*.conf") + "\n"
                      "include " + t.file("nomatch/*.conf") + "\n"  // a glob matching nothing is fine
                      "dir " + t.file("sub") + "\n"
                      "include inc.conf\n");  // relative: to the directory `dir` moved to, as Redis does
  store s;
  BOOST_REQUIRE_EQUAL(s.load_args({main}).value_or(""), "");
  BOOST_CHECK_EQUAL(value(s, "tcp-keepalive"), "100");
  BOOST_CHECK_EQUAL(value(s, "loglevel"), "debug");  // the include comes after loglevel warning
  BOOST_CHECK_EQUAL(value(s, "maxclients"), "100");
  BOOST_CHECK_EQUAL(value(s, "timeout"), "7");
  BOOST_CHECK_EQUAL(value(s, "dir"), t.file("sub"));
}

BOOST_AUTO_TEST_CASE(include_errors_name_the_included_file) {
  temp_dir t;
  auto sub = t.write("sub.conf", "# sub\n\nloglevel zzz\n");
  auto main = t.write("inc.conf", "include " + sub + "\nport 5\n");
  BOOST_CHECK_EQUAL(load_error({main}),
                    fatal(" " + sub, 3, "loglevel zzz",
                          "argument(s) must be one of the following: debug, verbose, notice, warning"));
  BOOST_CHECK_EQUAL(load_error({"--include", "nonexist.conf"}),
                    "Fatal error, can't open config file 'nonexist.conf': No such file or directory\n");
  BOOST_CHECK_EQUAL(load_error({t.file("nonexist.conf")}), "Fatal error, can't open config file '" +
                                                               t.file("nonexist.conf") +
                                                               "': No such file or directory\n");
  auto loop = t.write("loop.conf", "include " + t.file("loop.conf") + "\n");
  BOOST_CHECK_EQUAL(load_error({loop}),
                    fatal(" " + loop, 1, "include " + loop, "Too many nested include directives"));
}

BOOST_AUTO_TEST_CASE(flag_errors_are_redis_exact) {
  BOOST_CHECK_EQUAL(load_error({"--port", "abc"}),
                    fatal("", 2, "port \"abc\"", "argument couldn't be parsed into an integer"));
  BOOST_CHECK_EQUAL(load_error({"--port", "70000"}),
                    fatal("", 2, "port \"70000\"", "argument must be between 0 and 65535 inclusive"));
  BOOST_CHECK_EQUAL(load_error({"--foo", "bar"}),
                    fatal("", 2, "foo \"bar\"", "Bad directive or wrong number of arguments"));
  BOOST_CHECK_EQUAL(load_error({"--appendonly", "maybe"}),
                    fatal("", 2, "appendonly \"maybe\"", "argument must be 'yes' or 'no'"));
  BOOST_CHECK_EQUAL(load_error({"--maxmemory", "1x"}),
                    fatal("", 2, "maxmemory \"1x\"", "argument must be a memory value"));
  BOOST_CHECK_EQUAL(load_error({"--save", "1"}), fatal("", 2, "save \"1\"", "Invalid save parameters"));
  BOOST_CHECK_EQUAL(load_error({"--port"}), fatal("", 2, "port", "wrong number of arguments"));
  BOOST_CHECK_EQUAL(load_error({"--port", "1", "2"}), fatal("", 2, "port \"1\" \"2\"", "wrong number of arguments"));
  BOOST_CHECK_EQUAL(load_error({"--port", "1", "--foo", "bar"}),
                    fatal("", 3, "foo \"bar\"", "Bad directive or wrong number of arguments"));
  BOOST_CHECK_EQUAL(load_error({"--save", "--foo"}), fatal("", 3, "foo", "Bad directive or wrong number of arguments"));
  BOOST_CHECK_EQUAL(load_error({"--requirepass", "--port", "1"}),
                    fatal("", 2, "requirepass \"--port\" \"1\"", "wrong number of arguments"));
  BOOST_CHECK_EQUAL(load_error({"--port", "1", "--requirepass", "a b\"c", "x"}),
                    fatal("", 3, "requirepass \"a b\\\"c\" \"x\"", "wrong number of arguments"));
  BOOST_CHECK_EQUAL(load_error({"-x"}), fatal("", 2, "\"-x\"", "Bad directive or wrong number of arguments"));
  BOOST_CHECK_EQUAL(load_error({"--", "--port", "1"}),
                    fatal("", 2, "\"--port\" \"1\"", "Bad directive or wrong number of arguments"));
  BOOST_CHECK_EQUAL(load_error({"--PORT", "x"}),
                    fatal("", 2, "PORT \"x\"", "argument couldn't be parsed into an integer"));
  BOOST_CHECK_EQUAL(load_error({"--unixsocketperm", "999"}),
                    fatal("", 2, "unixsocketperm \"999\"", "argument couldn't be parsed as an octal number"));
  BOOST_CHECK_EQUAL(load_error({"--replicaof", "a", "70000"}),
                    fatal("", 2, "replicaof \"a\" \"70000\"", "Invalid master port"));
  BOOST_CHECK_EQUAL(load_error({"--notify-keyspace-events", "Q"}),
                    fatal("", 2, "notify-keyspace-events \"Q\"", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."));
  BOOST_CHECK_EQUAL(load_error({"--dir", "/nonexistent-troupe-dir"}),
                    fatal("", 2, "dir \"/nonexistent-troupe-dir\"", "No such file or directory"));
  BOOST_CHECK_EQUAL(load_error({"--appendfilename", "a/b"}),
                    fatal("", 2, "appendfilename \"a/b\"", "appendfilename can't be a path, just a filename"));
  BOOST_CHECK_EQUAL(load_error({"--slot-actors", "0"}),
                    fatal("", 2, "slot-actors \"0\"", "argument must be between 1 and 1024 inclusive"));
  BOOST_CHECK_EQUAL(load_error({"--metrics-port", "65536"}),
                    fatal("", 2, "metrics-port \"65536\"", "argument must be between 0 and 65535 inclusive"));
}

BOOST_AUTO_TEST_CASE(file_errors_name_the_file_and_line) {
  temp_dir t;
  auto a = t.write("a.conf", "port 7391\n# comment\n  \nport \"abc\"\n");
  BOOST_CHECK_EQUAL(load_error({a}), fatal(" " + a, 4, "port \"abc\"", "argument couldn't be parsed into an integer"));
  auto b = t.write("b.conf", "port 7391\nport \"abc\n");
  BOOST_CHECK_EQUAL(load_error({b}), fatal(" " + b, 2, "port \"abc", "Unbalanced quotes in configuration line"));
  auto c = t.write("c.conf", "port \"7391\"x\n");
  BOOST_CHECK_EQUAL(load_error({c}), fatal(" " + c, 1, "port \"7391\"x", "Unbalanced quotes in configuration line"));
  auto d = t.write("d.conf", "   foo bar   \n");
  BOOST_CHECK_EQUAL(load_error({d}), fatal(" " + d, 1, "foo bar", "Bad directive or wrong number of arguments"));
  // Flags after a file are numbered after the file's lines, as redis-server does.
  auto ok = t.write("ok.conf", "port 1\n\n");
  BOOST_CHECK_EQUAL(load_error({ok, "--port", "abc"}),
                    fatal("", 4, "port \"abc\"", "argument couldn't be parsed into an integer"));
  auto no_newline = t.write("nn.conf", "port 1");
  BOOST_CHECK_EQUAL(load_error({no_newline, "--port", "abc"}),
                    fatal("", 2, "port \"abc\"", "argument couldn't be parsed into an integer"));
}

BOOST_AUTO_TEST_CASE(load_text_errors) {
  store s;
  BOOST_CHECK_EQUAL(s.load_text("port 1\nsave 0 1\n", "").value_or(""),
                    fatal("", 2, "save 0 1", "Invalid save parameters"));
  BOOST_CHECK_EQUAL(s.load_text("include\n", "t").value_or(""),
                    fatal(" t", 1, "include", "Bad directive or wrong number of arguments"));
  BOOST_CHECK_EQUAL(s.load_text("rename-command a\n", "t").value_or(""),
                    fatal(" t", 1, "rename-command a", "Bad directive or wrong number of arguments"));
  BOOST_CHECK_EQUAL(s.load_text("list-max-ziplist-entries\n", "t").value_or(""),
                    fatal(" t", 1, "list-max-ziplist-entries", "Bad directive or wrong number of arguments"));
  BOOST_CHECK_EQUAL(s.load_text("oom-score-adj-values 1 2\n", "t").value_or(""),
                    fatal(" t", 1, "oom-score-adj-values 1 2", "wrong number of arguments"));
  BOOST_CHECK_EQUAL(s.load_text("bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n", "t").value_or(""),
                    fatal(" t", 1, "bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", "Too many bind addresses specified."));
  BOOST_CHECK_EQUAL(s.load_text("client-output-buffer-limit normal 1 2\n", "t").value_or(""),
                    fatal(" t", 1, "client-output-buffer-limit normal 1 2",
                          "Wrong number of arguments in buffer limit configuration."));
  BOOST_CHECK_EQUAL(s.load_text("shutdown-on-sigterm \"save nosave\"\n", "t").value_or(""),
                    fatal(" t", 1, "shutdown-on-sigterm \"save nosave\"",
                          "shutdown options SAVE and NOSAVE can't be used simultaneously"));
  BOOST_CHECK_EQUAL(s.load_text("cluster-announce-hostname \"a_b\"\n", "t").value_or(""),
                    fatal(" t", 1, "cluster-announce-hostname \"a_b\"",
                          "Hostnames may only contain alphanumeric characters, hyphens or dots"));
  BOOST_CHECK_EQUAL(s.load_text("proc-title-template \"{foo}\"\n", "t").value_or(""),
                    fatal(" t", 1, "proc-title-template \"{foo}\"", "template format is invalid or contains unknown variables"));
  BOOST_CHECK_EQUAL(s.load_text("sentinel monitor x\n", "t").value_or(""),
                    fatal(" t", 1, "sentinel monitor x", "sentinel directive while not in sentinel mode"));
  // Nothing of the failed loads counted as a successful load.
  BOOST_CHECK_EQUAL(s.version(), 0u);
  BOOST_CHECK(!s.load_text("replicaof no one\nlist-max-ziplist-value 5\nlua-replicate-commands yes\n", "t"));
  BOOST_CHECK_EQUAL(s.version(), 1u);
}

BOOST_AUTO_TEST_SUITE_END()
