// Bitmap commands on strings: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO, with Redis
// 7.0's replies and errors. Bit 0 is the most significant bit of the first byte; an integer-encoded string is read
// as its decimal text, as Redis reads it.
#include <algorithm>
#include <climits>
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

// A bit offset argument: a non-negative integer whose byte lies within proto-max-bulk-len. With
// `field_bits` (BITFIELD), "#N" is the Nth field of that width.
bool parse_bit_offset(exec_context& c, std::string_view arg, uint64_t& offset, int field_bits = 0) {
  int64_t v = 0;
  bool nth = field_bits > 0 && !arg.empty() && arg[0] == '#';
  bool ok = protocol::parse_int64(nth ? arg.substr(1) : arg, v);
  if (ok && nth) {
    if (v > INT64_MAX / field_bits || v < INT64_MIN / field_bits)
      ok = false;
    else
      v *= field_bits;
  }
  if (!ok || v < 0 || (v >> 3) >= c.settings().proto_max_bulk_len) {
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

// Stores `value` at `key` as a raw string (bit commands leave one): in `e`, or a new key.
void store_bits(exec_context& c, std::string_view key, entry* e, std::string value) {
  if (e != nullptr)
    store_raw(c, e, std::move(value));
  else
    c.add(make_string_entry(key, hash_key(key), value, -1, true));
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
  if (!clamp_string_range(start, end, static_cast<int64_t>(s.size()) * (bits ? 8 : 1))) {
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
  if (!clamp_string_range(start, end, static_cast<int64_t>(s.size()) * (bits ? 8 : 1))) {
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


// ---- BITFIELD ---------------------------------------------------------------------------------

struct field_type {
  bool is_signed = false;
  int bits = 0;
};

enum class overflow { wrap, sat, fail };

struct field_op {
  enum { get, set, incrby } kind;
  field_type type;
  uint64_t offset = 0;
  int64_t value = 0;   // SET's value or INCRBY's increment
  overflow ow = overflow::wrap;
};

// "i1".."i64" or "u1".."u63" (lowercase only, as Redis takes them).
bool parse_field_type(exec_context& c, std::string_view arg, field_type& t) {
  int64_t bits = 0;
  bool ok = arg.size() >= 2 && (arg[0] == 'i' || arg[0] == 'u') && protocol::parse_int64(arg.substr(1), bits);
  t.is_signed = ok && arg[0] == 'i';
  if (!ok || bits < 1 || (t.is_signed && bits > 64) || (!t.is_signed && bits > 63)) {
    c.out().error("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.");
    return false;
  }
  t.bits = static_cast<int>(bits);
  return true;
}

// The `bits` bits at `offset` of `s` (zeros past its end), most significant first.
uint64_t read_field(std::string_view s, uint64_t offset, int bits) {
  uint64_t v = 0;
  for (int i = 0; i < bits; ++i) {
    uint64_t at = offset + static_cast<uint64_t>(i);
    size_t byte = static_cast<size_t>(at >> 3);
    unsigned bit = byte < s.size() ? (static_cast<unsigned char>(s[byte]) >> (7 - (at & 7))) & 1u : 0u;
    v = (v << 1) | bit;
  }
  return v;
}

// Writes the low `bits` bits of `v` at `offset` (the string is long enough).
void write_field(std::string& s, uint64_t offset, int bits, uint64_t v) {
  for (int i = 0; i < bits; ++i) {
    uint64_t at = offset + static_cast<uint64_t>(i);
    auto& b = reinterpret_cast<unsigned char&>(s[static_cast<size_t>(at >> 3)]);
    unsigned shift = 7 - static_cast<unsigned>(at & 7);
    unsigned bit = static_cast<unsigned>((v >> (bits - 1 - i)) & 1u);
    b = static_cast<unsigned char>((b & ~(1u << shift)) | (bit << shift));
  }
}

int64_t as_signed(uint64_t raw, int bits) {
  if (bits < 64 && (raw >> (bits - 1)) & 1u)
    raw |= ~uint64_t{0} << bits;   // sign extension
  return static_cast<int64_t>(raw);
}

// `old + incr` (INCRBY; SET: the value with incr 0) fitted into the type under `ow`; false when it
// does not fit and `ow` is FAIL. What does not fit is decided as Redis 7.0 decides it, from the
// room left above and below `old` computed in wrapping 64-bit arithmetic: for a narrow signed
// field that room wraps when `old` is far outside the field's range (a SET of -2^63 into an i16
// counts as too large, and SAT gives the maximum), and Redis's replies follow from that.
bool fit_field(int64_t old, int64_t incr, const field_type& t, overflow ow, uint64_t& out) {
  auto wrapping_sub = [](uint64_t a, uint64_t b) { return static_cast<int64_t>(a - b); };
  int above = 0;   // 1: too large, -1: too small
  uint64_t sum = static_cast<uint64_t>(old) + static_cast<uint64_t>(incr);
  if (t.is_signed) {
    int64_t max = t.bits == 64 ? INT64_MAX : (int64_t{1} << (t.bits - 1)) - 1, min = -max - 1;
    int64_t room_up = wrapping_sub(static_cast<uint64_t>(max), static_cast<uint64_t>(old));
    int64_t room_down = wrapping_sub(static_cast<uint64_t>(min), static_cast<uint64_t>(old));
    if (old > max || (t.bits != 64 && incr > room_up) || (old >= 0 && incr > 0 && incr > room_up))
      above = 1;
    else if (old < min || (t.bits != 64 && incr < room_down) || (old < 0 && incr < 0 && incr < room_down))
      above = -1;
    if (above != 0 && ow == overflow::sat)
      sum = static_cast<uint64_t>(above > 0 ? max : min);
  } else {
    auto value = static_cast<uint64_t>(old);
    uint64_t max = (uint64_t{1} << t.bits) - 1;   // (bits <= 63)
    int64_t room_up = wrapping_sub(max, value);
    int64_t room_down = wrapping_sub(0, value);
    if (value > max || (incr > 0 && incr > room_up))
      above = 1;
    else if (incr < 0 && incr < room_down)
      above = -1;
    if (above != 0 && ow == overflow::sat)
      sum = above > 0 ? max : 0;
  }
  if (above != 0 && ow == overflow::fail)
    return false;
  out = sum;   // (WRAP: its low bits are what is written)
  return true;
}

void bitfield(exec_context& c, bool read_only) {
  std::vector<field_op> ops;
  overflow ow = overflow::wrap;
  uint64_t highest = 0;   // the last bit a SET or INCRBY writes, plus one
  for (size_t j = 2; j < c.argc(); ++j) {
    std::string_view sub = c.arg(j);
    size_t left = c.argc() - j - 1;
    field_op op;
    if (iequals(sub, "get") && left >= 2) {
      op.kind = field_op::get;
    } else if (iequals(sub, "set") && left >= 3) {
      op.kind = field_op::set;
    } else if (iequals(sub, "incrby") && left >= 3) {
      op.kind = field_op::incrby;
    } else if (iequals(sub, "overflow") && left >= 1) {
      std::string_view how = c.arg(++j);
      if (iequals(how, "wrap"))
        ow = overflow::wrap;
      else if (iequals(how, "sat"))
        ow = overflow::sat;
      else if (iequals(how, "fail"))
        ow = overflow::fail;
      else {
        c.out().error("ERR Invalid OVERFLOW type specified");
        return;
      }
      continue;
    } else {
      c.reply_syntax_error();
      return;
    }
    if (!parse_field_type(c, c.arg(j + 1), op.type) || !parse_bit_offset(c, c.arg(j + 2), op.offset, op.type.bits))
      return;
    if (op.kind != field_op::get) {
      if (!protocol::parse_int64(c.arg(j + 3), op.value)) {
        c.reply_not_integer();
        return;
      }
      highest = std::max(highest, op.offset + static_cast<uint64_t>(op.type.bits));
    }
    op.ow = ow;
    ops.push_back(op);
    j += op.kind == field_op::get ? 2 : 3;
  }
  bool writes = highest > 0;
  if (writes && read_only) {   // (after every argument is read, as Redis checks it)
    c.out().error("ERR BITFIELD_RO only supports the GET subcommand");
    return;
  }
  std::string value;
  entry* e = nullptr;
  bool grown = false;
  if (!writes) {
    e = c.lookup_read(c.arg(1));
    if (e != nullptr && c.wrong_type(e, vtype::string))
      return;
    if (e != nullptr)
      value.assign(e->str());
  } else {
    if (!string_for_write(c, c.arg(1), e, value))
      return;
    size_t need = static_cast<size_t>((highest - 1) >> 3) + 1;
    grown = e == nullptr || value.size() < need;   // (as Redis, the key exists after, even if every write fails)
    if (value.size() < need)
      value.resize(need, '\0');
  }
  c.out().array(ops.size());
  uint64_t changes = 0;
  for (auto& op : ops) {
    uint64_t raw = read_field(value, op.offset, op.type.bits);
    int64_t old = op.type.is_signed ? as_signed(raw, op.type.bits) : static_cast<int64_t>(raw);
    if (op.kind == field_op::get) {
      c.out().integer(old);
      continue;
    }
    // SET fits its value with no increment: for an unsigned field a negative value is its 64-bit
    // two's complement, too large (SAT gives the maximum).
    uint64_t fitted = 0;
    bool fits = op.kind == field_op::incrby ? fit_field(static_cast<int64_t>(old), op.value, op.type, op.ow, fitted)
                                            : fit_field(op.value, 0, op.type, op.ow, fitted);
    if (!fits) {
      c.out().null();
      continue;
    }
    write_field(value, op.offset, op.type.bits, fitted);
    ++changes;
    int64_t now = op.type.is_signed ? as_signed(fitted & (op.type.bits == 64 ? ~uint64_t{0} : (uint64_t{1} << op.type.bits) - 1), op.type.bits)
                                    : static_cast<int64_t>(fitted & ((uint64_t{1} << op.type.bits) - 1));
    c.out().integer(op.kind == field_op::incrby ? now : old);
  }
  if (writes && (changes > 0 || grown)) {
    store_bits(c, c.arg(1), e, std::move(value));
    c.changed(changes > 0 ? changes : 1);
  }
}

void cmd_bitfield(exec_context& c) { bitfield(c, false); }
void cmd_bitfield_ro(exec_context& c) { bitfield(c, true); }

} // namespace

void register_bitmap_commands(command_registry& r) {
  r.add("setbit", cmd_setbit);
  r.add("getbit", cmd_getbit);
  r.add("bitcount", cmd_bitcount);
  r.add("bitpos", cmd_bitpos);
  r.add("bitop", cmd_bitop);
  r.add("bitfield", cmd_bitfield);
  r.add("bitfield_ro", cmd_bitfield_ro);
}

} // namespace troupe::keyspace
