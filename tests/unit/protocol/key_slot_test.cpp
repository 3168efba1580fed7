// CRC16 and key -> hash slot with {hash tags}, as Redis Cluster computes them.
#include <boost/test/unit_test.hpp>

#include <random>
#include <string>

#include "protocol/key_slot.hpp"

using namespace troupe::protocol;

BOOST_AUTO_TEST_SUITE(key_slot_suite)

namespace {
// The CRC one bit at a time, as the polynomial defines it.
uint16_t crc16_bitwise(const std::string& s) {
  uint16_t crc = 0;
  for (unsigned char c : s) {
    crc = static_cast<uint16_t>(crc ^ (c << 8));
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021) : static_cast<uint16_t>(crc << 1);
  }
  return crc;
}
} // namespace

BOOST_AUTO_TEST_CASE(crc16_matches_the_bitwise_definition_at_every_length) {
  std::mt19937 rng(7);
  for (size_t len = 0; len <= 70; ++len)
    for (int trial = 0; trial < 20; ++trial) {
      std::string s(len, '\0');
      for (auto& c : s)
        c = static_cast<char>(rng());
      BOOST_TEST(crc16(s.data(), s.size()) == crc16_bitwise(s), "length " << len);
    }
}

BOOST_AUTO_TEST_CASE(crc16_check_value) {
  // The CRC16/XMODEM check value the Redis Cluster specification gives.
  BOOST_TEST(crc16("123456789", 9) == 0x31C3);
  BOOST_TEST(crc16("", 0) == 0);
  BOOST_TEST(crc16("foo", 3) == 0xAF96);
}

BOOST_AUTO_TEST_CASE(known_slots) {
  BOOST_TEST(slot_count == 16384);
  BOOST_TEST(key_slot("foo") == 12182);
  BOOST_TEST(key_slot("bar") == 5061);
  BOOST_TEST(key_slot("hello") == 866);
  BOOST_TEST(key_slot("123456789") == 12739);
  BOOST_TEST(key_slot("") == 0);
}

BOOST_AUTO_TEST_CASE(hash_tags) {
  BOOST_TEST(key_slot("{user1000}.following") == key_slot("{user1000}.followers"));
  BOOST_TEST(key_slot("{user1000}.following") == key_slot("user1000"));
  BOOST_TEST(key_slot("{user1000}.following") == 3443);
  BOOST_TEST(hash_tag("{user1000}.following") == "user1000");
  BOOST_TEST(hash_tag("a{b}c") == "b");
  BOOST_TEST(key_slot("a{b}c") == key_slot("b"));
  // An empty tag: the whole key is hashed.
  BOOST_TEST(hash_tag("foo{}{bar}") == "foo{}{bar}");
  BOOST_TEST(key_slot("foo{}{bar}") == 8363);
  BOOST_TEST(key_slot("foo{}{bar}") != key_slot("bar"));
  // The tag runs from the first '{' to the next '}'.
  BOOST_TEST(hash_tag("foo{{bar}}zap") == "{bar");
  BOOST_TEST(key_slot("foo{{bar}}zap") == 4015);
  BOOST_TEST(hash_tag("foo{bar}{zap}") == "bar");
  // No closing brace: the whole key.
  BOOST_TEST(hash_tag("foo{bar") == "foo{bar");
  BOOST_TEST(hash_tag("}foo{") == "}foo{");
  BOOST_TEST(hash_tag("{}") == "{}");
  BOOST_TEST(key_slot("{}") == 15257);
}

BOOST_AUTO_TEST_CASE(binary_keys) {
  std::string k("a\0b", 3);
  BOOST_TEST(key_slot(k) != key_slot("a"));
  BOOST_TEST(key_slot(k) >= 0);
  BOOST_TEST(key_slot(k) < slot_count);
  std::string high = "\xff\xfe";
  BOOST_TEST(key_slot(high) == (crc16(high.data(), high.size()) & 16383));
}

BOOST_AUTO_TEST_SUITE_END()
