// Integer and float parsing and formatting with Redis's rules.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "protocol/numbers.hpp"

using namespace troupe::protocol;

namespace {

bool int_ok(std::string_view s, int64_t expected) {
  int64_t v = 12345;
  return parse_int64(s, v) && v == expected;
}

bool int_bad(std::string_view s) {
  int64_t v = 12345;
  return !parse_int64(s, v) && v == 12345; // a failed parse leaves the output alone
}

// INCRBYFLOAT: the stored string is parsed, incremented and formatted again.
std::string incrbyfloat(std::string_view current, std::string_view incr) {
  long double a = 0, b = 0;
  BOOST_REQUIRE(parse_long_double(current, a));
  BOOST_REQUIRE(parse_long_double(incr, b));
  return format_long_double(a + b);
}

} // namespace

BOOST_AUTO_TEST_SUITE(numbers_suite)

BOOST_AUTO_TEST_CASE(parse_int64_accepts) {
  BOOST_TEST(int_ok("0", 0));
  BOOST_TEST(int_ok("1", 1));
  BOOST_TEST(int_ok("-1", -1));
  BOOST_TEST(int_ok("1234567890", 1234567890));
  BOOST_TEST(int_ok("9223372036854775807", INT64_MAX));
  BOOST_TEST(int_ok("-9223372036854775808", INT64_MIN));
  BOOST_TEST(int_ok("-9223372036854775807", -INT64_MAX));
}

BOOST_AUTO_TEST_CASE(parse_int64_rejects) {
  for (const char* s : {"", "-", "+", "01", "00", "-0", "-01", "+1", " 1", "1 ", "1\n", "\t1", "1a", "a1", "0x10",
                        "1.0", "1e3", "9223372036854775808", "-9223372036854775809", "18446744073709551615",
                        "18446744073709551616", "99999999999999999999", "123456789012345678901", "--1"}) {
    BOOST_TEST(int_bad(s), "parse_int64(\"" << s << "\") should fail");
  }
  BOOST_TEST(int_bad(std::string_view("1\0", 2)));
}

BOOST_AUTO_TEST_CASE(parse_uint64_rules) {
  uint64_t v = 0;
  BOOST_TEST(parse_uint64("0", v));
  BOOST_TEST(v == 0u);
  BOOST_TEST(parse_uint64("18446744073709551615", v));
  BOOST_TEST(v == UINT64_MAX);
  BOOST_TEST(!parse_uint64("18446744073709551616", v));
  BOOST_TEST(!parse_uint64("-1", v));
  BOOST_TEST(!parse_uint64("+1", v));
  BOOST_TEST(!parse_uint64("01", v));
  BOOST_TEST(!parse_uint64("", v));
  BOOST_TEST(!parse_uint64("1x", v));
  // Around the 19/20-digit boundary, where overflow starts to be possible.
  BOOST_TEST(parse_uint64("9999999999999999999", v));
  BOOST_TEST(v == 9999999999999999999ull);
  BOOST_TEST(parse_uint64("10000000000000000000", v));
  BOOST_TEST(v == 10000000000000000000ull);
  BOOST_TEST(parse_uint64("18446744073709551610", v));
  BOOST_TEST(v == 18446744073709551610ull);
  BOOST_TEST(!parse_uint64("18446744073709551620", v));
  BOOST_TEST(!parse_uint64("20000000000000000000", v));
  BOOST_TEST(!parse_uint64("99999999999999999999", v));
  BOOST_TEST(!parse_uint64("184467440737095516150", v));
  BOOST_TEST(!parse_uint64("1844674407370955161/", v));
  BOOST_TEST(!parse_uint64(std::string_view("1\0", 2), v));
  BOOST_TEST(!parse_uint64("\xff", v));
  BOOST_TEST(v == 18446744073709551610ull);   // failed parses leave it alone
}

BOOST_AUTO_TEST_CASE(canonical_ints) {
  int64_t v = 0;
  BOOST_TEST(is_canonical_int("123", &v));
  BOOST_TEST(v == 123);
  BOOST_TEST(is_canonical_int("-9223372036854775808"));
  BOOST_TEST(!is_canonical_int("9223372036854775808"));
  BOOST_TEST(!is_canonical_int("-0"));
  BOOST_TEST(!is_canonical_int("01"));
  BOOST_TEST(!is_canonical_int(" 1"));
  BOOST_TEST(!is_canonical_int(""));
  BOOST_TEST(!is_canonical_int("1.0"));
}

