// List commands and list_value, with the replies redis-server 7.0.15 gives for the same calls
// (the digests were printed by DEBUG DIGEST-VALUE on redis-server for the same data).
#include <deque>

#include "harness.hpp"
#include "keyspace/list_value.hpp"

using namespace ut;
using troupe::keyspace::list_value;

namespace {

struct list_fixture : server {
  recorder rec;
  list_fixture() { ctx.set_observer(&rec); }
};

std::vector<std::string> contents(const list_value& l) {
  std::vector<std::string> out;
  l.for_each([&](std::string_view v) { out.emplace_back(v); });
  return out;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(list_commands, list_fixture)

BOOST_AUTO_TEST_CASE(push_range_len) {
  BOOST_TEST(cmd("lpush l a b c") == integer(3));
  BOOST_TEST(cmd("rpush l d e f") == integer(6));
  BOOST_TEST(cmd("lrange l 0 -1") == bulks({"c", "b", "a", "d", "e", "f"}));
  BOOST_TEST(cmd("lrange l 1 2") == bulks({"b", "a"}));
  BOOST_TEST(cmd("lrange l -3 -1") == bulks({"d", "e", "f"}));
  BOOST_TEST(cmd("lrange l -100 100") == bulks({"c", "b", "a", "d", "e", "f"}));
  BOOST_TEST(cmd("lrange l 5 2") == arr({}));
  BOOST_TEST(cmd("lrange l 100 200") == arr({}));
  BOOST_TEST(cmd("lrange l a 1") == not_integer);
  BOOST_TEST(cmd("lrange nokey 0 -1") == arr({}));
  BOOST_TEST(cmd("llen l") == integer(6));
  BOOST_TEST(cmd("llen nokey") == integer(0));
  BOOST_TEST(cmd("type l") == simple("list"));
  // Redis 7.0 reports every list as a quicklist (the listpack list came with 7.2).
  BOOST_TEST(cmd("object encoding l") == bulk("quicklist"));
  BOOST_TEST(cmd("lpushx nokey a") == integer(0));
  BOOST_TEST(cmd("rpushx nokey a") == integer(0));
  BOOST_TEST(cmd("exists nokey") == integer(0));
  BOOST_TEST(cmd("lpushx l z") == integer(7));
  BOOST_TEST(cmd("rpushx l y1 y2") == integer(9));
  BOOST_TEST(cmd("lindex l 0") == bulk("z"));
  BOOST_TEST(cmd("lindex l -1") == bulk("y2"));
  BOOST_TEST(cmd("lindex l 100") == nil());
  BOOST_TEST(cmd("lindex l x") == not_integer);
  BOOST_TEST(cmd("lindex nokey x") == nil());
}

BOOST_AUTO_TEST_CASE(pushes_report_touched_and_ready) {
  BOOST_TEST(cmd("rpush l a") == integer(1));
  BOOST_TEST(!rec.ready_keys.empty());
  BOOST_TEST(rec.ready_keys.back() == "l");
  rec.ready_keys.clear();
  BOOST_TEST(cmd("lpushx l b") == integer(2));
  BOOST_TEST(rec.ready_keys == std::vector<std::string>{"l"});
  rec.touched_keys.clear();
  BOOST_TEST(cmd("lpop l") == bulk("b"));
  BOOST_TEST(rec.touched_keys == std::vector<std::string>{"l"});
  BOOST_TEST(stats.dirty == 3u);
}

BOOST_AUTO_TEST_CASE(wrong_type) {
  BOOST_TEST(cmd("set s str") == ok());
  for (const char* c : {"lpush s a", "rpush s a", "lpushx s a", "llen s", "lrange s 0 1", "lindex s 0", "lset s 0 x",
                        "lpop s", "rpop s 1", "linsert s before a b", "lrem s 0 a", "ltrim s 0 1", "lpos s a",
                        "lmove s d left left", "rpoplpush s d", "lmpop 1 s left", "blpop s 0"})
    BOOST_TEST(cmd(c) == wrongtype, c);
}

BOOST_AUTO_TEST_CASE(pops) {
  BOOST_TEST(cmd("rpush l 1 2 3 4 5 6 7 8 9 10") == integer(10));
  BOOST_TEST(cmd("lpop l") == bulk("1"));
  BOOST_TEST(cmd("rpop l") == bulk("10"));
  BOOST_TEST(cmd("lpop l 2") == bulks({"2", "3"}));
  BOOST_TEST(cmd("rpop l 3") == bulks({"9", "8", "7"}));
  BOOST_TEST(cmd("lpop l 0") == arr({}));
  BOOST_TEST(cmd("lpop l -1") == err("ERR value is out of range, must be positive"));
  BOOST_TEST(cmd("lpop l abc") == err("ERR value is out of range, must be positive"));
  BOOST_TEST(cmd("lpop l 1 2") == err("ERR wrong number of arguments for 'lpop' command"));
  BOOST_TEST(cmd("lpop nokey") == nil());
  BOOST_TEST(cmd("lpop nokey 2") == "*-1\r\n");
  BOOST_TEST(cmd("lpop nokey 0") == "*-1\r\n");
  BOOST_TEST(cmd("rpop l 100") == bulks({"6", "5", "4"}));
  BOOST_TEST(cmd("exists l") == integer(0));
  resp = 3;
  BOOST_TEST(cmd("lpop nokey") == "_\r\n");
  BOOST_TEST(cmd("lpop nokey 1") == "_\r\n");
}

BOOST_AUTO_TEST_CASE(lset_linsert) {
  BOOST_TEST(cmd("rpush l a b c") == integer(3));
  BOOST_TEST(cmd("lset l 0 first") == ok());
  BOOST_TEST(cmd("lset l -1 last") == ok());
  BOOST_TEST(cmd("lset l 100 x") == err("ERR index out of range"));
  BOOST_TEST(cmd("lset l x y") == not_integer);
  BOOST_TEST(cmd("lset nokey x y") == err("ERR no such key"));
  BOOST_TEST(cmd("linsert l before b x") == integer(4));
  BOOST_TEST(cmd("linsert l AFTER b y") == integer(5));
  BOOST_TEST(cmd("linsert l after nope q") == integer(-1));
  BOOST_TEST(cmd("linsert l middle b q") == syntax_error);
  BOOST_TEST(cmd("linsert nokey before a b") == integer(0));
  BOOST_TEST(cmd("lrange l 0 -1") == bulks({"first", "x", "b", "y", "last"}));
}

BOOST_AUTO_TEST_CASE(lrem_ltrim) {
  BOOST_TEST(cmd("rpush lr a b a c a b a") == integer(7));
  BOOST_TEST(cmd("lrem lr 2 a") == integer(2));
  BOOST_TEST(cmd("lrange lr 0 -1") == bulks({"b", "c", "a", "b", "a"}));
  BOOST_TEST(cmd("lrem lr -1 a") == integer(1));
  BOOST_TEST(cmd("lrange lr 0 -1") == bulks({"b", "c", "a", "b"}));
  BOOST_TEST(cmd("lrem lr 0 b") == integer(2));
  BOOST_TEST(cmd("lrem lr x a") == not_integer);
  BOOST_TEST(cmd("lrem nokey 0 a") == integer(0));
  BOOST_TEST(cmd("lrem lr 0 a") == integer(1));
  BOOST_TEST(cmd("lrem lr 0 c") == integer(1));
  BOOST_TEST(cmd("exists lr") == integer(0));
  BOOST_TEST(cmd("rpush lt 1 2 3 4 5 6 7 8 9") == integer(9));
  BOOST_TEST(cmd("ltrim lt 1 -2") == ok());
  BOOST_TEST(cmd("lrange lt 0 -1") == bulks({"2", "3", "4", "5", "6", "7", "8"}));
  BOOST_TEST(cmd("ltrim lt -3 100") == ok());
  BOOST_TEST(cmd("lrange lt 0 -1") == bulks({"6", "7", "8"}));
  BOOST_TEST(cmd("ltrim lt x 1") == not_integer);
  BOOST_TEST(cmd("ltrim nokey 0 1") == ok());
  BOOST_TEST(cmd("ltrim lt 5 1") == ok());
  BOOST_TEST(cmd("exists lt") == integer(0));
}

BOOST_AUTO_TEST_CASE(lpos) {
  BOOST_TEST(cmd("rpush lp a b c 1 2 3 c c") == integer(8));
  BOOST_TEST(cmd("lpos lp c") == integer(2));
  BOOST_TEST(cmd("lpos lp c rank 2") == integer(6));
  BOOST_TEST(cmd("lpos lp c rank -1") == integer(7));
  BOOST_TEST(cmd("lpos lp c count 0") == arr({integer(2), integer(6), integer(7)}));
  BOOST_TEST(cmd("lpos lp c count 0 rank -1") == arr({integer(7), integer(6), integer(2)}));
  BOOST_TEST(cmd("lpos lp c count 1 maxlen 3") == arr({integer(2)}));
  BOOST_TEST(cmd("lpos lp c maxlen 2") == nil());
  BOOST_TEST(cmd("lpos lp c rank -1 maxlen 1") == integer(7));
  BOOST_TEST(cmd("lpos lp zz count 2") == arr({}));
  BOOST_TEST(cmd("lpos lp c rank 0")
             == err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use "
                    "negative to start from the end of the list"));
  BOOST_TEST(cmd("lpos lp c rank -9223372036854775808") == integer(7));
  BOOST_TEST(cmd("lpos lp c count -1") == err("ERR COUNT can't be negative"));
  BOOST_TEST(cmd("lpos lp c maxlen x") == err("ERR MAXLEN can't be negative"));
  BOOST_TEST(cmd("lpos lp c bogus 1") == syntax_error);
  BOOST_TEST(cmd("lpos nokey c") == nil());
  BOOST_TEST(cmd("lpos nokey c count 1") == arr({}));
}

BOOST_AUTO_TEST_CASE(lmove_rpoplpush) {
  BOOST_TEST(cmd("rpush src a b c") == integer(3));
  BOOST_TEST(cmd("lmove src dst left right") == bulk("a"));
  BOOST_TEST(cmd("lmove src dst RIGHT LEFT") == bulk("c"));
  BOOST_TEST(cmd("lrange dst 0 -1") == bulks({"c", "a"}));
  BOOST_TEST(rec.ready_keys.back() == "dst");
  BOOST_TEST(cmd("rpoplpush src dst") == bulk("b"));
  BOOST_TEST(cmd("exists src") == integer(0));
  BOOST_TEST(cmd("lmove src dst left left") == nil());
  BOOST_TEST(cmd("lmove dst x up left") == syntax_error);
  BOOST_TEST(cmd("set s v") == ok());
  BOOST_TEST(cmd("lmove dst s left left") == wrongtype);
  BOOST_TEST(cmd("lrange dst 0 -1") == bulks({"b", "c", "a"}));
  BOOST_TEST(cmd("rpush one x") == integer(1));
  BOOST_TEST(cmd("rpoplpush one one") == bulk("x"));
  BOOST_TEST(cmd("lrange one 0 -1") == bulks({"x"}));
}

BOOST_AUTO_TEST_CASE(lmpop) {
  BOOST_TEST(cmd("rpush m1 a b c d e") == integer(5));
  BOOST_TEST(cmd("lmpop 2 nokey m1 left") == arr({bulk("m1"), bulks({"a"})}));
  BOOST_TEST(cmd("lmpop 2 nokey m1 right count 2") == arr({bulk("m1"), bulks({"e", "d"})}));
  BOOST_TEST(cmd("lmpop 1 m1 left count 10") == arr({bulk("m1"), bulks({"b", "c"})}));
  BOOST_TEST(cmd("lmpop 1 m1 left") == "*-1\r\n");
  BOOST_TEST(cmd("lmpop 0 m1 left") == err("ERR numkeys should be greater than 0"));
  BOOST_TEST(cmd("lmpop 3 m1 left") == syntax_error);
  // numkeys taking the direction for a key leaves no direction: an error, not a pop.
  BOOST_TEST(cmd("lmpop 2 m1 left") == syntax_error);
  BOOST_TEST(cmd("blmpop 0 2 m1 left") == syntax_error);
  BOOST_TEST(cmd("lmpop 1 m1 left count 0") == err("ERR count should be greater than 0"));
  BOOST_TEST(cmd("lmpop 1 m1 left count 1 count 2") == syntax_error);
  BOOST_TEST(cmd("lmpop 1 m1 middle") == syntax_error);
}

BOOST_AUTO_TEST_CASE(blocking_serves_when_it_can) {
  BOOST_TEST(cmd("rpush b1 a b c") == integer(3));
  BOOST_TEST(cmd("blpop nokey b1 0") == bulks({"b1", "a"}));
  BOOST_TEST(!ctx.blocked());
  BOOST_TEST(cmd("brpop nokey b1 0") == bulks({"b1", "c"}));
  BOOST_TEST(cmd("brpoplpush b1 b2 0") == bulk("b"));
  BOOST_TEST(cmd("blmove b2 b1 left right 0.5") == bulk("b"));
  BOOST_TEST(cmd("blmpop 0 2 nokey b1 left count 5") == arr({bulk("b1"), bulks({"b"})}));
  BOOST_TEST(cmd("blpop b1 x") == err("ERR timeout is not a float or out of range"));
  BOOST_TEST(cmd("blpop b1 -1") == err("ERR timeout is negative"));
  BOOST_TEST(cmd("blpop b1 inf") == err("ERR timeout is negative"));
  BOOST_TEST(cmd("blmpop x 0 b1 left") == err("ERR numkeys should be greater than 0"));
  BOOST_TEST(cmd("blmpop -1 1 b1 left count 0") == err("ERR count should be greater than 0"));
  BOOST_TEST(cmd("blmpop -1 1 b1 left") == err("ERR timeout is negative"));
}

BOOST_AUTO_TEST_CASE(blocking_blocks_when_nothing_is_there) {
  BOOST_TEST(cmd("blpop nokey 1.5") == "");
  BOOST_TEST(ctx.blocked());
  BOOST_TEST(ctx.block_timeout_ms() == 1500);
  BOOST_TEST(cmd("brpop a b 0") == "");
  BOOST_TEST(ctx.blocked());
  BOOST_TEST(ctx.block_timeout_ms() == 0);
  BOOST_TEST(cmd("blmove nokey d left left 2") == "");
  BOOST_TEST(ctx.block_timeout_ms() == 2000);
  BOOST_TEST(cmd("brpoplpush nokey d 0") == "");
  BOOST_TEST(ctx.blocked());
  BOOST_TEST(cmd("blmpop 0.25 1 nokey left") == "");
  BOOST_TEST(ctx.block_timeout_ms() == 250);
  // Errors are still found before blocking.
  BOOST_TEST(cmd("set s v") == ok());
  BOOST_TEST(cmd("blpop nokey s 0") == wrongtype);
  BOOST_TEST(!ctx.blocked());
}

BOOST_AUTO_TEST_CASE(claimed_keys_count_as_empty_for_blocking_commands) {
  // Data kept for a client that blocked earlier: a blocking command skips that key.
  BOOST_TEST(cmd("rpush held a") == integer(1));
  BOOST_TEST(cmd("rpush free b") == integer(1));
  ctx.set_block_claimed([](std::string_view k) { return k == "held"; });
  BOOST_TEST(cmd("blpop held free 0") == bulks({"free", "b"}));
  BOOST_TEST(cmd("blpop held 0") == "");
  BOOST_TEST(ctx.blocked());
  BOOST_TEST(cmd("lpop held") == bulk("a"));   // not a blocking command: unaffected
  ctx.set_block_claimed({});
}

BOOST_AUTO_TEST_CASE(blocking_not_allowed_replies_as_on_timeout) {
  ctx.set_blocking_allowed(false);
  BOOST_TEST(cmd("blpop nokey 0") == "*-1\r\n");
  BOOST_TEST(!ctx.blocked());
  BOOST_TEST(cmd("brpop nokey 1") == "*-1\r\n");
  BOOST_TEST(cmd("blmpop 0 1 nokey left") == "*-1\r\n");
  // BLMOVE and BRPOPLPUSH reply a null bulk string here, as Redis does.
  BOOST_TEST(cmd("blmove nokey d left left 0") == nil());
  BOOST_TEST(cmd("brpoplpush nokey d 0") == nil());
  resp = 3;
  BOOST_TEST(cmd("blpop nokey 0") == "_\r\n");
  ctx.set_blocking_allowed(true);
}

BOOST_AUTO_TEST_CASE(blocking_forms_propagate_as_their_plain_forms) {
  keyspace::effects_buffer fx;
  ctx.set_effects(&fx);
  BOOST_TEST(cmd("rpush q a b c d") == integer(4));
  BOOST_TEST(cmd("blpop nokey q 0") == bulks({"q", "a"}));
  BOOST_TEST(cmd("brpoplpush q d 0") == bulk("d"));
  BOOST_TEST(cmd("blmove q d left right 0") == bulk("b"));
  BOOST_TEST(cmd("lmpop 1 q right count 5") == arr({bulk("q"), bulks({"c"})}));
  BOOST_TEST(fx.data == "*6\r\n$5\r\nrpush\r\n$1\r\nq\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"
                        "*2\r\n$4\r\nLPOP\r\n$1\r\nq\r\n"
                        "*3\r\n$9\r\nRPOPLPUSH\r\n$1\r\nq\r\n$1\r\nd\r\n"
                        "*5\r\n$5\r\nLMOVE\r\n$1\r\nq\r\n$1\r\nd\r\n$4\r\nleft\r\n$5\r\nright\r\n"
                        "*3\r\n$4\r\nRPOP\r\n$1\r\nq\r\n$1\r\n1\r\n"); // the number popped, as Redis 7.0
  ctx.set_effects(nullptr);
}

BOOST_AUTO_TEST_CASE(digests_match_redis) {
  BOOST_TEST(cmd("rpush l a b c 12345 \"\"") == integer(5));
  BOOST_TEST(cmd("debug digest-value l") == arr({simple("ad7b6a680f642d30b3466982ce47db28a4e7fe3b")}));
  BOOST_TEST(cmd("rpush l2 c b a") == integer(3));
  BOOST_TEST(cmd("debug digest-value l2") == arr({simple("ab68e07de85d09ef55234146f46ee46a318beead")}));
  std::string line = "rpush lbig";
  for (int i = 1; i <= 2000; ++i)
    line += " " + std::to_string(i);
  BOOST_TEST(cmd(line) == integer(2000));
  BOOST_TEST(cmd("debug digest-value lbig") == arr({simple("9b87ac11ee5bb34c0c939741cc81a1cb9f647478")}));
}

BOOST_AUTO_TEST_CASE(long_lists_span_chunks) {
  std::deque<std::string> ref;
  std::string line = "rpush big";
  for (int i = 0; i < 5000; ++i) {
    line += " v" + std::to_string(i);
    ref.push_back("v" + std::to_string(i));
  }
  BOOST_TEST(cmd(line) == integer(5000));
  auto* l = static_cast<list_value*>(peek("big")->coll());
  BOOST_TEST(l->chunk_count() > 1u);
  BOOST_TEST(cmd("lindex big 2500") == bulk("v2500"));
  BOOST_TEST(cmd("lindex big -1") == bulk("v4999"));
  BOOST_TEST(cmd("lrange big 4097 4099") == bulks({"v4097", "v4098", "v4099"}));
  BOOST_TEST(cmd("lset big 3000 changed") == ok());
  ref[3000] = "changed";
  BOOST_TEST(cmd("linsert big before v1000 ins") == integer(5001));
  ref.insert(ref.begin() + 1000, "ins");
  BOOST_TEST(cmd("ltrim big 10 -10") == ok());
  ref.erase(ref.begin(), ref.begin() + 10);
  ref.erase(ref.end() - 9, ref.end());
  BOOST_TEST(cmd("lpos big changed") == integer(2991));
  BOOST_TEST(contents(*l) == std::vector<std::string>(ref.begin(), ref.end()), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(list_value_api)

BOOST_AUTO_TEST_CASE(operations_match_a_deque) {
  std::mt19937_64 rng(7);
  for (int64_t fill : {-2, -1, 3, 1}) {
    list_value l(fill);
    std::deque<std::string> ref;
    for (int op = 0; op < 4000; ++op) {
      std::string v(rng() % 3 == 0 ? rng() % 200 : rng() % 5, static_cast<char>('a' + rng() % 3));
      switch (rng() % 8) {
        case 0: l.push_back(v); ref.push_back(v); break;
        case 1: l.push_front(v); ref.push_front(v); break;
        case 2: if (!ref.empty()) { BOOST_TEST(l.pop_front() == ref.front()); ref.pop_front(); } break;
        case 3: if (!ref.empty()) { BOOST_TEST(l.pop_back() == ref.back()); ref.pop_back(); } break;
        case 4: { size_t i = rng() % (ref.size() + 1); l.insert(i, v); ref.insert(ref.begin() + static_cast<long>(i), v); break; }
        case 5: if (!ref.empty()) { size_t i = rng() % ref.size(); l.set(i, v); ref[i] = v; } break;
        case 6: if (!ref.empty()) {
          size_t i = rng() % ref.size(), n = rng() % 20;
          l.erase(i, n);
          ref.erase(ref.begin() + static_cast<long>(i), ref.begin() + static_cast<long>(std::min(ref.size(), i + n)));
        } break;
        default: l.push_back(v); ref.push_back(v);
      }
      BOOST_REQUIRE_EQUAL(l.size(), ref.size());
    }
    BOOST_TEST(contents(l) == std::vector<std::string>(ref.begin(), ref.end()), boost::test_tools::per_element());
    for (size_t i = 0; i < ref.size(); i += 13)
      BOOST_TEST(l.at(i) == ref[i]);
    list_value copy(l);
    BOOST_TEST(contents(copy) == contents(l), boost::test_tools::per_element());
    size_t k = ref.size();
    if (k)
      l.walk_backward(k - 1, [&](std::string_view v) {
        BOOST_TEST(v == ref[--k]);
        return true;
      });
  }
}

BOOST_AUTO_TEST_CASE(remove_from_either_end) {
  list_value l;
  for (auto v : {"a", "b", "a", "c", "a"})
    l.push_back(v);
  BOOST_TEST(l.remove("a", -2) == 2u);
  BOOST_TEST(contents(l) == (std::vector<std::string>{"a", "b", "c"}), boost::test_tools::per_element());
  BOOST_TEST(l.remove("a", 0) == 1u);
  BOOST_TEST(l.remove("zz", 0) == 0u);
  BOOST_TEST(l.size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
