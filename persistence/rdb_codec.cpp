#include "persistence/rdb_codec.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "keyspace/hash_value.hpp"
#include "keyspace/list_value.hpp"
#include "keyspace/set_value.hpp"
#include "keyspace/table.hpp"
#include "keyspace/zset_value.hpp"
#include "persistence/lzf.hpp"
#include "persistence/packed_formats.hpp"
#include "protocol/numbers.hpp"

namespace troupe::persistence {

using keyspace::vtype;

bool rdb::is_object_type(int t) { return (t >= 0 && t <= 7) || (t >= 9 && t <= 19); }

// ---- writing --------------------------------------------------------------------------------

namespace {

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Redis's double2ll: the double is an integer it can print as one without loss.
bool double_as_int(double d, int64_t& out) {
  if (!(d >= static_cast<double>(-(INT64_MAX / 2)) && d <= static_cast<double>(INT64_MAX / 2)))
    return false;
  auto ll = static_cast<int64_t>(d);
  if (static_cast<double>(ll) != d)
    return false;
  out = ll;
  return true;
}

// Redis's d2string for finite, non-integer scores, and inf.
std::string score_text(double d) {
  if (std::isinf(d))
    return d < 0 ? "-inf" : "inf";
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%.17g", d);
  return std::string(buf, static_cast<size_t>(n));
}

// Whether a quicklist node of `bytes` bytes holding `count` elements is within
// list-max-listpack-size `fill` (as Redis sizes nodes).
bool node_allows(size_t bytes, size_t count, int64_t fill) {
  static const size_t levels[] = {4096, 8192, 16384, 32768, 65536};
  if (fill < 0) {
    size_t i = std::min<size_t>(static_cast<size_t>(-(fill + 1)), 4);
    return bytes <= levels[i];
  }
  return bytes <= 8192 && static_cast<int64_t>(count) < std::max<int64_t>(fill, 1);
}

constexpr size_t plain_threshold = size_t(1) << 30;   // elements this big get a node of their own

} // namespace

void rdb_write_length(std::string& out, uint64_t len) {
  if (len < (1u << 6)) {
    out.push_back(static_cast<char>(len));
  } else if (len < (1u << 14)) {
    out.push_back(static_cast<char>(0x40 | (len >> 8)));
    out.push_back(static_cast<char>(len & 0xff));
  } else if (len <= UINT32_MAX) {
    out.push_back(static_cast<char>(0x80));
    put_be(out, len, 4);
  } else {
    out.push_back(static_cast<char>(0x81));
    put_be(out, len, 8);
  }
}

void rdb_write_string(std::string& out, std::string_view s, bool compress) {
  int64_t v;
  if (s.size() <= 11 && protocol::is_canonical_int(s, &v) && v >= INT32_MIN && v <= INT32_MAX) {
    if (v >= -128 && v <= 127) {
      out.push_back(static_cast<char>(0xC0));
      put_le(out, static_cast<uint64_t>(v), 1);
    } else if (v >= -32768 && v <= 32767) {
      out.push_back(static_cast<char>(0xC1));
      put_le(out, static_cast<uint64_t>(v), 2);
    } else {
      out.push_back(static_cast<char>(0xC2));
      put_le(out, static_cast<uint64_t>(v), 4);
    }
    return;
  }
  if (compress && s.size() > 20) {
    std::string packed;
    if (lzf_compress(s, s.size() - 4, packed) && !packed.empty()) {
      out.push_back(static_cast<char>(0xC3));
      rdb_write_length(out, packed.size());
      rdb_write_length(out, s.size());
      out += packed;
      return;
    }
  }
  rdb_write_length(out, s.size());
  out.append(s.data(), s.size());
}

void rdb_write_millis(std::string& out, int64_t ms) { put_le(out, static_cast<uint64_t>(ms), 8); }

void rdb_write_binary_double(std::string& out, double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  put_le(out, bits, 8);
}

int rdb_value_type(const keyspace::entry* e) {
  switch (e->type) {
    case vtype::string: return rdb::type_string;
    case vtype::list: return rdb::type_list_quicklist_2;
    case vtype::set:
      return static_cast<const keyspace::set_value*>(e->coll())->is_intset() ? rdb::type_set_intset : rdb::type_set;
    case vtype::hash:
      return static_cast<const keyspace::hash_value*>(e->coll())->is_listpack() ? rdb::type_hash_listpack
                                                                                : rdb::type_hash;
    case vtype::zset:
      return static_cast<const keyspace::zset_value*>(e->coll())->is_listpack() ? rdb::type_zset_listpack
                                                                                : rdb::type_zset_2;
    case vtype::stream: break;
  }
  throw std::logic_error("rdb: no encoding for this value type");
}

void rdb_write_value(std::string& out, const keyspace::entry* e, const rdb_save_options& opts) {
  bool z = opts.compression;
  switch (e->type) {
    case vtype::string:
      rdb_write_string(out, e->str(), z);
      return;
    case vtype::list: {
      auto* l = static_cast<const keyspace::list_value*>(e->coll());
      std::vector<std::pair<uint64_t, std::string>> nodes;
      listpack_builder b;
      auto close_node = [&] {
        if (!b.empty())
          nodes.emplace_back(rdb::container_packed, b.finish());
      };
      l->for_each([&](std::string_view v) {
        if (v.size() >= plain_threshold) {
          close_node();
          nodes.emplace_back(rdb::container_plain, std::string(v));
          return;
        }
        if (!b.empty() && !node_allows(b.bytes() + listpack_builder::element_size(v), b.count() + 1, l->fill()))
          close_node();
        b.add(v);
      });
      close_node();
      rdb_write_length(out, nodes.size());
      for (auto& [container, blob] : nodes) {
        rdb_write_length(out, container);
        rdb_write_string(out, blob, z);
      }
      return;
    }
    case vtype::set: {
      auto* s = static_cast<const keyspace::set_value*>(e->coll());
      if (s->is_intset()) {
        rdb_write_string(out, s->intset_blob(), z);
        return;
      }
      rdb_write_length(out, s->size());
      s->for_each([&](std::string_view m) { rdb_write_string(out, m, z); });
      return;
    }
    case vtype::hash: {
      auto* h = static_cast<const keyspace::hash_value*>(e->coll());
      if (h->is_listpack()) {
        listpack_builder b;
        h->for_each([&](std::string_view f, std::string_view v) {
          b.add(f);
          b.add(v);
        });
        rdb_write_string(out, b.finish(), z);
        return;
      }
      rdb_write_length(out, h->size());
      h->for_each([&](std::string_view f, std::string_view v) {
        rdb_write_string(out, f, z);
        rdb_write_string(out, v, z);
      });
      return;
    }
    case vtype::zset: {
      auto* zs = static_cast<const keyspace::zset_value*>(e->coll());
      if (zs->is_listpack()) {
        listpack_builder b;
        zs->for_each([&](std::string_view m, double score) {
          b.add(m);
          int64_t iv;
          if (double_as_int(score, iv))
            b.add_int(iv);
          else
            b.add(score_text(score));
        });
        rdb_write_string(out, b.finish(), z);
        return;
      }
      // Highest first, as Redis writes them (its loader then inserts at the head).
      rdb_write_length(out, zs->size());
      if (zs->size() > 0)
        zs->walk_backward(zs->size() - 1, [&](std::string_view m, double score) {
          rdb_write_string(out, m, z);
          rdb_write_binary_double(out, score);
          return true;
        });
      return;
    }
    case vtype::stream: break;
  }
  throw std::logic_error("rdb: no encoding for this value type");
}

void rdb_write_key(std::string& out, const keyspace::entry* e, const rdb_save_options& opts) {
  if (e->has_expire()) {
    out.push_back(static_cast<char>(rdb::op_expiretime_ms));
    rdb_write_millis(out, e->expire());
  }
  out.push_back(static_cast<char>(rdb_value_type(e)));
  rdb_write_string(out, e->key(), opts.compression);
  rdb_write_value(out, e, opts);
}

// ---- reading --------------------------------------------------------------------------------

void rdb_input::need(size_t n) const {
  if (n <= size_ - pos_)
    return;
  uint64_t end = base_ + pos_;
  if (n > stream_end_ || end + n > stream_end_)
    fail("unexpected end of data (an item of " + std::to_string(n) + " bytes does not fit)");
  throw rdb_short_input{pos_ + n};
}

unsigned char rdb_input::byte() {
  need(1);
  return static_cast<unsigned char>(data_[pos_++]);
}

std::string_view rdb_input::bytes(size_t n) {
  need(n);
  std::string_view v(data_ + pos_, n);
  pos_ += n;
  return v;
}

uint64_t rdb_input::length(bool* encoded) {
  uint64_t at = offset();
  unsigned b = byte();
  if (encoded)
    *encoded = false;
  switch (b >> 6) {
    case 0: return b & 0x3F;
    case 1: return (uint64_t(b & 0x3F) << 8) | byte();
    case 3:
      if (!encoded)
        fail("unexpected string encoding where a length belongs", at);
      *encoded = true;
      return b & 0x3F;
  }
  int n = b == 0x80 ? 4 : b == 0x81 ? 8 : 0;
  if (n == 0)
    fail("unknown length encoding " + std::to_string(b), at);
  auto p = reinterpret_cast<const unsigned char*>(bytes(static_cast<size_t>(n)).data());
  uint64_t v = 0;
  for (int i = 0; i < n; ++i)
    v = (v << 8) | p[i];
  return v;
}

std::string rdb_input::string() {
  uint64_t at = offset();
  bool enc;
  uint64_t len = length(&enc);
  if (!enc) {
    if (len > SIZE_MAX)
      fail("string length too large", at);
    std::string_view v = bytes(static_cast<size_t>(len));
    return std::string(v);
  }
  auto le = [&](size_t n) {
    auto p = reinterpret_cast<const unsigned char*>(bytes(n).data());
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;)
      v = (v << 8) | p[i];
    return v;
  };
  char buf[24];
  switch (len) {
    case 0: return std::string(buf, protocol::format_int(static_cast<int8_t>(le(1)), buf));
    case 1: return std::string(buf, protocol::format_int(static_cast<int16_t>(le(2)), buf));
    case 2: return std::string(buf, protocol::format_int(static_cast<int32_t>(le(4)), buf));
    case 3: {
      uint64_t clen = length(), ulen = length();
      if (clen > SIZE_MAX || ulen > SIZE_MAX)
        fail("LZF string length too large", at);
      std::string_view packed = bytes(static_cast<size_t>(clen));
      // LZF expands at most ~88x (a 3-byte reference copies up to 264 bytes).
      if (ulen / 100 > clen + 1)
        fail("Invalid LZF compressed string", at);
      std::string out;
      if (!lzf_decompress(packed, static_cast<size_t>(ulen), out))
        fail("Invalid LZF compressed string", at);
      return out;
    }
  }
  fail("unknown RDB string encoding type " + std::to_string(len), at);
}

