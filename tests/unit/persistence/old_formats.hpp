// Test-only writers for the RDB encodings Redis 7.0 still loads but no longer writes (ziplists,
// zipmaps, quicklist v1, string-encoded scores, second-resolution expiries), laid out from the
// format's facts, so that the decoder can be checked on them, and redis-server can confirm that
// the bytes are what it expects.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "persistence/crc64.hpp"
#include "persistence/rdb_codec.hpp"
#include "protocol/numbers.hpp"

namespace ptest {

inline void le(std::string& out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// A ziplist of `items` (integers encoded as such when canonical).
inline std::string make_ziplist(const std::vector<std::string>& items) {
  std::string body;
  size_t prev = 0, last = 10;
  for (const auto& s : items) {
    std::string e;
    if (prev < 254) {
      e.push_back(static_cast<char>(prev));
    } else {
      e.push_back(static_cast<char>(254));
      le(e, prev, 4);
    }
    int64_t v;
    if (troupe::protocol::is_canonical_int(s, &v)) {
      if (v >= 0 && v <= 12) {
        e.push_back(static_cast<char>(0xF1 + v));
      } else if (v >= INT8_MIN && v <= INT8_MAX) {
        e.push_back(static_cast<char>(0xFE));
        le(e, static_cast<uint64_t>(v), 1);
      } else if (v >= INT16_MIN && v <= INT16_MAX) {
        e.push_back(static_cast<char>(0xC0));
        le(e, static_cast<uint64_t>(v), 2);
      } else if (v >= -8388608 && v <= 8388607) {
        e.push_back(static_cast<char>(0xF0));
        le(e, static_cast<uint64_t>(v), 3);
      } else if (v >= INT32_MIN && v <= INT32_MAX) {
        e.push_back(static_cast<char>(0xD0));
        le(e, static_cast<uint64_t>(v), 4);
      } else {
        e.push_back(static_cast<char>(0xE0));
        le(e, static_cast<uint64_t>(v), 8);
      }
    } else if (s.size() < 64) {
      e.push_back(static_cast<char>(s.size()));
      e += s;
    } else if (s.size() < 16384) {
      e.push_back(static_cast<char>(0x40 | (s.size() >> 8)));
      e.push_back(static_cast<char>(s.size() & 0xff));
      e += s;
    } else {
      e.push_back(static_cast<char>(0x80));
      for (int i = 3; i >= 0; --i)
        e.push_back(static_cast<char>((s.size() >> (8 * i)) & 0xff));
      e += s;
    }
    last = 10 + body.size();
    body += e;
    prev = e.size();
  }
  std::string zl;
  le(zl, 10 + body.size() + 1, 4);
  le(zl, last, 4);
  le(zl, items.size() < 65535 ? items.size() : 65535, 2);
  zl += body;
  zl.push_back(static_cast<char>(0xFF));
  return zl;
}

inline std::string make_zipmap(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string zm;
  zm.push_back(static_cast<char>(pairs.size() < 254 ? pairs.size() : 254));
  auto len = [&](size_t n) {
    if (n < 254) {
      zm.push_back(static_cast<char>(n));
    } else {
      zm.push_back(static_cast<char>(254));
      le(zm, n, 4);
    }
  };
  for (auto& [k, v] : pairs) {
    len(k.size());
    zm += k;
    len(v.size());
    zm.push_back(0);   // free bytes after the value
    zm += v;
  }
  zm.push_back(static_cast<char>(0xFF));
  return zm;
}

// An RDB version-`ver` file around `body` (records after the header), with a CRC64 (v5+).
inline std::string make_rdb(int ver, const std::string& body) {
  char magic[16];
  std::snprintf(magic, sizeof(magic), "REDIS%04d", ver);
  std::string f = std::string(magic, 9) + body;
  f.push_back(static_cast<char>(0xFF));
  if (ver >= 5) {
    uint64_t crc = troupe::persistence::crc64(0, f);
    le(f, crc, 8);
  }
  return f;
}

inline std::string str(const std::string& s) {
  std::string out;
  troupe::persistence::rdb_write_string(out, s, false);
  return out;
}

inline std::string len(uint64_t n) {
  std::string out;
  troupe::persistence::rdb_write_length(out, n);
  return out;
}

// Records in old encodings (for db 0), and what each key must hold afterwards.
inline std::string old_format_records() {
  namespace rdb = troupe::persistence::rdb;
  std::string b;
  auto key = [&](int type, const std::string& k, const std::string& value) {
    b.push_back(static_cast<char>(type));
    b += str(k);
    b += value;
  };
  b.push_back(static_cast<char>(rdb::op_selectdb));
  b += len(0);
  key(rdb::type_list_ziplist, "old:list-ziplist", str(make_ziplist({"a", "5", "-100", "70000", "5000000000", std::string(100, 'x')})));
  key(rdb::type_hash_zipmap, "old:hash-zipmap", str(make_zipmap({{"f1", "v1"}, {"f2", std::string(300, 'y')}, {"n", "7"}})));
  key(rdb::type_hash_ziplist, "old:hash-ziplist", str(make_ziplist({"name", "redis", "year", "2009"})));
  key(rdb::type_zset_ziplist, "old:zset-ziplist", str(make_ziplist({"c", "-3", "a", "1", "b", "2.5"})));
  {
    std::string v = len(2) + str(make_ziplist({"q1", "q2", "3"})) + str(make_ziplist({"q4", "12345"}));
    key(rdb::type_list_quicklist, "old:list-quicklist", v);
  }
  {
    std::string v = len(3) + str("m1") + "\x03" "1.5" + str("m2") + "\xfe" + str("m3") + "\xff";
    key(rdb::type_zset, "old:zset-strdouble", v);
  }
  key(rdb::type_list, "old:list-plain", len(3) + str("p1") + str("2") + str("p3"));
  // Second-resolution expiry far in the future (year 2036).
  b.push_back(static_cast<char>(rdb::op_expiretime));
  le(b, 2100000000u, 4);
  key(rdb::type_string, "old:expire-seconds", str("later"));
  return b;
}

} // namespace ptest