BOOST_AUTO_TEST_CASE(parse_double_rules) {
  double d = 0;
  BOOST_TEST(parse_double("1.5", d));
  BOOST_TEST(d == 1.5);
  BOOST_TEST(parse_double("-2", d));
  BOOST_TEST(d == -2.0);
  BOOST_TEST(parse_double(".5", d));
  BOOST_TEST(d == 0.5);
  BOOST_TEST(parse_double("5.", d));
  BOOST_TEST(d == 5.0);
  BOOST_TEST(parse_double("1e3", d));
  BOOST_TEST(d == 1000.0);
  BOOST_TEST(parse_double("+1.5", d));
  BOOST_TEST(d == 1.5);
  BOOST_TEST(parse_double("inf", d));
  BOOST_TEST((std::isinf(d) && d > 0));
  BOOST_TEST(parse_double("+inf", d));
  BOOST_TEST((std::isinf(d) && d > 0));
  BOOST_TEST(parse_double("-inf", d));
  BOOST_TEST((std::isinf(d) && d < 0));
  BOOST_TEST(parse_double("-Infinity", d));
  BOOST_TEST((std::isinf(d) && d < 0));
  for (const char* s : {"", " 1", "\t1", "1 ", "abc", "1.5x", "nan", "NaN", "-nan", "1e400", "-1e400", "1e-400"}) {
    double keep = 42;
    BOOST_TEST(!parse_double(s, keep), "parse_double(\"" << s << "\") should fail");
  }
  BOOST_TEST(!parse_double(std::string(6000, '1'), d));
}

BOOST_AUTO_TEST_CASE(parse_long_double_rules) {
  long double v = 0;
  BOOST_TEST(parse_long_double("10.5", v));
  BOOST_TEST(v == 10.5L);
  // strtold reads hexadecimal too, and so does redis-server (INCRBYFLOAT k 0x10 adds 16).
  BOOST_TEST(parse_long_double("0x10", v));
  BOOST_TEST(v == 16.0L);
  BOOST_TEST(parse_long_double("-inf", v));
  BOOST_TEST(std::isinf(v));
  for (const char* s : {"", " 1", "1 ", "nan", "abc", "1e5000"}) {
    long double keep = 42;
    BOOST_TEST(!parse_long_double(s, keep), "parse_long_double(\"" << s << "\") should fail");
  }
}

BOOST_AUTO_TEST_CASE(parse_double_subnormals) {
  // strtod flags subnormal results with ERANGE; Redis only rejects ERANGE when the value
  // overflowed or underflowed to zero.
  double d = 0;
  BOOST_TEST(parse_double("4e-320", d));
  BOOST_TEST(d > 0);
  BOOST_TEST(!parse_double("1e-400", d));
}

// BUG: Redis's string2ld (INCRBYFLOAT) accepts a subnormal long double such as "1e-4940" (strtold
// sets ERANGE but returns a non-zero value): "INCRBYFLOAT g 1e-4940" on redis-server 7.0.15 replies
// "0". parse_long_double rejects every ERANGE, so Troupe replies "ERR value is not a valid float".
BOOST_AUTO_TEST_CASE(parse_long_double_subnormal) {
  long double v = 0;
  BOOST_TEST(parse_long_double("1e-4940", v));
  BOOST_TEST(v > 0);
  BOOST_TEST(!parse_long_double("1e-5000", v)); // underflows to zero: rejected
}

BOOST_AUTO_TEST_CASE(format_long_double_for_incrbyfloat) {
  // Replies redis-server 7.0.15 gave for the same INCRBYFLOAT sequence.
  BOOST_TEST(incrbyfloat("10.50", "0.1") == "10.6");
  BOOST_TEST(incrbyfloat("5.0e3", "2.0e2") == "5200");
  std::string v = "0";
  const char* steps[][2] = {{"1.1", "1.1"}, {"0.2", "1.3"}, {"-0.3", "1"}, {"1e20", "100000000000000000000"},
                            {"-1e20", "0"}, {"1.5e-10", "0.00000000015"}};
  for (auto& s : steps) {
    v = incrbyfloat(v, s[0]);
    BOOST_TEST(v == s[1]);
  }
  BOOST_TEST(incrbyfloat("0", "-0") == "0");
  BOOST_TEST(incrbyfloat("1", "0x10") == "17");
  BOOST_TEST(incrbyfloat("17", "+1.5") == "18.5");
  BOOST_TEST(incrbyfloat("5", "1.5") == "6.5");
  BOOST_TEST(incrbyfloat("3", "1e300").rfind("100000000000000000000899732407955919387052394427329074793826", 0) == 0u);
  BOOST_TEST(format_long_double(-2.5L) == "-2.5");
  BOOST_TEST(format_long_double(100.0L) == "100");
  BOOST_TEST(format_long_double(-0.0L) == "0");
  BOOST_TEST(format_long_double(std::numeric_limits<long double>::infinity()) == "inf");
  BOOST_TEST(format_long_double(-std::numeric_limits<long double>::infinity()) == "-inf");
}

BOOST_AUTO_TEST_SUITE_END()
