// Text helpers of the config module: line splitting, quoting, glob matching, number parsing.
#include "config/detail.hpp"

#include <cctype>
#include <climits>

#include <fmt/format.h>

namespace troupe::config::detail {

namespace {

char lower_char(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = lower_char(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower_char(a[i]) != lower_char(b[i])) return false;
  return true;
}

std::string trim(std::string_view s, std::string_view chars) {
  auto first = s.find_first_not_of(chars);
  if (first == std::string_view::npos) return {};
  auto last = s.find_last_not_of(chars);
  return std::string(s.substr(first, last - first + 1));
}

std::optional<std::vector<std::string>> split_args(std::string_view line) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  const std::size_t n = line.size();
  for (;;) {
    while (pos < n && is_space(line[pos])) ++pos;
    if (pos >= n) return out;
    std::string token;
    enum { plain, dquote, squote } state = plain;
    for (bool done = false; !done;) {
      if (state == dquote) {
        if (pos >= n) return std::nullopt;
        char c = line[pos];
        if (c == '\\' && pos + 3 < n && line[pos + 1] == 'x' && hex_value(line[pos + 2]) >= 0 &&
            hex_value(line[pos + 3]) >= 0) {
          token.push_back(static_cast<char>(hex_value(line[pos + 2]) * 16 + hex_value(line[pos + 3])));
          pos += 4;
          continue;
        }
        if (c == '\\' && pos + 1 < n) {
          char e = line[pos + 1];
          switch (e) {
            case 'n': token.push_back('\n'); break;
            case 'r': token.push_back('\r'); break;
            case 't': token.push_back('\t'); break;
            case 'b': token.push_back('\b'); break;
            case 'a': token.push_back('\a'); break;
            default: token.push_back(e); break;
          }
          pos += 2;
          continue;
        }
        if (c == '"') {
          // A closing quote must be followed by a space or the end of the line.
          if (pos + 1 < n && !is_space(line[pos + 1])) return std::nullopt;
          done = true;
        } else {
          token.push_back(c);
        }
        ++pos;
      } else if (state == squote) {
        if (pos >= n) return std::nullopt;
        char c = line[pos];
        if (c == '\\' && pos + 1 < n && line[pos + 1] == '\'') {
          token.push_back('\'');
          pos += 2;
          continue;
        }
        if (c == '\'') {
          if (pos + 1 < n && !is_space(line[pos + 1])) return std::nullopt;
          done = true;
        } else {
          token.push_back(c);
        }
        ++pos;
      } else {
        if (pos >= n) break;
        char c = line[pos];
        switch (c) {
          case ' ': case '\n': case '\r': case '\t': case '\0':
            done = true;
            break;
          case '"': state = dquote; break;
          case '\'': state = squote; break;
          default: token.push_back(c); break;
        }
        ++pos;
      }
    }
    out.push_back(std::move(token));
  }
}

std::vector<std::string> split_spaces(std::string_view s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  std::size_t start = 0;
  for (;;) {
    auto sp = s.find(' ', start);
    if (sp == std::string_view::npos) {
      out.emplace_back(s.substr(start));
      return out;
    }
    out.emplace_back(s.substr(start, sp - start));
    start = sp + 1;
  }
}

std::string repr(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      default:
        if (std::isprint(c))
          out.push_back(static_cast<char>(c));
        else
          out += fmt::format("\\x{:02x}", c);
    }
  }
  out.push_back('"');
  return out;
}

