// SORT and SORT_RO (byte-exact replies against redis-server are in tests/compat/sort.redis; here
// the orderings, the patterns and what STORE leaves behind).
#include "harness.hpp"

using namespace ut;

BOOST_FIXTURE_TEST_SUITE(sort_commands, server)

BOOST_AUTO_TEST_CASE(numbers_strings_and_limits) {
  BOOST_TEST(cmd("rpush l 3 1 2 10 -5 1.5") == integer(6));
  BOOST_TEST(cmd("sort l") == bulks({"-5", "1", "1.5", "2", "3", "10"}));
  BOOST_TEST(cmd("sort l desc limit 1 2") == bulks({"3", "2"}));
  BOOST_TEST(cmd("sort l alpha") == bulks({"-5", "1", "1.5", "10", "2", "3"}));
  BOOST_TEST(cmd("sort l limit 10 2") == arr({}));
  BOOST_TEST(cmd("sort l by nosort desc limit 0 2") == bulks({"1.5", "-5"}));   // the list's own order, reversed
  // Equal numbers: the elements' bytes decide.
  BOOST_TEST(cmd("rpush e 1.0 01 1") == integer(3));
  BOOST_TEST(cmd("sort e") == bulks({"01", "1", "1.0"}));
  BOOST_TEST(cmd("rpush bad 1 x") == integer(2));
  BOOST_TEST(cmd("sort bad") == err("ERR One or more scores can't be converted into double"));
  BOOST_TEST(cmd("set str x") == ok());
  BOOST_TEST(cmd("sort str") == err("WRONGTYPE Operation against a key holding the wrong kind of value"));
  BOOST_TEST(cmd("sort l limit a 1") == err("ERR value is not an integer or out of range"));
  BOOST_TEST(cmd("sort_ro l store d") == err("ERR syntax error"));
  BOOST_TEST(cmd("sort nokey") == arr({}));
}

BOOST_AUTO_TEST_CASE(by_and_get_patterns) {
  BOOST_TEST(cmd("rpush l 1 2 3") == integer(3));
  BOOST_TEST(cmd("mset w_1 30 w_2 10 w_3 20") == ok());
  BOOST_TEST(cmd("hset h_1 f c") == integer(1));
  BOOST_TEST(cmd("hset h_2 f a") == integer(1));
  BOOST_TEST(cmd("sort l by w_*") == bulks({"2", "3", "1"}));
  BOOST_TEST(cmd("sort l by h_*->f alpha get # get h_*->f get nope_*")
             == arr({bulk("3"), nil(), nil(), bulk("2"), bulk("a"), nil(), bulk("1"), bulk("c"), nil()}));
  // The keys of other slot ranges are out of reach: patterns need one slot range.
  settings.slot_ranges = 4;
  BOOST_TEST(cmd("sort l by w_*") == err("ERR SORT with BY or GET patterns needs slot-actors 1 in Troupe (their keys may be in any slot range)"));
  BOOST_TEST(cmd("sort l by nosort get #") == bulks({"1", "2", "3"}));
  settings.cluster_enabled = true;
  BOOST_TEST(cmd("sort l get #") == err("ERR GET option of SORT denied in Cluster mode."));
  BOOST_TEST(cmd("sort l by w_*") == err("ERR BY option of SORT denied in Cluster mode."));
}

BOOST_AUTO_TEST_CASE(store_makes_a_list_or_deletes) {
  BOOST_TEST(cmd("sadd s 5 3 9") == integer(3));
  BOOST_TEST(cmd("sort s store d") == integer(3));
  BOOST_TEST(cmd("lrange d 0 -1") == bulks({"3", "5", "9"}));
  BOOST_TEST(cmd("sadd t b a c") == integer(3));
  BOOST_TEST(cmd("sort t by nosort store d") == integer(3));   // a set is sorted all the same when stored
  BOOST_TEST(cmd("lrange d 0 -1") == bulks({"a", "b", "c"}));
  BOOST_TEST(cmd("rpush l 1 2") == integer(2));
  BOOST_TEST(cmd("sort l get nope_* store d") == integer(2));   // what a GET misses is stored empty
  BOOST_TEST(cmd("lrange d 0 -1") == bulks({"", ""}));
  BOOST_TEST(cmd("sort nokey store d") == integer(0));
  BOOST_TEST(cmd("exists d") == integer(0));
}

BOOST_AUTO_TEST_SUITE_END()
