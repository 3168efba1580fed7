#include "protocol/numbers.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace troupe::protocol {

bool parse_uint64(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 20)
    return false;
  if (s[0] < '1' || s[0] > '9') {
    if (s.size() == 1 && s[0] == '0') {
      out = 0;
      return true;
    }
    return false;
  }
  uint64_t v = 0;
  for (char c : s) {
    auto d = static_cast<unsigned>(static_cast<unsigned char>(c)) - '0';
    if (d > 9)
      return false;
    // Up to 19 digits cannot overflow; only a 20-digit number is checked, step by step.
    if (s.size() < 20) {
      v = v * 10 + d;
    } else if (__builtin_mul_overflow(v, uint64_t{10}, &v) || __builtin_add_overflow(v, uint64_t{d}, &v)) {
      return false;
    }
  }
  out = v;
  return true;
}

bool parse_int64(std::string_view s, int64_t& out) {
  if (s.empty())
    return false;
  bool neg = false;
  if (s[0] == '-') {
    neg = true;
    s.remove_prefix(1);
    if (s.empty() || s[0] == '0')
      return false; // "-" and "-0..." are not integers for Redis
  }
  uint64_t u = 0;
  if (!parse_uint64(s, u))
    return false;
  if (neg) {
    if (u > static_cast<uint64_t>(INT64_MAX) + 1)
      return false;
    out = static_cast<int64_t>(0 - u);
  } else {
    if (u > static_cast<uint64_t>(INT64_MAX))
      return false;
    out = static_cast<int64_t>(u);
  }
  return true;
}

bool is_canonical_int(std::string_view s, int64_t* value) {
  int64_t v;
  if (s.size() > 20 || !parse_int64(s, v))
    return false;
  if (value)
    *value = v;
  return true;
}

bool parse_double(std::string_view s, double& out) {
  if (s.empty() || s.size() >= 5120 || std::isspace(static_cast<unsigned char>(s[0])))
    return false;
  char buf[5121];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(buf, &end);
  if (end != buf + s.size() || (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || v == 0))
      || std::isnan(v))
    return false;
  out = v;
  return true;
}

bool parse_long_double(std::string_view s, long double& out) {
  if (s.empty() || s.size() >= 5120 || std::isspace(static_cast<unsigned char>(s[0])))
    return false;
  char buf[5121];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  char* end = nullptr;
  errno = 0;
  long double v = std::strtold(buf, &end);
  if (end != buf + s.size() || std::isnan(v)
      || (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || std::fpclassify(v) == FP_ZERO)))
    return false;
  out = v;
  return true;
}

std::string format_long_double(long double v) {
  if (std::isinf(v))
    return v > 0 ? "inf" : "-inf";
  char buf[5600];
  int n = std::snprintf(buf, sizeof(buf), "%.17Lf", v);
  if (n <= 0)
    return "0";
  std::string s(buf, static_cast<size_t>(n));
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0')
      s.pop_back();
    if (!s.empty() && s.back() == '.')
      s.pop_back();
  }
  if (s == "-0")
    s = "0";
  return s;
}

} // namespace troupe::protocol
