// CRC16 (XMODEM, as Redis Cluster uses it) and the key -> hash slot mapping with {hash tags}.
#pragma once

#include <cstdint>
#include <string_view>

namespace troupe::protocol {

constexpr int slot_count = 16384;

uint16_t crc16(const char* data, size_t len);

// The part of the key that is hashed: the text between the first '{' and the next '}' when that
// is non-empty, the whole key otherwise.
std::string_view hash_tag(std::string_view key);

inline int key_slot(std::string_view key) {
  auto tag = hash_tag(key);
  return crc16(tag.data(), tag.size()) & (slot_count - 1);
}

} // namespace troupe::protocol
