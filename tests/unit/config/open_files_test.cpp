// The slot ranges and reserved descriptors a node's io-threads / slot-actors settings make.
#include <boost/test/unit_test.hpp>

#include "config/open_files.hpp"

BOOST_AUTO_TEST_SUITE(open_files)

BOOST_AUTO_TEST_CASE(slot_ranges_are_slot_actors_raised_to_the_loops) {
  using troupe::config::slot_range_count;
  BOOST_TEST(slot_range_count(1, 1) == 1);
  BOOST_TEST(slot_range_count(1, 8) == 8);
  BOOST_TEST(slot_range_count(3, 1) == 3);   // one per I/O loop at least
  BOOST_TEST(slot_range_count(3, 5) == 5);
  BOOST_TEST(slot_range_count(1, 20000) == 16384);   // at most one per slot
}

BOOST_AUTO_TEST_CASE(reserved_descriptors_count_loops_and_ranges) {
  using troupe::config::reserved_descriptors;
  BOOST_TEST(reserved_descriptors(1, 1) == 32 + 3 + 2);
  BOOST_TEST(reserved_descriptors(3, 1) == 32 + 9 + 6);
  BOOST_TEST(reserved_descriptors(2, 8) == 32 + 6 + 16);
}

BOOST_AUTO_TEST_SUITE_END()
