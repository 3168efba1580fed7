// The incremental LZ4 frame writer and reader: flush points, torn tails at every byte,
// concatenated and sealed frames, corruption pinned to its block, and the lz4 CLI both ways.
#include <boost/test/unit_test.hpp>

#include <random>
#include <string>
#include <vector>

#include "persistence/lz4_stream.hpp"
#include "test_support.hpp"

using namespace troupe::persistence;
using state = lz4_frame_reader::state;

namespace {

std::string text(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s;
  while (s.size() < n)
    s += "SET key:" + std::to_string(rng() % 1000) + " value-" + std::to_string(rng() % 100000) + "\r\n";
  s.resize(n);
  return s;
}

std::string noise(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s)
    c = static_cast<char>(rng());
  return s;
}

struct decoded {
  bool ok;
  state st;
  std::string out;
  uint64_t unit_start;
  uint64_t error_offset;
  std::string error;
};

decoded decode(std::string_view in, size_t step = 0) {
  lz4_frame_reader r;
  decoded d;
  d.ok = true;
  if (step == 0) {
    d.ok = r.feed(in, d.out);
  } else {
    for (size_t i = 0; i < in.size() && d.ok; i += step)
      d.ok = r.feed(in.substr(i, step), d.out);
  }
  d.st = r.current();
  d.unit_start = r.unit_start();
  d.error_offset = r.error_offset();
  d.error = r.error_message();
  return d;
}

} // namespace

BOOST_AUTO_TEST_SUITE(lz4_frame_stream)

BOOST_AUTO_TEST_CASE(flush_makes_everything_written_decodable) {
  ptest::temp_dir dir;
  lz4_frame_writer w;
  std::string file, all;
  for (int i = 0; i < 20; ++i) {
    std::string piece = text(static_cast<size_t>(1 + i * 937), static_cast<uint64_t>(i));
    w.write(piece);
    all += piece;
    w.flush();
    file += w.take();
    decoded d = decode(file);
    BOOST_REQUIRE(d.ok);
    BOOST_TEST((d.st == state::open));
    BOOST_TEST(d.unit_start == file.size());
    BOOST_TEST((d.out == all), "after flush " << i);
  }
  BOOST_TEST(w.bytes_in() == all.size());
  // The lz4 CLI decodes the open frame too (and says the stream is unfinished).
  ptest::write_file(dir.file("open.lz4"), file);
  auto r = ptest::run("lz4 -d -c " + dir.file("open.lz4") + " > " + dir.file("open.out"));
  BOOST_TEST((ptest::read_file(dir.file("open.out")) == all));
  BOOST_TEST(r.out.find("Unfinished") != std::string::npos);
  // Closed, it is a complete frame that lz4 -t accepts.
  w.end_frame();
  file += w.take();
  ptest::write_file(dir.file("closed.lz4"), file);
  BOOST_TEST(ptest::run("lz4 -t " + dir.file("closed.lz4")).status == 0);
  decoded d = decode(file);
  BOOST_TEST((d.st == state::idle));
  BOOST_TEST((d.out == all));
}

BOOST_AUTO_TEST_CASE(flush_without_new_data_adds_nothing) {
  lz4_frame_writer w;
  w.write("abc");
  w.flush();
  size_t n = w.output().size();
  w.flush();
  w.flush();
  BOOST_TEST(w.output().size() == n);
  w.end_frame();
  w.end_frame();   // no frame open: nothing
  std::string f = w.take();
  BOOST_TEST(decode(f).out == "abc");
}

BOOST_AUTO_TEST_CASE(big_writes_emit_full_blocks_before_flush) {
  lz4_frame_writer w;
  std::string data = noise(300 * 1024, 1);
  w.write(data);
  // Four full 64 KB blocks are out already; the rest waits for flush().
  decoded d = decode(w.output());
  BOOST_TEST((d.st == state::open));
  BOOST_TEST(d.out.size() == 4u * 64 * 1024);
  w.flush();
  d = decode(w.output());
  BOOST_TEST((d.out == data));
}

