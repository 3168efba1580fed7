// Sorted set commands and zset_value, with the replies redis-server 7.0.15 gives for the same
// calls (the digests were printed by DEBUG DIGEST-VALUE on redis-server for the same data).
#include <cstring>
#include <map>
#include <random>
#include <set>

#include "harness.hpp"
#include "keyspace/zset_value.hpp"

using namespace ut;
using troupe::keyspace::zset_value;

namespace {

struct zset_fixture : server {
  recorder rec;
  zset_fixture() { ctx.set_observer(&rec); }
  zset_value* zset(std::string_view key) { return static_cast<zset_value*>(peek(key)->coll()); }
  // ZADD of n members m0..m{n-1} with scores 0..n-1.
  std::string zadd_many(std::string_view key, int n, int from = 0) {
    std::string line = "zadd " + std::string(key);
    for (int i = from; i < from + n; ++i)
      line += " " + std::to_string(i) + " m" + std::to_string(i);
    return cmd(line);
  }
};

std::string dbl(std::string_view s) { return bulk(s); }

} // namespace

BOOST_FIXTURE_TEST_SUITE(zset_commands, zset_fixture)

BOOST_AUTO_TEST_CASE(zadd_and_reads) {
  BOOST_TEST(cmd("zadd z 1 a 2 b 3 c") == integer(3));
  BOOST_TEST(cmd("zadd z 1.5 d 2.5 e -1 f") == integer(3));
  BOOST_TEST(cmd("zcard z") == integer(6));
  BOOST_TEST(cmd("zcard nokey") == integer(0));
  BOOST_TEST(cmd("type z") == simple("zset"));
  BOOST_TEST(cmd("object encoding z") == bulk("listpack"));
  BOOST_TEST(cmd("zrange z 0 -1") == bulks({"f", "a", "d", "b", "e", "c"}));
  BOOST_TEST(cmd("zrange z 0 1 withscores") == bulks({"f", "-1", "a", "1"}));
  BOOST_TEST(cmd("zscore z d") == dbl("1.5"));
  BOOST_TEST(cmd("zscore z nope") == nil());
  BOOST_TEST(cmd("zmscore z a nope b") == arr({bulk("1"), nil(), bulk("2")}));
  BOOST_TEST(cmd("zmscore nokey a") == arr({nil()}));
  BOOST_TEST(cmd("zrank z a") == integer(1));
  BOOST_TEST(cmd("zrevrank z a") == integer(4));
  BOOST_TEST(cmd("zrank z nope") == nil());
  BOOST_TEST(!rec.ready_keys.empty());
  BOOST_TEST(rec.ready_keys.back() == "z");
  resp = 3;
  BOOST_TEST(cmd("zscore z d") == ",1.5\r\n");
  BOOST_TEST(cmd("zscore z nope") == "_\r\n");
  BOOST_TEST(cmd("zrange z 0 1 withscores") == "*2\r\n*2\r\n$1\r\nf\r\n,-1\r\n*2\r\n$1\r\na\r\n,1\r\n");
}

