// Sorted set commands: ZADD ZINCRBY ZREM, scores and ranks, the ZRANGE family (by rank, score
// and lex, reversed, limited, stored), removals by range, pops (and their blocking forms),
// ZRANDMEMBER, the set algebra (ZUNION ZINTER ZDIFF, their STORE forms, ZINTERCARD) and ZSCAN.
#include <algorithm>
#include <climits>
#include <cmath>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

#include "keyspace/commands.hpp"
#include "keyspace/set_value.hpp"
#include "keyspace/zset_value.hpp"
#include "protocol/command_table.hpp"
#include "protocol/numbers.hpp"

namespace troupe::keyspace {

using protocol::iequals;

namespace {

using zitems = std::vector<std::pair<std::string_view, double>>;

zset_value* as_zset(entry* e) { return static_cast<zset_value*>(e->coll()); }

bool fits_listpack(exec_context& c, size_t count, size_t max_len) {
  return static_cast<int64_t>(count) <= c.settings().zset_max_listpack_entries
         && static_cast<int64_t>(max_len) <= c.settings().zset_max_listpack_value;
}

entry* create_zset(exec_context& c, std::string_view key) {
  entry* e = make_collection_entry(key, hash_key(key), vtype::zset, std::make_unique<zset_value>(false), -1);
  c.add(e);
  return e;
}

// After elements left the set under `key`: delete it when empty, else report the change.
void after_removal(exec_context& c, std::string_view key, zset_value* z) {
  if (z->empty())
    c.remove(key);
  else
    c.touched(key);
}

// Stores `items` as a fresh sorted set under `dst` (replacing any value and expiry), or deletes
// `dst` when there are none. Replies the resulting size. The items may point into `dst`'s value.
void store_items(exec_context& c, std::string_view dst, const zitems& items) {
  entry* old = c.lookup_write(dst);
  if (items.empty()) {
    if (old != nullptr) {
      c.remove(dst);
      c.changed();
    }
    c.out().integer(0);
    return;
  }
  size_t max_len = 0;
  for (auto& [m, s] : items)
    max_len = std::max(max_len, m.size());
  auto z = std::make_unique<zset_value>(!fits_listpack(c, items.size(), max_len));
  for (auto& [m, s] : items)
    z->insert(m, s);
  size_t n = z->size();
  entry* fresh = make_collection_entry(dst, hash_key(dst), vtype::zset, std::move(z), -1);
  if (old != nullptr) {
    c.replace(old, fresh);
    c.ready(dst);
  } else {
    c.add(fresh); // reports the key as ready itself
  }
  c.changed();
  c.out().integer(static_cast<int64_t>(n));
}

// Member/score pairs: a flat array in RESP2, an array of [member, score] pairs in RESP3.
void reply_items(exec_context& c, const zitems& items, bool withscores) {
  auto& o = c.out();
  bool nested = withscores && o.resp() >= 3;
  o.array(withscores && !nested ? items.size() * 2 : items.size());
  for (auto& [m, s] : items) {
    if (nested)
      o.array(2);
    o.bulk(m);
    if (withscores)
      o.dbl(s);
  }
}

bool parse_long(exec_context& c, std::string_view arg, int64_t& v) {
  if (!protocol::parse_int64(arg, v)) {
    c.reply_not_integer();
    return false;
  }
  return true;
}

// ---- ranges ------------------------------------------------------------------------------------

struct score_range {
  double min = 0, max = 0;
  bool minex = false, maxex = false;
  bool gte_min(double v) const { return minex ? v > min : v >= min; }
  bool lte_max(double v) const { return maxex ? v < max : v <= max; }
};

// One end of a score range as Redis reads it: strtod over the whole (C) string, "(" for an
// exclusive bound; NaN is refused.
bool parse_score_bound(std::string_view arg, double& v, bool& ex) {
  std::string s(arg.substr(0, arg.find('\0')));
  const char* p = s.c_str();
  ex = false;
  if (*p == '(') {
    ex = true;
    ++p;
  }
  char* end = nullptr;
  v = std::strtod(p, &end);
  return *end == '\0' && !std::isnan(v);
}

bool parse_score_range(std::string_view min, std::string_view max, score_range& r) {
  return parse_score_bound(min, r.min, r.minex) && parse_score_bound(max, r.max, r.maxex);
}

struct lex_bound {
  int kind = 0; // -1: "-" (below everything), +1: "+" (above everything), 0: `value`
  std::string_view value;
  bool ex = false;
  // Three-way comparison of element `m` with the bound.
  int compare(std::string_view m) const {
    if (kind != 0)
      return -kind;
    int r = m.compare(value);
    return r < 0 ? -1 : (r > 0 ? 1 : 0);
  }
};

struct lex_range {
  lex_bound min, max;
  bool gte_min(std::string_view m) const {
    int r = min.compare(m);
    return min.ex ? r > 0 : r >= 0;
  }
  bool lte_max(std::string_view m) const {
    int r = max.compare(m);
    return max.ex ? r < 0 : r <= 0;
  }
};

bool parse_lex_bound(std::string_view s, lex_bound& b) {
  if (s.empty())
    return false;
  switch (s[0]) {
    case '+':
    case '-':
      if (s.size() > 1 && s[1] != '\0')
        return false;
      b.kind = s[0] == '+' ? 1 : -1;
      b.ex = true;
      return true;
    case '(':
    case '[':
      b.kind = 0;
      b.ex = s[0] == '(';
      b.value = s.substr(1);
      return true;
    default:
      return false;
  }
}

bool parse_lex_range(std::string_view min, std::string_view max, lex_range& r) {
  return parse_lex_bound(min, r.min) && parse_lex_bound(max, r.max);
}

void range_by_rank(const zset_value* z, int64_t start, int64_t end, bool rev, zitems& out) {
  int64_t len = static_cast<int64_t>(z->size());
  if (!clamp_index_range(start, end, len))
    return;
  size_t n = static_cast<size_t>(end - start + 1);
  out.reserve(n);
  auto take = [&](std::string_view m, double s) {
    out.emplace_back(m, s);
    return out.size() < n;
  };
  if (rev)
    z->walk_backward(static_cast<size_t>(len - 1 - start), take);
  else
    z->walk_forward(static_cast<size_t>(start), take);
}

// The BYSCORE / BYLEX walk: from the first element in range (`first`, or -1 for none), skip
// `offset` elements, then take elements while `in_range` holds, at most `limit` (< 0: all).
template <class InRange>
void range_walk(const zset_value* z, int64_t first, bool rev, int64_t offset, int64_t limit, InRange&& in_range,
                zitems& out) {
  if (first < 0 || static_cast<size_t>(first) >= z->size())
    return;
  if (offset < 0) // Redis's skip loop runs off the end for a negative offset
    return;
  bool skip_checked = false;
  auto visit = [&](std::string_view m, double s) {
    if (!skip_checked) {
      if (offset > 0) {
        --offset;
        return true;
      }
      skip_checked = true;
    }
    if (limit == 0 || !in_range(m, s))
      return false;
    out.emplace_back(m, s);
    if (limit > 0)
      --limit;
    return true;
  };
  if (rev)
    z->walk_backward(static_cast<size_t>(first), visit);
  else
    z->walk_forward(static_cast<size_t>(first), visit);
}

int64_t first_in_score_range(const zset_value* z, const score_range& r) {
  size_t i = z->first_false([&](std::string_view, double s) { return !r.gte_min(s); });
  if (i >= z->size() || !r.lte_max(z->at(i).second))
    return -1;
  return static_cast<int64_t>(i);
}

int64_t last_in_score_range(const zset_value* z, const score_range& r) {
  int64_t i = z->last_true([&](std::string_view, double s) { return r.lte_max(s); });
  if (i < 0 || !r.gte_min(z->at(static_cast<size_t>(i)).second))
    return -1;
  return i;
}

// Redis's first test of a lex range: the last element must not be below it, the first not above.
bool lex_range_reachable(const zset_value* z, const lex_range& r) {
  return !z->empty() && r.gte_min(z->at(z->size() - 1).first) && r.lte_max(z->at(0).first);
}

int64_t first_in_lex_range(const zset_value* z, const lex_range& r) {
  if (!lex_range_reachable(z, r))
    return -1;
  size_t i = z->first_false([&](std::string_view m, double) { return !r.gte_min(m); });
  if (i >= z->size() || !r.lte_max(z->at(i).first))
    return -1;
  return static_cast<int64_t>(i);
}

int64_t last_in_lex_range(const zset_value* z, const lex_range& r) {
  if (!lex_range_reachable(z, r))
    return -1;
  int64_t i = z->last_true([&](std::string_view m, double) { return r.lte_max(m); });
  if (i < 0 || !r.gte_min(z->at(static_cast<size_t>(i)).first))
    return -1;
  return i;
}

void range_by_score(const zset_value* z, const score_range& r, int64_t offset, int64_t limit, bool rev, zitems& out) {
  if (offset > 0 && static_cast<uint64_t>(offset) >= z->size())
    return;
  if (rev)
    range_walk(z, last_in_score_range(z, r), true, offset, limit,
               [&](std::string_view, double s) { return r.gte_min(s); }, out);
  else
    range_walk(z, first_in_score_range(z, r), false, offset, limit,
               [&](std::string_view, double s) { return r.lte_max(s); }, out);
}

void range_by_lex(const zset_value* z, const lex_range& r, int64_t offset, int64_t limit, bool rev, zitems& out) {
  if (offset > 0 && static_cast<uint64_t>(offset) >= z->size())
    return;
  if (rev)
    range_walk(z, last_in_lex_range(z, r), true, offset, limit,
               [&](std::string_view m, double) { return r.gte_min(m); }, out);
  else
    range_walk(z, first_in_lex_range(z, r), false, offset, limit,
               [&](std::string_view m, double) { return r.lte_max(m); }, out);
}

// ---- ZADD ZINCRBY ------------------------------------------------------------------------------

enum zadd_flags : unsigned { z_nx = 1, z_xx = 2, z_gt = 4, z_lt = 8, z_incr = 16, z_ch = 32 };

void zadd_generic(exec_context& c, unsigned flags) {
  size_t at = 2;
  for (; at < c.argc(); ++at) {
    std::string_view opt = c.arg(at);
    if (iequals(opt, "nx"))
      flags |= z_nx;
    else if (iequals(opt, "xx"))
      flags |= z_xx;
    else if (iequals(opt, "ch"))
      flags |= z_ch;
    else if (iequals(opt, "incr"))
      flags |= z_incr;
    else if (iequals(opt, "gt"))
      flags |= z_gt;
    else if (iequals(opt, "lt"))
      flags |= z_lt;
    else
      break;
  }
  size_t elements = c.argc() - at;
  if (elements % 2 != 0 || elements == 0) {
    c.reply_syntax_error();
    return;
  }
  elements /= 2;
  bool nx = flags & z_nx, xx = flags & z_xx, gt = flags & z_gt, lt = flags & z_lt, incr = flags & z_incr;
  if (nx && xx) {
    c.out().error("ERR XX and NX options at the same time are not compatible");
    return;
  }
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    c.out().error("ERR GT, LT, and/or NX options at the same time are not compatible");
    return;
  }
  if (incr && elements > 1) {
    c.out().error("ERR INCR option supports a single increment-element pair");
    return;
  }
  std::vector<double> scores(elements);
  for (size_t j = 0; j < elements; ++j)
    if (!protocol::parse_double(c.arg(at + j * 2), scores[j])) {
      c.reply_not_float();
      return;
    }
  std::string_view key = c.arg(1);
  entry* e = c.lookup_write(key);
  if (c.wrong_type(e, vtype::zset))
    return;
  int64_t added = 0, updated = 0, processed = 0;
  double score = 0;
  bool nan_error = false;
  bool created = false;
  if (e == nullptr && !xx) {
    e = create_zset(c, key); // add() reports the new key as touched and ready
    created = true;
  }
  if (e != nullptr) {
    zset_value* z = as_zset(e);
    for (size_t j = 0; j < elements; ++j) {
      double s = scores[j];
      std::string_view member = c.arg(at + j * 2 + 1);
      std::optional<double> cur = z->score(member);
      if (cur) {
        if (nx)
          continue;
        if (incr) {
          s += *cur;
          if (std::isnan(s)) {
            nan_error = true;
            break;
          }
        }
        if ((lt && s >= *cur) || (gt && s <= *cur))
          continue;
        score = s;
        if (s != *cur) {
          z->insert(member, s);
          ++updated;
        }
        ++processed;
      } else if (!xx) {
        z->convert_if_needed(member.size(), true, c.settings().zset_max_listpack_entries,
                             c.settings().zset_max_listpack_value);
        z->insert(member, s);
        score = s;
        ++added;
        ++processed;
      }
    }
    if (z->empty()) // only when nothing was added to a key this command created
      c.remove(key);
  }
  c.changed(static_cast<uint64_t>(added + updated));
  if ((added || updated) && !created) {
    c.touched(key);
    if (added)
      c.ready(key);
  }
  if (nan_error) {
    c.out().error("ERR resulting score is not a number (NaN)");
    return;
  }
  if (incr) {
    if (processed)
      c.out().dbl(score);
    else
      c.out().null();
  } else {
    c.out().integer((flags & z_ch) ? added + updated : added);
  }
}

void cmd_zadd(exec_context& c) { zadd_generic(c, 0); }
void cmd_zincrby(exec_context& c) { zadd_generic(c, z_incr); }

// ---- simple reads and removals -----------------------------------------------------------------

void cmd_zrem(exec_context& c) {
  std::string_view key = c.arg(1);
  entry* e = c.lookup_write(key);
  if (e == nullptr) {
    c.out().integer(0);
    return;
  }
  if (c.wrong_type(e, vtype::zset))
    return;
  zset_value* z = as_zset(e);
  int64_t deleted = 0;
  for (size_t j = 2; j < c.argc(); ++j) {
    if (z->erase(c.arg(j)))
      ++deleted;
    if (z->empty())
      break;
  }
  if (deleted) {
    c.changed(static_cast<uint64_t>(deleted));
    after_removal(c, key, z);
  }
  c.out().integer(deleted);
}

void cmd_zcard(exec_context& c) {
  entry* e = c.lookup_read(c.arg(1));
  if (c.wrong_type(e, vtype::zset))
    return;
  c.out().integer(e ? static_cast<int64_t>(as_zset(e)->size()) : 0);
}

void cmd_zscore(exec_context& c) {
  entry* e = c.lookup_read(c.arg(1));
  if (e == nullptr) {
    c.out().null();
    return;
  }
  if (c.wrong_type(e, vtype::zset))
    return;
  std::optional<double> s = as_zset(e)->score(c.arg(2));
  if (s)
    c.out().dbl(*s);
  else
    c.out().null();
}

void cmd_zmscore(exec_context& c) {
  entry* e = c.lookup_read(c.arg(1));
  if (c.wrong_type(e, vtype::zset))
    return;
  c.out().array(c.argc() - 2);
  for (size_t j = 2; j < c.argc(); ++j) {
    std::optional<double> s = e ? as_zset(e)->score(c.arg(j)) : std::nullopt;
    if (s)
      c.out().dbl(*s);
    else
      c.out().null();
  }
}

void rank_generic(exec_context& c, bool rev) {
  entry* e = c.lookup_read(c.arg(1));
  if (e == nullptr) {
    c.out().null();
    return;
  }
  if (c.wrong_type(e, vtype::zset))
    return;
  zset_value* z = as_zset(e);
  std::optional<size_t> r = z->rank(c.arg(2));
  if (!r) {
    c.out().null();
    return;
  }
  c.out().integer(static_cast<int64_t>(rev ? z->size() - 1 - *r : *r));
}

void cmd_zrank(exec_context& c) { rank_generic(c, false); }
void cmd_zrevrank(exec_context& c) { rank_generic(c, true); }

// ZCOUNT / ZLEXCOUNT: how many members fall in the range (by score or by member).
template <class Range>
void reply_count_in_range(exec_context& c, const Range& r) {
  constexpr bool by_score = std::is_same_v<Range, score_range>;
  entry* e = c.lookup_read(c.arg(1));
  if (e == nullptr) {
    c.out().integer(0);
    return;
  }
  if (c.wrong_type(e, vtype::zset))
    return;
  zset_value* z = as_zset(e);
  int64_t first, n = 0;
  if constexpr (by_score)
    first = first_in_score_range(z, r);
  else
    first = first_in_lex_range(z, r);
  if (first >= 0) {
    if (z->is_listpack()) {
      z->walk_forward(static_cast<size_t>(first), [&](std::string_view m, double s) {
        bool in;
        if constexpr (by_score)
          in = r.lte_max(s);
        else
          in = r.lte_max(m);
        n += in ? 1 : 0;
        return in;
      });
    } else {
      int64_t last;
      if constexpr (by_score)
        last = last_in_score_range(z, r);
      else
        last = last_in_lex_range(z, r);
      n = std::max<int64_t>(0, last - first + 1);
    }
  }
  c.out().integer(n);
}

void cmd_zcount(exec_context& c) {
  score_range r;
  if (!parse_score_range(c.arg(2), c.arg(3), r)) {
    c.out().error("ERR min or max is not a float");
    return;
  }
  reply_count_in_range(c, r);
}

void cmd_zlexcount(exec_context& c) {
  lex_range r;
  if (!parse_lex_range(c.arg(2), c.arg(3), r)) {
    c.out().error("ERR min or max not valid string range item");
    return;
  }
  reply_count_in_range(c, r);
}

// ---- the ZRANGE family -------------------------------------------------------------------------

enum class rtype { automatic, rank, score, lex };
enum class rdir { automatic, forward, reverse };

// ZRANGE and friends; `first` is the index of the source key (ZRANGESTORE: 2, else 1).
void zrange_generic(exec_context& c, size_t first, bool store, rtype type, rdir dir) {
  std::string_view key = c.arg(first);
  size_t minidx = first + 1, maxidx = first + 2;
  bool withscores = false;
  int64_t offset = 0, limit = -1;
  for (size_t j = first + 3; j < c.argc(); ++j) {
    size_t left = c.argc() - j - 1;
    std::string_view opt = c.arg(j);
    if (!store && iequals(opt, "withscores")) {
      withscores = true;
    } else if (iequals(opt, "limit") && left >= 2) {
      if (!parse_long(c, c.arg(j + 1), offset) || !parse_long(c, c.arg(j + 2), limit))
        return;
      j += 2;
    } else if (dir == rdir::automatic && iequals(opt, "rev")) {
      dir = rdir::reverse;
    } else if (type == rtype::automatic && iequals(opt, "bylex")) {
      type = rtype::lex;
    } else if (type == rtype::automatic && iequals(opt, "byscore")) {
      type = rtype::score;
    } else {
      c.reply_syntax_error();
      return;
    }
  }
  if (dir == rdir::automatic)
    dir = rdir::forward;
  if (type == rtype::automatic)
    type = rtype::rank;
  if (limit != -1 && type == rtype::rank) {
    c.out().error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
    return;
  }
  if (withscores && type == rtype::lex) {
    c.out().error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    return;
  }
  bool rev = dir == rdir::reverse;
  if (rev && type != rtype::rank)
    std::swap(minidx, maxidx);
  int64_t start = 0, end = 0;
  score_range sr;
  lex_range lr;
  switch (type) {
    case rtype::score:
      if (!parse_score_range(c.arg(minidx), c.arg(maxidx), sr)) {
        c.out().error("ERR min or max is not a float");
        return;
      }
      break;
    case rtype::lex:
      if (!parse_lex_range(c.arg(minidx), c.arg(maxidx), lr)) {
        c.out().error("ERR min or max not valid string range item");
        return;
      }
      break;
    default:
      if (!parse_long(c, c.arg(minidx), start) || !parse_long(c, c.arg(maxidx), end))
        return;
  }
  entry* e = c.lookup_read(key);
  if (c.wrong_type(e, vtype::zset))
    return;
  zitems items;
  if (e != nullptr) {
    const zset_value* z = as_zset(e);
    if (type == rtype::score)
      range_by_score(z, sr, offset, limit, rev, items);
    else if (type == rtype::lex)
      range_by_lex(z, lr, offset, limit, rev, items);
    else
      range_by_rank(z, start, end, rev, items);
  }
  if (store)
    store_items(c, c.arg(1), items);
  else
    reply_items(c, items, withscores);
}

void cmd_zrange(exec_context& c) { zrange_generic(c, 1, false, rtype::automatic, rdir::automatic); }
void cmd_zrangestore(exec_context& c) { zrange_generic(c, 2, true, rtype::automatic, rdir::automatic); }
void cmd_zrevrange(exec_context& c) { zrange_generic(c, 1, false, rtype::rank, rdir::reverse); }
void cmd_zrangebyscore(exec_context& c) { zrange_generic(c, 1, false, rtype::score, rdir::forward); }
void cmd_zrevrangebyscore(exec_context& c) { zrange_generic(c, 1, false, rtype::score, rdir::reverse); }
void cmd_zrangebylex(exec_context& c) { zrange_generic(c, 1, false, rtype::lex, rdir::forward); }
void cmd_zrevrangebylex(exec_context& c) { zrange_generic(c, 1, false, rtype::lex, rdir::reverse); }

// ---- removal by range --------------------------------------------------------------------------

void zremrange_generic(exec_context& c, rtype type) {
  std::string_view key = c.arg(1);
  int64_t start = 0, end = 0;
  score_range sr;
  lex_range lr;
  if (type == rtype::rank) {
    if (!parse_long(c, c.arg(2), start) || !parse_long(c, c.arg(3), end))
      return;
  } else if (type == rtype::score) {
    if (!parse_score_range(c.arg(2), c.arg(3), sr)) {
      c.out().error("ERR min or max is not a float");
      return;
    }
  } else if (!parse_lex_range(c.arg(2), c.arg(3), lr)) {
    c.out().error("ERR min or max not valid string range item");
    return;
  }
  entry* e = c.lookup_write(key);
  if (e == nullptr) {
    c.out().integer(0);
    return;
  }
  if (c.wrong_type(e, vtype::zset))
    return;
  zset_value* z = as_zset(e);
  int64_t first = -1;
  size_t n = 0;
  if (type == rtype::rank) {
    if (!clamp_index_range(start, end, static_cast<int64_t>(z->size()))) {
      c.out().integer(0);
      return;
    }
    first = start;
    n = static_cast<size_t>(end - start + 1);
  } else {
    first = type == rtype::score ? first_in_score_range(z, sr) : first_in_lex_range(z, lr);
    if (first >= 0)
      z->walk_forward(static_cast<size_t>(first), [&](std::string_view m, double s) {
        if (type == rtype::score ? !sr.lte_max(s) : !lr.lte_max(m))
          return false;
        ++n;
        return true;
      });
  }
  if (n > 0) {
    z->erase_range(static_cast<size_t>(first), n);
    c.changed(n);
    after_removal(c, key, z);
  }
  c.out().integer(static_cast<int64_t>(n));
}

void cmd_zremrangebyrank(exec_context& c) { zremrange_generic(c, rtype::rank); }
void cmd_zremrangebyscore(exec_context& c) { zremrange_generic(c, rtype::score); }
void cmd_zremrangebylex(exec_context& c) { zremrange_generic(c, rtype::lex); }

// ---- pops --------------------------------------------------------------------------------------

// Pops up to `count` (-1: one, flat reply) elements of the set under `key` (non-empty) from the
// min or max end, replying the way the calling command does.
void pop_reply(exec_context& c, std::string_view key, zset_value* z, bool max, int64_t count, bool emitkey,
               bool nested) {
  auto& o = c.out();
  if (count == -1)
    count = 1;
  size_t n = std::min<size_t>(static_cast<size_t>(count), z->size());
  if (!nested && !emitkey) {
    o.array(n * 2);
  } else if (nested && !emitkey) {
    o.array(n);
  } else if (!nested && emitkey) {
    o.array(n * 2 + 1);
    o.bulk(key);
  } else {
    o.array(2);
    o.bulk(key);
    o.array(n);
  }
  for (size_t i = 0; i < n; ++i) {
    size_t r = max ? z->size() - 1 : 0;
    auto [m, s] = z->at(r);
    if (nested)
      o.array(2);
    o.bulk(m);
    o.dbl(s);
    z->erase_range(r, 1);
  }
  c.changed(n);
  after_removal(c, key, z);
}

void zpop_generic(exec_context& c, bool max) {
  if (c.argc() > 3) {
    c.reply_syntax_error();
    return;
  }
  int64_t count = -1;
  if (c.argc() == 3) {
    if (!protocol::parse_int64(c.arg(2), count) || count < 0) {
      c.out().error("ERR value is out of range, must be positive");
      return;
    }
  }
  std::string_view key = c.arg(1);
  entry* e = c.lookup_write(key);
  if (e == nullptr) {
    c.out().array(0);
    return;
  }
  if (c.wrong_type(e, vtype::zset))
    return;
  if (count == 0) {
    c.out().array(0);
    return;
  }
  pop_reply(c, key, as_zset(e), max, count, false, c.out().resp() >= 3 && count != -1);
}

void cmd_zpopmin(exec_context& c) { zpop_generic(c, false); }
void cmd_zpopmax(exec_context& c) { zpop_generic(c, true); }

void bzpop_generic(exec_context& c, bool max) {
  int64_t timeout;
  if (!parse_block_timeout(c, c.arg(c.argc() - 1), timeout))
    return;
  for (size_t j = 1; j + 1 < c.argc(); ++j) {
    std::string_view key = c.arg(j);
    bool failed;
    entry* e = c.blocking_source(key, vtype::zset, failed);
    if (failed)
      return;
    if (e == nullptr)
      continue;
    pop_reply(c, key, as_zset(e), max, -1, true, false);
    c.propagate({max ? "ZPOPMAX" : "ZPOPMIN", key}); // as Redis replicates BZPOPMIN/BZPOPMAX
    return;
  }
  if (c.blocking_allowed())
    c.block(timeout);
  else
    c.out().null_array();
}

void cmd_bzpopmin(exec_context& c) { bzpop_generic(c, false); }
void cmd_bzpopmax(exec_context& c) { bzpop_generic(c, true); }

// Redis's getRangeLongFromObjectOrReply with a message for every failure.
bool parse_positive(exec_context& c, std::string_view arg, int64_t& v, const char* msg) {
  if (!protocol::parse_int64(arg, v) || v < 1) {
    c.out().error(std::string("ERR ") + msg);
    return false;
  }
  return true;
}

void zmpop_generic(exec_context& c, size_t numkeys_at, bool blocking) {
  int64_t numkeys;
  if (!parse_positive(c, c.arg(numkeys_at), numkeys, "numkeys should be greater than 0"))
    return;
  // The keys, then MIN|MAX: numkeys may not reach past the last argument but one.
  if (static_cast<uint64_t>(numkeys) >= c.argc() - numkeys_at - 1) {
    c.reply_syntax_error();
    return;
  }
  size_t where_at = numkeys_at + static_cast<size_t>(numkeys) + 1;
  bool max;
  if (iequals(c.arg(where_at), "min"))
    max = false;
  else if (iequals(c.arg(where_at), "max"))
    max = true;
  else {
    c.reply_syntax_error();
    return;
  }
  int64_t count = -1;
  for (size_t j = where_at + 1; j < c.argc(); ++j) {
    bool more = j + 1 < c.argc();
    if (count == -1 && iequals(c.arg(j), "count") && more) {
      if (!parse_positive(c, c.arg(++j), count, "count should be greater than 0"))
        return;
    } else {
      c.reply_syntax_error();
      return;
    }
  }
  if (count == -1)
    count = 1;
  int64_t timeout = 0;
  if (blocking && !parse_block_timeout(c, c.arg(1), timeout))
    return;
  for (size_t j = numkeys_at + 1; j < where_at; ++j) {
    std::string_view key = c.arg(j);
    bool failed;
    entry* e = c.blocking_source(key, vtype::zset, failed);
    if (failed)
      return;
    if (e == nullptr)
      continue;
    // ZMPOP and BZMPOP are replicated as ZPOPMIN/ZPOPMAX key n (n: the number popped), as Redis does.
    auto popped = static_cast<int64_t>(std::min<size_t>(static_cast<size_t>(count), as_zset(e)->size()));
    pop_reply(c, key, as_zset(e), max, count, true, true);
    char buf[24];
    c.propagate({max ? "ZPOPMAX" : "ZPOPMIN", key, std::string_view(buf, protocol::format_int(popped, buf))});
    return;
  }
  if (blocking && c.blocking_allowed())
    c.block(timeout);
  else
    c.out().null_array();
}

void cmd_zmpop(exec_context& c) { zmpop_generic(c, 1, false); }
void cmd_bzmpop(exec_context& c) { zmpop_generic(c, 2, true); }

// ---- ZRANDMEMBER -------------------------------------------------------------------------------

void cmd_zrandmember(exec_context& c) {
  auto& o = c.out();
  if (c.argc() == 2) {
    entry* e = c.lookup_read(c.arg(1));
    if (e == nullptr) {
      o.null();
      return;
    }
    if (c.wrong_type(e, vtype::zset))
      return;
    zset_value* z = as_zset(e);
    o.bulk(z->random(c.rng()()).first);
    return;
  }
  int64_t count;
  if (!parse_long(c, c.arg(2), count))
    return;
  if (count == LLONG_MIN) {
    o.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
    return;
  }
  bool withscores = false;
  if (c.argc() > 4 || (c.argc() == 4 && !iequals(c.arg(3), "withscores"))) {
    c.reply_syntax_error();
    return;
  }
  if (c.argc() == 4) {
    withscores = true;
    if (count < -LLONG_MAX / 2 || count > LLONG_MAX / 2) {
      o.error("ERR value is out of range");
      return;
    }
  }
  entry* e = c.lookup_read(c.arg(1));
  if (e == nullptr) {
    o.array(0);
    return;
  }
  if (c.wrong_type(e, vtype::zset))
    return;
  zset_value* z = as_zset(e);
  size_t size = z->size();
  bool unique = count >= 0;
  uint64_t n = unique ? static_cast<uint64_t>(count) : static_cast<uint64_t>(-count);
  if (n == 0) {
    o.array(0);
    return;
  }
  bool nested = withscores && o.resp() >= 3;
  auto emit = [&](std::pair<std::string_view, double> p) {
    if (nested)
      o.array(2);
    o.bulk(p.first);
    if (withscores)
      o.dbl(p.second);
  };
  auto header = [&](size_t k) { o.array(withscores && !nested ? k * 2 : k); };
  if (!unique || n == 1) {
    header(n);
    for (uint64_t i = 0; i < n; ++i)
      emit(z->random(c.rng()()));
    return;
  }
  if (n >= size) {
    // The whole set, last to first (the order Redis 7.0 replies a small set in).
    header(size);
    z->walk_backward(size - 1, [&](std::string_view m, double s) {
      emit({m, s});
      return true;
    });
    return;
  }
  std::vector<size_t> ranks;
  if (n * 3 > size) {
    std::vector<size_t> all(size);
    for (size_t i = 0; i < size; ++i)
      all[i] = i;
    for (size_t i = 0; i < n; ++i) {
      size_t j = i + c.rng()() % (size - i);
      std::swap(all[i], all[j]);
    }
    ranks.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n));
  } else {
    std::unordered_set<size_t> seen;
    while (ranks.size() < n) {
      size_t r = c.rng()() % size;
      if (seen.insert(r).second)
        ranks.push_back(r);
    }
  }
  header(n);
  for (size_t r : ranks)
    emit(z->at(r));
}