BOOST_AUTO_TEST_CASE(torn_tail_at_every_byte) {
  ptest::temp_dir dir;
  // A small file: one closed frame of several flushed blocks, then a second frame left open.
  lz4_frame_writer w;
  std::string all;
  for (int i = 0; i < 6; ++i) {
    std::string piece = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + std::to_string(i) + "\r\n" + std::string(static_cast<size_t>(i), 'v') + "\r\n";
    w.write(piece);
    all += piece;
    w.flush();
  }
  w.end_frame();
  for (int i = 0; i < 3; ++i) {
    std::string piece = "second-" + std::to_string(i) + ";";
    w.write(piece);
    all += piece;
    w.flush();
  }
  std::string file = w.take();

  // Reference boundaries from a full read.
  lz4_frame_reader ref;
  ref.set_track_marks(true);
  std::string out;
  BOOST_REQUIRE(ref.feed(file, out));
  BOOST_REQUIRE((out == all));
  std::vector<lz4_frame_reader::mark> marks(ref.marks().begin(), ref.marks().end());
  BOOST_TEST(marks.size() == 1u + 1 + 6 + 1 + 1 + 3);   // start, header, blocks, end mark, header, blocks
  BOOST_TEST(marks.back().compressed == file.size());

  for (size_t cut = 0; cut <= file.size(); ++cut) {
    const lz4_frame_reader::mark* last = &marks.front();
    for (auto& m : marks)
      if (m.compressed <= cut)
        last = &m;
    bool at_boundary = last->compressed == cut;
    for (size_t step : {size_t(0), size_t(1), size_t(5)}) {
      decoded d = decode(std::string_view(file).substr(0, cut), step);
      BOOST_REQUIRE_MESSAGE(d.ok, "cut " << cut << ": " << d.error);
      BOOST_TEST(d.unit_start == last->compressed, "cut " << cut << " step " << step);
      BOOST_TEST((d.out == all.substr(0, static_cast<size_t>(last->decoded))), "cut " << cut);
      state expect = !at_boundary ? state::partial : last->in_frame ? state::open : state::idle;
      BOOST_TEST((d.st == expect), "cut " << cut << " step " << step);
    }
    // Cutting at the torn unit and sealing gives a complete, valid stream of frames.
    lz4_frame_reader r;
    std::string o;
    r.feed(std::string_view(file).substr(0, cut), o);
    std::string repaired = file.substr(0, static_cast<size_t>(r.unit_start())) + r.seal();
    decoded rd = decode(repaired);
    BOOST_TEST(rd.ok);
    BOOST_TEST((rd.st == state::idle), "cut " << cut);
    BOOST_TEST((rd.out == o));
    if (cut % 23 == 0) {   // and the lz4 CLI agrees
      ptest::write_file(dir.file("repaired.lz4"), repaired);
      auto t = ptest::run("lz4 -d -c " + dir.file("repaired.lz4") + " > " + dir.file("repaired.out"));
      BOOST_TEST(t.status == 0, "cut " << cut << ": " << t.out);
      BOOST_TEST((ptest::read_file(dir.file("repaired.out")) == o), "cut " << cut);
    }
  }
}

BOOST_AUTO_TEST_CASE(concatenated_frames_and_restart) {
  ptest::temp_dir dir;
  std::string a = text(100000, 1), b = text(5000, 2), c = text(70, 3);
  lz4_frame_writer w1;
  w1.write(a);
  w1.flush();
  std::string file = w1.take();   // a node that crashed: frame left open
  lz4_frame_reader r;
  std::string out;
  BOOST_REQUIRE(r.feed(file, out));
  BOOST_TEST((r.current() == state::open));
  file += r.seal();               // the restarted node closes it ...
  lz4_frame_writer w2;            // ... and appends a new frame
  w2.write(b);
  w2.end_frame();
  file += w2.take();
  lz4_frame_writer w3({256, true, true, false, 9});   // other options: independent blocks, HC, content checksum
  w3.write(c);
  w3.end_frame();
  file += w3.take();
  decoded d = decode(file);
  BOOST_REQUIRE_MESSAGE(d.ok, d.error);
  BOOST_TEST((d.st == state::idle));
  BOOST_TEST((d.out == a + b + c));
  ptest::write_file(dir.file("multi.lz4"), file);
  auto rr = ptest::run("lz4 -d -c " + dir.file("multi.lz4") + " > " + dir.file("multi.out"));
  BOOST_TEST(rr.status == 0, rr.out);
  BOOST_TEST((ptest::read_file(dir.file("multi.out")) == a + b + c));
  // The one-shot helper agrees.
  auto one = lz4_frame_decompress(file);
  BOOST_REQUIRE(one.has_value());
  BOOST_TEST((*one == a + b + c));
}

BOOST_AUTO_TEST_CASE(reads_what_the_lz4_cli_writes) {
  ptest::temp_dir dir;
  std::string data = text(400000, 9) + noise(100000, 9);
  ptest::write_file(dir.file("in"), data);
  for (std::string flags : {"", "-BD", "-BD -BX", "-B4 --content-size", "-9 -BD -BX --content-size", "--no-frame-crc"}) {
    auto r = ptest::run("lz4 -q -f " + flags + " " + dir.file("in") + " " + dir.file("in.lz4"));
    BOOST_REQUIRE_MESSAGE(r.status == 0, r.out);
    std::string f = ptest::read_file(dir.file("in.lz4"));
    decoded d = decode(f, 4093);
    BOOST_TEST(d.ok, flags << ": " << d.error);
    BOOST_TEST((d.st == state::idle), flags);
    BOOST_TEST((d.out == data), flags);
    // Content checksums and sizes are verified: break the last byte (the content checksum or
    // the last block) and the reader notices.
    std::string bad = f;
    bad[bad.size() - 1] = static_cast<char>(bad[bad.size() - 1] ^ 1);
    decoded db = decode(bad);
    if (flags.find("no-frame-crc") == std::string::npos)
      BOOST_TEST(!db.ok, flags);
  }
}

