// String commands: GET SET and friends, counters, ranges.
#include <algorithm>
#include <climits>
#include <cmath>
#include <vector>

#include "keyspace/commands.hpp"
#include "protocol/command_table.hpp"
#include "protocol/numbers.hpp"

namespace troupe::keyspace {

using protocol::iequals;

namespace {

enum set_flags : unsigned {
  f_nx = 1, f_xx = 2, f_get = 4, f_keepttl = 8, f_persist = 16, f_ex = 32, f_px = 64, f_exat = 128, f_pxat = 256,
};
constexpr unsigned any_expire = f_ex | f_px | f_exat | f_pxat;

bool is2(std::string_view s, char a, char b) {
  return s.size() == 2 && (s[0] == a || s[0] == a - 32) && (s[1] == b || s[1] == b - 32);
}

// Parses SET's (for_set) or GETEX's options from argument `from` on, as Redis 7.0 does.
bool parse_string_options(exec_context& c, size_t from, bool for_set, unsigned& flags, std::string_view& expire) {
  for (size_t j = from; j < c.argc(); ++j) {
    std::string_view opt = c.arg(j);
    bool has_next = j + 1 < c.argc();
    if (is2(opt, 'n', 'x') && !(flags & f_xx) && for_set) {
      flags |= f_nx;
    } else if (is2(opt, 'x', 'x') && !(flags & f_nx) && for_set) {
      flags |= f_xx;
    } else if (iequals(opt, "get") && for_set) {
      flags |= f_get;
    } else if (iequals(opt, "keepttl") && !(flags & f_persist) && !(flags & any_expire) && for_set) {
      flags |= f_keepttl;
    } else if (iequals(opt, "persist") && !for_set && !(flags & any_expire) && !(flags & f_keepttl)) {
      flags |= f_persist;
    } else if (is2(opt, 'e', 'x') && !(flags & (f_keepttl | f_persist | f_exat | f_px | f_pxat)) && has_next) {
      flags |= f_ex;
      expire = c.arg(++j);
    } else if (is2(opt, 'p', 'x') && !(flags & (f_keepttl | f_persist | f_ex | f_exat | f_pxat)) && has_next) {
      flags |= f_px;
      expire = c.arg(++j);
    } else if (iequals(opt, "exat") && !(flags & (f_keepttl | f_persist | f_ex | f_px | f_pxat)) && has_next) {
      flags |= f_exat;
      expire = c.arg(++j);
    } else if (iequals(opt, "pxat") && !(flags & (f_keepttl | f_persist | f_ex | f_exat | f_px)) && has_next) {
      flags |= f_pxat;
      expire = c.arg(++j);
    } else {
      c.reply_syntax_error();
      return false;
    }
  }
  return true;
}

void reply_expire_error(exec_context& c) {
  c.out().error("ERR invalid expire time in '" + c.command_name() + "' command");
}

// Turns an EX/PX/EXAT/PXAT argument into an absolute Unix time in milliseconds.
bool expire_ms(exec_context& c, std::string_view arg, bool seconds, bool relative, int64_t& ms) {
  if (!protocol::parse_int64(arg, ms)) {
    c.reply_not_integer();
    return false;
  }
  if (ms <= 0 || (seconds && ms > LLONG_MAX / 1000)) {
    reply_expire_error(c);
    return false;
  }
  if (seconds)
    ms *= 1000;
  if (relative) {
    if (ms > LLONG_MAX - c.now_ms()) {
      reply_expire_error(c);
      return false;
    }
    ms += c.now_ms();
  }
  if (ms <= 0) {
    reply_expire_error(c);
    return false;
  }
  return true;
}

bool check_string_length(exec_context& c, uint64_t total) {
  if (total > static_cast<uint64_t>(c.settings().proto_max_bulk_len)) {
    c.out().error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    return false;
  }
  return true;
}

// GET's reply for `key`; false if the key holds another type (WRONGTYPE was replied).
bool reply_get(exec_context& c, std::string_view key) {
  entry* e = c.lookup_read(key);
  if (e == nullptr) {
    c.out().null();
    return true;
  }
  if (c.wrong_type(e, vtype::string))
    return false;
  c.out().bulk(e->str());
  return true;
}

void set_generic(exec_context& c, unsigned flags, std::string_view key, std::string_view value,
                 std::string_view expire_arg, bool seconds) {
  int64_t when = -1;
  if (flags & any_expire) {
    if (!expire_ms(c, expire_arg, seconds, (flags & (f_ex | f_px)) != 0, when))
      return;
  }
  if (flags & f_get) {
    if (!reply_get(c, key))
      return;
  }
  entry* found = c.lookup_write(key);
  if (((flags & f_nx) && found) || ((flags & f_xx) && !found)) {
    if (!(flags & f_get))
      c.out().null();
    return;
  }
  c.set_string(key, value, (flags & f_keepttl) != 0, when, false, found);
  c.changed();
  if (when >= 0) {
    // Propagated with the absolute time, so that replaying it later gives the same expiry.
    char buf[24];
    size_t n = protocol::format_int(when, buf);
    c.propagate({"SET", key, value, "PXAT", std::string_view(buf, n)});
  }
  if (!(flags & f_get))
    c.out().ok();
}

void cmd_get(exec_context& c) { reply_get(c, c.arg(1)); }

void cmd_set(exec_context& c) {
  unsigned flags = 0;
  std::string_view expire;
  if (!parse_string_options(c, 3, true, flags, expire))
    return;
  set_generic(c, flags, c.arg(1), c.arg(2), expire, (flags & (f_ex | f_exat)) != 0);
}

void cmd_setnx(exec_context& c) {
  if (c.lookup_write(c.arg(1)) != nullptr) {
    c.out().integer(0);
    return;
  }
  c.set_string(c.arg(1), c.arg(2));
  c.changed();
  c.out().integer(1);
}

void cmd_setex(exec_context& c) { set_generic(c, f_ex, c.arg(1), c.arg(3), c.arg(2), true); }
void cmd_psetex(exec_context& c) { set_generic(c, f_px, c.arg(1), c.arg(3), c.arg(2), false); }

void cmd_getset(exec_context& c) {
  if (!reply_get(c, c.arg(1)))
    return;
  c.set_string(c.arg(1), c.arg(2));
  c.changed();
}

void cmd_getdel(exec_context& c) {
  entry* e = c.lookup_read(c.arg(1));
  if (e == nullptr) {
    c.out().null();
    return;
  }
  if (c.wrong_type(e, vtype::string))
    return;
  c.out().bulk(e->str());
  c.remove(c.arg(1));
  c.changed();
  c.propagate({"DEL", c.arg(1)});
}

void cmd_getex(exec_context& c) {
  unsigned flags = 0;
  std::string_view expire;
  if (!parse_string_options(c, 2, false, flags, expire))
    return;
  entry* e = c.lookup_read(c.arg(1));
  if (e == nullptr) {
    c.out().null();
    return;
  }
  if (c.wrong_type(e, vtype::string))
    return;
  int64_t when = -1;
  if (flags & any_expire) {
    if (!expire_ms(c, expire, (flags & (f_ex | f_exat)) != 0, (flags & (f_ex | f_px)) != 0, when))
      return;
  }
  c.out().bulk(e->str());
  if ((flags & (f_exat | f_pxat)) && when <= c.now_ms()) {
    c.remove(c.arg(1));
    c.changed();
    c.propagate({"DEL", c.arg(1)});
  } else if (flags & any_expire) {
    c.set_expire(e, when);
    c.changed();
    char buf[24];
    size_t n = protocol::format_int(when, buf);
    c.propagate({"PEXPIREAT", c.arg(1), std::string_view(buf, n)});
  } else if ((flags & f_persist) && e->has_expire()) {
    c.set_expire(e, -1);
    c.changed();
    c.propagate({"PERSIST", c.arg(1)});
  }
}

void cmd_mget(exec_context& c) {
  c.out().array(c.argc() - 1);
  for (size_t i = 1; i < c.argc(); ++i) {
    entry* e = c.lookup_read(c.arg(i));
    if (e == nullptr || e->type != vtype::string)
      c.out().null();
    else
      c.out().bulk(e->str());
  }
}

void cmd_mset(exec_context& c) {
  if (c.argc() % 2 == 0) {
    c.reply_arity();
    return;
  }
  for (size_t i = 1; i + 1 < c.argc(); i += 2)
    c.set_string(c.arg(i), c.arg(i + 1));
  c.changed((c.argc() - 1) / 2);
  c.out().ok();
}

void cmd_msetnx(exec_context& c) {
  if (c.argc() % 2 == 0) {
    c.reply_arity();
    return;
  }
  for (size_t i = 1; i + 1 < c.argc(); i += 2)
    if (c.lookup_write(c.arg(i)) != nullptr) {
      c.out().integer(0);
      return;
    }
  for (size_t i = 1; i + 1 < c.argc(); i += 2)
    c.set_string(c.arg(i), c.arg(i + 1));
  c.changed((c.argc() - 1) / 2);
  c.out().integer(1);
}

void cmd_strlen(exec_context& c) {
  entry* e = c.lookup_read(c.arg(1));
  if (c.wrong_type(e, vtype::string))
    return;
  c.out().integer(e ? static_cast<int64_t>(e->str().size()) : 0);
}

// Stores `value` as the new string of existing entry `e`, as a "raw" string kept in place.

void cmd_append(exec_context& c) {
  std::string_view key = c.arg(1), extra = c.arg(2);
  entry* e = c.lookup_write(key);
  if (e == nullptr) {
    c.set_string(key, extra);
    c.changed();
    c.out().integer(static_cast<int64_t>(extra.size()));
    return;
  }
  if (c.wrong_type(e, vtype::string))
    return;
  if (!check_string_length(c, e->str().size() + extra.size()))
    return;
  if (e->enc == venc::raw) {
    e->raw_string()->append(extra);
    c.touched(key);
    c.out().integer(static_cast<int64_t>(e->raw_string()->size()));
  } else {
    std::string v(e->str());
    v.append(extra);
    size_t n = v.size();
    store_raw(c, e, std::move(v));
    c.out().integer(static_cast<int64_t>(n));
  }
  c.changed();
}

void incr_by(exec_context& c, int64_t incr) {
  std::string_view key = c.arg(1);
  entry* e = c.lookup_write(key);
  if (c.wrong_type(e, vtype::string))
    return;
  int64_t value = 0;
  if (e != nullptr && !protocol::parse_int64(e->str(), value)) {
    c.reply_not_integer();
    return;
  }
  if ((incr < 0 && value < 0 && incr < (LLONG_MIN - value)) || (incr > 0 && value > 0 && incr > (LLONG_MAX - value))) {
    c.out().error("ERR increment or decrement would overflow");
    return;
  }
  value += incr;
  char buf[24];
  size_t n = protocol::format_int(value, buf);
  c.set_string(key, std::string_view(buf, n), true, -1, false, e);
  c.changed();
  c.out().integer(value);
}

void cmd_incr(exec_context& c) { incr_by(c, 1); }
void cmd_decr(exec_context& c) { incr_by(c, -1); }

void cmd_incrby(exec_context& c) {
  int64_t v;
  if (!protocol::parse_int64(c.arg(2), v)) {
    c.reply_not_integer();
    return;
  }
  incr_by(c, v);
}

void cmd_decrby(exec_context& c) {
  int64_t v;
  if (!protocol::parse_int64(c.arg(2), v)) {
    c.reply_not_integer();
    return;
  }
  if (v == LLONG_MIN) {
    c.out().error("ERR decrement would overflow");
    return;
  }
  incr_by(c, -v);
}

void cmd_incrbyfloat(exec_context& c) {
  std::string_view key = c.arg(1);
  entry* e = c.lookup_write(key);
  if (c.wrong_type(e, vtype::string))
    return;
  long double value = 0, incr = 0;
  if ((e != nullptr && !protocol::parse_long_double(e->str(), value)) || !protocol::parse_long_double(c.arg(2), incr)) {
    c.reply_not_float();
    return;
  }
  value += incr;
  if (std::isnan(value) || std::isinf(value)) {
    c.out().error("ERR increment would produce NaN or Infinity");
    return;
  }
  std::string s = protocol::format_long_double(value);
  c.set_string(key, s, true, -1, /*not_int=*/true);   // as Redis: "3" from a float stays embstr
  c.changed();
  c.propagate({"SET", key, s, "KEEPTTL"}); // the result, not the float arithmetic
  c.out().bulk(s);
}

void cmd_getrange(exec_context& c) {
  int64_t start, end;
  if (!protocol::parse_int64(c.arg(2), start) || !protocol::parse_int64(c.arg(3), end)) {
    c.reply_not_integer();
    return;
  }
  entry* e = c.lookup_read(c.arg(1));
  if (e == nullptr) {
    c.out().bulk("");
    return;
  }
  if (c.wrong_type(e, vtype::string))
    return;
  std::string_view s = e->str();
  int64_t len = static_cast<int64_t>(s.size());
  if (start < 0 && end < 0 && start > end) {
    c.out().bulk("");
    return;
  }
  if (!clamp_string_range(start, end, len)) {
    c.out().bulk("");
    return;
  }
  c.out().bulk(s.substr(static_cast<size_t>(start), static_cast<size_t>(end - start + 1)));
}

void cmd_setrange(exec_context& c) {
  std::string_view key = c.arg(1), value = c.arg(3);
  int64_t offset;
  if (!protocol::parse_int64(c.arg(2), offset)) {
    c.reply_not_integer();
    return;
  }
  if (offset < 0) {
    c.out().error("ERR offset is out of range");
    return;
  }
  entry* e = c.lookup_write(key);
  if (e == nullptr) {
    if (value.empty()) {
      c.out().integer(0);
      return;
    }
    if (!check_string_length(c, static_cast<uint64_t>(offset) + value.size()))
      return;
    std::string s(static_cast<size_t>(offset), '\0');
    s.append(value);
    c.add(make_string_entry(key, hash_key(key), s, -1, true));
    c.changed();
    c.out().integer(offset + static_cast<int64_t>(value.size()));
    return;
  }
  if (c.wrong_type(e, vtype::string))
    return;
  size_t olen = e->str().size();
  if (value.empty()) {
    c.out().integer(static_cast<int64_t>(olen));
    return;
  }
  if (!check_string_length(c, static_cast<uint64_t>(offset) + value.size()))
    return;
  std::string s;
  if (e->enc == venc::raw)
    s = std::move(*e->raw_string());
  else
    s = std::string(e->str());
  size_t need = static_cast<size_t>(offset) + value.size();
  if (s.size() < need)
    s.resize(need, '\0');
  s.replace(static_cast<size_t>(offset), value.size(), value);
  size_t n = s.size();
  store_raw(c, e, std::move(s));
  c.changed();
  c.out().integer(static_cast<int64_t>(n));
}


// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]: the longest common subsequence of two
// strings (missing keys are empty), by the dynamic-programming table. Walking it back from the end,
// a match steps diagonally and a mismatch toward the larger neighbour (on a tie, to the second
// string's shorter prefix), which picks the same subsequence and ranges Redis picks.
void cmd_lcs(exec_context& c) {
  entry* ea = c.lookup_read(c.arg(1));
  entry* eb = c.lookup_read(c.arg(2));
  if ((ea != nullptr && ea->type != vtype::string) || (eb != nullptr && eb->type != vtype::string)) {
    c.out().error("ERR The specified keys must contain string values");
    return;
  }
  std::string a(ea != nullptr ? ea->str() : std::string_view()), b(eb != nullptr ? eb->str() : std::string_view());
  bool want_len = false, want_idx = false, with_len = false;
  int64_t min_len = 0;
  for (size_t j = 3; j < c.argc(); ++j) {
    std::string_view opt = c.arg(j);
    if (iequals(opt, "idx")) {
      want_idx = true;
    } else if (iequals(opt, "len")) {
      want_len = true;
    } else if (iequals(opt, "withmatchlen")) {
      with_len = true;
    } else if (iequals(opt, "minmatchlen") && j + 1 < c.argc()) {
      if (!protocol::parse_int64(c.arg(++j), min_len)) {
        c.reply_not_integer();
        return;
      }
      min_len = std::max<int64_t>(min_len, 0);
    } else {
      c.reply_syntax_error();
      return;
    }
  }
  if (want_idx && want_len) {
    c.out().error("ERR If you want both the length and indexes, please just use IDX.");
    return;
  }
  size_t n = a.size(), m = b.size();
  if (n >= UINT32_MAX - 1 || m >= UINT32_MAX - 1) {
    c.out().error("ERR String too long for LCS");
    return;
  }
  // (n+1) x (m+1) lengths; a table past 256M cells (1 GB) is refused rather than tried.
  unsigned __int128 cells = static_cast<unsigned __int128>(n + 1) * (m + 1);
  if (cells > (uint64_t{1} << 28)) {
    c.out().error("ERR Insufficient memory, failed allocating transient memory for LCS");
    return;
  }
  std::vector<uint32_t> table(static_cast<size_t>(cells), 0);
  auto at = [&](size_t i, size_t j) -> uint32_t& { return table[i * (m + 1) + j]; };
  for (size_t i = 1; i <= n; ++i)
    for (size_t j = 1; j <= m; ++j)
      at(i, j) = a[i - 1] == b[j - 1] ? at(i - 1, j - 1) + 1 : std::max(at(i - 1, j), at(i, j - 1));
  uint32_t total = at(n, m);
  if (want_len) {
    c.out().integer(total);
    return;
  }
  struct match {
    size_t a_first, a_last, b_first, b_last;
  };
  std::vector<match> matches;
  std::string common(total, '\0');
  size_t i = n, j = m, k = total;
  bool open = false;
  match cur{};
  auto close = [&] {
    if (open && (min_len == 0 || cur.a_last - cur.a_first + 1 >= static_cast<uint64_t>(min_len)))
      matches.push_back(cur);
    open = false;
  };
  while (i > 0 && j > 0) {
    if (a[i - 1] == b[j - 1]) {
      common[--k] = a[i - 1];
      if (open && cur.a_first == i && cur.b_first == j) {
        --cur.a_first;   // the run goes on backward
        --cur.b_first;
      } else {
        close();
        cur = {i - 1, i - 1, j - 1, j - 1};
        open = true;
      }
      --i;
      --j;
      if (cur.a_first == 0 || cur.b_first == 0)
        close();   // at the start of either string
    } else {
      if (at(i - 1, j) > at(i, j - 1))
        --i;
      else
        --j;
      close();
    }
  }
  if (!want_idx) {
    c.out().bulk(common);
    return;
  }
  c.out().map(2);
  c.out().bulk("matches");
  c.out().array(matches.size());
  for (auto& r : matches) {
    c.out().array(with_len ? 3 : 2);
    c.out().array(2);
    c.out().integer(static_cast<int64_t>(r.a_first));
    c.out().integer(static_cast<int64_t>(r.a_last));
    c.out().array(2);
    c.out().integer(static_cast<int64_t>(r.b_first));
    c.out().integer(static_cast<int64_t>(r.b_last));
    if (with_len)
      c.out().integer(static_cast<int64_t>(r.a_last - r.a_first + 1));
  }
  c.out().bulk("len");
  c.out().integer(total);
}

} // namespace

void store_raw(exec_context& c, entry* e, std::string value) {
  if (e->enc == venc::raw) {
    *e->raw_string() = std::move(value);
    c.touched(e->key());
    return;
  }
  int64_t expire = e->has_expire() ? e->expire() : -1;
  entry* fresh = make_string_entry(e->key(), e->hash, value, expire, true);
  c.replace(e, fresh);
}

void register_string_commands(command_registry& r) {
  r.add("get", cmd_get);
  r.add("set", cmd_set);
  r.add("setnx", cmd_setnx);
  r.add("setex", cmd_setex);
  r.add("psetex", cmd_psetex);
  r.add("getset", cmd_getset);
  r.add("getdel", cmd_getdel);
  r.add("getex", cmd_getex);
  r.add("mget", cmd_mget);
  r.add("mset", cmd_mset);
  r.add("msetnx", cmd_msetnx);
  r.add("strlen", cmd_strlen);
  r.add("append", cmd_append);
  r.add("incr", cmd_incr);
  r.add("decr", cmd_decr);
  r.add("incrby", cmd_incrby);
  r.add("decrby", cmd_decrby);
  r.add("incrbyfloat", cmd_incrbyfloat);
  r.add("getrange", cmd_getrange);
  r.add("substr", cmd_getrange);   // (its old name, still in Redis 7.0)
  r.add("lcs", cmd_lcs);
  r.add("setrange", cmd_setrange);
}

} // namespace troupe::keyspace