// ---- ZUNION ZINTER ZDIFF -----------------------------------------------------------------------

enum class setop { unite, inter, diff };
enum class aggr { sum, min, max };

struct source {
  const zset_value* z = nullptr;
  const set_value* s = nullptr;
  double weight = 1.0;
  size_t size() const { return z ? z->size() : (s ? s->size() : 0); }
  std::optional<double> find(std::string_view m) const {
    if (z)
      return z->score(m);
    if (s && s->contains(m))
      return 1.0;
    return std::nullopt;
  }
  template <class F>
  void each(F&& fn) const {
    if (z)
      z->for_each(fn);
    else if (s)
      s->for_each([&](std::string_view m) { fn(m, 1.0); });
  }
  bool same(const source& o) const { return (z && z == o.z) || (s && s == o.s); }
};

void aggregate(double& target, double v, aggr a) {
  if (a == aggr::sum) {
    target = target + v;
    if (std::isnan(target))
      target = 0.0;
  } else if (a == aggr::min) {
    target = v < target ? v : target;
  } else {
    target = v > target ? v : target;
  }
}

// ZUNION ZINTER ZDIFF [STORE] and ZINTERCARD; `numkeys_at` is the index of numkeys.
void zsetop_generic(exec_context& c, bool store, size_t numkeys_at, setop op, bool card_only) {
  int64_t setnum;
  if (!parse_long(c, c.arg(numkeys_at), setnum))
    return;
  if (setnum < 1) {
    std::string name = c.command_name();
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return std::tolower(ch); });
    c.out().error("ERR at least 1 input key is needed for '" + name + "' command");
    return;
  }
  if (static_cast<uint64_t>(setnum) > c.argc() - (numkeys_at + 1)) {
    c.reply_syntax_error();
    return;
  }
  size_t n = static_cast<size_t>(setnum);
  std::vector<source> src(n);
  size_t j = numkeys_at + 1;
  for (size_t i = 0; i < n; ++i, ++j) {
    entry* e = c.lookup_read(c.arg(j));
    if (e == nullptr)
      continue;
    if (e->type == vtype::zset)
      src[i].z = as_zset(e);
    else if (e->type == vtype::set)
      src[i].s = static_cast<const set_value*>(e->coll());
    else {
      c.wrong_type(e, vtype::zset);
      return;
    }
  }
  aggr agg = aggr::sum;
  bool withscores = false;
  int64_t limit = 0;
  while (j < c.argc()) {
    size_t remaining = c.argc() - j;
    std::string_view opt = c.arg(j);
    if (op != setop::diff && !card_only && remaining >= n + 1 && iequals(opt, "weights")) {
      ++j;
      for (size_t i = 0; i < n; ++i, ++j)
        if (!protocol::parse_double(c.arg(j), src[i].weight)) {
          c.out().error("ERR weight value is not a float");
          return;
        }
    } else if (op != setop::diff && !card_only && remaining >= 2 && iequals(opt, "aggregate")) {
      std::string_view a = c.arg(j + 1);
      if (iequals(a, "sum"))
        agg = aggr::sum;
      else if (iequals(a, "min"))
        agg = aggr::min;
      else if (iequals(a, "max"))
        agg = aggr::max;
      else {
        c.reply_syntax_error();
        return;
      }
      j += 2;
    } else if (!store && !card_only && iequals(opt, "withscores")) {
      withscores = true;
      ++j;
    } else if (card_only && remaining >= 2 && iequals(opt, "limit")) {
      if (!protocol::parse_int64(c.arg(j + 1), limit) || limit < 0) {
        c.out().error("ERR LIMIT can't be negative");
        return;
      }
      j += 2;
    } else {
      c.reply_syntax_error();
      return;
    }
  }

  // The result: member -> score, in insertion order (the final order comes from the sort).
  std::vector<std::pair<std::string, double>> result;
  int64_t cardinality = 0;
  if (op != setop::diff)
    std::stable_sort(src.begin(), src.end(), [](const source& a, const source& b) { return a.size() < b.size(); });
  if (op == setop::inter) {
    if (src[0].size() > 0) {
      bool stop = false;
      src[0].each([&](std::string_view m, double s0) {
        if (stop)
          return;
        double score = src[0].weight * s0;
        if (std::isnan(score))
          score = 0;
        size_t k = 1;
        for (; k < n; ++k) {
          double v;
          if (src[k].same(src[0])) {
            v = s0 * src[k].weight;
          } else if (auto f = src[k].find(m)) {
            v = *f * src[k].weight;
          } else {
            break;
          }
          aggregate(score, v, agg);
        }
        if (k != n)
          return;
        if (card_only) {
          ++cardinality;
          if (limit && cardinality >= limit)
            stop = true;
        } else {
          result.emplace_back(std::string(m), score);
        }
      });
    }
  } else if (op == setop::unite) {
    std::unordered_map<std::string, double> acc;
    for (size_t i = 0; i < n; ++i) {
      if (src[i].size() == 0)
        continue;
      src[i].each([&](std::string_view m, double s) {
        double score = src[i].weight * s;
        if (std::isnan(score))
          score = 0;
        auto [it, fresh] = acc.try_emplace(std::string(m), score);
        if (!fresh)
          aggregate(it->second, score, agg);
      });
    }
    result.reserve(acc.size());
    for (auto& [m, s] : acc)
      result.emplace_back(m, s);
  } else {
    if (src[0].size() > 0)
      src[0].each([&](std::string_view m, double s) {
        for (size_t k = 1; k < n; ++k)
          if (src[k].size() > 0 && (src[k].same(src[0]) || src[k].find(m)))
            return;
        result.emplace_back(std::string(m), s);
      });
  }
  if (card_only) {
    c.out().integer(cardinality);
    return;
  }
  // Order as a sorted set orders.
  std::sort(result.begin(), result.end(),
            [](const auto& a, const auto& b) { return zcompare(a.second, a.first, b.second, b.first) < 0; });
  zitems items;
  items.reserve(result.size());
  for (auto& [m, s] : result)
    items.emplace_back(m, s);
  if (store)
    store_items(c, c.arg(1), items);
  else
    reply_items(c, items, withscores);
}

