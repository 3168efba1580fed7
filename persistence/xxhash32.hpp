// XXH32, the checksum of the LZ4 frame format (header, block and content checksums), computed
// here because liblz4 does not export it. One-shot and streaming forms.
#pragma once

#include <cstddef>
#include <cstdint>

namespace troupe::persistence {

uint32_t xxh32(const void* data, size_t len, uint32_t seed = 0);

// Streaming XXH32: update() any number of times, digest() at any point (it does not consume the
// state, so a copy of the state taken between updates can be digested or continued later).
class xxh32_state {
public:
  explicit xxh32_state(uint32_t seed = 0) { reset(seed); }
  void reset(uint32_t seed = 0);
  void update(const void* data, size_t len);
  uint32_t digest() const;

private:
  uint64_t total_ = 0;
  uint32_t v_[4];
  uint32_t seed_ = 0;
  unsigned char buf_[16];
  uint32_t buffered_ = 0;
};

} // namespace troupe::persistence
