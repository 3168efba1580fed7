// The variable-length integers of Troupe's packed encodings (the listpacks of hashes, lists and
// sorted sets): LEB128 (7 bits per byte, low bits first, high bit = more follow) in front of an
// entry, and the same number written backwards after it (its last byte holds the low 7 bits, every
// byte but the first has the "more to the left" bit) so that entries can be walked from the end.
#pragma once

#include <cstddef>
#include <cstdint>

namespace troupe::keyspace {

inline size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 128) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Writes v at p; the number of bytes written.
inline size_t put_varint(char* p, uint64_t v) {
  size_t n = 0;
  while (v >= 128) {
    p[n++] = static_cast<char>((v & 127) | 128);
    v >>= 7;
  }
  p[n++] = static_cast<char>(v);
  return n;
}

// Reads the varint at p[off]; off moves past it.
inline uint64_t get_varint(const char* p, uint32_t& off) {
  uint64_t v = 0;
  int shift = 0;
  for (;;) {
    auto b = static_cast<unsigned char>(p[off++]);
    v |= static_cast<uint64_t>(b & 127) << shift;
    if (b < 128)
      return v;
    shift += 7;
  }
}

// Writes v backwards at p (varint_size(v) bytes), to be read from its end by get_back_varint.
inline void put_back_varint(char* p, uint64_t v) {
  for (size_t i = varint_size(v); i-- > 0;) {
    unsigned char b = v & 0x7f;
    v >>= 7;
    if (i > 0)
      b |= 0x80;
    p[i] = static_cast<char>(b);
  }
}

// The start of the entry whose size, written backwards after it, ends at buf[end] (the size
// counts the entry without that backwards number).
inline uint32_t prev_entry(const char* buf, uint32_t end) {
  const auto* p = reinterpret_cast<const unsigned char*>(buf);
  size_t i = end - 1;
  size_t total = p[i] & 0x7f, shift = 7, bs = 1;
  while (p[i] & 0x80) {
    --i;
    total |= static_cast<size_t>(p[i] & 0x7f) << shift;
    shift += 7;
    ++bs;
  }
  return static_cast<uint32_t>(end - bs - total);
}

} // namespace troupe::keyspace
