#include "persistence/lzf.hpp"

#include <cstdint>
#include <cstring>

namespace troupe::persistence {

namespace {

constexpr size_t max_literal = 32;
constexpr size_t max_offset = 8192;          // distance 1..8192
constexpr size_t max_match = 7 + 255 + 2;    // 264
constexpr unsigned max_hash_bits = 14;

inline uint32_t hash3(const unsigned char* p, unsigned bits) {
  uint32_t v = uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2];
  return (v * 2654435761u) >> (32 - bits);
}

} // namespace

bool lzf_compress(std::string_view in_sv, size_t max_out, std::string& out) {
  auto in = reinterpret_cast<const unsigned char*>(in_sv.data());
  size_t n = in_sv.size();
  out.clear();
  out.reserve(max_out);
  // Positions + 1 of the last place each 3-byte hash was seen (0: never). The table grows with
  // the input (up to 16K entries), so short strings do not pay for clearing a big one.
  unsigned bits = 8;
  while (bits < max_hash_bits && (size_t(1) << bits) < n)
    ++bits;
  uint32_t table[size_t(1) << max_hash_bits];
  std::memset(table, 0, sizeof(uint32_t) << bits);
  size_t lit_start = 0;   // first byte of the pending literal run
  size_t i = 0;

  // Emits in[lit_start, end) as literal runs of at most 32 bytes.
  auto flush_literals = [&](size_t end) -> bool {
    while (lit_start < end) {
      size_t len = std::min(end - lit_start, max_literal);
      if (out.size() + 1 + len > max_out)
        return false;
      out.push_back(static_cast<char>(len - 1));
      out.append(reinterpret_cast<const char*>(in + lit_start), len);
      lit_start += len;
    }
    return true;
  };

  while (i + 2 < n) {
    uint32_t h = hash3(in + i, bits);
    size_t cand = table[h];
    table[h] = static_cast<uint32_t>(i + 1);
    if (cand > 0 && i - (cand - 1) <= max_offset && std::memcmp(in + cand - 1, in + i, 3) == 0) {
      size_t ref = cand - 1;
      size_t len = 3;
      size_t limit = std::min(max_match, n - i);
      while (len < limit && in[ref + len] == in[i + len])
        ++len;
      if (!flush_literals(i))
        return false;
      size_t off = i - ref - 1;
      size_t code = len - 2;
      if (out.size() + (code >= 7 ? 3 : 2) > max_out)
        return false;
      if (code < 7) {
        out.push_back(static_cast<char>((code << 5) | (off >> 8)));
      } else {
        out.push_back(static_cast<char>((7 << 5) | (off >> 8)));
        out.push_back(static_cast<char>(code - 7));
      }
      out.push_back(static_cast<char>(off & 0xff));
      // Index a few positions inside the match so later data can refer to them.
      size_t end = i + len;
      for (size_t j = i + 1; j + 2 < n && j < end; ++j)
        table[hash3(in + j, bits)] = static_cast<uint32_t>(j + 1);
      i = end;
      lit_start = i;
    } else {
      ++i;
    }
  }
  return flush_literals(n);
}

bool lzf_decompress(std::string_view in_sv, size_t expected, std::string& out) {
  auto in = reinterpret_cast<const unsigned char*>(in_sv.data());
  size_t n = in_sv.size();
  out.assign(expected, '\0');
  char* o = out.data();
  size_t op = 0, ip = 0;
  while (ip < n) {
    unsigned ctrl = in[ip++];
    if (ctrl < 32) {
      size_t len = ctrl + 1;
      if (ip + len > n || op + len > expected)
        return false;
      std::memcpy(o + op, in + ip, len);
      ip += len;
      op += len;
    } else {
      size_t len = ctrl >> 5;
      if (len == 7) {
        if (ip >= n)
          return false;
        len += in[ip++];
      }
      if (ip >= n)
        return false;
      size_t back = ((ctrl & 0x1f) << 8) + in[ip++] + 1;
      len += 2;
      if (back > op || op + len > expected)
        return false;
      for (size_t k = 0; k < len; ++k)   // byte by byte: the source may overlap the target
        o[op + k] = o[op - back + k];
      op += len;
    }
  }
  return op == expected;
}

} // namespace troupe::persistence
