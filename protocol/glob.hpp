// Glob-style patterns as Redis uses them (KEYS, SCAN MATCH, CONFIG GET, PSUBSCRIBE):
// * ? [abc] [^abc] [a-z] and \ escapes. Compiled once, matched in linear time.
#pragma once

#include <bitset>
#include <string_view>
#include <vector>

namespace troupe::protocol {

class glob {
public:
  explicit glob(std::string_view pattern, bool nocase = false);
  bool match(std::string_view s) const;
  // True for "*" (or "**"...): everything matches.
  bool matches_everything() const { return all_; }

private:
  struct token {
    enum kind_t : uint8_t { star, any, one } kind;
    std::bitset<256> chars; // for `one`: the accepted bytes
  };
  bool match_one(const token& t, unsigned char c) const { return t.chars.test(c); }
  std::vector<token> tokens_;
  bool all_ = false;
};

inline bool glob_match(std::string_view pattern, std::string_view s, bool nocase = false) {
  return glob(pattern, nocase).match(s);
}

} // namespace troupe::protocol
