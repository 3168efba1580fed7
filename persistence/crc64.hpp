// CRC-64 as Redis computes it for RDB files and DUMP payloads: the Jones polynomial
// (0xad93d23594c935a9), reflected input and output, initial value 0, no final xor.
// crc64(0, "123456789") == 0xe9c6d914c4b8d9ca.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace troupe::persistence {

// Continues the CRC `crc` over `len` more bytes (start with 0).
uint64_t crc64(uint64_t crc, const void* data, size_t len);
inline uint64_t crc64(uint64_t crc, std::string_view s) { return crc64(crc, s.data(), s.size()); }

} // namespace troupe::persistence