double rdb_input::binary_double() {
  auto p = reinterpret_cast<const unsigned char*>(bytes(8).data());
  uint64_t bits = 0;
  for (int i = 7; i >= 0; --i)
    bits = (bits << 8) | p[i];
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}

double rdb_input::string_double() {
  uint64_t at = offset();
  unsigned len = byte();
  switch (len) {
    case 255: return -HUGE_VAL;
    case 254: return HUGE_VAL;
    case 253: return std::nan("");
  }
  std::string text(bytes(len));
  char* end = nullptr;
  double d = std::strtod(text.c_str(), &end);
  if (text.empty() || end == text.c_str())
    fail("invalid double value", at);
  return d;
}

int64_t rdb_input::millis() {
  auto p = reinterpret_cast<const unsigned char*>(bytes(8).data());
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | p[i];
  return static_cast<int64_t>(v);
}

int32_t rdb_input::seconds() {
  auto p = reinterpret_cast<const unsigned char*>(bytes(4).data());
  uint32_t v = uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
  return static_cast<int32_t>(v);
}

namespace {

using keyspace::hash_value;
using keyspace::list_value;
using keyspace::set_value;
using keyspace::zset_value;

// Sizes a reservation by what the input could possibly hold (counts are untrusted).
size_t plausible(uint64_t count, const rdb_input& in) {
  return static_cast<size_t>(std::min<uint64_t>(count, in.remaining()));
}

std::vector<packed_item> decode_blob(rdb_input& in, uint64_t at, const std::string& blob, int type) {
  std::vector<packed_item> items;
  std::string err;
  bool ok;
  switch (type) {
    case rdb::type_hash_zipmap: ok = decode_zipmap(blob, items, err); break;
    case rdb::type_list_ziplist:
    case rdb::type_zset_ziplist:
    case rdb::type_hash_ziplist:
    case rdb::type_list_quicklist: ok = decode_ziplist(blob, items, err); break;
    default: ok = decode_listpack(blob, items, err); break;
  }
  if (!ok)
    in.fail(err, at);
  return items;
}

double item_score(const packed_item& it) {
  if (it.is_int)
    return static_cast<double>(it.ival);
  char buf[128];
  size_t n = std::min(it.sval.size(), sizeof(buf) - 1);
  std::memcpy(buf, it.sval.data(), n);
  buf[n] = '\0';
  return std::strtod(buf, nullptr);
}

// Builds a sorted set from (member, score) pairs in the encoding Redis's loader picks.
std::unique_ptr<zset_value> build_zset(rdb_input& in, uint64_t at, std::vector<std::pair<std::string, double>>& pairs,
                                       bool listpack_source, const keyspace::keyspace_settings& s) {
  size_t maxlen = 0;
  for (auto& p : pairs)
    maxlen = std::max(maxlen, p.first.size());
  bool big = static_cast<int64_t>(pairs.size()) > s.zset_max_listpack_entries ||
             (!listpack_source && static_cast<int64_t>(maxlen) > s.zset_max_listpack_value);
  auto z = std::make_unique<zset_value>(big);
  for (auto& [m, score] : pairs)
    if (std::isnan(score))
      in.fail("Zset with NAN score detected", at);
  if (!z->load_pairs(pairs.data(), pairs.size()))
    in.fail("Duplicate zset fields detected", at);
  return z;
}

std::unique_ptr<hash_value> build_hash(rdb_input& in, uint64_t at, const std::vector<packed_item>& items,
                                       const keyspace::keyspace_settings& s) {
  if (items.size() % 2 != 0)
    in.fail("hash blob has an odd number of elements", at);
  // Integers are written out as text into `ints` (sized first: its views must not move).
  std::string ints;
  ints.reserve(20 * static_cast<size_t>(std::count_if(items.begin(), items.end(), [](auto& it) { return it.is_int; })));
  std::vector<std::string_view> strings(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_int) {
      strings[i] = items[i].sval;
      continue;
    }
    size_t from = ints.size();
    items[i].append_to(ints);
    strings[i] = std::string_view(ints).substr(from);
  }
  auto h = std::make_unique<hash_value>();
  if (!h->load_pairs(strings.data(), strings.size(), s))
    in.fail("Duplicate hash fields detected", at);
  return h;
}

