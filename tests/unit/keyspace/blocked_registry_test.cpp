// blocked_registry (waiters of one slot_range, in arrival order) and poll_registry (clients blocked
// across slot ranges, by arrival number).
#include <boost/test/unit_test.hpp>

#include "keyspace/blocked_registry.hpp"

using namespace troupe::keyspace;

BOOST_AUTO_TEST_SUITE(blocked_registries)

BOOST_AUTO_TEST_CASE(waiters_in_arrival_order_and_ready_keys_once) {
  blocked_registry b;
  b.add(7, 0, {"k", "j"});
  b.add(3, 0, {"k"});
  b.ready(0, "k");
  b.ready(0, "k");          // once
  b.ready(0, "nobody");     // no waiter: not remembered
  b.ready(1, "k");          // another db
  auto k = b.next_ready();
  BOOST_REQUIRE(k.has_value());
  BOOST_TEST(k->second == "k");
  BOOST_TEST((b.waiters_of(*k) == std::vector<uint64_t>{7, 3}));
  BOOST_TEST(!b.next_ready().has_value());
  b.remove(7);
  BOOST_TEST((b.waiters_of({0, "k"}) == std::vector<uint64_t>{3}));
  BOOST_TEST(b.waiters_of({0, "j"}).empty());
  b.ready_all(0, [](std::string_view key) { return key == "k"; });
  BOOST_TEST(b.next_ready().has_value());
}

BOOST_AUTO_TEST_CASE(pollers_by_arrival) {
  poll_registry p;
  BOOST_TEST(p.empty());
  BOOST_TEST(p.earliest(0, "k") == UINT64_MAX);
  p.add(5, 0, {"k", "j"});
  p.add(2, 0, {"k"});
  p.add(9, 1, {"k"});
  BOOST_TEST(!p.empty());
  BOOST_TEST(p.earliest(0, "k") == 2u);
  BOOST_TEST(p.earliest(0, "j") == 5u);
  BOOST_TEST(p.earliest(1, "k") == 9u);
  p.remove(2);
  BOOST_TEST(p.earliest(0, "k") == 5u);
  p.remove(5);
  p.remove(5);   // twice: nothing
  BOOST_TEST(p.earliest(0, "k") == UINT64_MAX);
  p.remove(9);
  BOOST_TEST(p.empty());
}

BOOST_AUTO_TEST_SUITE_END()
