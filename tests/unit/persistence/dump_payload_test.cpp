// DUMP / RESTORE payloads without redis-server: round trips of every type and encoding, the
// footer (version, CRC64), and Redis's error strings.
#include <boost/test/unit_test.hpp>

#include <random>

#include "persistence/crc64.hpp"
#include "persistence/dump_payload.hpp"
#include "test_support.hpp"

using namespace troupe::persistence;
namespace ks = troupe::keyspace;

BOOST_AUTO_TEST_SUITE(dump_payloads)

BOOST_AUTO_TEST_CASE(round_trip_every_sample_value) {
  ks::dataset d(16);
  ptest::fill_sample(d, 1700000000000);
  size_t n = 0;
  for (int db = 0; db < 16; ++db)
    for (int s = 0; s < troupe::protocol::slot_count; ++s)
      if (auto* t = d.db(db).slot(s))
        t->for_each([&](ks::entry* e) {
          for (bool z : {true, false}) {
            std::string p = dump_payload(e, z);
            int version = 0;
            BOOST_TEST(verify_dump_payload(p, &version));
            BOOST_TEST(version == 10);
            // Footer: 2-byte version (10, 0), then the CRC64 of everything before it.
            BOOST_TEST(p[p.size() - 10] == 10);
            BOOST_TEST(p[p.size() - 9] == 0);
            restore_result r = restore_payload(p, "copy", 1234, {});
            BOOST_REQUIRE_MESSAGE(r.ok(), r.error);
            ptest::key_state a = ptest::state_of(e), b = ptest::state_of(r.entry);
            a.expire = 1234;
            BOOST_TEST((a == b), e->key());
            BOOST_TEST(r.entry->key() == "copy");
            ks::destroy_entry(r.entry);
          }
          ++n;
        });
  BOOST_TEST(n >= 24u);
}

BOOST_AUTO_TEST_CASE(known_bytes_and_errors) {
  auto* e = ks::make_string_entry("k", ks::hash_key("k"), "bar", -1);
  std::string p = dump_payload(e);
  // type 0, "bar" as a 3-byte string, version 10, CRC64.
  BOOST_TEST(p.substr(0, 7) == std::string("\x00\x03" "bar\x0a\x00", 7));
  BOOST_TEST(p.size() == 15u);
  ks::destroy_entry(e);

  BOOST_TEST(restore_payload("short", "k", -1, {}).error == "ERR DUMP payload version or checksum are wrong");
  std::string bad = p;
  bad[2] = 'B';
  BOOST_TEST(restore_payload(bad, "k", -1, {}).error == "ERR DUMP payload version or checksum are wrong");
  restore_result skipped = restore_payload(bad, "k", -1, {}, true);   // skip-checksum-validation
  BOOST_TEST(skipped.ok());
  BOOST_TEST(skipped.entry->str() == "Bar");
  ks::destroy_entry(skipped.entry);
  std::string newer = p;
  newer[p.size() - 10] = 11;
  BOOST_TEST(restore_payload(newer, "k", -1, {}, true).error == "ERR DUMP payload version or checksum are wrong");
  // Valid footer, nonsense value.
  auto with_footer = [](std::string body) {
    body += std::string("\x0a\x00", 2);
    uint64_t crc = crc64(0, body);
    for (int i = 0; i < 8; ++i)
      body.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
    return body;
  };
  BOOST_TEST(restore_payload(with_footer(std::string("\x00\x10" "ab", 4)), "k", -1, {}).error == "ERR Bad data format");
  BOOST_TEST(restore_payload(with_footer(std::string("\x08", 1)), "k", -1, {}).error == "ERR Bad data format");
  BOOST_TEST(restore_payload(with_footer(std::string("\x04\x00", 2)), "k", -1, {}).error == "ERR Bad data format");
  // An older version is accepted (RDB 9 payload of a string).
  restore_result old = restore_payload(
      [&] {
        std::string b = std::string("\x00\x02" "hi\x09\x00", 6);
        uint64_t crc = crc64(0, b);
        for (int i = 0; i < 8; ++i)
          b.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
        return b;
      }(),
      "k", -1, {});
  BOOST_REQUIRE(old.ok());
  BOOST_TEST(old.entry->str() == "hi");
  ks::destroy_entry(old.entry);
}

BOOST_AUTO_TEST_CASE(damaged_values_with_valid_footers_never_crash) {
  ks::dataset d(16);
  ptest::fill_sample(d, 1700000000000);
  std::mt19937_64 rng(77);
  std::vector<std::string> payloads;
  for (const char* k : {"l:small", "set:intset", "set:strings", "h:listpack", "z:listpack", "s:lzf", "h:longvalue"}) {
    for (int db : {0, 3})
      if (auto* t = d.db(db).slot(troupe::protocol::key_slot(k)))
        if (auto* e = t->find(k, ks::hash_key(k)))
          payloads.push_back(dump_payload(e));
  }
  BOOST_REQUIRE(payloads.size() == 7u);
  size_t rejected = 0;
  for (int i = 0; i < 6000; ++i) {
    std::string p = payloads[static_cast<size_t>(i) % payloads.size()];
    std::string body = p.substr(0, p.size() - 10);
    body[rng() % body.size()] = static_cast<char>(rng());
    body += std::string("\x0a\x00", 2);
    uint64_t crc = crc64(0, body);
    for (int b = 0; b < 8; ++b)
      body.push_back(static_cast<char>((crc >> (8 * b)) & 0xff));
    restore_result r = restore_payload(body, "k", -1, {});
    if (r.ok())
      ks::destroy_entry(r.entry);
    else
      ++rejected;
  }
  BOOST_TEST(rejected > 500u);
}

BOOST_AUTO_TEST_SUITE_END()
