// Whole-database commands: DBSIZE FLUSHDB FLUSHALL SWAPDB KEYS SCAN RANDOMKEY and DEBUG. The
// digests are the ones redis-server 7.0.15 printed for the same data.
#include "harness.hpp"

#include <algorithm>
#include <map>
#include <set>

using namespace ut;

namespace {

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(server_commands, server)

BOOST_AUTO_TEST_CASE(dbsize_flushdb_flushall) {
  BOOST_TEST(cmd("dbsize") == integer(0));
  BOOST_TEST(cmd("mset a 1 b 2 c 3") == ok());
  db = 1;
  BOOST_TEST(cmd("set x 1") == ok());
  BOOST_TEST(cmd("dbsize") == integer(1));
  db = 0;
  BOOST_TEST(cmd("dbsize") == integer(3));
  BOOST_TEST(cmd("flushdb foo") == syntax_error);
  BOOST_TEST(cmd("flushdb sync") == ok());
  BOOST_TEST(cmd("dbsize") == integer(0));
  db = 1;
  BOOST_TEST(cmd("dbsize") == integer(1));
  BOOST_TEST(cmd("flushall sync async") == syntax_error);
  BOOST_TEST(cmd("flushall async") == ok());
  BOOST_TEST(cmd("dbsize") == integer(0));
  BOOST_TEST(cmd("flushall") == ok());
  BOOST_TEST(cmd("flushdb ASYNC") == ok());
  BOOST_TEST(database(0).size() == 0u);
  // The tables are gone, and the databases work afterwards.
  BOOST_TEST(cmd("set a 1") == ok());
  BOOST_TEST(cmd("get a") == bulk("1"));
}

BOOST_AUTO_TEST_CASE(swapdb) {
  BOOST_TEST(cmd("set a zero") == ok());
  db = 1;
  BOOST_TEST(cmd("set a one") == ok());
  BOOST_TEST(cmd("set b one") == ok());
  BOOST_TEST(cmd("swapdb 0 1") == ok());
  BOOST_TEST(cmd("get a") == bulk("zero"));
  BOOST_TEST(cmd("dbsize") == integer(1));
  db = 0;
  BOOST_TEST(cmd("get a") == bulk("one"));
  BOOST_TEST(cmd("dbsize") == integer(2));
  BOOST_TEST(cmd("swapdb 0 0") == ok());
  BOOST_TEST(cmd("get a") == bulk("one"));
  BOOST_TEST(cmd("swapdb 0 16") == err("ERR DB index is out of range"));
  BOOST_TEST(cmd("swapdb -1 0") == err("ERR DB index is out of range"));
  BOOST_TEST(cmd("swapdb a 0") == err("ERR invalid first DB index"));
  BOOST_TEST(cmd("swapdb 0 a") == err("ERR invalid second DB index"));
  BOOST_TEST(cmd("swapdb 99999999999 0") == err("ERR invalid first DB index"));
  settings.cluster_enabled = true;
  BOOST_TEST(cmd("swapdb 0 1") == err("ERR SWAPDB is not allowed in cluster mode"));
}

BOOST_AUTO_TEST_CASE(keys) {
  BOOST_TEST(cmd("keys *") == arr({}));
  BOOST_TEST(cmd("mset hello 1 hallo 2 hxllo 3 hllo 4 heeeello 5 other 6") == ok());
  BOOST_TEST(sorted(decode(cmd("keys *")).strings())
             == sorted({"hello", "hallo", "hxllo", "hllo", "heeeello", "other"}), boost::test_tools::per_element());
  BOOST_TEST(sorted(decode(cmd("keys h?llo")).strings()) == sorted({"hello", "hallo", "hxllo"}),
             boost::test_tools::per_element());
  BOOST_TEST(sorted(decode(cmd("keys h*llo")).strings()) == sorted({"hello", "hallo", "hxllo", "hllo", "heeeello"}),
             boost::test_tools::per_element());
  BOOST_TEST(sorted(decode(cmd("keys h[ae]llo")).strings()) == sorted({"hello", "hallo"}),
             boost::test_tools::per_element());
  BOOST_TEST(cmd("keys nomatch*") == arr({}));
  db = 1;
  BOOST_TEST(cmd("keys *") == arr({}));
}

BOOST_AUTO_TEST_CASE(scan_returns_each_key_once) {
  std::set<std::string> all;
  for (int i = 0; i < 500; ++i) {
    std::string k = "key:" + std::to_string(i);
    BOOST_TEST(run({"set", k, "v"}) == ok());
    all.insert(k);
  }
  std::multiset<std::string> seen;
  std::string cursor = "0";
  int calls = 0;
  do {
    value reply = decode(cmd("scan " + cursor + " count 20"));
    BOOST_REQUIRE(reply.elems.size() == 2u);
    cursor = reply.elems[0].str;
    for (auto& k : reply.elems[1].strings())
      seen.insert(k);
    ++calls;
  } while (cursor != "0" && calls < 10000);
  BOOST_TEST(cursor == "0");
  BOOST_TEST(seen.size() == all.size());
  BOOST_TEST((std::set<std::string>(seen.begin(), seen.end()) == all));
  BOOST_TEST(calls > 5); // COUNT bounds the work of one call
}

BOOST_AUTO_TEST_CASE(scan_options) {
  BOOST_TEST(cmd("scan 0") == arr({bulk("0"), arr({})}));
  BOOST_TEST(cmd("mset user:1 a user:2 b other c") == ok());
  add_list(*this, "user:list", {"x"});
  auto full = [&](const std::string& opts) {
    std::vector<std::string> keys;
    std::string cursor = "0";
    do {
      value reply = decode(cmd("scan " + cursor + " " + opts));
      cursor = reply.elems[0].str;
      for (auto& k : reply.elems[1].strings())
        keys.push_back(k);
    } while (cursor != "0");
    return sorted(keys);
  };
  BOOST_TEST(full("count 1000") == sorted({"user:1", "user:2", "other", "user:list"}), boost::test_tools::per_element());
  BOOST_TEST(full("match user:*") == sorted({"user:1", "user:2", "user:list"}), boost::test_tools::per_element());
  BOOST_TEST(full("MATCH user:* TYPE string") == sorted({"user:1", "user:2"}), boost::test_tools::per_element());
  BOOST_TEST(full("type LIST") == sorted({"user:list"}), boost::test_tools::per_element());
  BOOST_TEST(full("type hash").empty());
  BOOST_TEST(cmd("scan 0 count 0") == syntax_error);
  BOOST_TEST(cmd("scan 0 count abc") == not_integer);
  BOOST_TEST(cmd("scan 0 foo") == syntax_error);
  BOOST_TEST(cmd("scan 0 count") == syntax_error);
  BOOST_TEST(cmd("scan abc") == err("ERR invalid cursor"));
  // Expired keys are not returned (and are deleted on the way).
  BOOST_TEST(cmd("pexpire other 10") == integer(1));
  now += 11;
  BOOST_TEST(full("count 1000") == sorted({"user:1", "user:2", "user:list"}), boost::test_tools::per_element());
  BOOST_TEST(peek("other") == nullptr);
}

// BUG: redis-server parses the SCAN cursor with strtoul, so "00" (and "+0") is cursor 0 and
// "SCAN 00" on an empty database replies ["0", []]; Troupe replies "ERR invalid cursor".
BOOST_AUTO_TEST_CASE(scan_cursor_leading_zero) {
  BOOST_TEST(cmd("scan 00") == arr({bulk("0"), arr({})}));
}

// BUG: with a huge COUNT redis-server 7.0.15 returns every key in one call ("SCAN 0 COUNT
// 9223372036854775807" over 50 keys -> cursor 0 and the 50 keys). cmd_scan computes count * 10 in
// int64_t, which overflows (undefined behaviour; in practice negative), visits nothing and replies
// cursor 0 with no keys, ending the scan empty-handed.
BOOST_AUTO_TEST_CASE(scan_with_huge_count) {
  for (int i = 1; i <= 50; ++i)
    run({"set", "k" + std::to_string(i), "v"});
  for (const char* count : {"9223372036854775807", "1000000000000000000"}) {
    value reply = decode(cmd(std::string("scan 0 count ") + count));
    BOOST_REQUIRE(reply.elems.size() == 2u);
    BOOST_TEST(reply.elems[0].str == "0");
    BOOST_TEST(reply.elems[1].elems.size() == 50u, "COUNT " << count);
  }
  // A large COUNT that does not overflow works.
  value reply = decode(cmd("scan 0 count 100000"));
  BOOST_TEST(reply.elems[1].elems.size() == 50u);
}

BOOST_AUTO_TEST_CASE(scan_guarantee_while_keys_come_and_go) {
  // Keys present for the whole scan come back at least once even though other keys are added
  // (slot tables grow) and removed (they shrink, or go away) between the calls.
  std::set<std::string> stable;
  for (int i = 0; i < 60; ++i) {
    std::string k = "{s" + std::to_string(i % 3) + "}stable:" + std::to_string(i);
    run({"set", k, "v"});
    stable.insert(k);
    std::string loose = "loose:" + std::to_string(i);
    run({"set", loose, "v"});
    stable.insert(loose);
  }
  std::vector<std::string> transient;
  std::set<std::string> seen;
  std::string cursor = "0";
  int round = 0;
  do {
    value reply = decode(cmd("scan " + cursor + " count 3"));
    cursor = reply.elems[0].str;
    for (auto& k : reply.elems[1].strings())
      seen.insert(k);
    if (round % 16 == 0) {
      for (int j = 0; j < 400; ++j) {
        std::string k = "{s" + std::to_string(j % 3) + "}tmp:" + std::to_string(round) + ":" + std::to_string(j);
        run({"set", k, "x"});
        transient.push_back(k);
      }
    } else if (round % 16 == 8) {
      for (auto& k : transient)
        run({"del", k});
      transient.clear();
    }
    ++round;
  } while (cursor != "0" && round < 100000);
  BOOST_TEST(cursor == "0");
  for (auto& k : stable)
    BOOST_TEST(seen.count(k) == 1u, k);
}

BOOST_AUTO_TEST_CASE(randomkey) {
  BOOST_TEST(cmd("randomkey") == nil());
  resp = 3;
  BOOST_TEST(cmd("randomkey") == "_\r\n");
  resp = 2;
  BOOST_TEST(cmd("mset a 1 b 2 c 3") == ok());
  std::map<std::string, int> counts;
  for (int i = 0; i < 300; ++i) {
    value v = decode(cmd("randomkey"));
    BOOST_REQUIRE(v.type == '$');
    counts[v.str]++;
  }
  BOOST_TEST(counts.size() == 3u);
  for (auto& [k, n] : counts)
    BOOST_TEST(n > 30, k << " picked " << n << " times");
  // Expired keys are never returned; when all are expired the answer is nil and they are gone.
  BOOST_TEST(cmd("pexpire a 10") == integer(1));
  BOOST_TEST(cmd("pexpire b 10") == integer(1));
  now += 11;
  for (int i = 0; i < 20; ++i)
    BOOST_TEST(cmd("randomkey") == bulk("c"));
  BOOST_TEST(cmd("pexpire c 10") == integer(1));
  now += 11;
  BOOST_TEST(cmd("randomkey") == nil());
  BOOST_TEST(database().size() == 0u);
}

BOOST_AUTO_TEST_CASE(debug_digest_matches_redis) {
  const std::string zero(40, '0');
  BOOST_TEST(cmd("debug digest") == simple(zero));
  BOOST_TEST(cmd("set a 1") == ok());
  BOOST_TEST(cmd("set b hello") == ok());
  BOOST_TEST(run({"set", "c", std::string(50, 'x')}) == ok());
  BOOST_TEST(cmd("debug digest") == simple("7fa625d68a69758441b070b529cc501956d341f9"));
  BOOST_TEST(cmd("pexpireat c 4102444800000") == integer(1));
  BOOST_TEST(cmd("debug digest") == simple("22837939c52d2fb1cc0b00e539d9b0c03bc64709"));
  db = 1;
  BOOST_TEST(cmd("set z 9") == ok());
  BOOST_TEST(cmd("debug digest") == simple("c3515fbab1db49b6f87847bcbde034406a19335d"));
  BOOST_TEST(cmd("debug digest-value z") == arr({simple("4a99a0ba0445c7319b9f440a66c741b27e3fcb86")}));
  BOOST_TEST(cmd("debug digest-value a") == arr({simple(zero)}));
  db = 0;
  BOOST_TEST(cmd("debug digest-value a b c missing")
             == arr({simple("b4fc66738120fba0b5aa500ab5c2bf89cea1c5da"), simple("36b23a1456b2dce2c3ed252c456761301dba8060"),
                     simple("ed5544aa77a708ebd4d52ef02b3e2b577e856d47"), simple(zero)}));
  BOOST_TEST(cmd("debug digest-value") == arr({}));
  // The digest does not depend on the order keys were written in.
  server other;
  BOOST_TEST(other.cmd("set z 9 pxat 4102444800000") == ok());
  other.db = 1;
  BOOST_TEST(other.cmd("set z 9") == ok());
  other.db = 0;
  BOOST_TEST(other.cmd("persist z") == integer(1));
  BOOST_TEST(other.cmd("move z 2") == integer(1));
  BOOST_TEST(other.cmd("swapdb 2 1") == ok()); // db1 = {z}, db2 = {z} (from db1)
  other.db = 2;
  BOOST_TEST(other.cmd("flushdb") == ok());
  other.db = 0;
  BOOST_TEST(other.run({"set", "c", std::string(50, 'x'), "pxat", "4102444800000"}) == ok());
  BOOST_TEST(other.cmd("mset b hello a 1") == ok());
  BOOST_TEST(other.cmd("debug digest") == simple("c3515fbab1db49b6f87847bcbde034406a19335d"));
}

BOOST_AUTO_TEST_CASE(debug_digest_with_a_list_matches_redis) {
  // RPUSH l a b 7; SET s x; then PEXPIREAT l 4102444800000, on redis-server 7.0.15.
  add_list(*this, "l", {"a", "b", "7"});
  BOOST_TEST(cmd("set s x") == ok());
  BOOST_TEST(cmd("debug digest") == simple("9a9a85433036a46a4656a8e2c21cc084b7dbe759"));
  BOOST_TEST(cmd("debug digest-value l s")
             == arr({simple("0f7e0c22324402ffb83715eb3be2870ba4e186e2"), simple("e1c099d36d86ec50b7f83540e7e59065055be33d")}));
  BOOST_TEST(cmd("pexpireat l 4102444800000") == integer(1));
  BOOST_TEST(cmd("debug digest-value l") == arr({simple("e9fbf2ddee7de8ab7921fe137e884890be4fc761")}));
  BOOST_TEST(cmd("debug digest") == simple("d8795916957c2c18afec4ecf04c40a1c386168ff"));
}

BOOST_AUTO_TEST_CASE(debug_object_and_errors) {
  BOOST_TEST(cmd("set h hello") == ok());
  BOOST_TEST(cmd("set j 100000") == ok());
  std::string h = decode(cmd("debug object h")).str;
  BOOST_TEST(h.rfind("Value at:", 0) == 0u);
  BOOST_TEST(h.find(" encoding:embstr serializedlength:6 lru:") != std::string::npos);
  BOOST_TEST(h.find(" lru_seconds_idle:0") != std::string::npos);
  std::string j = decode(cmd("debug object j")).str;
  BOOST_TEST(j.find(" encoding:int serializedlength:5 ") != std::string::npos);
  BOOST_TEST(cmd("debug object nokey") == err("ERR no such key"));
  BOOST_TEST(cmd("debug foo") == err("ERR unknown subcommand or wrong number of arguments for 'foo'. Try DEBUG HELP."));
  BOOST_TEST(cmd("debug digest x")
             == err("ERR unknown subcommand or wrong number of arguments for 'digest'. Try DEBUG HELP."));
}

// BUG: DEBUG OBJECT on a shared small integer reports refcount:2147483647 in redis-server 7.0.15
// ("SET i 1; DEBUG OBJECT i" -> "... refcount:2147483647 encoding:int serializedlength:2 ...");
// Troupe always prints refcount:1 (OBJECT REFCOUNT gets it right).
BOOST_AUTO_TEST_CASE(debug_object_shared_integer_refcount) {
  BOOST_TEST(cmd("set i 1") == ok());
  std::string i = decode(cmd("debug object i")).str;
  BOOST_TEST(i.find(" refcount:2147483647 encoding:int serializedlength:2 ") != std::string::npos, i);
}

BOOST_AUTO_TEST_SUITE_END()