BOOST_AUTO_TEST_CASE(corruption_is_pinned_to_its_block) {
  lz4_frame_writer w;
  std::vector<std::string> pieces;
  std::string all, file;
  std::vector<uint64_t> block_start, decoded_before;
  file = "";
  for (int i = 0; i < 8; ++i) {
    pieces.push_back(text(static_cast<size_t>(200 + 50 * i), static_cast<uint64_t>(100 + i)));
    w.write(pieces.back());
    if (i == 0) {   // header goes out with the first block: note where the block begins
      w.flush();
      std::string o = w.take();
      block_start.push_back(7);
      decoded_before.push_back(0);
      file += o;
    } else {
      block_start.push_back(file.size());
      decoded_before.push_back(all.size());
      w.flush();
      file += w.take();
    }
    all += pieces.back();
  }
  BOOST_REQUIRE(decode(file).out == all);
  for (size_t k = 0; k < block_start.size(); ++k) {
    uint64_t end = k + 1 < block_start.size() ? block_start[k + 1] : file.size();
    for (uint64_t at : {block_start[k], block_start[k] + 4, (block_start[k] + end) / 2, end - 1}) {
      std::string bad = file;
      bad[at] = static_cast<char>(bad[at] ^ 0x10);
      decoded d = decode(bad);
      if (d.ok) {
        // A flipped size bit may just make the block look longer: then it is torn, not corrupt.
        BOOST_TEST((d.st == state::partial), "block " << k << " byte " << at);
        BOOST_TEST(d.unit_start == block_start[k]);
      } else {
        BOOST_TEST(d.error_offset == block_start[k], "block " << k << " byte " << at << ": " << d.error);
      }
      BOOST_TEST((d.out == all.substr(0, decoded_before[k])), "block " << k << " byte " << at);
    }
  }
  // Header damage: caught by the header checksum, at offset 0.
  std::string bad = file;
  bad[4] = static_cast<char>(bad[4] ^ 0x04);
  decoded d = decode(bad);
  BOOST_TEST(!d.ok);
  BOOST_TEST(d.error_offset == 0u);
  BOOST_TEST(d.error.find("checksum") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(garbage_is_an_error_at_its_offset) {
  decoded d = decode("this is not lz4 at all");
  BOOST_TEST(!d.ok);
  BOOST_TEST(d.error_offset == 0u);
  for (uint64_t seed = 0; seed < 300; ++seed) {
    std::string g = noise(1 + seed * 7, seed);
    decode(g);   // never crashes
    decode(std::string(lz4_magic) + g);
  }
  lz4_frame_writer w;
  w.write("payload");
  w.end_frame();
  std::string f = w.take();
  d = decode(f + "junk!junk!");
  BOOST_TEST(!d.ok);
  BOOST_TEST(d.error_offset == f.size());
  BOOST_TEST(d.out == "payload");
  // A block claiming more than the block size is corrupt at once (not waited for).
  std::string big = f.substr(0, 7) + std::string("\xff\xff\x01\x00", 4);
  d = decode(big);
  BOOST_TEST(!d.ok);
  BOOST_TEST(d.error_offset == 7u);
}

BOOST_AUTO_TEST_CASE(skippable_frames_are_skipped) {
  lz4_frame_writer w;
  w.write("before");
  w.end_frame();
  std::string f = w.take();
  std::string skip = std::string("\x50\x2a\x4d\x18\x05\x00\x00\x00hello", 13);
  lz4_frame_writer w2;
  w2.write("after");
  w2.end_frame();
  std::string all = f + skip + w2.take();
  for (size_t step : {size_t(0), size_t(1), size_t(3)}) {
    decoded d = decode(all, step);
    BOOST_TEST(d.ok);
    BOOST_TEST(d.out == "beforeafter");
    BOOST_TEST((d.st == state::idle));
  }
  decoded torn = decode(std::string_view(all).substr(0, f.size() + 10));
  BOOST_TEST((torn.st == state::partial));
  BOOST_TEST(torn.unit_start == f.size());
}

BOOST_AUTO_TEST_SUITE_END()
