#include "persistence/xxhash32.hpp"

#include <cstring>

namespace troupe::persistence {

namespace {

constexpr uint32_t p1 = 0x9E3779B1u;
constexpr uint32_t p2 = 0x85EBCA77u;
constexpr uint32_t p3 = 0xC2B2AE3Du;
constexpr uint32_t p4 = 0x27D4EB2Fu;
constexpr uint32_t p5 = 0x165667B1u;

inline uint32_t rotl(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

inline uint32_t read32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

inline uint32_t round(uint32_t acc, uint32_t lane) {
  acc += lane * p2;
  acc = rotl(acc, 13);
  return acc * p1;
}

// Mixes in the last (< 16) bytes and avalanches.
uint32_t finish(uint32_t h, const unsigned char* p, size_t len) {
  while (len >= 4) {
    h += read32(p) * p3;
    h = rotl(h, 17) * p4;
    p += 4;
    len -= 4;
  }
  while (len > 0) {
    h += uint32_t(*p) * p5;
    h = rotl(h, 11) * p1;
    ++p;
    --len;
  }
  h ^= h >> 15;
  h *= p2;
  h ^= h >> 13;
  h *= p3;
  h ^= h >> 16;
  return h;
}

} // namespace

uint32_t xxh32(const void* data, size_t len, uint32_t seed) {
  xxh32_state s(seed);
  s.update(data, len);
  return s.digest();
}

void xxh32_state::reset(uint32_t seed) {
  seed_ = seed;
  total_ = 0;
  buffered_ = 0;
  v_[0] = seed + p1 + p2;
  v_[1] = seed + p2;
  v_[2] = seed;
  v_[3] = seed - p1;
}

void xxh32_state::update(const void* data, size_t len) {
  auto p = static_cast<const unsigned char*>(data);
  total_ += len;
  if (buffered_ + len < 16) {
    std::memcpy(buf_ + buffered_, p, len);
    buffered_ += static_cast<uint32_t>(len);
    return;
  }
  if (buffered_ > 0) {
    size_t take = 16 - buffered_;
    std::memcpy(buf_ + buffered_, p, take);
    for (int i = 0; i < 4; ++i)
      v_[i] = round(v_[i], read32(buf_ + 4 * i));
    p += take;
    len -= take;
    buffered_ = 0;
  }
  while (len >= 16) {
    for (int i = 0; i < 4; ++i)
      v_[i] = round(v_[i], read32(p + 4 * i));
    p += 16;
    len -= 16;
  }
  std::memcpy(buf_, p, len);
  buffered_ = static_cast<uint32_t>(len);
}

uint32_t xxh32_state::digest() const {
  uint32_t h;
  if (total_ >= 16)
    h = rotl(v_[0], 1) + rotl(v_[1], 7) + rotl(v_[2], 12) + rotl(v_[3], 18);
  else
    h = seed_ + p5;
  h += static_cast<uint32_t>(total_);
  return finish(h, buf_, buffered_);
}

} // namespace troupe::persistence
