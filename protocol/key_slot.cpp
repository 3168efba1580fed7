#include "protocol/key_slot.hpp"

#include <array>
#include <cstring>

namespace troupe::protocol {

namespace {

// tables[0][x] is the CRC register after byte x from a zero register (the classic table);
// tables[k][x] after byte x and then k zero bytes. The CRC is linear, so eight bytes fold into
// the register with eight independent lookups ("slicing by 8"): the register, XORed into the
// first two bytes, and each byte's contribution from where it stands.
using crc16_tables = std::array<std::array<uint16_t, 256>, 8>;

constexpr crc16_tables make_crc16_tables() {
  crc16_tables t{};
  for (unsigned i = 0; i < 256; ++i) {
    uint16_t crc = static_cast<uint16_t>(i << 8);
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021) : static_cast<uint16_t>(crc << 1);
    t[0][i] = crc;
  }
  for (size_t k = 1; k < 8; ++k)
    for (unsigned i = 0; i < 256; ++i) {
      uint16_t prev = t[k - 1][i];   // then one zero byte
      t[k][i] = static_cast<uint16_t>((prev << 8) ^ t[0][prev >> 8]);
    }
  return t;
}

constexpr auto crc16_table = make_crc16_tables();

} // namespace

uint16_t crc16(const char* data, size_t len) {
  const auto* p = reinterpret_cast<const uint8_t*>(data);
  uint16_t crc = 0;
  const auto& t = crc16_table;
  while (len >= 8) {
    crc = static_cast<uint16_t>(t[7][p[0] ^ (crc >> 8)] ^ t[6][p[1] ^ (crc & 0xff)] ^ t[5][p[2]] ^ t[4][p[3]]
                                ^ t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]]);
    p += 8;
    len -= 8;
  }
  for (; len > 0; --len, ++p)
    crc = static_cast<uint16_t>((crc << 8) ^ t[0][((crc >> 8) ^ *p) & 0xff]);
  return crc;
}

std::string_view hash_tag(std::string_view key) {
  auto open = key.find('{');
  if (open == std::string_view::npos)
    return key;
  auto close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1)
    return key;
  return key.substr(open + 1, close - open - 1);
}

} // namespace troupe::protocol
