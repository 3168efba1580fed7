// resp_writer: the exact bytes of every reply shape in RESP2 and RESP3.
#include <boost/test/unit_test.hpp>

#include <climits>
#include <cmath>
#include <limits>
#include <string>

#include "protocol/resp_writer.hpp"

using troupe::protocol::format_double;
using troupe::protocol::format_int;
using troupe::protocol::resp_writer;

namespace {

template <class F>
std::string written(int resp, F&& f) {
  std::string out;
  resp_writer w(out, resp);
  f(w);
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(resp_writer_suite)

// Values up to 102 bytes are written in one piece, longer ones in three: every size around the
// switch, after earlier output, gives the same bytes.
BOOST_AUTO_TEST_CASE(bulk_of_every_size_around_the_short_path) {
  for (size_t n = 0; n <= 300; ++n) {
    std::string value(n, 'v');
    if (n > 0)
      value[n - 1] = '\0';
    std::string out = "+OK\r\n";
    resp_writer w(out);
    w.bulk(value);
    BOOST_TEST(out == "+OK\r\n$" + std::to_string(n) + "\r\n" + value + "\r\n", "size " << n);
  }
}

BOOST_AUTO_TEST_CASE(format_int_extremes) {
  char buf[32];
  auto fmt = [&](int64_t v) { return std::string(buf, format_int(v, buf)); };
  BOOST_TEST(fmt(0) == "0");
  BOOST_TEST(fmt(-1) == "-1");
  BOOST_TEST(fmt(1234567890) == "1234567890");
  BOOST_TEST(fmt(INT64_MAX) == "9223372036854775807");
  BOOST_TEST(fmt(INT64_MIN) == "-9223372036854775808");
}

BOOST_AUTO_TEST_CASE(format_double_like_redis) {
  BOOST_TEST(format_double(1.5) == "1.5");
  BOOST_TEST(format_double(0.1) == "0.10000000000000001");
  BOOST_TEST(format_double(3) == "3");
  BOOST_TEST(format_double(-2.5e-7) == "-2.4999999999999999e-07");
  BOOST_TEST(format_double(1e300) == "1.0000000000000001e+300");
  BOOST_TEST(format_double(std::numeric_limits<double>::infinity()) == "inf");
  BOOST_TEST(format_double(-std::numeric_limits<double>::infinity()) == "-inf");
}

BOOST_AUTO_TEST_CASE(simple_types_same_in_both_protocols) {
  for (int resp : {2, 3}) {
    BOOST_TEST_CONTEXT("RESP" << resp) {
      BOOST_TEST(written(resp, [](resp_writer& w) { w.ok(); }) == "+OK\r\n");
      BOOST_TEST(written(resp, [](resp_writer& w) { w.simple("PONG"); }) == "+PONG\r\n");
      BOOST_TEST(written(resp, [](resp_writer& w) { w.integer(-42); }) == ":-42\r\n");
      BOOST_TEST(written(resp, [](resp_writer& w) { w.integer(INT64_MIN); }) == ":-9223372036854775808\r\n");
      BOOST_TEST(written(resp, [](resp_writer& w) { w.bulk("hello"); }) == "$5\r\nhello\r\n");
      BOOST_TEST(written(resp, [](resp_writer& w) { w.bulk(""); }) == "$0\r\n\r\n");
      BOOST_TEST(written(resp, [](resp_writer& w) { w.bulk(std::string_view("a\0b", 3)); })
                 == std::string("$3\r\na\0b\r\n", 9));
      BOOST_TEST(written(resp, [](resp_writer& w) { w.bulk_int(-17); }) == "$3\r\n-17\r\n");
      BOOST_TEST(written(resp, [](resp_writer& w) { w.array(0); }) == "*0\r\n");
      BOOST_TEST(written(resp, [](resp_writer& w) { w.array(12); }) == "*12\r\n");
      BOOST_TEST(written(resp, [](resp_writer& w) { w.error("ERR syntax error"); }) == "-ERR syntax error\r\n");
      BOOST_TEST(written(resp, [](resp_writer& w) { w.raw("+X\r\n"); }) == "+X\r\n");
    }
  }
}

BOOST_AUTO_TEST_CASE(nulls) {
  BOOST_TEST(written(2, [](resp_writer& w) { w.null(); }) == "$-1\r\n");
  BOOST_TEST(written(3, [](resp_writer& w) { w.null(); }) == "_\r\n");
  BOOST_TEST(written(2, [](resp_writer& w) { w.null_array(); }) == "*-1\r\n");
  BOOST_TEST(written(3, [](resp_writer& w) { w.null_array(); }) == "_\r\n");
}

BOOST_AUTO_TEST_CASE(aggregates) {
  auto map = [](resp_writer& w) {
    w.map(2);
    w.bulk("a");
    w.integer(1);
    w.bulk("b");
    w.integer(2);
  };
  BOOST_TEST(written(2, map) == "*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n:2\r\n");
  BOOST_TEST(written(3, map) == "%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n:2\r\n");
  BOOST_TEST(written(2, [](resp_writer& w) { w.map(0); }) == "*0\r\n");
  BOOST_TEST(written(3, [](resp_writer& w) { w.map(0); }) == "%0\r\n");
  BOOST_TEST(written(2, [](resp_writer& w) { w.set(3); }) == "*3\r\n");
  BOOST_TEST(written(3, [](resp_writer& w) { w.set(3); }) == "~3\r\n");
  BOOST_TEST(written(2, [](resp_writer& w) { w.push(3); }) == "*3\r\n");
  BOOST_TEST(written(3, [](resp_writer& w) { w.push(3); }) == ">3\r\n");
}

BOOST_AUTO_TEST_CASE(doubles) {
  BOOST_TEST(written(2, [](resp_writer& w) { w.dbl(1.5); }) == "$3\r\n1.5\r\n");
  BOOST_TEST(written(3, [](resp_writer& w) { w.dbl(1.5); }) == ",1.5\r\n");
  BOOST_TEST(written(2, [](resp_writer& w) { w.dbl(0.1); }) == "$19\r\n0.10000000000000001\r\n");
  BOOST_TEST(written(3, [](resp_writer& w) { w.dbl(0.1); }) == ",0.10000000000000001\r\n");
  BOOST_TEST(written(2, [](resp_writer& w) { w.dbl(10); }) == "$2\r\n10\r\n");
  const double inf = std::numeric_limits<double>::infinity();
  BOOST_TEST(written(2, [&](resp_writer& w) { w.dbl(inf); }) == "$3\r\ninf\r\n");
  BOOST_TEST(written(2, [&](resp_writer& w) { w.dbl(-inf); }) == "$4\r\n-inf\r\n");
  BOOST_TEST(written(3, [&](resp_writer& w) { w.dbl(inf); }) == ",inf\r\n");
  BOOST_TEST(written(3, [&](resp_writer& w) { w.dbl(-inf); }) == ",-inf\r\n");
}

BOOST_AUTO_TEST_CASE(booleans) {
  BOOST_TEST(written(2, [](resp_writer& w) { w.boolean(true); }) == ":1\r\n");
  BOOST_TEST(written(2, [](resp_writer& w) { w.boolean(false); }) == ":0\r\n");
  BOOST_TEST(written(3, [](resp_writer& w) { w.boolean(true); }) == "#t\r\n");
  BOOST_TEST(written(3, [](resp_writer& w) { w.boolean(false); }) == "#f\r\n");
}

BOOST_AUTO_TEST_CASE(verbatim) {
  BOOST_TEST(written(2, [](resp_writer& w) { w.verbatim("Some string"); }) == "$11\r\nSome string\r\n");
  BOOST_TEST(written(3, [](resp_writer& w) { w.verbatim("Some string"); }) == "=15\r\ntxt:Some string\r\n");
  BOOST_TEST(written(3, [](resp_writer& w) { w.verbatim("# x", "mkd"); }) == "=7\r\nmkd:# x\r\n");
  BOOST_TEST(written(3, [](resp_writer& w) { w.verbatim(""); }) == "=4\r\ntxt:\r\n");
}

BOOST_AUTO_TEST_CASE(error_newlines_become_spaces) {
  BOOST_TEST(written(2, [](resp_writer& w) { w.error("ERR bad\r\nthing\n"); }) == "-ERR bad  thing \r\n");
  BOOST_TEST(written(3, [](resp_writer& w) { w.error("\rERR x"); }) == "- ERR x\r\n");
  // Only the new error is touched, not what was written before it.
  std::string out;
  resp_writer w(out);
  w.bulk("a\r\nb");
  w.error("E\n");
  BOOST_TEST(out == "$4\r\na\r\nb\r\n-E \r\n");
}

BOOST_AUTO_TEST_CASE(switching_protocol_and_buffer) {
  std::string a, b;
  resp_writer w(a);
  BOOST_TEST(w.resp() == 2);
  w.null();
  w.set_resp(3);
  BOOST_TEST(w.resp() == 3);
  w.null();
  BOOST_TEST(a == "$-1\r\n_\r\n");
  w.retarget(b);
  w.ok();
  BOOST_TEST(&w.buffer() == &b);
  BOOST_TEST(b == "+OK\r\n");
  BOOST_TEST(a == "$-1\r\n_\r\n");
}

BOOST_AUTO_TEST_SUITE_END()
