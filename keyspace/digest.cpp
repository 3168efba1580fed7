#include "keyspace/digest.hpp"

#include <cstring>

#include "keyspace/entry.hpp"

namespace troupe::keyspace {

namespace {

inline uint32_t rol(uint32_t v, int n) { return (v << n) | (v >> (32 - n)); }

class sha1_state {
public:
  void update(const unsigned char* p, size_t n) {
    total_ += n;
    while (n > 0) {
      size_t take = std::min(n, 64 - fill_);
      std::memcpy(block_ + fill_, p, take);
      fill_ += take;
      p += take;
      n -= take;
      if (fill_ == 64) {
        compress();
        fill_ = 0;
      }
    }
  }
  digest20 finish() {
    uint64_t bits = total_ * 8;
    unsigned char pad = 0x80;
    update(&pad, 1);
    unsigned char zero = 0;
    while (fill_ != 56)
      update(&zero, 1);
    unsigned char len[8];
    for (int i = 0; i < 8; ++i)
      len[i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
    update(len, 8);
    digest20 out;
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 4; ++j)
        out[static_cast<size_t>(i * 4 + j)] = static_cast<unsigned char>(h_[i] >> (24 - 8 * j));
    return out;
  }

private:
  void compress() {
    uint32_t w[80];
    for (int i = 0; i < 16; ++i)
      w[i] = static_cast<uint32_t>(block_[4 * i]) << 24 | static_cast<uint32_t>(block_[4 * i + 1]) << 16
             | static_cast<uint32_t>(block_[4 * i + 2]) << 8 | block_[4 * i + 3];
    for (int i = 16; i < 80; ++i)
      w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4];
    for (int i = 0; i < 80; ++i) {
      uint32_t f, k;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5A827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ED9EBA1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8F1BBCDC;
      } else {
        f = b ^ c ^ d;
        k = 0xCA62C1D6;
      }
      uint32_t t = rol(a, 5) + f + e + k + w[i];
      e = d;
      d = c;
      c = rol(b, 30);
      b = a;
      a = t;
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
  }
  uint32_t h_[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  unsigned char block_[64];
  size_t fill_ = 0;
  uint64_t total_ = 0;
};

} // namespace

digest20 sha1(const void* data, size_t len) {
  sha1_state s;
  s.update(static_cast<const unsigned char*>(data), len);
  return s.finish();
}

void xor_digest(digest20& digest, const void* data, size_t len) {
  digest20 h = sha1(data, len);
  for (size_t i = 0; i < 20; ++i)
    digest[i] ^= h[i];
}

void mix_digest(digest20& digest, const void* data, size_t len) {
  xor_digest(digest, data, len);
  digest = sha1(digest.data(), digest.size());
}

std::string to_hex(const digest20& d) {
  static const char hex[] = "0123456789abcdef";
  std::string s;
  for (unsigned char c : d) {
    s.push_back(hex[c >> 4]);
    s.push_back(hex[c & 15]);
  }
  return s;
}

void value_digest(digest20& digest, const entry* e) {
  unsigned char type[4] = {0, 0, 0, static_cast<unsigned char>(e->type)};
  mix_digest(digest, type, 4);
  if (e->type == vtype::string)
    mix_digest(digest, e->str());
  else
    e->coll()->digest(digest.data());
  if (e->has_expire())
    xor_digest(digest, "!!expire!!", 10);
}

} // namespace troupe::keyspace
