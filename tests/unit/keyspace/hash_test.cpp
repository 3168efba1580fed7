// Hash commands and hash_value, with the replies redis-server 7.0.15 gives for the same calls.
#include <algorithm>
#include <map>
#include <set>

#include "harness.hpp"
#include "keyspace/hash_value.hpp"

using namespace ut;

namespace {

std::string repeat(char c, size_t n) { return std::string(n, c); }

// Field -> value of a flat field/value reply.
std::map<std::string, std::string> pairs_of(const value& v) {
  std::map<std::string, std::string> m;
  for (size_t i = 0; i + 1 < v.elems.size(); i += 2)
    m[v.elems[i].str] = v.elems[i + 1].str;
  return m;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(hash_commands, server)

BOOST_AUTO_TEST_CASE(hset_hget_hmset_hsetnx) {
  BOOST_TEST(cmd("hget h a") == nil());
  BOOST_TEST(cmd("hset h a 1 b 2 a 3") == integer(2));
  BOOST_TEST(cmd("hget h a") == bulk("3"));
  BOOST_TEST(cmd("hget h nofield") == nil());
  BOOST_TEST(cmd("hset h a 4 c 5") == integer(1));
  BOOST_TEST(cmd("hset h a 1 b") == err("ERR wrong number of arguments for 'hset' command"));
  BOOST_TEST(cmd("hmset h x y z") == err("ERR wrong number of arguments for 'hmset' command"));
  BOOST_TEST(cmd("hmset h x y z w") == ok());
  BOOST_TEST(cmd("hget h z") == bulk("w"));
  BOOST_TEST(cmd("hsetnx h a 9") == integer(0));
  BOOST_TEST(cmd("hsetnx h n 9") == integer(1));
  BOOST_TEST(cmd("hsetnx fresh f v") == integer(1));
  BOOST_TEST(cmd("hget fresh f") == bulk("v"));
  BOOST_TEST(cmd("hset h \"\" \"\"") == integer(1));
  BOOST_TEST(cmd("hget h \"\"") == bulk(""));
  BOOST_TEST(run({"hset", "bin", std::string("f\0\r\n", 4), std::string("\0v", 2)}) == integer(1));
  BOOST_TEST(run({"hget", "bin", std::string("f\0\r\n", 4)}) == bulk(std::string("\0v", 2)));
  BOOST_TEST(cmd("type h") == simple("hash"));
  resp = 3;
  BOOST_TEST(cmd("hget h nofield") == "_\r\n");
}

BOOST_AUTO_TEST_CASE(wrong_type) {
  BOOST_TEST(cmd("set s v") == ok());
  for (const char* c : {"hset s a b", "hsetnx s a b", "hget s a", "hmget s a", "hmset s a b", "hdel s a", "hlen s",
                        "hstrlen s a", "hexists s a", "hkeys s", "hvals s", "hgetall s", "hincrby s a 1",
                        "hincrbyfloat s a 1", "hrandfield s", "hrandfield s 2", "hrandfield s 0", "hscan s 0"})
    BOOST_TEST(cmd(c) == wrongtype, c);
  // Argument errors come first.
  BOOST_TEST(cmd("hset s a 1 b") == err("ERR wrong number of arguments for 'hset' command"));
  BOOST_TEST(cmd("hincrby s a x") == not_integer);
  BOOST_TEST(cmd("hincrbyfloat s a x") == err("ERR value is not a valid float"));
  BOOST_TEST(cmd("hscan s x") == err("ERR invalid cursor"));
  BOOST_TEST(cmd("hrandfield s 1 foo") == syntax_error);
  BOOST_TEST(cmd("get s") == bulk("v"));
}

BOOST_AUTO_TEST_CASE(hmget_hdel_hlen_hstrlen_hexists) {
  BOOST_TEST(cmd("hmget nokey a b") == arr({nil(), nil()}));
  BOOST_TEST(cmd("hset h a 1 b 22 c 333") == integer(3));
  BOOST_TEST(cmd("hmget h a x c") == arr({bulk("1"), nil(), bulk("333")}));
  BOOST_TEST(cmd("hlen h") == integer(3));
  BOOST_TEST(cmd("hlen nokey") == integer(0));
  BOOST_TEST(cmd("hstrlen h c") == integer(3));
  BOOST_TEST(cmd("hstrlen h x") == integer(0));
  BOOST_TEST(cmd("hstrlen nokey x") == integer(0));
  BOOST_TEST(cmd("hexists h a") == integer(1));
  BOOST_TEST(cmd("hexists h x") == integer(0));
  BOOST_TEST(cmd("hexists nokey x") == integer(0));
  BOOST_TEST(cmd("hdel nokey a") == integer(0));
  BOOST_TEST(cmd("hdel h a a x") == integer(1));
  BOOST_TEST(cmd("hlen h") == integer(2));
  // The key goes with its last field.
  BOOST_TEST(cmd("hdel h b c d") == integer(2));
  BOOST_TEST(cmd("exists h") == integer(0));
  resp = 3;
  BOOST_TEST(cmd("hset h a 1") == integer(1));
  BOOST_TEST(cmd("hmget h a x") == "*2\r\n$1\r\n1\r\n_\r\n");
}

BOOST_AUTO_TEST_CASE(hkeys_hvals_hgetall_keep_insertion_order_in_a_listpack) {
  BOOST_TEST(cmd("hgetall nokey") == arr({}));
  BOOST_TEST(cmd("hkeys nokey") == arr({}));
  BOOST_TEST(cmd("hvals nokey") == arr({}));
  BOOST_TEST(cmd("hset h z 1 a 2 m 3") == integer(3));
  BOOST_TEST(cmd("hset h a 4") == integer(0)); // updated in place
  BOOST_TEST(cmd("hdel h z") == integer(1));
  BOOST_TEST(cmd("hset h z 5") == integer(1)); // back at the end
  BOOST_TEST(cmd("hkeys h") == bulks({"a", "m", "z"}));
  BOOST_TEST(cmd("hvals h") == bulks({"4", "3", "5"}));
  BOOST_TEST(cmd("hgetall h") == bulks({"a", "4", "m", "3", "z", "5"}));
  resp = 3;
  BOOST_TEST(cmd("hgetall h") == "%3\r\n$1\r\na\r\n$1\r\n4\r\n$1\r\nm\r\n$1\r\n3\r\n$1\r\nz\r\n$1\r\n5\r\n");
  BOOST_TEST(cmd("hgetall nokey") == "%0\r\n");
  BOOST_TEST(cmd("hkeys nokey") == "*0\r\n");
}

BOOST_AUTO_TEST_CASE(hincrby) {
  BOOST_TEST(cmd("hincrby h f 5") == integer(5));
  BOOST_TEST(cmd("hincrby h f -7") == integer(-2));
  BOOST_TEST(cmd("hget h f") == bulk("-2"));
  BOOST_TEST(cmd("hincrby h f abc") == not_integer);
  BOOST_TEST(cmd("hincrby h f 1.5") == not_integer);
  BOOST_TEST(cmd("hset h s abc z 007 w -0 sp \" 1\" big 9223372036854775807 small -9223372036854775808")
             == integer(6));
  for (const char* f : {"s", "z", "w", "sp"})
    BOOST_TEST(cmd(std::string("hincrby h ") + f + " 1") == err("ERR hash value is not an integer"), f);
  BOOST_TEST(cmd("hincrby h big 1") == err("ERR increment or decrement would overflow"));
  BOOST_TEST(cmd("hincrby h small -1") == err("ERR increment or decrement would overflow"));
  BOOST_TEST(cmd("hincrby h big -1") == integer(9223372036854775806));
  BOOST_TEST(cmd("hincrby h n -9223372036854775808") == integer(INT64_MIN));
  BOOST_TEST(cmd("hincrby h n 0") == integer(INT64_MIN));
  BOOST_TEST(cmd("hget h big") == bulk("9223372036854775806"));
}

BOOST_AUTO_TEST_CASE(hincrbyfloat) {
  BOOST_TEST(cmd("hincrbyfloat h f 1.5") == bulk("1.5"));
  BOOST_TEST(cmd("hincrbyfloat h f 5.0e3") == bulk("5001.5"));
  BOOST_TEST(cmd("hincrbyfloat h f 0x10") == bulk("5017.5"));
  BOOST_TEST(cmd("hincrbyfloat h f -5017.5") == bulk("0"));
  BOOST_TEST(cmd("hincrbyfloat h g 1.23456789012345678901") == bulk("1.23456789012345679"));
  BOOST_TEST(cmd("hincrbyfloat h f abc") == err("ERR value is not a valid float"));
  BOOST_TEST(cmd("hincrbyfloat h f \" 1\"") == err("ERR value is not a valid float"));
  BOOST_TEST(cmd("hincrbyfloat h f nan") == err("ERR value is not a valid float"));
  BOOST_TEST(cmd("hincrbyfloat h f inf") == err("ERR value is NaN or Infinity"));
  BOOST_TEST(cmd("hincrbyfloat h f -inf") == err("ERR value is NaN or Infinity"));
  BOOST_TEST(cmd("hset h s abc i inf n nan") == integer(3));
  BOOST_TEST(cmd("hincrbyfloat h s 1") == err("ERR hash value is not a float"));
  BOOST_TEST(cmd("hincrbyfloat h n 1") == err("ERR hash value is not a float"));
  BOOST_TEST(cmd("hincrbyfloat h i 1") == err("ERR increment would produce NaN or Infinity"));
  BOOST_TEST(cmd("hset h m 1e308") == integer(1));
  // 2e308 overflows a double but not the long double the sum is kept in.
  BOOST_TEST(cmd("hincrbyfloat h m 1e308").substr(0, 6) == "$309\r\n");
  BOOST_TEST(cmd("hset h x 10") == integer(1));
  BOOST_TEST(cmd("hincrbyfloat h x 0.5") == bulk("10.5"));
  BOOST_TEST(cmd("hincrby h x 1") == err("ERR hash value is not an integer"));
  BOOST_TEST(cmd("hincrbyfloat nokey f 3") == bulk("3"));
  // The reply is a bulk string in RESP3 too.
  resp = 3;
  BOOST_TEST(cmd("hincrbyfloat nokey f 1") == bulk("4"));
}

BOOST_AUTO_TEST_CASE(hincrbyfloat_propagates_as_hset) {
  keyspace::effects_buffer fx;
  ctx.set_effects(&fx);
  BOOST_TEST(cmd("hincrbyfloat h f 1e3") == bulk("1000"));
  BOOST_TEST(cmd("hincrbyfloat h f 0.5") == bulk("1000.5"));
  BOOST_TEST(fx.data == "*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$4\r\n1000\r\n"
                        "*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$6\r\n1000.5\r\n");
  ctx.set_effects(nullptr);
}

BOOST_AUTO_TEST_CASE(listpack_until_the_entries_limit) {
  settings.hash_max_listpack_entries = 4;
  BOOST_TEST(cmd("hset h a 1 b 2 c 3 d 4") == integer(4));
  BOOST_TEST(cmd("object encoding h") == bulk("listpack"));
  BOOST_TEST(cmd("hset h a 1 b 2 c 3 d 4 a 5 a 6") == integer(0)); // duplicates do not count
  BOOST_TEST(cmd("object encoding h") == bulk("listpack"));
  BOOST_TEST(cmd("hset h e 5") == integer(1));
  BOOST_TEST(cmd("object encoding h") == bulk("hashtable"));
  // Never back.
  BOOST_TEST(cmd("hdel h a b c d") == integer(4));
  BOOST_TEST(cmd("object encoding h") == bulk("hashtable"));
  BOOST_TEST(cmd("hgetall h") == bulks({"e", "5"}));
  BOOST_TEST(cmd("hsetnx h2 a 1") == integer(1));
  BOOST_TEST(cmd("hmset h2 b 1 c 1 d 1 e 1") == ok());
  BOOST_TEST(cmd("object encoding h2") == bulk("hashtable"));
  BOOST_TEST(cmd("hincrby h3 a 1") == integer(1));
  BOOST_TEST(cmd("hset h3 b 1 c 1 d 1") == integer(3));
  BOOST_TEST(cmd("hincrbyfloat h3 e 1") == bulk("1"));
  BOOST_TEST(cmd("object encoding h3") == bulk("hashtable"));
}

BOOST_AUTO_TEST_CASE(listpack_until_the_value_limit) {
  const std::string at_limit = repeat('x', 64), over = repeat('y', 65);
  BOOST_TEST(run({"hset", "h", at_limit, at_limit}) == integer(1));
  BOOST_TEST(cmd("object encoding h") == bulk("listpack"));
  BOOST_TEST(run({"hset", "h", "f", over}) == integer(1));
  BOOST_TEST(cmd("object encoding h") == bulk("hashtable"));
  BOOST_TEST(run({"hget", "h", "f"}) == bulk(over));
  // A long field converts too, whatever writes it.
  BOOST_TEST(cmd("hset h2 a 1") == integer(1));
  BOOST_TEST(run({"hincrby", "h2", over, "1"}) == integer(1));
  BOOST_TEST(cmd("object encoding h2") == bulk("hashtable"));
  BOOST_TEST(cmd("hset h3 a 1") == integer(1));
  BOOST_TEST(run({"hincrbyfloat", "h3", over, "1"}) == bulk("1"));
  BOOST_TEST(cmd("object encoding h3") == bulk("hashtable"));
  // HINCRBYFLOAT producing a long value converts.
  BOOST_TEST(cmd("hset h4 a 1") == integer(1));
  BOOST_TEST(cmd("hincrbyfloat h4 a 1e70") == bulk("10000000000000000000222479489586148259025995410601157579323600873193472"));
  BOOST_TEST(cmd("object encoding h4") == bulk("hashtable"));
  // HSETNX on an existing field stores nothing and converts nothing; on a new one it does.
  BOOST_TEST(cmd("hset h5 a 1") == integer(1));
  BOOST_TEST(run({"hsetnx", "h5", "a", over}) == integer(0));
  BOOST_TEST(cmd("object encoding h5") == bulk("listpack"));
  BOOST_TEST(run({"hsetnx", "h5", "b", over}) == integer(1));
  BOOST_TEST(cmd("object encoding h5") == bulk("hashtable"));
  // HSET looks at every argument before storing any.
  settings.hash_max_listpack_value = 3;
  BOOST_TEST(cmd("hset h6 a 1 bbbb 2") == integer(2));
  BOOST_TEST(cmd("object encoding h6") == bulk("hashtable"));
}

BOOST_AUTO_TEST_CASE(hashtable_keeps_every_field) {
  settings.hash_max_listpack_entries = 8;
  std::map<std::string, std::string> model;
  for (int i = 0; i < 500; ++i) {
    std::string f = "f" + std::to_string(i * 7919 % 1000), v = "v" + std::to_string(i);
    bool fresh = model.emplace(f, v).second;
    model[f] = v;
    BOOST_TEST(run({"hset", "h", f, v}) == integer(fresh ? 1 : 0));
  }
  BOOST_TEST(cmd("object encoding h") == bulk("hashtable"));
  BOOST_TEST(cmd("hlen h") == integer(static_cast<int64_t>(model.size())));
  BOOST_TEST(pairs_of(decode(cmd("hgetall h"))) == model);
  for (int i = 0; i < 1000; i += 3) {
    std::string f = "f" + std::to_string(i);
    BOOST_TEST(run({"hdel", "h", f}) == integer(model.erase(f)));
  }
  BOOST_TEST(pairs_of(decode(cmd("hgetall h"))) == model);
  // Values of other lengths replace the node; of the same length, in place.
  BOOST_TEST(cmd("hset h f919 a-much-longer-value f838 v9") == integer(0));
  BOOST_TEST(cmd("hmget h f919 f838") == bulks({"a-much-longer-value", "v9"}));
}

BOOST_AUTO_TEST_CASE(hrandfield_arguments) {
  BOOST_TEST(cmd("hrandfield nokey") == nil());
  BOOST_TEST(cmd("hrandfield nokey 5") == arr({}));
  BOOST_TEST(cmd("hrandfield nokey -5 withvalues") == arr({}));
  BOOST_TEST(cmd("hset h a 1") == integer(1));
  BOOST_TEST(cmd("hrandfield h 0") == arr({}));
  BOOST_TEST(cmd("hrandfield h abc") == not_integer);
  BOOST_TEST(cmd("hrandfield h abc withvalues") == not_integer);
  BOOST_TEST(cmd("hrandfield h 1 foo") == syntax_error);
  BOOST_TEST(cmd("hrandfield h 1 withvalues x") == syntax_error);
  BOOST_TEST(cmd("hrandfield h -9223372036854775808")
             == err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"));
  BOOST_TEST(cmd("hrandfield h -9223372036854775808 foo")
             == err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"));
  BOOST_TEST(cmd("hrandfield h -4611686018427387904 withvalues") == err("ERR value is out of range"));
  BOOST_TEST(cmd("hrandfield h 4611686018427387904 withvalues") == err("ERR value is out of range"));
  BOOST_TEST(cmd("hrandfield h 4611686018427387903 withvalues") == bulks({"a", "1"}));
  BOOST_TEST(cmd("hrandfield h") == bulk("a"));
  BOOST_TEST(cmd("hrandfield h 1") == bulks({"a"}));
  BOOST_TEST(cmd("hrandfield h -3") == bulks({"a", "a", "a"}));
  BOOST_TEST(cmd("hrandfield h -2 WITHVALUES") == bulks({"a", "1", "a", "1"}));
  resp = 3;
  BOOST_TEST(cmd("hrandfield nokey") == "_\r\n");
  BOOST_TEST(cmd("hrandfield h -2 withvalues") == arr({bulks({"a", "1"}), bulks({"a", "1"})}));
  BOOST_TEST(cmd("hrandfield h 2 withvalues") == arr({bulks({"a", "1"})}));
  BOOST_TEST(cmd("hrandfield h 2") == bulks({"a"}));
}

BOOST_AUTO_TEST_CASE(hrandfield_picks) {
  for (int limit : {512, 8}) { // a listpack, then a hashtable
    BOOST_TEST_CONTEXT("hash-max-listpack-entries " << limit) {
      settings.hash_max_listpack_entries = limit;
      cmd("del h");
      std::map<std::string, std::string> model;
      for (int i = 0; i < 30; ++i) {
        model["f" + std::to_string(i)] = "v" + std::to_string(i);
        run({"hset", "h", "f" + std::to_string(i), "v" + std::to_string(i)});
      }
      // The whole hash, in storage order, when count reaches the size.
      BOOST_TEST(cmd("hrandfield h 30") == cmd("hkeys h"));
      BOOST_TEST(cmd("hrandfield h 1000 withvalues") == cmd("hgetall h"));
      for (int count : {1, 5, 10, 29}) {
        value v = decode(cmd("hrandfield h " + std::to_string(count)));
        std::set<std::string> distinct;
        for (auto& e : v.elems) {
          BOOST_TEST(model.count(e.str) == 1u);
          distinct.insert(e.str);
        }
        BOOST_TEST(v.elems.size() == static_cast<size_t>(count));
        BOOST_TEST(distinct.size() == static_cast<size_t>(count));
      }
      value w = decode(cmd("hrandfield h 12 withvalues"));
      BOOST_TEST(w.elems.size() == 24u);
      for (auto& [f, val] : pairs_of(w))
        BOOST_TEST(model[f] == val);
      // Negative counts repeat: 300 picks out of 30 fields must repeat, and cover most fields.
      value r = decode(cmd("hrandfield h -300 withvalues"));
      BOOST_TEST(r.elems.size() == 600u);
      std::set<std::string> seen;
      for (size_t i = 0; i < r.elems.size(); i += 2) {
        BOOST_TEST(model[r.elems[i].str] == r.elems[i + 1].str);
        seen.insert(r.elems[i].str);
      }
      BOOST_TEST(seen.size() > 20u);
      std::set<std::string> singles;
      for (int i = 0; i < 300; ++i)
        singles.insert(decode(cmd("hrandfield h")).str);
      BOOST_TEST(singles.size() > 20u);
      resp = 3;
      value p = decode(cmd("hrandfield h -4 withvalues"));
      BOOST_TEST(p.elems.size() == 4u);
      for (auto& pair : p.elems) {
        BOOST_TEST(pair.type == '*');
        BOOST_TEST(pair.elems.size() == 2u);
        BOOST_TEST(model[pair.elems.at(0).str] == pair.elems.at(1).str);
      }
      resp = 2;
    }
  }
}

BOOST_AUTO_TEST_CASE(hscan_arguments_and_listpack) {
  BOOST_TEST(cmd("hscan nokey 0") == arr({bulk("0"), arr({})}));
  BOOST_TEST(cmd("hscan nokey 0 count 0") == arr({bulk("0"), arr({})})); // options not even read
  BOOST_TEST(cmd("hscan nokey abc") == err("ERR invalid cursor"));
  BOOST_TEST(cmd("hset h a 1 b 2 ab 3") == integer(3));
  const std::string all = arr({bulk("0"), bulks({"a", "1", "b", "2", "ab", "3"})});
  // A listpack comes back whole whatever the cursor (parsed as strtoul parses it).
  for (const char* cursor : {"0", "\"\"", "+0", "-0", "-1", "17", "18446744073709551615", "+5"})
    BOOST_TEST(cmd(std::string("hscan h ") + cursor) == all, cursor);
  for (const char* cursor : {"abc", "\" 1\"", "\"1 \"", "18446744073709551616", "+", "-", "0x1", "1.0"})
    BOOST_TEST(cmd(std::string("hscan h ") + cursor) == err("ERR invalid cursor"), cursor);
  BOOST_TEST(cmd("hscan h 0 match a*") == arr({bulk("0"), bulks({"a", "1", "ab", "3"})}));
  BOOST_TEST(cmd("hscan h 0 MATCH * COUNT 1") == all);
  BOOST_TEST(cmd("hscan h 0 count 1 count 2 match b") == arr({bulk("0"), bulks({"b", "2"})}));
  BOOST_TEST(cmd("hscan h 0 count 0") == syntax_error);
  BOOST_TEST(cmd("hscan h 0 count -1") == syntax_error);
  BOOST_TEST(cmd("hscan h 0 count abc") == not_integer);
  BOOST_TEST(cmd("hscan h 0 match") == syntax_error);
  BOOST_TEST(cmd("hscan h 0 type string") == syntax_error);
  BOOST_TEST(cmd("hscan h 0 novalues") == syntax_error); // 7.4's
  resp = 3;
  BOOST_TEST(cmd("hscan h 0 match b") == arr({bulk("0"), bulks({"b", "2"})}));
}

// Every field present for the whole scan is returned at least once, however the table grows
// and shrinks between the calls.
BOOST_AUTO_TEST_CASE(hscan_guarantee_under_resizing) {
  settings.hash_max_listpack_entries = 16;
  for (int round = 0; round < 4; ++round) {
    BOOST_TEST_CONTEXT("round " << round) {
      cmd("del h");
      std::set<std::string> stable;
      for (int i = 0; i < 300; ++i) {
        run({"hset", "h", "keep" + std::to_string(i), "v"});
        stable.insert("keep" + std::to_string(i));
      }
      for (int i = 0; i < 300; ++i)
        run({"hset", "h", "temp" + std::to_string(i), "v"});
      std::set<std::string> returned;
      std::string cursor = "0";
      int calls = 0, added = 0, removed = 0;
      do {
        value v = decode(cmd("hscan h " + cursor + " count " + std::to_string(3 + round)));
        cursor = v.elems.at(0).str;
        for (size_t i = 0; i < v.elems.at(1).elems.size(); i += 2)
          returned.insert(v.elems.at(1).elems[i].str);
        ++calls;
        // Alternate growth (many new fields) and shrinking (dropping the temporary ones).
        if (calls % 7 == 0 && removed < 300) {
          for (int k = 0; k < 60 && removed < 300; ++k, ++removed)
            run({"hdel", "h", "temp" + std::to_string(removed)});
        } else if (calls % 5 == 0 && added < 2000) {
          for (int k = 0; k < 150; ++k, ++added)
            run({"hset", "h", "new" + std::to_string(added), "v"});
        }
      } while (cursor != "0" && calls < 100000);
      BOOST_TEST(cursor == "0");
      for (auto& f : stable)
        BOOST_TEST(returned.count(f) == 1u, f);
    }
  }
}

BOOST_AUTO_TEST_CASE(hscan_count_and_match_on_a_hashtable) {
  settings.hash_max_listpack_entries = 4;
  for (int i = 0; i < 100; ++i)
    run({"hset", "h", "f" + std::to_string(i), std::to_string(i)});
  // A full scan returns each field exactly once when nothing changes.
  std::map<std::string, int> seen;
  std::string cursor = "0";
  do {
    value v = decode(cmd("hscan h " + cursor + " match f1*"));
    cursor = v.elems.at(0).str;
    auto& els = v.elems.at(1).elems;
    BOOST_TEST(els.size() % 2 == 0u);
    for (size_t i = 0; i < els.size(); i += 2) {
      ++seen[els[i].str];
      BOOST_TEST(els[i + 1].str == els[i].str.substr(1));
    }
  } while (cursor != "0");
  BOOST_TEST(seen.size() == 11u); // f1, f10..f19
  for (auto& [f, n] : seen)
    BOOST_TEST(n == 1, f);
  // A big COUNT takes everything in one call.
  value all = decode(cmd("hscan h 0 count 1000"));
  BOOST_TEST(all.elems.at(0).str == "0");
  BOOST_TEST(all.elems.at(1).elems.size() == 200u);
}

BOOST_AUTO_TEST_CASE(digests_match_redis) {
  // DEBUG DIGEST-VALUE from redis-server 7.0.15 for the same values.
  BOOST_TEST(cmd("hset hd a 1 b 2 c 3") == integer(3));
  BOOST_TEST(cmd("hset he \"\" \"\" x \"\"") == integer(2));
  std::vector<std::string> big{"hset", "hbig"};
  for (int i = 0; i < 600; ++i) {
    big.push_back("f" + std::to_string(i));
    big.push_back("v" + std::to_string(i));
  }
  BOOST_TEST(run(big) == integer(600));
  BOOST_TEST(cmd("object encoding hbig") == bulk("hashtable"));
  BOOST_TEST(cmd("debug digest-value hd he hbig")
             == arr({simple("b60c36e529712296d694f27b5914cbe84950995e"), simple("7cf57fcd5f0a7889a44a9b85131941a4b8985426"),
                     simple("da5884fc7ba8a8dc69e963590622d30a3baf7439")}));
  // The digest does not depend on the encoding or the order.
  settings.hash_max_listpack_entries = 1;
  BOOST_TEST(cmd("hset hd2 c 3 b 2 a 1") == integer(3));
  BOOST_TEST(cmd("object encoding hd2") == bulk("hashtable"));
  BOOST_TEST(cmd("debug digest-value hd2") == arr({simple("b60c36e529712296d694f27b5914cbe84950995e")}));
}

BOOST_AUTO_TEST_CASE(writes_count_as_changes) {
  uint64_t before = stats.dirty;
  cmd("hset h a 1 b 2");
  BOOST_TEST(stats.dirty == before + 2);
  cmd("hset h a 1");
  BOOST_TEST(stats.dirty == before + 3);
  cmd("hdel h a x");
  BOOST_TEST(stats.dirty == before + 4);
  cmd("hsetnx h b 1");
  BOOST_TEST(stats.dirty == before + 4);
  cmd("hincrby h n 1");
  cmd("hincrbyfloat h n 1");
  BOOST_TEST(stats.dirty == before + 6);
  cmd("hget h a");
  BOOST_TEST(stats.dirty == before + 6);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(hash_value_api)

BOOST_AUTO_TEST_CASE(set_find_remove_clone) {
  keyspace::keyspace_settings s;
  keyspace::hash_value h;
  BOOST_TEST(h.is_listpack());
  BOOST_TEST(h.size() == 0u);
  BOOST_TEST(h.set("a", "1", s));
  BOOST_TEST(h.set("b", "", s));
  BOOST_TEST(!h.set("a", std::string(40, 'x'), s));
  BOOST_TEST(!h.set("a", "2", s));
  BOOST_TEST(h.find("a").value() == "2");
  BOOST_TEST(h.find("b").value() == "");
  BOOST_TEST(!h.find("c").has_value());
  BOOST_TEST(h.contains("b"));
  std::string long_field(200, 'f');
  BOOST_TEST(h.set(long_field, "v", s)); // converts: field longer than 64
  BOOST_TEST(!h.is_listpack());
  BOOST_TEST(std::string(keyspace::encoding_name(h.encoding())) == "hashtable");
  auto copy = h.clone();
  BOOST_TEST(h.remove("a"));
  BOOST_TEST(!h.remove("a"));
  BOOST_TEST(h.size() == 2u);
  auto* c = static_cast<keyspace::hash_value*>(copy.get());
  BOOST_TEST(c->size() == 3u);
  BOOST_TEST(c->find("a").value() == "2");
  BOOST_TEST(c->find(long_field).value() == "v");
  std::vector<std::pair<std::string, std::string>> pairs;
  c->for_each([&](std::string_view f, std::string_view v) { pairs.emplace_back(f, v); });
  std::sort(pairs.begin(), pairs.end());
  BOOST_TEST((pairs == std::vector<std::pair<std::string, std::string>>{{"a", "2"}, {"b", ""}, {long_field, "v"}}));
  BOOST_TEST(h.memory() > 200u);
}

BOOST_AUTO_TEST_CASE(listpack_is_compact) {
  keyspace::keyspace_settings s;
  keyspace::hash_value h;
  for (int i = 0; i < 10; ++i)
    h.set("field" + std::to_string(i), "value" + std::to_string(i), s);
  BOOST_TEST(h.is_listpack());
  // 10 pairs of 6-byte strings with one-byte length prefixes, plus the object.
  BOOST_TEST(h.memory() == sizeof(keyspace::hash_value) + 10 * (7 + 7));
  BOOST_TEST(sizeof(keyspace::hash_value) <= 24u);
  // Replacing values of other lengths keeps the others intact.
  h.set("field3", std::string(60, 'z'), s);
  h.set("field0", "", s);
  h.set("field9", std::string(300, 'q'), s); // long: converts
  BOOST_TEST(!h.is_listpack());
  BOOST_TEST(h.find("field3").value() == std::string(60, 'z'));
  BOOST_TEST(h.find("field0").value() == "");
  BOOST_TEST(h.find("field5").value() == "value5");
  BOOST_TEST(h.size() == 10u);
}

BOOST_AUTO_TEST_CASE(long_strings_in_a_listpack) {
  // With a high value limit, strings past 127 bytes take multi-byte length prefixes.
  keyspace::keyspace_settings s;
  s.hash_max_listpack_value = 100000;
  keyspace::hash_value h;
  std::string f1(130, 'a'), v1(20000, 'b'), f2(5, 'c'), v2(128, 'd');
  h.set(f1, v1, s);
  h.set(f2, v2, s);
  BOOST_TEST(h.is_listpack());
  BOOST_TEST(h.find(f1).value() == v1);
  BOOST_TEST(h.find(f2).value() == v2);
  h.set(f1, "short", s);
  BOOST_TEST(h.find(f1).value() == "short");
  BOOST_TEST(h.find(f2).value() == v2);
  BOOST_TEST(h.remove(f1));
  BOOST_TEST(h.find(f2).value() == v2);
  BOOST_TEST(h.size() == 1u);
}

BOOST_AUTO_TEST_CASE(sample_distinct) {
  keyspace::keyspace_settings s;
  s.hash_max_listpack_entries = 16;
  std::mt19937_64 rng(7);
  keyspace::hash_value h;
  for (int i = 0; i < 1000; ++i)
    h.set(std::to_string(i), "v", s);
  for (size_t count : {1u, 10u, 300u, 400u, 999u}) {
    std::set<std::string> got;
    size_t calls = 0;
    h.sample(rng, count, true, [&](std::string_view f, std::string_view) {
      got.emplace(f);
      ++calls;
    });
    BOOST_TEST(calls == count);
    BOOST_TEST(got.size() == count);
  }
}

// load_pairs (the RDB loader's path) leaves what the same set() calls leave: encoding, storage
// order, memory; and it refuses a repeated field.
BOOST_AUTO_TEST_CASE(load_pairs_matches_set_calls) {
  std::mt19937_64 rng(11);
  keyspace::keyspace_settings s;
  s.hash_max_listpack_entries = 32;
  for (int round = 0; round < 300; ++round) {
    size_t pairs = rng() % 40;
    std::vector<std::string> strings;
    std::set<std::string> fields;
    while (fields.size() < pairs) {
      std::string f = round % 3 == 0 ? std::to_string(rng() % 1000) : "f" + std::to_string(rng() % 100000);
      if (fields.insert(f).second) {
        strings.push_back(f);
        strings.push_back(std::string(rng() % 50 == 0 ? 65 + rng() % 200 : rng() % 20, 'v'));
      }
    }
    std::vector<std::string_view> views(strings.begin(), strings.end());
    keyspace::hash_value by_set, loaded;
    for (size_t i = 0; i < views.size(); i += 2)
      by_set.set(views[i], views[i + 1], s);
    BOOST_TEST_REQUIRE(loaded.load_pairs(views.data(), views.size(), s));
    BOOST_TEST(loaded.is_listpack() == by_set.is_listpack(), "round " << round);
    BOOST_TEST(loaded.size() == by_set.size());
    BOOST_TEST(loaded.memory() == by_set.memory());
    std::vector<std::pair<std::string, std::string>> a, b;
    by_set.for_each([&](std::string_view f, std::string_view v) { a.emplace_back(f, v); });
    loaded.for_each([&](std::string_view f, std::string_view v) { b.emplace_back(f, v); });
    if (!by_set.is_listpack()) {
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
    }
    BOOST_TEST((a == b), "round " << round);
  }
  std::vector<std::string_view> dup{"a", "1", "b", "2", "a", "3"};
  keyspace::hash_value h1, h2;
  BOOST_TEST(!h1.load_pairs(dup.data(), dup.size(), s));   // as a listpack
  s.hash_max_listpack_entries = 2;
  BOOST_TEST(!h2.load_pairs(dup.data(), dup.size(), s));   // as a hashtable
  std::vector<std::string_view> empty_field{"", "x"};
  keyspace::hash_value h3;
  BOOST_TEST(h3.load_pairs(empty_field.data(), 2, s));
  BOOST_TEST(h3.find("").value() == "x");
}

// Random sets and removes against a std::map, in both encodings and across the conversion.
BOOST_AUTO_TEST_CASE(random_operations_match_a_model) {
  for (int64_t value_limit : {int64_t{64}, int64_t{1000}}) {
    keyspace::keyspace_settings s;
    s.hash_max_listpack_entries = 40;
    s.hash_max_listpack_value = value_limit;
    std::mt19937_64 rng(static_cast<uint64_t>(value_limit));
    keyspace::hash_value h;
    std::map<std::string, std::string> model;
    for (int step = 0; step < 4000; ++step) {
      std::string f = "f" + std::to_string(rng() % 60);
      if (rng() % 3 == 0) {
        BOOST_TEST(h.remove(f) == (model.erase(f) == 1));
      } else {
        size_t len = rng() % 8 == 0 ? rng() % 300 : rng() % 20;
        std::string v(len, static_cast<char>('a' + rng() % 26));
        BOOST_TEST(h.set(f, v, s) == model.insert_or_assign(f, v).second);
      }
      if (step % 50 == 0 || step == 3999) {
        std::map<std::string, std::string> seen;
        h.for_each([&](std::string_view k, std::string_view v) { seen.emplace(k, v); });
        BOOST_TEST((seen == model));
        BOOST_TEST(h.size() == model.size());
        for (auto& [k, v] : model)
          BOOST_TEST(h.find(k).value() == v);
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(hash_encoding_limits)

BOOST_FIXTURE_TEST_CASE(an_update_converts_a_hash_over_a_lowered_limit, server) {
  BOOST_TEST(cmd("hset h a 1 b 2 c 3") == integer(3));
  BOOST_TEST(cmd("object encoding h") == bulk("listpack"));
  settings.hash_max_listpack_entries = 2;   // CONFIG SET hash-max-listpack-entries 2
  BOOST_TEST(cmd("object encoding h") == bulk("listpack"));   // nothing converts on its own
  BOOST_TEST(cmd("hset h a 9") == integer(0));                 // an update of an existing field
  BOOST_TEST(cmd("object encoding h") == bulk("hashtable"));
  BOOST_TEST(cmd("hget h a") == bulk("9"));
}

BOOST_AUTO_TEST_SUITE_END()
