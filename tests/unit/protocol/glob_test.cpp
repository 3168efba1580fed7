// Glob patterns. The matrix below is what redis-server 7.0.15's KEYS returned for each pattern over
// the listed keys.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "protocol/glob.hpp"

using troupe::protocol::glob;
using troupe::protocol::glob_match;

namespace {

struct glob_case {
  const char* pattern;
  std::vector<std::string> matches;
};

const char* const subjects[] = {"hello", "hallo", "hxllo", "hllo", "heeeello", "a*b", "a?b", "aXb",
                                "A",     "a",     "]",     "-",    "^",        "b",   "[",   "\\",
                                "ab\\",  "foo.bar", "",    "abc",  "aaa",      "x-y", "_"};

const glob_case redis_keys_results[] = {
  {"h?llo", {"hallo", "hello", "hxllo"}},
  {"h*llo", {"hallo", "heeeello", "hello", "hllo", "hxllo"}},
  {"h[ae]llo", {"hallo", "hello"}},
  {"h[^e]llo", {"hallo", "hxllo"}},
  {"h[a-b]llo", {"hallo"}},
  {"a\\*b", {"a*b"}},
  {"a[*]b", {"a*b"}},
  {"[z-a]", {"a", "b"}},
  {"[abc", {"a", "b"}},
  {"a\\", {}},
  {"*", {"", "-", "A", "[", "\\", "]", "^", "_", "a", "a*b", "a?b", "aXb", "aaa", "ab\\", "abc", "b", "foo.bar",
         "hallo", "heeeello", "hello", "hllo", "hxllo", "x-y"}},
  {"", {""}},
  {"[a-]", {"]", "^", "_", "a"}},
  {"a*", {"a", "a*b", "a?b", "aXb", "aaa", "ab\\", "abc"}},
  {"*b", {"a*b", "a?b", "aXb", "b"}},
  {"?", {"-", "A", "[", "\\", "]", "^", "_", "a", "b"}},
  {"??", {}},
  {"a?b", {"a*b", "a?b", "aXb"}},
  {"[\\]]", {"]"}},
  {"[]", {}},
  {"[^]", {"-", "A", "[", "\\", "]", "^", "_", "a", "b"}},
  {"a[^X]b", {"a*b", "a?b"}},
  {"*a*a*", {"aaa"}},
  {"\\a", {"a"}},
  {"[\\-]", {"-"}},
  {"h*l*o", {"hallo", "heeeello", "hello", "hllo", "hxllo"}},
  {"*.*", {"foo.bar"}},
  {"[^a-z]", {"-", "A", "[", "\\", "]", "^", "_"}},
};

// Unterminated classes and ranges, over a second set of keys.
const char* const edge_subjects[] = {"a[", "a", "[", "\\", "ab", "a-", "b", "c", "-", "^", "a\\", "x"};

const glob_case redis_edge_results[] = {
  {"a[", {}},
  {"[", {}},
  {"[^", {"-", "[", "\\", "^", "a", "b", "c", "x"}},
  {"\\", {"\\"}},
  {"a[b-", {"a-", "ab"}},
  {"[a-b-c]", {"-", "a", "b", "c"}},
  {"a[\\", {"a\\"}},
  {"[a-", {"-", "a"}},
  {"[-a]", {"-", "a"}},
  {"[!a]", {"a"}},
  {"a\\\\", {"a\\"}},
  {"[b-a]", {"a", "b"}},
};

} // namespace

BOOST_AUTO_TEST_SUITE(glob_suite)

BOOST_AUTO_TEST_CASE(same_matches_as_redis_keys) {
  for (auto& c : redis_keys_results) {
    glob g(c.pattern);
    for (const char* s : subjects) {
      bool expected = std::find(c.matches.begin(), c.matches.end(), s) != c.matches.end();
      BOOST_TEST(g.match(s) == expected, "pattern '" << c.pattern << "' on '" << s << "'");
    }
  }
}

BOOST_AUTO_TEST_CASE(edge_cases_same_as_redis_keys) {
  for (auto& c : redis_edge_results) {
    glob g(c.pattern);
    for (const char* s : edge_subjects) {
      bool expected = std::find(c.matches.begin(), c.matches.end(), s) != c.matches.end();
      BOOST_TEST(g.match(s) == expected, "pattern '" << c.pattern << "' on '" << s << "'");
    }
  }
}

BOOST_AUTO_TEST_CASE(star_backtracking) {
  BOOST_TEST(glob_match("*abc", "ababababc"));
  BOOST_TEST(glob_match("a*b*c", "aXXbYYbZc"));
  BOOST_TEST(!glob_match("a*b*c", "aXXbYYbZ"));
  BOOST_TEST(glob_match("**x**", "yyxyy"));
  BOOST_TEST(glob_match("*?", "a"));
  BOOST_TEST(!glob_match("*?", ""));
  BOOST_TEST(glob_match("user:*:name", "user:1000:name"));
  BOOST_TEST(!glob_match("user:*:name", "user:1000:names"));
  // Long subjects with many stars finish quickly (no exponential backtracking).
  std::string long_a(5000, 'a');
  BOOST_TEST(!glob_match("*a*a*a*a*a*a*a*a*b", long_a));
  BOOST_TEST(glob_match("*a*a*a*a*a*a*a*a*", long_a));
}

BOOST_AUTO_TEST_CASE(matches_everything) {
  BOOST_TEST(glob("*").matches_everything());
  BOOST_TEST(glob("***").matches_everything());
  BOOST_TEST(!glob("*a").matches_everything());
  BOOST_TEST(!glob("").matches_everything());
  BOOST_TEST(glob("*").match(""));
}

BOOST_AUTO_TEST_CASE(binary_subjects) {
  std::string s("a\0b", 3);
  BOOST_TEST(glob_match("a?b", s));
  BOOST_TEST(glob_match("a*", s));
  BOOST_TEST(glob_match("[^x][^x][^x]", s));
  BOOST_TEST(glob_match("?", "\xff"));
  BOOST_TEST(glob_match("[\x80-\xff]", "\xc3"));
}

BOOST_AUTO_TEST_CASE(nocase) {
  BOOST_TEST(glob_match("H*O", "hello", true));
  BOOST_TEST(!glob_match("H*O", "hello", false));
  BOOST_TEST(glob_match("maxMEMORY*", "maxmemory-policy", true));
  BOOST_TEST(glob_match("h[AE]llo", "HELLO", true));
  BOOST_TEST(glob_match("h[A-E]llo", "hello", true));
  BOOST_TEST(glob_match("[a-z]", "Q", true));
  BOOST_TEST(!glob_match("[a-z]", "Q", false));
  BOOST_TEST(!glob_match("[^a-z]", "Q", true));
  BOOST_TEST(glob_match("\\A", "a", true));
  BOOST_TEST(glob_match("?", "Z", true));
}

BOOST_AUTO_TEST_SUITE_END()