BOOST_AUTO_TEST_CASE(zadd_options_and_errors) {
  BOOST_TEST(cmd("zadd z 1 a 2 b") == integer(2));
  BOOST_TEST(cmd("zadd z nx 10 a 4 g") == integer(1));
  BOOST_TEST(cmd("zscore z a") == dbl("1"));
  BOOST_TEST(cmd("zadd z xx 10 a 5 h") == integer(0));
  BOOST_TEST(cmd("zscore z a") == dbl("10"));
  BOOST_TEST(cmd("zscore z h") == nil());
  BOOST_TEST(cmd("zadd z xx ch 11 a 11 a") == integer(1));
  BOOST_TEST(cmd("zadd z gt 5 a") == integer(0));
  BOOST_TEST(cmd("zadd z gt ch 20 a") == integer(1));
  BOOST_TEST(cmd("zadd z lt ch 30 a") == integer(0));
  BOOST_TEST(cmd("zadd z incr 5 a") == dbl("25"));
  BOOST_TEST(cmd("zadd z incr nx 5 a") == nil());
  BOOST_TEST(cmd("zadd z incr xx 5 nope") == nil());
  BOOST_TEST(cmd("zadd z incr gt -100 a") == nil());
  BOOST_TEST(cmd("zadd z nx xx 1 a") == err("ERR XX and NX options at the same time are not compatible"));
  BOOST_TEST(cmd("zadd z gt lt 1 a") == err("ERR GT, LT, and/or NX options at the same time are not compatible"));
  BOOST_TEST(cmd("zadd z nx gt 1 a") == err("ERR GT, LT, and/or NX options at the same time are not compatible"));
  BOOST_TEST(cmd("zadd z incr 1 a 2 b") == err("ERR INCR option supports a single increment-element pair"));
  BOOST_TEST(cmd("zadd z 1 a 2") == syntax_error);
  BOOST_TEST(cmd("zadd z x a") == err("ERR value is not a valid float"));
  BOOST_TEST(cmd("zadd z nan a") == err("ERR value is not a valid float"));
  BOOST_TEST(cmd("zadd z inf a") == integer(0));
  BOOST_TEST(cmd("zadd z incr -inf a") == err("ERR resulting score is not a number (NaN)"));
  BOOST_TEST(cmd("zscore z a") == dbl("inf"));
  BOOST_TEST(cmd("zadd nokey xx 1 a") == integer(0));
  BOOST_TEST(cmd("exists nokey") == integer(0));
  BOOST_TEST(cmd("zincrby z 2.5 newm") == dbl("2.5"));
  BOOST_TEST(cmd("zincrby z x newm") == err("ERR value is not a valid float"));
  BOOST_TEST(cmd("zincrby z nx newm") == syntax_error);
  BOOST_TEST(cmd("zincrby nz 0.1 m") == dbl("0.10000000000000001"));
  BOOST_TEST(cmd("zincrby nz 0.2 m") == dbl("0.30000000000000004"));
  BOOST_TEST(cmd("set s v") == ok());
  for (const char* c : {"zadd s 1 a", "zincrby s 1 a", "zcard s", "zscore s a", "zmscore s a", "zrank s a",
                        "zrange s 0 -1", "zrem s a", "zcount s 0 1", "zpopmin s", "zrandmember s", "zscan s 0",
                        "zunion 2 z s", "zrangestore d s 0 -1", "zremrangebyrank s 0 1", "bzpopmin s 0"})
    BOOST_TEST(cmd(c) == wrongtype, c);
}

BOOST_AUTO_TEST_CASE(negative_zero_is_lost_in_a_listpack_only) {
  BOOST_TEST(cmd("zincrby nz -0 zero") == dbl("-0"));
  BOOST_TEST(cmd("zscore nz zero") == dbl("0"));
  BOOST_TEST(cmd("zadd big 1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") == integer(1));
  BOOST_TEST(cmd("object encoding big") == bulk("skiplist"));
  BOOST_TEST(cmd("zadd big -0 y") == integer(1));
  BOOST_TEST(cmd("zscore big y") == dbl("-0"));
}