void skip_stream(rdb_input& in, int type) {
  uint64_t listpacks = in.length();
  while (listpacks-- > 0) {
    uint64_t at = in.offset();
    if (in.string().size() != 16)
      in.fail("Stream node key entry is not the size of a stream ID", at);
    in.string();
  }
  in.length();   // items
  in.length();   // last id
  in.length();
  if (type == rdb::type_stream_listpacks_2) {
    for (int i = 0; i < 5; ++i)   // first id, max deleted id, entries added
      in.length();
  }
  uint64_t groups = in.length();
  while (groups-- > 0) {
    in.string();
    in.length();
    in.length();
    if (type == rdb::type_stream_listpacks_2)
      in.length();
    uint64_t pel = in.length();
    while (pel-- > 0) {
      in.bytes(16);
      in.millis();
      in.length();
    }
    uint64_t consumers = in.length();
    while (consumers-- > 0) {
      in.string();
      in.millis();
      uint64_t cpel = in.length();
      while (cpel-- > 0)
        in.bytes(16);
    }
  }
}

} // namespace

void rdb_skip_module_value(rdb_input& in) {
  for (;;) {
    uint64_t at = in.offset();
    uint64_t op = in.length();
    switch (op) {
      case 0: return;                 // EOF
      case 1:
      case 2: in.length(); break;     // signed / unsigned integer
      case 3: in.bytes(4); break;     // float
      case 4: in.bytes(8); break;     // double
      case 5: in.string(); break;     // string
      default: in.fail("unknown module value opcode " + std::to_string(op), at);
    }
  }
}

