// CRC64, XXH32, LZF and Redis's packed blob formats (listpack, ziplist, zipmap, intset).
#include <boost/test/unit_test.hpp>

#include <random>
#include <string>
#include <vector>

#include "persistence/crc64.hpp"
#include "persistence/lzf.hpp"
#include "persistence/packed_formats.hpp"
#include "persistence/xxhash32.hpp"

using namespace troupe::persistence;

namespace {

std::string random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s)
    c = static_cast<char>(rng());
  return s;
}

std::string hexs(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(checksums)

BOOST_AUTO_TEST_CASE(crc64_check_value) {
  BOOST_TEST(crc64(0, "123456789") == 0xe9c6d914c4b8d9caull);
  BOOST_TEST(crc64(0, "") == 0u);
  // Redis's crc64 self-test string.
  std::string li = "This is a test of the emergency broadcast system.";
  BOOST_TEST(crc64(0, li) != 0u);
}

BOOST_AUTO_TEST_CASE(crc64_is_incremental) {
  std::string data = random_bytes(10007, 3);
  uint64_t whole = crc64(0, data);
  for (size_t split : {size_t(0), size_t(1), size_t(7), size_t(8), size_t(9), size_t(5000), data.size()}) {
    uint64_t c = crc64(crc64(0, data.substr(0, split)), data.substr(split));
    BOOST_TEST(c == whole, "split " << split);
  }
}

BOOST_AUTO_TEST_CASE(xxh32_known_values_and_streaming) {
  BOOST_TEST(xxh32("", 0) == 0x02CC5D05u);
  std::string data = random_bytes(1000, 11);
  uint32_t whole = xxh32(data.data(), data.size());
  for (size_t step : {size_t(1), size_t(3), size_t(15), size_t(16), size_t(17), size_t(999)}) {
    xxh32_state s;
    for (size_t i = 0; i < data.size(); i += step)
      s.update(data.data() + i, std::min(step, data.size() - i));
    BOOST_TEST(s.digest() == whole, "step " << step);
  }
  // digest() can be taken midway and the state continued.
  xxh32_state s;
  s.update(data.data(), 500);
  BOOST_TEST(s.digest() == xxh32(data.data(), 500));
  s.update(data.data() + 500, 500);
  BOOST_TEST(s.digest() == whole);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(lzf)

BOOST_AUTO_TEST_CASE(round_trips) {
  std::vector<std::string> inputs = {std::string(21, 'a'), std::string(100000, 'z'), "abcabcabcabcabcabcabcabcabc",
                                     "The quick brown fox jumps over the lazy dog. The quick brown fox jumps again."};
  std::string text;
  for (int i = 0; i < 5000; ++i)
    text += "key:" + std::to_string(i % 97) + " ";
  inputs.push_back(text);
  for (auto& in : inputs) {
    std::string packed, back;
    BOOST_REQUIRE(lzf_compress(in, in.size() - 4, packed));
    BOOST_TEST(packed.size() < in.size());
    BOOST_REQUIRE(lzf_decompress(packed, in.size(), back));
    BOOST_TEST((back == in));
  }
}

BOOST_AUTO_TEST_CASE(incompressible_is_refused) {
  std::string noise = random_bytes(1000, 7), packed;
  BOOST_TEST(!lzf_compress(noise, noise.size() - 4, packed));
}

BOOST_AUTO_TEST_CASE(known_encoding) {
  // 8 literals "abcdefgh", then a reference 8 back of length 16: "abcdefghabcdefghabcdefgh".
  std::string packed = std::string("\x07" "abcdefgh", 9) + std::string("\xe0\x07\x07", 3);
  std::string out;
  BOOST_REQUIRE(lzf_decompress(packed, 8 + 7 + 7 + 2, out));
  BOOST_TEST(out == "abcdefghabcdefghabcdefgh");
}

BOOST_AUTO_TEST_CASE(garbage_never_overruns) {
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    std::string g = random_bytes(1 + seed % 64, seed), out;
    lzf_decompress(g, seed % 200, out);   // must not crash; result irrelevant
  }
  std::string out;
  BOOST_TEST(!lzf_decompress(std::string("\x20\x05", 2), 10, out));   // reference before the start
  BOOST_TEST(!lzf_decompress(std::string("\x05" "ab", 3), 6, out));     // literal run past the input
  BOOST_TEST(!lzf_decompress(std::string("\x01" "ab", 3), 3, out));     // expands to less than expected
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(packed_formats)

BOOST_AUTO_TEST_CASE(listpack_exact_bytes) {
  listpack_builder b;
  b.add("a");
  b.add("1024");
  b.add("-1");
  std::string lp = b.finish();
  // header: 4-byte size, 2-byte count; "a": 0x81 'a' backlen 2; 1024: 13-bit 0xc4 0x00 backlen 2;
  // -1: 13-bit 0xdf 0xff backlen 2; terminator.
  BOOST_TEST(hexs(lp) == "100000000300" "816102" "c40002" "dfff02" "ff");
  std::vector<packed_item> items;
  std::string err;
  BOOST_REQUIRE(decode_listpack(lp, items, err));
  BOOST_REQUIRE(items.size() == 3u);
  BOOST_TEST(items[0].str() == "a");
  BOOST_TEST(items[1].is_int);
  BOOST_TEST(items[1].ival == 1024);
  BOOST_TEST(items[2].ival == -1);
}

BOOST_AUTO_TEST_CASE(listpack_every_encoding_round_trips) {
  std::vector<std::string> values = {"0", "127", "128", "-1", "-4096", "4095", "4096", "-4097", "32767", "-32768",
                                     "32768", "8388607", "-8388608", "8388608", "2147483647", "-2147483648",
                                     "2147483648", "9223372036854775807", "-9223372036854775808",
                                     "9223372036854775808", "01", "-0", "+1", "", "x", std::string(63, 's'),
                                     std::string(64, 'm'), std::string(4095, 'M'), std::string(4096, 'L'),
                                     std::string(70000, 'H'), std::string("\0\xff", 2)};
  listpack_builder b;
  size_t expect = 7;
  for (auto& v : values) {
    expect += listpack_builder::element_size(v);
    b.add(v);
  }
  BOOST_TEST(b.bytes() == expect);
  std::string lp = b.finish();
  BOOST_TEST(lp.size() == expect);
  std::vector<packed_item> items;
  std::string err;
  BOOST_REQUIRE_MESSAGE(decode_listpack(lp, items, err), err);
  BOOST_REQUIRE(items.size() == values.size());
  for (size_t i = 0; i < values.size(); ++i)
    BOOST_TEST(items[i].str() == values[i], "element " << i);
  BOOST_TEST(items[0].is_int);
  BOOST_TEST(!items[20].is_int);   // "01" is not canonical
}

BOOST_AUTO_TEST_CASE(listpack_count_over_65535_is_unknown) {
  listpack_builder b;
  for (int i = 0; i < 70000; ++i)
    b.add_int(i % 100);
  std::string lp = b.finish();
  BOOST_TEST(static_cast<unsigned char>(lp[4]) == 0xff);
  BOOST_TEST(static_cast<unsigned char>(lp[5]) == 0xff);
  std::vector<packed_item> items;
  std::string err;
  BOOST_REQUIRE(decode_listpack(lp, items, err));
  BOOST_TEST(items.size() == 70000u);
}

BOOST_AUTO_TEST_CASE(listpack_damage_is_rejected) {
  listpack_builder b;
  for (const std::string& v : std::vector<std::string>{"hello", "12345", "world", std::string(300, 'q')})
    b.add(v);
  std::string lp = b.finish();
  std::vector<packed_item> items;
  std::string err;
  BOOST_TEST(!decode_listpack(lp.substr(0, lp.size() - 1), items, err));
  std::string bad = lp;
  bad[4] = 9;   // wrong count
  BOOST_TEST(!decode_listpack(bad, items, err));
  bad = lp;
  bad[7] = 'X';   // inside "hello": still valid structure
  items.clear();
  BOOST_TEST(decode_listpack(bad, items, err));
  bad = lp;
  bad[6] = static_cast<char>(0x9F);   // string length 31: runs into other entries, backlen mismatch
  BOOST_TEST(!decode_listpack(bad, items, err));
  // Random damage never reads outside the blob.
  std::mt19937 rng(5);
  for (int i = 0; i < 5000; ++i) {
    std::string g = lp;
    g[rng() % g.size()] = static_cast<char>(rng());
    g[rng() % g.size()] = static_cast<char>(rng());
    items.clear();
    decode_listpack(g, items, err);
  }
}

BOOST_AUTO_TEST_CASE(ziplist_reading) {
  // A ziplist of "ab", 12, -1, 1000000 and a 100-byte string, laid out by hand:
  // entries: prevlen, encoding, data.
  std::string e1 = std::string("\x00\x02" "ab", 4);                 // 6-bit string
  std::string e2 = std::string("\x04\xfd", 2);                      // immediate 12 (0xf1 + 12)
  std::string e3 = std::string("\x02\xfe\xff", 3);                  // int8 -1
  std::string e4 = std::string("\x03\xf0\x40\x42\x0f", 5);          // int24 1000000
  std::string e5 = std::string("\x05\x40\x64", 3) + std::string(100, 'z');   // 14-bit string length 100
  std::string body = e1 + e2 + e3 + e4 + e5;
  uint32_t total = static_cast<uint32_t>(10 + body.size() + 1);
  uint32_t tail = static_cast<uint32_t>(10 + e1.size() + e2.size() + e3.size() + e4.size());
  std::string zl;
  for (int i = 0; i < 4; ++i)
    zl.push_back(static_cast<char>((total >> (8 * i)) & 0xff));
  for (int i = 0; i < 4; ++i)
    zl.push_back(static_cast<char>((tail >> (8 * i)) & 0xff));
  zl += std::string("\x05\x00", 2) + body + "\xff";
  std::vector<packed_item> items;
  std::string err;
  BOOST_REQUIRE_MESSAGE(decode_ziplist(zl, items, err), err);
  BOOST_REQUIRE(items.size() == 5u);
  BOOST_TEST(items[0].str() == "ab");
  BOOST_TEST(items[1].str() == "12");
  BOOST_TEST(items[2].str() == "-1");
  BOOST_TEST(items[3].str() == "1000000");
  BOOST_TEST(items[4].str() == std::string(100, 'z'));
  std::string bad = zl;
  bad[10 + e1.size()] = 9;   // wrong prevlen
  BOOST_TEST(!decode_ziplist(bad, items, err));
}

BOOST_AUTO_TEST_CASE(zipmap_reading) {
  std::string zm("\x02\x03" "foo\x03\x00" "bar\x05" "hello\x05\x00" "world\xff", 24);
  std::vector<packed_item> items;
  std::string err;
  BOOST_REQUIRE_MESSAGE(decode_zipmap(zm, items, err), err);
  BOOST_REQUIRE(items.size() == 4u);
  BOOST_TEST(items[0].str() == "foo");
  BOOST_TEST(items[1].str() == "bar");
  BOOST_TEST(items[2].str() == "hello");
  BOOST_TEST(items[3].str() == "world");
  BOOST_TEST(!decode_zipmap(zm.substr(0, 20), items, err));
}

BOOST_AUTO_TEST_CASE(intset_reading) {
  std::string is("\x02\x00\x00\x00\x03\x00\x00\x00\xfd\xff\x01\x00\x10\x27", 14);
  std::vector<int64_t> v;
  std::string err;
  BOOST_REQUIRE_MESSAGE(decode_intset(is, v, err), err);
  BOOST_TEST((v == std::vector<int64_t>{-3, 1, 10000}));
  std::string unsorted("\x02\x00\x00\x00\x02\x00\x00\x00\x05\x00\x01\x00", 12);
  v.clear();
  BOOST_TEST(!decode_intset(unsorted, v, err));
  BOOST_TEST(!decode_intset(is.substr(0, 13), v, err));
}

BOOST_AUTO_TEST_SUITE_END()
