#include "persistence/crc64.hpp"


namespace troupe::persistence {

namespace {

// The Jones polynomial, bit-reversed for the reflected (LSB-first) algorithm.
constexpr uint64_t reflected_poly = 0x95ac9329ac4bc9b5ull;

// Slice-by-8 tables: tables[0] is the classic byte table, tables[k][b] is the CRC of byte b
// followed by k zero bytes.
struct crc_tables {
  uint64_t t[8][256];
  crc_tables() {
    for (unsigned b = 0; b < 256; ++b) {
      uint64_t c = b;
      for (int i = 0; i < 8; ++i)
        c = (c & 1) ? (c >> 1) ^ reflected_poly : c >> 1;
      t[0][b] = c;
    }
    for (unsigned b = 0; b < 256; ++b)
      for (int k = 1; k < 8; ++k)
        t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
  }
};

const crc_tables& tables() {
  static const crc_tables instance;
  return instance;
}

} // namespace

uint64_t crc64(uint64_t crc, const void* data, size_t len) {
  const auto& t = tables().t;
  auto p = static_cast<const unsigned char*>(data);
  while (len >= 8) {
    uint64_t word = 0;
    for (int i = 7; i >= 0; --i) // little-endian load, independent of the host's order
      word = (word << 8) | p[i];
    crc ^= word;
    crc = t[7][crc & 0xff] ^ t[6][(crc >> 8) & 0xff] ^ t[5][(crc >> 16) & 0xff] ^
          t[4][(crc >> 24) & 0xff] ^ t[3][(crc >> 32) & 0xff] ^ t[2][(crc >> 40) & 0xff] ^
          t[1][(crc >> 48) & 0xff] ^ t[0][crc >> 56];
    p += 8;
    len -= 8;
  }
  while (len-- > 0)
    crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

} // namespace troupe::persistence
