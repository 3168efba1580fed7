// error_stats: INFO errorstats' counts per error code.
#include <boost/test/unit_test.hpp>

#include "keyspace/error_stats.hpp"

using troupe::keyspace::error_stats;
using counts = std::vector<std::pair<std::string, uint64_t>>;

BOOST_AUTO_TEST_SUITE(error_stats_suite)

BOOST_AUTO_TEST_CASE(codes_are_the_first_word_with_or_without_the_resp_framing) {
  BOOST_CHECK_EQUAL(error_stats::code_of("WRONGTYPE Operation against a key"), "WRONGTYPE");
  BOOST_CHECK_EQUAL(error_stats::code_of("-ERR unknown command 'x'\r\n"), "ERR");
  BOOST_CHECK_EQUAL(error_stats::code_of("-NOAUTH\r\n"), "NOAUTH");
  BOOST_CHECK_EQUAL(error_stats::code_of("LOADING"), "LOADING");
}

BOOST_AUTO_TEST_CASE(counts_by_code_in_byte_order_and_resets) {
  error_stats s;
  s.count("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
  s.count("ERR unknown command 'foo'");
  s.count("ERR wrong number of arguments for 'get' command");
  s.count("MOVED 3999 127.0.0.1:6381");
  BOOST_CHECK((s.counts() == counts{{"ERR", 2}, {"MOVED", 1}, {"WRONGTYPE", 1}}));
  s.reset();
  BOOST_CHECK(s.counts().empty());
}

BOOST_AUTO_TEST_CASE(past_128_codes_new_ones_are_not_tracked) {
  error_stats s;
  for (size_t i = 0; i < error_stats::max_codes; ++i)
    s.count("C" + std::to_string(i) + " x");
  s.count("NEWCODE x");
  s.count("C7 again");
  auto c = s.counts();
  BOOST_CHECK_EQUAL(c.size(), error_stats::max_codes);
  for (auto& [code, n] : c) {
    BOOST_CHECK(code != "NEWCODE");
    BOOST_CHECK_EQUAL(n, code == "C7" ? 2u : 1u);
  }
}

BOOST_AUTO_TEST_CASE(only_error_replies_are_counted) {
  error_stats s;
  BOOST_CHECK(s.count_if_error("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"));
  BOOST_CHECK(!s.count_if_error("+OK\r\n"));
  BOOST_CHECK(!s.count_if_error("$5\r\n-ERR \r\n"));   // a bulk string that starts with '-'
  BOOST_CHECK(!s.count_if_error(""));
  auto c = s.counts();
  BOOST_REQUIRE_EQUAL(c.size(), 1u);
  BOOST_CHECK_EQUAL(c[0].first, "WRONGTYPE");
  BOOST_CHECK_EQUAL(c[0].second, 1u);
}

BOOST_AUTO_TEST_SUITE_END()
