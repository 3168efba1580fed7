// Bitmap commands on strings: SETBIT GETBIT BITCOUNT BITPOS BITOP, with Redis 7.0's replies and
// errors. Bit 0 is the most significant bit of the first byte; an integer-encoded string is read
// as its decimal text, as Redis reads it.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "keyspace/commands.hpp"
#include "protocol/command_table.hpp"
#include "protocol/numbers.hpp"

namespace troupe::keyspace {

using protocol::iequals;

namespace {

// A bit offset argument: a non-negative integer whose byte lies within proto-max-bulk-len.
bool parse_bit_offset(exec_context& c, std::string_view arg, uint64_t& offset) {
  int64_t v = 0;
  if (!protocol::parse_int64(arg, v) || v < 0 || (v >> 3) >= c.settings().proto_max_bulk_len) {
    c.out().error("ERR bit offset is not an integer or out of range");
    return false;
  }
  offset = static_cast<uint64_t>(v);
  return true;
}

// The string at `key` for a bit command that writes: its value (empty when absent), or false
// with WRONGTYPE replied.
bool string_for_write(exec_context& c, std::string_view key, entry*& e, std::string& value) {
  e = c.lookup_write(key);
  if (e == nullptr) {
    value.clear();
    return true;
  }
  if (c.wrong_type(e, vtype::string))
    return false;
  e = c.make_raw(e);   // (as Redis: even when no bit changes)
  value.assign(e->str());
  return true;
}

// Stores `value` at `key` as a raw string (bit commands leave one), keeping an expiry it had.
void store_bits(exec_context& c, std::string_view key, entry* e, std::string value) {
  if (e != nullptr && e->enc == venc::raw) {
    *e->raw_string() = std::move(value);
    c.touched(key);
    return;
  }
  int64_t expire = e != nullptr && e->has_expire() ? e->expire() : -1;
  entry* fresh = make_string_entry(key, hash_key(key), value, expire, true);
  if (e != nullptr)
    c.replace(e, fresh);
  else
    c.add(fresh);
}

void cmd_setbit(exec_context& c) {
  std::string_view key = c.arg(1);
  uint64_t offset = 0;
  if (!parse_bit_offset(c, c.arg(2), offset))
    return;
  std::string_view on = c.arg(3);
  if (on != "0" && on != "1") {
    c.out().error("ERR bit is not an integer or out of range");
    return;
  }
  entry* e = nullptr;
  std::string value;
  if (!string_for_write(c, key, e, value))
    return;
  size_t byte = static_cast<size_t>(offset >> 3);
  int shift = 7 - static_cast<int>(offset & 7);
  bool grows = e == nullptr || value.size() <= byte;
  if (value.size() <= byte)
    value.resize(byte + 1, '\0');
  auto b = static_cast<unsigned char>(value[byte]);
  int old = (b >> shift) & 1;
  int bit = on == "1" ? 1 : 0;
  if (grows || old != bit) {
    b = static_cast<unsigned char>((b & ~(1u << shift)) | (static_cast<unsigned>(bit) << shift));
    value[byte] = static_cast<char>(b);
    store_bits(c, key, e, std::move(value));
    c.changed();
  }
  c.out().integer(old);
}

void cmd_getbit(exec_context& c) {
  uint64_t offset = 0;
  if (!parse_bit_offset(c, c.arg(2), offset))
    return;
  entry* e = c.lookup_read(c.arg(1));
  if (e == nullptr) {
    c.out().integer(0);
    return;
  }
  if (c.wrong_type(e, vtype::string))
    return;
  std::string_view s = e->str();
  size_t byte = static_cast<size_t>(offset >> 3);
  int bit = byte < s.size() ? (static_cast<unsigned char>(s[byte]) >> (7 - (offset & 7))) & 1 : 0;
  c.out().integer(bit);
}

// A start / end range over a string of `len` bytes (bits when `bits`), as BITCOUNT and BITPOS
// take it: negative values count from the end, then both are clamped into the string.
void clamp_range(int64_t& start, int64_t& end, int64_t len) {
  if (start < 0)
    start = len + start;
  if (end < 0)
    end = len + end;
  if (start < 0)
    start = 0;
  if (end < 0)
    end = 0;
  if (end >= len)
    end = len - 1;
}

// BYTE or BIT as the unit of a range (the optional last argument of BITCOUNT and BITPOS).
bool parse_unit(exec_context& c, std::string_view arg, bool& bits) {
  if (iequals(arg, "bit"))
    bits = true;
  else if (iequals(arg, "byte"))
    bits = false;
  else {
    c.reply_syntax_error();
    return false;
  }
  return true;
}

// Ones among bits [from, to] of `s` (bit positions, inclusive, within the string).
uint64_t count_bits(std::string_view s, uint64_t from, uint64_t to) {
  uint64_t n = 0;
  uint64_t first = from >> 3, last = to >> 3;
  auto byte = [&](uint64_t i) { return static_cast<unsigned char>(s[static_cast<size_t>(i)]); };
  if (first == last) {
    unsigned mask = (0xFFu >> (from & 7)) & (0xFFu << (7 - (to & 7)));
    return static_cast<uint64_t>(__builtin_popcount(byte(first) & mask & 0xFFu));
  }
  n += static_cast<uint64_t>(__builtin_popcount(byte(first) & (0xFFu >> (from & 7))));
  n += static_cast<uint64_t>(__builtin_popcount(byte(last) & (0xFFu << (7 - (to & 7))) & 0xFFu));
  uint64_t i = first + 1;
  for (; i + 8 <= last; i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    n += static_cast<uint64_t>(__builtin_popcountll(w));
  }
  for (; i < last; ++i)
    n += static_cast<uint64_t>(__builtin_popcount(byte(i)));
  return n;
}

void cmd_bitcount(exec_context& c) {
  // As Redis 7.0: the key first (a missing one counts 0 whatever the range), then the range.
  entry* e = c.lookup_read(c.arg(1));
  if (e == nullptr) {
    c.out().integer(0);
    return;
  }
  if (c.wrong_type(e, vtype::string))
    return;
  std::string_view s = e->str();
  int64_t start = 0, end = -1;
  bool bits = false;
  if (c.argc() == 4 || c.argc() == 5) {
    if (!protocol::parse_int64(c.arg(2), start) || !protocol::parse_int64(c.arg(3), end)) {
      c.reply_not_integer();
      return;
    }
    if (c.argc() == 5 && !parse_unit(c, c.arg(4), bits))
      return;
    if (start < 0 && end < 0 && start > end) {
      c.out().integer(0);
      return;
    }
  } else if (c.argc() != 2) {
    c.reply_syntax_error();
    return;
  }
  int64_t len = static_cast<int64_t>(s.size()) * (bits ? 8 : 1);
  clamp_range(start, end, len);
  if (s.empty() || start > end) {
    c.out().integer(0);
    return;
  }
  uint64_t from = static_cast<uint64_t>(start) * (bits ? 1 : 8);
  uint64_t to = bits ? static_cast<uint64_t>(end) : static_cast<uint64_t>(end) * 8 + 7;
  c.out().integer(static_cast<int64_t>(count_bits(s, from, to)));
}

// The first bit equal to `bit` among bits [from, to] of `s`; -1 if none.
int64_t find_bit(std::string_view s, uint64_t from, uint64_t to, int bit) {
  for (uint64_t i = from; i <= to;) {
    auto b = static_cast<unsigned char>(s[static_cast<size_t>(i >> 3)]);
    if ((i & 7) == 0 && i + 7 <= to && b == (bit ? 0x00 : 0xFF)) {
      i += 8;   // a whole byte without it
      continue;
    }
    if (((b >> (7 - (i & 7))) & 1) == static_cast<unsigned>(bit))
      return static_cast<int64_t>(i);
    ++i;
  }
  return -1;
}

void cmd_bitpos(exec_context& c) {
  int64_t value = 0;
  if (!protocol::parse_int64(c.arg(2), value)) {
    c.reply_not_integer();
    return;
  }
  if (value != 0 && value != 1) {
    c.out().error("ERR The bit argument must be 1 or 0.");
    return;
  }
  int bit = static_cast<int>(value);
  // As Redis 7.0: a missing key is a string of zeros (the first 0 at 0, no 1) whatever the range.
  entry* e = c.lookup_read(c.arg(1));
  if (e == nullptr) {
    c.out().integer(bit ? -1 : 0);
    return;
  }
  if (c.wrong_type(e, vtype::string))
    return;
  std::string_view s = e->str();
  int64_t start = 0, end = -1;
  bool bits = false, end_given = false;
  if (c.argc() >= 4 && c.argc() <= 6) {
    if (!protocol::parse_int64(c.arg(3), start)) {
      c.reply_not_integer();
      return;
    }
    if (c.argc() == 6 && !parse_unit(c, c.arg(5), bits))
      return;
    if (c.argc() >= 5) {
      if (!protocol::parse_int64(c.arg(4), end)) {
        c.reply_not_integer();
        return;
      }
      end_given = true;
    }
  } else if (c.argc() != 3) {
    c.reply_syntax_error();
    return;
  }
  int64_t len = static_cast<int64_t>(s.size()) * (bits ? 8 : 1);
  clamp_range(start, end, len);
  if (s.empty() || start > end) {
    c.out().integer(-1);
    return;
  }
  uint64_t from = static_cast<uint64_t>(start) * (bits ? 1 : 8);
  uint64_t to = bits ? static_cast<uint64_t>(end) : static_cast<uint64_t>(end) * 8 + 7;
  int64_t pos = find_bit(s, from, to, bit);
  // Looking for a 0 in a range of ones with no end given: the string counts as padded with
  // zeros, so the answer is the first bit past it.
  if (pos < 0 && bit == 0 && !end_given)
    pos = static_cast<int64_t>(to + 1);
  c.out().integer(pos);
}

void cmd_bitop(exec_context& c) {
  std::string_view op = c.arg(1), dest = c.arg(2);
  enum { op_and, op_or, op_xor, op_not } kind;
  if (iequals(op, "and"))
    kind = op_and;
  else if (iequals(op, "or"))
    kind = op_or;
  else if (iequals(op, "xor"))
    kind = op_xor;
  else if (iequals(op, "not"))
    kind = op_not;
  else {
    c.reply_syntax_error();
    return;
  }
  size_t sources = c.argc() - 3;
  if (kind == op_not && sources != 1) {
    c.out().error("ERR BITOP NOT must be called with a single source key.");
    return;
  }
  std::vector<std::string_view> values;
  values.reserve(sources);
  size_t longest = 0;
  for (size_t i = 3; i < c.argc(); ++i) {
    entry* e = c.lookup_read(c.arg(i));
    if (e == nullptr) {
      values.emplace_back();
      continue;
    }
    if (c.wrong_type(e, vtype::string))
      return;
    values.push_back(e->str());
    longest = std::max(longest, values.back().size());
  }
  std::string out(longest, '\0');
  for (size_t j = 0; j < longest; ++j) {
    auto at = [&](size_t i) { return j < values[i].size() ? static_cast<unsigned char>(values[i][j]) : 0u; };
    unsigned r = at(0);
    if (kind == op_not)
      r = ~r;
    for (size_t i = 1; i < values.size(); ++i)
      r = kind == op_and ? (r & at(i)) : kind == op_or ? (r | at(i)) : (r ^ at(i));
    out[j] = static_cast<char>(r & 0xFF);
  }
  // (The values viewed above may live in the destination's entry: they are not used past here.)
  if (longest == 0) {
    if (c.remove(dest))
      c.changed();
    c.out().integer(0);
    return;
  }
  c.remove(dest);
  c.add(make_string_entry(dest, hash_key(dest), out, -1, true));
  c.changed();
  c.out().integer(static_cast<int64_t>(longest));
}

} // namespace

void register_bitmap_commands(command_registry& r) {
  r.add("setbit", cmd_setbit);
  r.add("getbit", cmd_getbit);
  r.add("bitcount", cmd_bitcount);
  r.add("bitpos", cmd_bitpos);
  r.add("bitop", cmd_bitop);
}

} // namespace troupe::keyspace