void cmd_zunion(exec_context& c) { zsetop_generic(c, false, 1, setop::unite, false); }
void cmd_zinter(exec_context& c) { zsetop_generic(c, false, 1, setop::inter, false); }
void cmd_zdiff(exec_context& c) { zsetop_generic(c, false, 1, setop::diff, false); }
void cmd_zunionstore(exec_context& c) { zsetop_generic(c, true, 2, setop::unite, false); }
void cmd_zinterstore(exec_context& c) { zsetop_generic(c, true, 2, setop::inter, false); }
void cmd_zdiffstore(exec_context& c) { zsetop_generic(c, true, 2, setop::diff, false); }
void cmd_zintercard(exec_context& c) { zsetop_generic(c, false, 1, setop::inter, true); }

// ---- ZSCAN -------------------------------------------------------------------------------------

void cmd_zscan(exec_context& c) {
  uint64_t cursor;
  if (!parse_scan_cursor(c, c.arg(2), cursor))
    return;
  entry* e = c.lookup_read(c.arg(1));
  if (e == nullptr) {
    c.out().array(2);
    c.out().bulk("0");
    c.out().array(0);
    return;
  }
  if (c.wrong_type(e, vtype::zset))
    return;
  scan_args args;
  if (!parse_scan_args(c, 3, args))
    return;
  zset_value* z = as_zset(e);
  std::vector<std::pair<std::string_view, double>> found;
  if (z->is_listpack()) {
    z->for_each([&](std::string_view m, double s) { found.emplace_back(m, s); });
    cursor = 0;
  } else {
    int64_t budget = args.count > INT64_MAX / 10 ? INT64_MAX : args.count * 10;
    do {
      cursor = z->scan(cursor, [&](std::string_view m, double s) { found.emplace_back(m, s); });
    } while (cursor && budget-- && static_cast<int64_t>(found.size() * 2) < args.count);
  }
  std::vector<std::string> scores;
  scores.reserve(found.size());
  std::vector<std::string_view> out;
  for (auto& [m, s] : found) {
    if (!args.matches(m))
      continue;
    scores.push_back(protocol::format_double(s));
  }
  size_t k = 0;
  for (auto& [m, s] : found) {
    if (!args.matches(m))
      continue;
    out.push_back(m);
    out.push_back(scores[k++]);
  }
  reply_scan(c, cursor, out);
}

} // namespace