namespace {

bool glob_rec(std::string_view p, std::string_view s, bool nocase, int depth) {
  auto eq = [nocase](char a, char b) { return nocase ? lower_char(a) == lower_char(b) : a == b; };
  if (depth > 1000) return false;
  while (!p.empty() && !s.empty()) {
    switch (p[0]) {
      case '*': {
        while (p.size() > 1 && p[1] == '*') p.remove_prefix(1);
        if (p.size() == 1) return true;
        for (std::size_t i = 0; i <= s.size(); ++i)
          if (glob_rec(p.substr(1), s.substr(i), nocase, depth + 1)) return true;
        return false;
      }
      case '?':
        s.remove_prefix(1);
        break;
      case '[': {
        p.remove_prefix(1);
        bool negate = !p.empty() && p[0] == '^';
        if (negate) p.remove_prefix(1);
        bool match = false;
        for (;;) {
          if (p.empty()) break;  // unterminated class: ends with the pattern
          if (p[0] == '\\' && p.size() >= 2) {
            p.remove_prefix(1);
            if (eq(p[0], s[0])) match = true;
          } else if (p[0] == ']') {
            break;
          } else if (p.size() >= 3 && p[1] == '-') {
            char lo = p[0], hi = p[2], c = s[0];
            if (lo > hi) std::swap(lo, hi);
            if (nocase) {
              lo = lower_char(lo);
              hi = lower_char(hi);
              c = lower_char(c);
            }
            if (c >= lo && c <= hi) match = true;
            p.remove_prefix(2);
          } else if (eq(p[0], s[0])) {
            match = true;
          }
          p.remove_prefix(1);
        }
        if (negate) match = !match;
        if (!match) return false;
        s.remove_prefix(1);
        if (!p.empty()) p.remove_prefix(1);  // the closing ']'
        continue;
      }
      case '\\':
        if (p.size() >= 2) p.remove_prefix(1);
        [[fallthrough]];
      default:
        if (!eq(p[0], s[0])) return false;
        s.remove_prefix(1);
        break;
    }
    p.remove_prefix(1);
  }
  if (s.empty())
    while (!p.empty() && p[0] == '*') p.remove_prefix(1);
  return p.empty() && s.empty();
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view str, bool nocase) {
  return glob_rec(pattern, str, nocase, 0);
}

std::optional<long long> parse_ll(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  if (s == "0") return 0;
  bool negative = false;
  std::size_t i = 0;
  if (s[0] == '-') {
    negative = true;
    i = 1;
    if (s.size() == 1) return std::nullopt;
  }
  if (s[i] < '1' || s[i] > '9') return std::nullopt;
  unsigned long long v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    unsigned d = static_cast<unsigned>(s[i] - '0');
    if (v > (ULLONG_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  if (negative) {
    if (v > static_cast<unsigned long long>(LLONG_MAX) + 1) return std::nullopt;
    return static_cast<long long>(0 - v);
  }
  if (v > static_cast<unsigned long long>(LLONG_MAX)) return std::nullopt;
  return static_cast<long long>(v);
}

std::optional<unsigned long long> parse_memory(std::string_view s) {
  std::size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
  std::string unit = lower(s.substr(digits));
  unsigned long long mul;
  if (unit.empty() || unit == "b")
    mul = 1;
  else if (unit == "k")
    mul = 1000;
  else if (unit == "kb")
    mul = 1024;
  else if (unit == "m")
    mul = 1000ULL * 1000;
  else if (unit == "mb")
    mul = 1024ULL * 1024;
  else if (unit == "g")
    mul = 1000ULL * 1000 * 1000;
  else if (unit == "gb")
    mul = 1024ULL * 1024 * 1024;
  else
    return std::nullopt;
  unsigned long long v = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    unsigned d = static_cast<unsigned>(s[i] - '0');
    if (v > (ULLONG_MAX - d) / 10) {
      v = ULLONG_MAX;  // strtoull saturates
      break;
    }
    v = v * 10 + d;
  }
  if (v != 0 && mul > ULLONG_MAX / v) return ULLONG_MAX;
  return v * mul;
}

std::optional<long long> parse_c_integer(std::string_view s, int base) {
  std::size_t i = 0;
  while (i < s.size() && is_space(s[i])) ++i;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    negative = s[i] == '-';
    ++i;
  }
  std::size_t first_digit = i;
  unsigned long long v = 0;
  bool overflow = false;
  for (; i < s.size(); ++i) {
    int d = hex_value(s[i]);
    if (d < 0 || d >= base) break;
    if (v > (ULLONG_MAX - static_cast<unsigned>(d)) / static_cast<unsigned>(base))
      overflow = true;
    else
      v = v * static_cast<unsigned>(base) + static_cast<unsigned>(d);
  }
  if (i == first_digit) {
    // No conversion: the end pointer is the start of the string, fine only when it is empty.
    if (s.empty()) return 0;
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  if (negative) {
    if (overflow || v > static_cast<unsigned long long>(LLONG_MAX) + 1) return LLONG_MIN;
    return static_cast<long long>(0 - v);
  }
  if (overflow || v > static_cast<unsigned long long>(LLONG_MAX)) return LLONG_MAX;
  return static_cast<long long>(v);
}

std::string memory_to_text(unsigned long long v) {
  constexpr unsigned long long kb = 1024, mb = kb * 1024, gb = mb * 1024;
  if (v != 0 && v % gb == 0) return fmt::format("{}gb", v / gb);
  if (v != 0 && v % mb == 0) return fmt::format("{}mb", v / mb);
  if (v != 0 && v % kb == 0) return fmt::format("{}kb", v / kb);
  return fmt::format("{}", v);
}

std::string double_to_text(double v) {
  std::string s = fmt::format("{:f}", v);
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  return s;
}

}  // namespace troupe::config::detail