void rdb_read_value(rdb_input& in, int type, const rdb_read_options& opts, rdb_value& out) {
  const auto& s = opts.settings;
  uint64_t at = in.offset();
  out = rdb_value{};
  switch (type) {
    case rdb::type_string:
      out.type = vtype::string;
      out.str = in.string();
      return;

    case rdb::type_list: {
      out.type = vtype::list;
      uint64_t n = in.length();
      auto l = std::make_unique<list_value>(s.list_max_listpack_size);
      for (uint64_t i = 0; i < n; ++i)
        l->append(in.string());
      if (l->empty())
        out.skipped = "empty";
      out.coll = std::move(l);
      return;
    }

    case rdb::type_set: {
      out.type = vtype::set;
      uint64_t n = in.length();
      auto st = std::make_unique<set_value>();
      if (static_cast<int64_t>(n) > s.set_max_intset_entries || n > (uint64_t(1) << 30))
        st->convert_to_hashtable(plausible(n, in));
      for (uint64_t i = 0; i < n; ++i)
        if (!st->add(in.string(), s))
          in.fail("Duplicate set members detected", at);
      if (st->empty())
        out.skipped = "empty";
      out.coll = std::move(st);
      return;
    }

    case rdb::type_zset:
    case rdb::type_zset_2: {
      out.type = vtype::zset;
      uint64_t n = in.length();
      std::vector<std::pair<std::string, double>> pairs;
      pairs.reserve(plausible(n, in));
      for (uint64_t i = 0; i < n; ++i) {
        std::string m = in.string();
        double score = type == rdb::type_zset_2 ? in.binary_double() : in.string_double();
        if (std::isnan(score))
          in.fail("Zset with NAN score detected", at);
        pairs.emplace_back(std::move(m), score);
      }
      out.coll = build_zset(in, at, pairs, false, s);
      if (n == 0)
        out.skipped = "empty";
      return;
    }

    case rdb::type_hash: {
      out.type = vtype::hash;
      uint64_t n = in.length();
      auto h = std::make_unique<hash_value>();
      if (static_cast<int64_t>(n) > s.hash_max_listpack_entries)
        h->convert_to_hashtable(plausible(n, in));
      for (uint64_t i = 0; i < n; ++i) {
        std::string f = in.string();
        std::string v = in.string();
        if (!h->set(f, v, s))
          in.fail("Duplicate hash fields detected", at);
      }
      if (h->empty())
        out.skipped = "empty";
      out.coll = std::move(h);
      return;
    }

    case rdb::type_list_quicklist:
    case rdb::type_list_quicklist_2: {
      out.type = vtype::list;
      uint64_t nodes = in.length();
      auto l = std::make_unique<list_value>(s.list_max_listpack_size);
      for (uint64_t i = 0; i < nodes; ++i) {
        uint64_t container = rdb::container_packed;
        uint64_t node_at = in.offset();
        if (type == rdb::type_list_quicklist_2) {
          container = in.length();
          if (container != rdb::container_packed && container != rdb::container_plain)
            in.fail("Quicklist integrity check failed.", node_at);
        }
        std::string blob = in.string();
        if (blob.empty())
          in.fail("Quicklist node is empty", node_at);
        if (container == rdb::container_plain) {
          l->append(blob);
          continue;
        }
        for (auto& it : decode_blob(in, node_at, blob, type == rdb::type_list_quicklist ? rdb::type_list_quicklist
                                                                                          : rdb::type_list_quicklist_2)) {
          if (it.is_int) {
            char buf[24];
            l->append(std::string_view(buf, protocol::format_int(it.ival, buf)));
          } else {
            l->append(it.sval);
          }
        }
      }
      if (l->empty())
        out.skipped = "empty";
      out.coll = std::move(l);
      return;
    }

    case rdb::type_hash_zipmap:
    case rdb::type_list_ziplist:
    case rdb::type_set_intset:
    case rdb::type_zset_ziplist:
    case rdb::type_zset_listpack:
    case rdb::type_hash_ziplist:
    case rdb::type_hash_listpack: {
      std::string blob = in.string();
      if (type == rdb::type_set_intset) {
        out.type = vtype::set;
        std::vector<int64_t> members;
        std::string err;
        if (!decode_intset(blob, members, err))
          in.fail("Intset integrity check failed: " + err, at);
        auto st = set_value::from_intset_blob(blob);
        if (!st)
          in.fail("Intset integrity check failed.", at);
        if (static_cast<int64_t>(st->size()) > s.set_max_intset_entries)
          st->convert_to_hashtable();
        out.coll = std::move(st);
        return;
      }
      std::vector<packed_item> items = decode_blob(in, at, blob, type);
      if (type == rdb::type_list_ziplist) {
        out.type = vtype::list;
        auto l = std::make_unique<list_value>(s.list_max_listpack_size);
        for (auto& it : items)
          l->append(it.str());
        if (l->empty())
          out.skipped = "empty";
        out.coll = std::move(l);
        return;
      }
      if (type == rdb::type_zset_ziplist || type == rdb::type_zset_listpack) {
        out.type = vtype::zset;
        if (items.size() % 2 != 0)
          in.fail("Zset listpack integrity check failed.", at);
        std::vector<std::pair<std::string, double>> pairs;
        pairs.reserve(items.size() / 2);
        for (size_t i = 0; i < items.size(); i += 2)
          pairs.emplace_back(items[i].str(), item_score(items[i + 1]));
        out.coll = build_zset(in, at, pairs, true, s);
        if (pairs.empty())
          out.skipped = "empty";
        return;
      }
      out.type = vtype::hash;   // zipmap, ziplist or listpack hash
      out.coll = build_hash(in, at, items, s);
      if (items.empty())
        out.skipped = "empty";
      return;
    }

    case rdb::type_stream_listpacks:
    case rdb::type_stream_listpacks_2:
      if (!opts.skip_unsupported)
        in.fail("stream values are not supported by Troupe", at);
      skip_stream(in, type);
      out.type = vtype::stream;
      out.skipped = "stream";
      return;

    case rdb::type_module_2:
      if (!opts.skip_unsupported)
        in.fail("module values are not supported by Troupe", at);
      in.length();   // module id
      rdb_skip_module_value(in);
      out.type = vtype::stream;
      out.skipped = "module";
      return;

    case rdb::type_module_pre_ga:
      in.fail("module values (pre-GA format) cannot be loaded", at);
  }
  in.fail("unknown RDB value type " + std::to_string(type), at);
}

keyspace::entry* rdb_make_entry(std::string_view key, rdb_value&& v, int64_t expire_ms) {
  uint32_t h = keyspace::hash_key(key);
  if (v.type == vtype::string)
    return keyspace::make_string_entry(key, h, v.str, expire_ms);
  return keyspace::make_collection_entry(key, h, v.type, std::move(v.coll), expire_ms);
}

} // namespace troupe::persistence