BOOST_AUTO_TEST_CASE(ranges) {
  BOOST_TEST(cmd("zadd r 1 a 2 b 3 c 4 d 5 e 6 f") == integer(6));
  BOOST_TEST(cmd("zrange r 0 -1 rev") == bulks({"f", "e", "d", "c", "b", "a"}));
  BOOST_TEST(cmd("zrange r 0 -1 limit 0 1")
             == err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"));
  BOOST_TEST(cmd("zrange r - + bylex withscores")
             == err("ERR syntax error, WITHSCORES not supported in combination with BYLEX"));
  BOOST_TEST(cmd("zrange r (2 4 byscore") == bulks({"c", "d"}));
  BOOST_TEST(cmd("zrange r -inf +inf byscore limit 1 2") == bulks({"b", "c"}));
  BOOST_TEST(cmd("zrange r -inf +inf byscore limit -1 2") == arr({}));
  BOOST_TEST(cmd("zrange r -inf +inf byscore limit 4 -1") == bulks({"e", "f"}));
  BOOST_TEST(cmd("zrange r +inf -inf byscore rev limit 1 2 withscores") == bulks({"e", "5", "d", "4"}));
  BOOST_TEST(cmd("zrange r (x 3 byscore") == err("ERR min or max is not a float"));
  BOOST_TEST(cmd("zrange r ( 3 byscore") == bulks({"a", "b", "c"}));
  BOOST_TEST(cmd("zrangebyscore r 2 4 rev") == syntax_error);
  BOOST_TEST(cmd("zrevrangebyscore r 4 2") == bulks({"d", "c", "b"}));
  BOOST_TEST(cmd("zrevrange r 0 1 withscores") == bulks({"f", "6", "e", "5"}));
  BOOST_TEST(cmd("zcount r (2 (4") == integer(1));
  BOOST_TEST(cmd("zcount r -inf +inf") == integer(6));
  BOOST_TEST(cmd("zadd lx 0 a 0 b 0 c 0 d 0 e") == integer(5));
  BOOST_TEST(cmd("zrange lx [b (d bylex") == bulks({"b", "c"}));
  BOOST_TEST(cmd("zrange lx + - bylex rev limit 1 2") == bulks({"d", "c"}));
  BOOST_TEST(cmd("zrangebylex lx a b") == err("ERR min or max not valid string range item"));
  BOOST_TEST(cmd("zlexcount lx - +") == integer(5));
  BOOST_TEST(cmd("zlexcount lx (a [c") == integer(2));
  BOOST_TEST(cmd("zrangestore dst r 1 3 byscore") == integer(3));
  BOOST_TEST(cmd("zrange dst 0 -1 withscores") == bulks({"a", "1", "b", "2", "c", "3"}));
  BOOST_TEST(cmd("zrangestore dst r 10 20") == integer(0));
  BOOST_TEST(cmd("exists dst") == integer(0));
  BOOST_TEST(cmd("zrangestore dst r 0 -1 withscores") == syntax_error);
}

BOOST_AUTO_TEST_CASE(removals) {
  BOOST_TEST(cmd("zadd r 1 a 2 b 3 c 4 d 5 e 6 f 7 g 8 h") == integer(8));
  BOOST_TEST(cmd("zrem r a nope") == integer(1));
  BOOST_TEST(cmd("zremrangebyrank r 0 1") == integer(2));
  BOOST_TEST(cmd("zremrangebyscore r (3 5") == integer(2));
  BOOST_TEST(cmd("zrange r 0 -1") == bulks({"f", "g", "h"}));
  BOOST_TEST(cmd("zremrangebyscore r x 1") == err("ERR min or max is not a float"));
  BOOST_TEST(cmd("zremrangebyrank r 0 -1") == integer(3));
  BOOST_TEST(cmd("exists r") == integer(0));
  BOOST_TEST(cmd("zadd lx 0 a 0 b 0 c 0 d") == integer(4));
  BOOST_TEST(cmd("zremrangebylex lx [b (d") == integer(2));
  BOOST_TEST(cmd("zrange lx 0 -1") == bulks({"a", "d"}));
  BOOST_TEST(cmd("zrem lx a d") == integer(2));
  BOOST_TEST(cmd("exists lx") == integer(0));
}

BOOST_AUTO_TEST_CASE(pops) {
  BOOST_TEST(cmd("zadd p 1 a 2 b 3 c 4 d 5 e") == integer(5));
  BOOST_TEST(cmd("zpopmin p") == bulks({"a", "1"}));
  BOOST_TEST(cmd("zpopmax p 2") == bulks({"e", "5", "d", "4"}));
  BOOST_TEST(cmd("zpopmin p 0") == arr({}));
  BOOST_TEST(cmd("zpopmin p -1") == err("ERR value is out of range, must be positive"));
  BOOST_TEST(cmd("zpopmin p 1 2") == syntax_error);
  BOOST_TEST(cmd("zpopmin nokey") == arr({}));
  BOOST_TEST(cmd("zmpop 2 nokey p min count 5") == arr({bulk("p"), arr({bulks({"b", "2"}), bulks({"c", "3"})})}));
  BOOST_TEST(cmd("exists p") == integer(0));
  BOOST_TEST(cmd("zmpop 1 p min") == "*-1\r\n");
  BOOST_TEST(cmd("zmpop 0 p min") == err("ERR numkeys should be greater than 0"));
  BOOST_TEST(cmd("zmpop 1 p min count 0") == err("ERR count should be greater than 0"));
  BOOST_TEST(cmd("zmpop 1 p middle") == syntax_error);
  BOOST_TEST(cmd("zmpop 2 p min") == syntax_error);   // no MIN|MAX left after the keys
  BOOST_TEST(cmd("bzmpop 0 2 p min") == syntax_error);
  BOOST_TEST(cmd("zadd p 1 a 2 b") == integer(2));
  resp = 3;
  BOOST_TEST(cmd("zpopmin p 1") == "*1\r\n*2\r\n$1\r\na\r\n,1\r\n");
  BOOST_TEST(cmd("zpopmin p") == "*2\r\n$1\r\nb\r\n,2\r\n");
  BOOST_TEST(cmd("zmpop 1 p min") == "_\r\n");
}

BOOST_AUTO_TEST_CASE(blocking_pops) {
  BOOST_TEST(cmd("zadd p 1 a 2 b 3 c") == integer(3));
  BOOST_TEST(cmd("bzpopmin nokey p 0") == bulks({"p", "a", "1"}));
  BOOST_TEST(cmd("bzpopmax nokey p 0") == bulks({"p", "c", "3"}));
  BOOST_TEST(cmd("bzmpop 0 1 p min count 3") == arr({bulk("p"), arr({bulks({"b", "2"})})}));
  BOOST_TEST(!ctx.blocked());
  BOOST_TEST(cmd("bzpopmin p x") == err("ERR timeout is not a float or out of range"));
  BOOST_TEST(cmd("bzmpop -1 1 p min") == err("ERR timeout is negative"));
  BOOST_TEST(cmd("bzmpop x 0 p min") == err("ERR numkeys should be greater than 0"));
  BOOST_TEST(cmd("bzpopmin p 2.5") == "");
  BOOST_TEST(ctx.blocked());
  BOOST_TEST(ctx.block_timeout_ms() == 2500);
  BOOST_TEST(cmd("bzmpop 0 2 a b max") == "");
  BOOST_TEST(ctx.blocked());
  BOOST_TEST(ctx.block_timeout_ms() == 0);
  ctx.set_blocking_allowed(false);
  BOOST_TEST(cmd("bzpopmin p 0") == "*-1\r\n");
  BOOST_TEST(cmd("bzmpop 0 1 p min") == "*-1\r\n");
  BOOST_TEST(!ctx.blocked());
  resp = 3;
  BOOST_TEST(cmd("bzpopmax p 0") == "_\r\n");
  ctx.set_blocking_allowed(true);
}

BOOST_AUTO_TEST_CASE(blocking_forms_propagate_as_their_plain_forms) {
  BOOST_TEST(cmd("zadd p 1 a 2 b 3 c") == integer(3));
  keyspace::effects_buffer fx;
  ctx.set_effects(&fx);
  BOOST_TEST(cmd("bzpopmax p 0") == bulks({"p", "c", "3"}));
  BOOST_TEST(cmd("zmpop 1 p min count 7") == arr({bulk("p"), arr({bulks({"a", "1"}), bulks({"b", "2"})})}));
  BOOST_TEST(fx.data == "*2\r\n$7\r\nZPOPMAX\r\n$1\r\np\r\n*3\r\n$7\r\nZPOPMIN\r\n$1\r\np\r\n$1\r\n2\r\n"); // the number popped, as Redis 7.0
  ctx.set_effects(nullptr);
}

BOOST_AUTO_TEST_CASE(set_algebra) {
  BOOST_TEST(cmd("zadd a 1 x 2 y 3 z") == integer(3));
  BOOST_TEST(cmd("zadd b 10 y 20 z 30 w") == integer(3));
  BOOST_TEST(cmd("zunion 2 a b withscores") == bulks({"x", "1", "y", "12", "z", "23", "w", "30"}));
  BOOST_TEST(cmd("zunion 2 a b weights 2 3 aggregate max withscores")
             == bulks({"x", "2", "y", "30", "z", "60", "w", "90"}));
  BOOST_TEST(cmd("zinter 2 a b aggregate min withscores") == bulks({"y", "2", "z", "3"}));
  BOOST_TEST(cmd("zdiff 2 b a withscores") == bulks({"w", "30"}));
  BOOST_TEST(cmd("zunion 0 a") == err("ERR at least 1 input key is needed for 'zunion' command"));
  BOOST_TEST(cmd("zunionstore d 0 a") == err("ERR at least 1 input key is needed for 'zunionstore' command"));
  BOOST_TEST(cmd("zunion 3 a b") == syntax_error);
  BOOST_TEST(cmd("zunion 2 a b weights 1 x") == err("ERR weight value is not a float"));
  BOOST_TEST(cmd("zunion 2 a b aggregate avg") == syntax_error);
  BOOST_TEST(cmd("zdiff 1 a weights 2") == syntax_error);
  BOOST_TEST(cmd("zunion 2 a a weights inf -inf withscores") == bulks({"x", "0", "y", "0", "z", "0"}));
  BOOST_TEST(cmd("zinterstore out 2 a b weights 1 2") == integer(2));
  BOOST_TEST(cmd("zrange out 0 -1 withscores") == bulks({"y", "22", "z", "43"}));
  BOOST_TEST(cmd("zinterstore out 2 a nokey") == integer(0));
  BOOST_TEST(cmd("exists out") == integer(0));
  BOOST_TEST(cmd("zintercard 2 a b") == integer(2));
  BOOST_TEST(cmd("zintercard 2 a b limit 1") == integer(1));
  BOOST_TEST(cmd("zintercard 2 a b limit -1") == err("ERR LIMIT can't be negative"));
  BOOST_TEST(cmd("zintercard 0 a") == err("ERR at least 1 input key is needed for 'zintercard' command"));
  BOOST_TEST(cmd("zunionstore a 2 a b") == integer(4));
  BOOST_TEST(cmd("zrange a 0 -1 withscores") == bulks({"x", "1", "y", "12", "z", "23", "w", "30"}));
  BOOST_TEST(rec.ready_keys.back() == "a");
}

BOOST_AUTO_TEST_CASE(randmember_properties) {
  BOOST_TEST(cmd("zadd rm 1 a 2 b 3 c") == integer(3));
  BOOST_TEST(cmd("zrandmember rm 10 withscores") == bulks({"c", "3", "b", "2", "a", "1"}));
  BOOST_TEST(cmd("zrandmember rm 0") == arr({}));
  BOOST_TEST(cmd("zrandmember rm 1 withscore") == syntax_error);
  BOOST_TEST(cmd("zrandmember rm -9223372036854775808")
             == err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"));
  BOOST_TEST(cmd("zrandmember rm 4611686018427387904 withscores") == err("ERR value is out of range"));
  BOOST_TEST(cmd("zrandmember nokey") == nil());
  BOOST_TEST(cmd("zrandmember nokey 5") == arr({}));
  BOOST_TEST(zadd_many("big", 300) == integer(300));
  for (int round = 0; round < 20; ++round) {
    value v = decode(cmd("zrandmember big 20 withscores"));
    BOOST_REQUIRE_EQUAL(v.elems.size(), 40u);
    std::set<std::string> seen;
    for (size_t i = 0; i < v.elems.size(); i += 2) {
      BOOST_TEST(seen.insert(v.elems[i].str).second); // distinct
      BOOST_TEST("m" + v.elems[i + 1].str == v.elems[i].str);
    }
    value d = decode(cmd("zrandmember big 250")); // most of the set: still distinct
    std::vector<std::string> names = d.strings();
    BOOST_TEST(std::set<std::string>(names.begin(), names.end()).size() == 250u);
    value r = decode(cmd("zrandmember big -500")); // repeats allowed
    BOOST_TEST(r.elems.size() == 500u);
    value one = decode(cmd("zrandmember big"));
    BOOST_TEST(one.str.substr(0, 1) == "m");
  }
}

BOOST_AUTO_TEST_CASE(encodings_and_conversions) {
  BOOST_TEST(zadd_many("z", 128) == integer(128));
  BOOST_TEST(cmd("object encoding z") == bulk("listpack"));
  BOOST_TEST(cmd("zadd z 5 m1") == integer(0)); // an update does not convert
  BOOST_TEST(cmd("object encoding z") == bulk("listpack"));
  BOOST_TEST(cmd("zadd z 1000 extra") == integer(1));
  BOOST_TEST(cmd("object encoding z") == bulk("skiplist"));
  BOOST_TEST(cmd("zremrangebyrank z 0 100") == integer(101));
  BOOST_TEST(cmd("object encoding z") == bulk("skiplist")); // never back
  BOOST_TEST(cmd("zrangestore small z 0 -1") == integer(28));
  BOOST_TEST(cmd("object encoding small") == bulk("listpack")); // a stored result fits again
  BOOST_TEST(cmd("zadd long 1 " + std::string(65, 'x')) == integer(1));
  BOOST_TEST(cmd("object encoding long") == bulk("skiplist"));
  BOOST_TEST(cmd("zadd fit 1 " + std::string(64, 'x')) == integer(1));
  BOOST_TEST(cmd("object encoding fit") == bulk("listpack"));
  settings.zset_max_listpack_entries = 2;
  BOOST_TEST(cmd("zadd t 1 a 2 b") == integer(2));
  BOOST_TEST(cmd("object encoding t") == bulk("listpack"));
  BOOST_TEST(cmd("zadd t 3 c") == integer(1));
  BOOST_TEST(cmd("object encoding t") == bulk("skiplist"));
  BOOST_TEST(cmd("copy t t2") == integer(1));
  BOOST_TEST(cmd("object encoding t2") == bulk("skiplist"));
  settings.zset_max_listpack_entries = 128;
}

BOOST_AUTO_TEST_CASE(big_sets_answer_like_small_ones) {
  // The same commands on a listpack and a skiplist set give the same replies.
  BOOST_TEST(zadd_many("lp", 100) == integer(100));
  BOOST_TEST(zadd_many("sk", 100) == integer(100));
  zset(std::string_view("sk"))->convert_to_skiplist();
  BOOST_TEST(cmd("object encoding sk") == bulk("skiplist"));
  for (const char* q : {"zrange %s 10 20 withscores", "zrange %s (5 +inf byscore limit 3 4", "zrange %s 50 10 byscore rev",
                        "zrank %s m42", "zrevrank %s m42", "zcount %s (10 50", "zrangebyscore %s -inf 7 withscores",
                        "zrange %s [m1 (m2 bylex", "zlexcount %s - +", "zmscore %s m1 m99 nope"}) {
    char a[128], b[128];
    std::snprintf(a, sizeof a, q, "lp");
    std::snprintf(b, sizeof b, q, "sk");
    BOOST_TEST(cmd(a) == cmd(b), q);
  }
  BOOST_TEST(cmd("debug digest-value lp") == cmd("debug digest-value sk"));
}

BOOST_AUTO_TEST_CASE(zscan_returns_every_member_present_throughout) {
  BOOST_TEST(cmd("zadd sc 1 m1 2 m2 3 other") == integer(3));
  // A listpack is returned whole, in order, with cursor 0.
  BOOST_TEST(cmd("zscan sc 0") == arr({bulk("0"), bulks({"m1", "1", "m2", "2", "other", "3"})}));
  BOOST_TEST(cmd("zscan sc 0 match m*") == arr({bulk("0"), bulks({"m1", "1", "m2", "2"})}));
  BOOST_TEST(cmd("zscan sc x") == err("ERR invalid cursor"));
  BOOST_TEST(cmd("zscan sc 0 count 0") == syntax_error);
  BOOST_TEST(cmd("zscan nokey 0") == arr({bulk("0"), arr({})}));
  // A big set is scanned by cursor; members added and removed during the scan may or may not be
  // seen, those present throughout are seen at least once, whatever the table does meanwhile.
  BOOST_TEST(zadd_many("big", 1000) == integer(1000));
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int step = 0;
  do {
    value v = decode(cmd("zscan big " + std::to_string(cursor) + " count 20"));
    cursor = std::stoull(v.elems[0].str);
    auto& items = v.elems[1].elems;
    BOOST_REQUIRE(items.size() % 2 == 0);
    for (size_t i = 0; i < items.size(); i += 2) {
      seen.insert(items[i].str);
      BOOST_TEST("m" + items[i + 1].str == items[i].str);
    }
    ++step;
    if (step == 5)
      BOOST_TEST(zadd_many("big", 3000, 5000) == integer(3000)); // the table grows
    if (step == 10)
      BOOST_TEST(cmd("zremrangebyscore big 5000 8000") == integer(3000)); // and shrinks
  } while (cursor != 0);
  for (int i = 0; i < 1000; ++i)
    BOOST_TEST(seen.count("m" + std::to_string(i)) == 1u);
}

BOOST_AUTO_TEST_CASE(digests_match_redis) {
  BOOST_TEST(cmd("zadd z 1 a 2.5 b -inf c 0.1 d") == integer(4));
  BOOST_TEST(cmd("debug digest-value z") == arr({simple("e2b86b0e11c99954160d20bd7b671cf3281f9b24")}));
  settings.zset_max_listpack_entries = 2;
  BOOST_TEST(cmd("zadd zb 1 a 2.5 b -inf c 0.1 d") == integer(4));
  BOOST_TEST(cmd("object encoding zb") == bulk("skiplist"));
  BOOST_TEST(cmd("debug digest-value zb") == arr({simple("e2b86b0e11c99954160d20bd7b671cf3281f9b24")}));
  settings.zset_max_listpack_entries = 128;
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(zset_value_api)

BOOST_AUTO_TEST_CASE(tree_matches_an_ordered_set) {
  std::mt19937_64 rng(11);
  for (bool big : {false, true}) {
    zset_value z(big);
    std::map<std::string, double> ref;
    for (int op = 0; op < 20000; ++op) {
      std::string m = "m" + std::to_string(rng() % 3000);
      unsigned kind = rng() % 10;
      if (kind < 6) {
        double s = static_cast<double>(rng() % 100);
        BOOST_REQUIRE_EQUAL(z.insert(m, s), ref.count(m) == 0);
        ref[m] = s;
      } else if (kind < 9) {
        BOOST_REQUIRE_EQUAL(z.erase(m), ref.erase(m) == 1);
      } else if (z.size() > 10) {
        size_t start = rng() % z.size(), n = rng() % 5;
        std::vector<std::string> gone;
        z.walk_forward(start, [&](std::string_view x, double) {
          if (gone.size() >= n)
            return false;
          gone.emplace_back(x);
          return true;
        });
        z.erase_range(start, n);
        for (auto& g : gone)
          ref.erase(g);
      }
      BOOST_REQUIRE_EQUAL(z.size(), ref.size());
      if (!big && z.size() > 120)
        z.convert_to_skiplist(), big = true;
    }
    std::set<std::pair<double, std::string>> order;
    for (auto& [m, s] : ref)
      order.insert({s, m});
    size_t r = 0;
    for (auto& [s, m] : order) {
      BOOST_REQUIRE(z.rank(m).value() == r);
      BOOST_REQUIRE(z.at(r).first == m);
      BOOST_REQUIRE(z.score(m).value() == s);
      ++r;
    }
    for (double b = -1; b < 101; b += 3.5) {
      size_t below = 0;
      for (auto& p : order)
        below += p.first < b;
      BOOST_TEST(z.count_below_score(b, false) == below);
    }
    zset_value copy(z);
    unsigned char d1[20] = {}, d2[20] = {};
    z.digest(d1);
    copy.digest(d2);
    BOOST_TEST(std::memcmp(d1, d2, 20) == 0);
  }
}

// load_pairs (the RDB loader's path) leaves what the same insert() calls leave, in both encodings;
// and it refuses a repeated member.
BOOST_AUTO_TEST_CASE(load_pairs_matches_insert_calls) {
  std::mt19937_64 rng(5);
  for (int round = 0; round < 200; ++round) {
    bool big = round % 4 == 3;
    size_t n = rng() % 60;
    std::vector<std::pair<std::string, double>> pairs;
    std::set<std::string> members;
    while (pairs.size() < n) {
      std::string m = "m" + std::to_string(rng() % 500);
      double score = rng() % 5 == 0 ? (rng() % 2 ? 0.0 : -0.0) : static_cast<double>(rng() % 7) - 3.5;
      if (members.insert(m).second)
        pairs.emplace_back(m, score);
    }
    zset_value by_insert(big), loaded(big);
    for (auto& [m, score] : pairs)
      by_insert.insert(m, score);
    BOOST_TEST_REQUIRE(loaded.load_pairs(pairs.data(), pairs.size()));
    BOOST_TEST(loaded.size() == by_insert.size());
    BOOST_TEST(loaded.memory() <= by_insert.memory(), "round " << round);   // one exact allocation
    std::vector<std::pair<std::string, double>> a, b;
    by_insert.for_each([&](std::string_view m, double score) { a.emplace_back(m, score); });
    loaded.for_each([&](std::string_view m, double score) { b.emplace_back(m, score); });
    BOOST_TEST((a == b), "round " << round);
    unsigned char d1[20] = {}, d2[20] = {};
    by_insert.digest(d1);
    loaded.digest(d2);
    BOOST_TEST(std::memcmp(d1, d2, 20) == 0);
  }
  std::vector<std::pair<std::string, double>> dup{{"a", 1}, {"b", 2}, {"a", 3}};
  zset_value small, tree(true);
  BOOST_TEST(!small.load_pairs(dup.data(), dup.size()));
  BOOST_TEST(!tree.load_pairs(dup.data(), dup.size()));
}

BOOST_AUTO_TEST_CASE(for_each_in_rank_order) {
  zset_value z;
  z.insert("b", 2);
  z.insert("a", 2);
  z.insert("c", -1);
  std::vector<std::string> order;
  z.for_each([&](std::string_view m, double) { order.emplace_back(m); });
  BOOST_TEST(order == (std::vector<std::string>{"c", "a", "b"}), boost::test_tools::per_element());
  BOOST_TEST(!z.score("zz").has_value());
  BOOST_TEST(z.max_member_len() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
