// LZ4 frames: round trips, concatenated frames, and rejection of input that is not LZ4.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <unistd.h>

#include "persistence/lz4_stream.hpp"

using troupe::persistence::lz4_frame_compress;
using troupe::persistence::lz4_frame_decompress;

namespace {

std::string random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s)
    c = static_cast<char>(rng());
  return s;
}

// The LZ4 frame magic number, little-endian.
const std::string magic("\x04\x22\x4d\x18", 4);

} // namespace

BOOST_AUTO_TEST_SUITE(lz4_stream)

BOOST_AUTO_TEST_CASE(empty_round_trip) {
  std::string frame = lz4_frame_compress("");
  BOOST_TEST(frame.size() >= 7u);
  BOOST_TEST(frame.substr(0, 4) == magic);
  auto back = lz4_frame_decompress(frame);
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST(back->empty());
}

BOOST_AUTO_TEST_CASE(small_round_trip) {
  for (std::string data : {std::string("a"), std::string("hello world"), std::string("\0\r\n\xff", 4),
                           std::string(1000, 'x')}) {
    std::string frame = lz4_frame_compress(data);
    BOOST_TEST(frame.substr(0, 4) == magic);
    auto back = lz4_frame_decompress(frame);
    BOOST_REQUIRE(back.has_value());
    BOOST_TEST(*back == data);
  }
}

BOOST_AUTO_TEST_CASE(megabyte_round_trips) {
  std::string text;
  while (text.size() < 1024 * 1024)
    text += "SET key:" + std::to_string(text.size()) + " some fairly repetitive value\r\n";
  text.resize(1024 * 1024);
  std::string frame = lz4_frame_compress(text);
  BOOST_TEST(frame.size() < text.size() / 2); // it does compress
  auto back = lz4_frame_decompress(frame);
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST(back->size() == text.size());
  BOOST_TEST((*back == text));

  std::string noise = random_bytes(1024 * 1024 + 17, 99);
  frame = lz4_frame_compress(noise);
  BOOST_TEST(frame.size() >= noise.size()); // incompressible: stored, not lost
  back = lz4_frame_decompress(frame);
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST((*back == noise));
}

BOOST_AUTO_TEST_CASE(concatenated_frames) {
  std::string a = "first frame ", b(70000, 'b'), c = "";
  std::string frames = lz4_frame_compress(a) + lz4_frame_compress(b) + lz4_frame_compress(c);
  auto back = lz4_frame_decompress(frames);
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST((*back == a + b + c));
}

BOOST_AUTO_TEST_CASE(garbage_is_rejected) {
  BOOST_TEST(!lz4_frame_decompress("this is not lz4 at all").has_value());
  BOOST_TEST(!lz4_frame_decompress(random_bytes(4096, 1)).has_value());
  BOOST_TEST(!lz4_frame_decompress(magic + "\xff\xff\xff\xff\xff\xff").has_value());
}

BOOST_AUTO_TEST_CASE(truncated_and_corrupted_frames_are_rejected) {
  std::string data = random_bytes(200000, 5) + std::string(200000, 'z');
  std::string frame = lz4_frame_compress(data);
  for (size_t cut : {size_t(1), size_t(4), size_t(7), frame.size() / 2, frame.size() - 4, frame.size() - 1}) {
    BOOST_TEST(!lz4_frame_decompress(frame.substr(0, cut)).has_value(), "cut at " << cut);
  }
  // A flipped payload byte is caught by the content checksum (or the block decoder).
  std::string bad = frame;
  bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0x5a);
  BOOST_TEST(!lz4_frame_decompress(bad).has_value());
  // Trailing garbage after a complete frame is not a frame either.
  BOOST_TEST(!lz4_frame_decompress(frame + "junk!junk!").has_value());
}

BOOST_AUTO_TEST_CASE(interoperates_with_the_lz4_tool) {
  // What Troupe writes, `lz4 -d` reads, and the other way round (skipped without the lz4 tool).
  if (std::system("command -v lz4 >/dev/null 2>&1") != 0) {
    BOOST_TEST_MESSAGE("lz4 tool not installed: skipped");
    return;
  }
  std::string dir = "/tmp/troupe-lz4-test-" + std::to_string(::getpid());
  BOOST_REQUIRE(std::system(("mkdir -p " + dir).c_str()) == 0);
  auto write = [](const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
  };
  auto read = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  std::string data = random_bytes(300000, 3) + std::string(300000, 'q');
  write(dir + "/ours.lz4", lz4_frame_compress(data));
  BOOST_TEST(std::system(("lz4 -d -q -f " + dir + "/ours.lz4 " + dir + "/ours.out").c_str()) == 0);
  BOOST_TEST((read(dir + "/ours.out") == data));
  write(dir + "/theirs", data);
  BOOST_TEST(std::system(("lz4 -z -q -f " + dir + "/theirs " + dir + "/theirs.lz4").c_str()) == 0);
  auto back = lz4_frame_decompress(read(dir + "/theirs.lz4"));
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST((*back == data));
  std::system(("rm -rf " + dir).c_str());
}

BOOST_AUTO_TEST_SUITE_END()
