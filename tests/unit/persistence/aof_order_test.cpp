// aof_order: numbered pieces come out in number order, whatever order they arrive in.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "persistence/aof_order.hpp"

using troupe::persistence::aof_order;

namespace {

// Feeds pieces numbered by `seqs` (in that arrival order); returns the order they were appended in.
std::vector<uint64_t> feed(aof_order<uint64_t>& order, const std::vector<uint64_t>& seqs) {
  std::vector<uint64_t> out;
  auto emit = [&out](uint64_t& s) { out.push_back(s); };
  for (auto s : seqs) {
    if (order.take(s)) {
      out.push_back(s);
      order.release(emit);
    } else {
      order.keep(s, s);
    }
  }
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(aof_order_suite)

BOOST_AUTO_TEST_CASE(pieces_in_order_pass_straight_through) {
  aof_order<uint64_t> order;
  BOOST_TEST(feed(order, {1, 2, 3}) == (std::vector<uint64_t>{1, 2, 3}));
  BOOST_TEST(order.waiting() == 0u);
  BOOST_TEST(order.next() == 4u);
}

BOOST_AUTO_TEST_CASE(a_piece_before_its_turn_waits_for_the_gap) {
  aof_order<uint64_t> order;
  // 3 and 4 arrive while 2 is still gathered somewhere else: only 1 may be appended.
  auto out = feed(order, {1, 3, 4});
  BOOST_TEST(out == (std::vector<uint64_t>{1}));
  BOOST_TEST(order.waiting() == 2u);
  out = feed(order, {2});
  BOOST_TEST(out == (std::vector<uint64_t>{2, 3, 4}));
  BOOST_TEST(order.waiting() == 0u);
}

BOOST_AUTO_TEST_CASE(any_arrival_order_appends_a_prefix_at_every_step) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 50; ++round) {
    std::vector<uint64_t> seqs(200);
    std::iota(seqs.begin(), seqs.end(), 1);
    std::shuffle(seqs.begin(), seqs.end(), rng);
    aof_order<uint64_t> order;
    std::vector<uint64_t> all;
    for (auto s : seqs) {
      auto out = feed(order, {s});
      all.insert(all.end(), out.begin(), out.end());
      // What is appended so far is exactly 1..n: no piece without every lower one.
      for (size_t i = 0; i < all.size(); ++i)
        BOOST_REQUIRE(all[i] == i + 1);
    }
    BOOST_TEST(all.size() == 200u);
  }
}

BOOST_AUTO_TEST_CASE(release_all_crosses_the_gaps_in_order) {
  aof_order<std::string> order(10);
  BOOST_TEST(!order.take(12));
  order.keep(15, "c");
  order.keep(12, "a");
  order.keep(13, "b");
  std::string got;
  order.release([&](std::string& s) { got += s; });
  BOOST_TEST(got.empty());   // 10 and 11 never came
  BOOST_TEST(order.release_all([&](std::string& s) { got += s; }) == 3u);   // 10, 11, 14
  BOOST_TEST(got == "abc");
  BOOST_TEST(order.next() == 16u);
  BOOST_TEST(order.take(16));
}

BOOST_AUTO_TEST_CASE(a_number_that_comes_after_release_all_is_late_and_jams_nothing) {
  aof_order<uint64_t> order;
  order.keep(2, 2);
  order.keep(3, 3);
  BOOST_TEST(order.release_all([](uint64_t&) {}) == 1u);   // 1 skipped
  BOOST_TEST(order.late(1));
  BOOST_TEST(!order.late(4));
  // The late one is not kept: what follows still comes out in order.
  BOOST_TEST(feed(order, {4, 6, 5, 7}) == (std::vector<uint64_t>{4, 5, 6, 7}));
  BOOST_TEST(order.waiting() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
