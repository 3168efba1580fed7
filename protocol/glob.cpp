#include "protocol/glob.hpp"

#include <cctype>

namespace troupe::protocol {

namespace {

void add_char(std::bitset<256>& set, unsigned char c, bool nocase) {
  set.set(c);
  if (nocase) {
    set.set(static_cast<unsigned char>(std::tolower(c)));
    set.set(static_cast<unsigned char>(std::toupper(c)));
  }
}

} // namespace

glob::glob(std::string_view p, bool nocase) {
  size_t i = 0, n = p.size();
  while (i < n) {
    token t;
    char c = p[i];
    if (c == '*') {
      if (tokens_.empty() || tokens_.back().kind != token::star) {
        t.kind = token::star;
        tokens_.push_back(t);
      }
      ++i;
      continue;
    }
    if (c == '?') {
      t.kind = token::any;
      tokens_.push_back(t);
      ++i;
      continue;
    }
    t.kind = token::one;
    if (c == '[') {
      ++i;
      bool negate = i < n && p[i] == '^';
      if (negate)
        ++i;
      std::bitset<256> set;
      while (i < n && p[i] != ']') {
        if (p[i] == '\\' && i + 1 < n) {
          add_char(set, static_cast<unsigned char>(p[i + 1]), false);
          i += 2;
        } else if (i + 2 < n && p[i + 1] == '-') {
          unsigned char a = static_cast<unsigned char>(p[i]), b = static_cast<unsigned char>(p[i + 2]);
          if (a > b)
            std::swap(a, b);
          if (nocase) {
            a = static_cast<unsigned char>(std::tolower(a));
            b = static_cast<unsigned char>(std::tolower(b));
            for (unsigned x = 0; x < 256; ++x)
              if (static_cast<unsigned>(std::tolower(static_cast<int>(x))) >= a
                  && static_cast<unsigned>(std::tolower(static_cast<int>(x))) <= b)
                set.set(x);
          } else {
            for (unsigned x = a; x <= b; ++x)
              set.set(x);
          }
          i += 3;
        } else {
          add_char(set, static_cast<unsigned char>(p[i]), nocase);
          ++i;
        }
      }
      if (i < n)
        ++i; // the closing ']'
      t.chars = negate ? ~set : set;
      tokens_.push_back(t);
      continue;
    }
    if (c == '\\' && i + 1 < n)
      ++i;
    add_char(t.chars, static_cast<unsigned char>(p[i]), nocase);
    tokens_.push_back(t);
    ++i;
  }
  all_ = tokens_.size() == 1 && tokens_[0].kind == token::star;
}

bool glob::match(std::string_view s) const {
  if (all_)
    return true;
  size_t ti = 0, si = 0;
  size_t star_t = SIZE_MAX, star_s = 0;
  const size_t tn = tokens_.size(), sn = s.size();
  while (si < sn) {
    if (ti < tn && tokens_[ti].kind == token::star) {
      star_t = ti++;
      star_s = si;
      continue;
    }
    if (ti < tn && (tokens_[ti].kind == token::any || match_one(tokens_[ti], static_cast<unsigned char>(s[si])))) {
      ++ti;
      ++si;
      continue;
    }
    if (star_t == SIZE_MAX)
      return false;
    ti = star_t + 1;
    si = ++star_s;
  }
  while (ti < tn && tokens_[ti].kind == token::star)
    ++ti;
  return ti == tn;
}

} // namespace troupe::protocol