void register_zset_commands(command_registry& r) {
  r.add("zadd", cmd_zadd);
  r.add("zincrby", cmd_zincrby);
  r.add("zrem", cmd_zrem);
  r.add("zcard", cmd_zcard);
  r.add("zscore", cmd_zscore);
  r.add("zmscore", cmd_zmscore);
  r.add("zrank", cmd_zrank);
  r.add("zrevrank", cmd_zrevrank);
  r.add("zcount", cmd_zcount);
  r.add("zlexcount", cmd_zlexcount);
  r.add("zrange", cmd_zrange);
  r.add("zrangestore", cmd_zrangestore);
  r.add("zrevrange", cmd_zrevrange);
  r.add("zrangebyscore", cmd_zrangebyscore);
  r.add("zrevrangebyscore", cmd_zrevrangebyscore);
  r.add("zrangebylex", cmd_zrangebylex);
  r.add("zrevrangebylex", cmd_zrevrangebylex);
  r.add("zremrangebyrank", cmd_zremrangebyrank);
  r.add("zremrangebyscore", cmd_zremrangebyscore);
  r.add("zremrangebylex", cmd_zremrangebylex);
  r.add("zpopmin", cmd_zpopmin);
  r.add("zpopmax", cmd_zpopmax);
  r.add("zmpop", cmd_zmpop);
  r.add("bzpopmin", cmd_bzpopmin);
  r.add("bzpopmax", cmd_bzpopmax);
  r.add("bzmpop", cmd_bzmpop);
  r.add("zrandmember", cmd_zrandmember);
  r.add("zunion", cmd_zunion);
  r.add("zinter", cmd_zinter);
  r.add("zdiff", cmd_zdiff);
  r.add("zunionstore", cmd_zunionstore);
  r.add("zinterstore", cmd_zinterstore);
  r.add("zdiffstore", cmd_zdiffstore);
  r.add("zintercard", cmd_zintercard);
  r.add("zscan", cmd_zscan);
}

} // namespace troupe::keyspace
