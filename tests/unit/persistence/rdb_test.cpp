// RDB files without redis-server: round trips of every type and encoding (expiries, several dbs,
// LZ4 and plain files), the incremental writer, the push parser fed in any pieces, old
// encodings, and damage (checksums, truncation at every byte, random garbage).
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <set>
#include <random>

#include "old_formats.hpp"
#include "persistence/crc64.hpp"
#include "persistence/lz4_stream.hpp"
#include "persistence/packed_formats.hpp"
#include "persistence/rdb.hpp"
#include "test_support.hpp"

using namespace troupe::persistence;
namespace ks = troupe::keyspace;

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Loads `bytes` into a fresh dataset; returns the load result.
rdb_load_result load(std::string_view bytes, ks::dataset& into, rdb_parser_options opts = {}) {
  opts.settings = ptest::redis_defaults();
  dataset_sink sink(into);
  return load_rdb_bytes(bytes, sink, opts);
}

// Feeds `bytes` to a parser in pieces of `step` bytes.
rdb_parser::status feed_in_pieces(std::string_view bytes, size_t step, rdb_sink& sink, rdb_parser& p) {
  for (size_t i = 0; i < bytes.size(); i += step)
    if (p.feed(bytes.substr(i, step), sink) == rdb_parser::status::error)
      return p.current();
  return p.finish(sink);
}

ptest::key_state at(const ptest::canon& c, const std::string& key, int db = 0) {
  auto it = c.find({db, key});
  return it == c.end() ? ptest::key_state{} : it->second;
}

class counting_sink : public rdb_sink {
public:
  std::string on_key(ks::entry* e, const rdb_key_info&) override {
    ks::destroy_entry(e);
    ++keys;
    return {};
  }
  void on_aux(std::string_view k, std::string_view v) override { aux.emplace_back(k, v); }
  size_t keys = 0;
  std::vector<std::pair<std::string, std::string>> aux;
};

} // namespace

BOOST_AUTO_TEST_SUITE(rdb_files)

BOOST_AUTO_TEST_CASE(round_trip_every_type_and_encoding) {
  int64_t now = now_ms();
  ks::dataset src(16);
  ptest::fill_sample(src, now);
  auto before = ptest::canon_of(src);
  BOOST_REQUIRE(before.size() >= 24u);
  // Every encoding is present in the sample.
  std::set<std::string> encodings;
  for (auto& [k, v] : before)
    encodings.insert(v.type + "/" + v.encoding);
  for (const char* e : {"list/quicklist", "set/intset", "set/hashtable", "hash/listpack", "hash/hashtable",
                        "zset/listpack", "zset/skiplist", "string/string"})
    BOOST_TEST(encodings.count(e) == 1u, e);

  for (bool compression : {true, false}) {
    rdb_writer_options wo;
    wo.compression = compression;
    std::string bytes = rdb_serialize(src, wo);
    BOOST_TEST(bytes.substr(0, 9) == "REDIS0010");
    ks::dataset dst(16);
    rdb_load_result r = load(bytes, dst);
    BOOST_REQUIRE_MESSAGE(r.ok, r.error);
    BOOST_TEST(r.version == 10);
    BOOST_TEST(r.checksum_verified);
    BOOST_TEST(!r.lz4);
    BOOST_TEST(r.keys == before.size());
    auto after = ptest::canon_of(dst);
    BOOST_TEST((after == before), "compression " << compression << "\n" << ptest::describe(after));
  }
  // LZF makes a difference where strings compress.
  rdb_writer_options on, off;
  off.compression = false;
  BOOST_TEST(rdb_serialize(src, on).size() < rdb_serialize(src, off).size());
}

BOOST_AUTO_TEST_CASE(files_lz4_and_plain) {
  ptest::temp_dir dir;
  int64_t now = now_ms();
  ks::dataset src(16);
  ptest::fill_sample(src, now);
  auto before = ptest::canon_of(src);
  for (bool lz4 : {true, false}) {
    std::string path = dir.file(lz4 ? "dump.lz4.rdb" : "dump.rdb");
    BOOST_REQUIRE(save_rdb_file(path, src, lz4).empty());
    std::string bytes = ptest::read_file(path);
    BOOST_TEST(looks_like_lz4(bytes) == lz4);
    if (lz4) {   // the lz4 CLI turns it into the plain RDB
      auto r = ptest::run("lz4 -d -c " + path + " > " + dir.file("plain.rdb"));
      BOOST_TEST(r.status == 0, r.out);
      BOOST_TEST(ptest::read_file(dir.file("plain.rdb")).substr(0, 9) == "REDIS0010");
    }
    ks::dataset dst(16);
    dataset_sink sink(dst);
    rdb_load_result r = load_rdb_file(path, sink);
    BOOST_REQUIRE_MESSAGE(r.ok, r.error);
    BOOST_TEST(r.lz4 == lz4);
    BOOST_TEST((ptest::canon_of(dst) == before));
  }
  // Expired keys are left out by the writer when asked, and dropped by the loader at start-up.
  ks::dataset with_expired(16);
  ptest::put_string(with_expired, 0, "gone", "x", now - 1000);
  ptest::put_string(with_expired, 0, "kept", "y", now + 100000);
  ks::dataset dst(16);
  dataset_sink sink(dst, now);
  rdb_load_result r = load_rdb_bytes(rdb_serialize(with_expired), sink);
  BOOST_REQUIRE(r.ok);
  BOOST_TEST(sink.loaded == 1u);
  BOOST_TEST(sink.expired == 1u);
  BOOST_TEST(ptest::canon_of(dst).count({0, "kept"}) == 1u);
  counting_sink cs;
  BOOST_TEST(load_rdb_bytes(rdb_serialize(with_expired, {}, now), cs).keys == 1u);
}

BOOST_AUTO_TEST_CASE(aux_fields_and_header) {
  rdb_writer_options o;
  o.ctime = 1700000000;
  o.used_mem = 123456;
  o.aux = {{"repl-id", std::string(40, 'a')}, {"repl-offset", "99"}};
  rdb_writer w(o);
  w.begin();
  w.end();
  std::string bytes = w.take();
  counting_sink s;
  rdb_load_result r = load_rdb_bytes(bytes, s);
  BOOST_REQUIRE_MESSAGE(r.ok, r.error);
  std::map<std::string, std::string> aux(s.aux.begin(), s.aux.end());
  BOOST_TEST(aux["redis-ver"] == TROUPE_REDIS_VERSION);
  BOOST_TEST(aux["redis-bits"] == "64");
  BOOST_TEST(aux["ctime"] == "1700000000");
  BOOST_TEST(aux["used-mem"] == "123456");
  BOOST_TEST(aux["aof-base"] == "0");
  BOOST_TEST(aux["repl-offset"] == "99");
  BOOST_TEST(aux["repl-id"] == std::string(40, 'a'));
  // The last 8 bytes are the CRC64 of everything before them, little-endian.
  uint64_t crc = crc64(0, bytes.data(), bytes.size() - 8);
  uint64_t stored = 0;
  for (int i = 7; i >= 0; --i)
    stored = (stored << 8) | static_cast<unsigned char>(bytes[bytes.size() - 8 + static_cast<size_t>(i)]);
  BOOST_TEST(stored == crc);
  BOOST_TEST(static_cast<unsigned char>(bytes[bytes.size() - 9]) == 0xFFu);
}

BOOST_AUTO_TEST_CASE(incremental_writer_chunks_and_reselected_dbs) {
  int64_t now = now_ms();
  ks::dataset src(16);
  ptest::fill_sample(src, now);
  // Serialize db 0 in two halves with db 3 in between (as slot ranges would), draining output
  // after every key, and some keys encoded elsewhere and handed over raw.
  rdb_writer w;
  std::string file;
  w.begin();
  file += w.take();
  std::vector<ks::entry*> db0;
  for (int s = 0; s < troupe::protocol::slot_count; ++s)
    if (auto* t = src.db(0).slot(s))
      t->for_each([&](ks::entry* e) { db0.push_back(e); });
  size_t half = db0.size() / 2;
  w.select_db(0);
  for (size_t i = 0; i < half; ++i) {
    w.key(db0[i]);
    file += w.take();
  }
  for (int db : {3, 15}) {
    w.select_db(db);
    for (int s = 0; s < troupe::protocol::slot_count; ++s)
      if (auto* t = src.db(db).slot(s))
        t->for_each([&](ks::entry* e) {
          std::string rec;
          rdb_write_key(rec, e, w.options());
          w.raw(rec);
        });
  }
  w.select_db(0);
  w.resize_db(db0.size() - half, 0);
  for (size_t i = half; i < db0.size(); ++i)
    w.key(db0[i]);
  w.end();
  file += w.take();
  BOOST_TEST(w.bytes_written() == file.size());
  ks::dataset dst(16);
  rdb_load_result r = load(file, dst);
  BOOST_REQUIRE_MESSAGE(r.ok, r.error);
  BOOST_TEST(r.checksum_verified);
  BOOST_TEST((ptest::canon_of(dst) == ptest::canon_of(src)));
}

BOOST_AUTO_TEST_CASE(parser_takes_any_pieces) {
  int64_t now = now_ms();
  ks::dataset src(16);
  ptest::fill_sample(src, now);
  std::string bytes = rdb_serialize(src);
  auto expect = ptest::canon_of(src);
  for (size_t step : {size_t(1), size_t(2), size_t(7), size_t(100), size_t(4096), size_t(1) << 20}) {
    ks::dataset dst(16);
    dataset_sink sink(dst);
    rdb_parser p;
    auto st = feed_in_pieces(bytes, step, sink, p);
    BOOST_TEST((st == rdb_parser::status::done), "step " << step << ": " << p.error());
    BOOST_TEST(p.offset() == bytes.size());
    BOOST_TEST((ptest::canon_of(dst) == expect), "step " << step);
  }
  // Bytes after the end are kept aside (an AOF tail after an RDB preamble).
  counting_sink cs;
  rdb_parser p;
  p.feed(bytes + "*1\r\n$4\r\nPING\r\n", cs);
  BOOST_TEST((p.current() == rdb_parser::status::done));
  BOOST_TEST(p.trailing() == "*1\r\n$4\r\nPING\r\n");
}

BOOST_AUTO_TEST_CASE(checksums_are_checked) {
  ks::dataset src(16);
  ptest::put_string(src, 0, "k", "some value that is long enough");
  std::string bytes = rdb_serialize(src);
  // A flipped bit in the checksum itself.
  std::string bad = bytes;
  bad[bad.size() - 1] = static_cast<char>(bad[bad.size() - 1] ^ 1);
  ks::dataset d1(16);
  rdb_load_result r = load(bad, d1);
  BOOST_TEST(!r.ok);
  BOOST_TEST(r.error.find("Wrong RDB checksum") != std::string::npos, r.error);
  BOOST_TEST(r.error_offset == bytes.size() - 8);
  // A changed value byte: the value loads but the checksum fails.
  bad = bytes;
  size_t at = bytes.find("some value");
  bad[at] = 'S';
  ks::dataset d2(16);
  r = load(bad, d2);
  BOOST_TEST(!r.ok);
  BOOST_TEST(r.error.find("checksum") != std::string::npos, r.error);
  // Checksum off: written as 0, not checked.
  rdb_writer_options o;
  o.checksum = false;
  std::string nosum = rdb_serialize(src, o);
  BOOST_TEST(nosum.substr(nosum.size() - 8) == std::string(8, '\0'));
  ks::dataset d3(16);
  r = load(nosum, d3);
  BOOST_TEST(r.ok);
  BOOST_TEST(!r.checksum_verified);
}

BOOST_AUTO_TEST_CASE(truncation_at_every_byte_is_an_error) {
  ks::dataset src(16);
  ptest::put_string(src, 0, "a", "1");
  ptest::put_string(src, 2, "b", std::string(50, 'b'), 4102444800000);
  auto h = std::make_unique<ks::hash_value>();
  h->set("f", "v", {});
  ptest::put_coll(src, 0, "h", ks::vtype::hash, std::move(h));
  std::string bytes = rdb_serialize(src);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    ks::dataset d(16);
    rdb_load_result r = load(std::string_view(bytes).substr(0, cut), d);
    BOOST_TEST(!r.ok, "cut " << cut);
    BOOST_TEST(r.error_offset <= cut, "cut " << cut << ": " << r.error);
  }
  // And through LZ4: a torn frame is reported as such.
  std::string framed = lz4_frame_compress(bytes);
  ks::dataset d(16);
  rdb_load_result r = load(std::string_view(framed).substr(0, framed.size() - 9), d);
  BOOST_TEST(!r.ok);
  BOOST_TEST(r.lz4);
}

BOOST_AUTO_TEST_CASE(garbage_never_crashes) {
  int64_t now = now_ms();
  ks::dataset src(16);
  ptest::fill_sample(src, now);
  // Keep the fuzzed file small: only db 0's small keys.
  ks::dataset small(16);
  for (const char* k : {"s:int", "s:lzf", "l:small", "set:intset", "set:strings", "h:listpack", "z:listpack"}) {
    ks::entry* e = src.db(0).slot(troupe::protocol::key_slot(k))->find(k, ks::hash_key(k));
    BOOST_REQUIRE(e != nullptr);
    ptest::put(small, 0, ks::clone_entry(e, e->key(), e->hash, -1));
  }
  rdb_writer_options o;
  o.checksum = false;   // let damage reach the value decoders
  std::string bytes = rdb_serialize(small, o);
  std::mt19937_64 rng(42);
  size_t failures = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string g = bytes;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f)
      g[9 + rng() % (g.size() - 9)] = static_cast<char>(rng());
    counting_sink cs;
    if (!load_rdb_bytes(g, cs).ok)
      ++failures;
  }
  BOOST_TEST(failures > 1000u);
  for (int i = 0; i < 300; ++i) {
    std::string g = "REDIS0010";
    for (int k = 0; k < 200; ++k)
      g.push_back(static_cast<char>(rng()));
    counting_sink cs;
    load_rdb_bytes(g, cs);
  }
  // The old encodings under damage too (no checksum, so the value decoders see it).
  std::string old = ptest::make_rdb(3, ptest::old_format_records());
  for (int i = 0; i < 3000; ++i) {
    std::string g = old;
    g[9 + rng() % (g.size() - 9)] = static_cast<char>(rng());
    if (i % 2)
      g[9 + rng() % (g.size() - 9)] = static_cast<char>(rng());
    counting_sink cs;
    load_rdb_bytes(g, cs);
  }
  ks::dataset d(16);
  BOOST_TEST(load("not an rdb at all", d).error.find("Wrong signature") != std::string::npos);
  BOOST_TEST(load("REDIS0011\xff", d).error.find("Can't handle RDB format version 11") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(old_encodings_load) {
  std::string file = ptest::make_rdb(9, ptest::old_format_records());
  ks::dataset d(16);
  rdb_load_result r = load(file, d);
  BOOST_REQUIRE_MESSAGE(r.ok, r.error);
  BOOST_TEST(r.version == 9);
  auto c = ptest::canon_of(d);
  BOOST_TEST(at(c, "old:list-ziplist").value == "1:a,1:5,4:-100,5:70000,10:5000000000,100:" + std::string(100, 'x') + ",");
  BOOST_TEST(at(c, "old:hash-zipmap").value == "5:f1=v1,303:f2=" + std::string(300, 'y') + ",3:n=7,");
  BOOST_TEST(at(c, "old:hash-zipmap").encoding == "hashtable");   // a 300-byte value
  BOOST_TEST(at(c, "old:hash-ziplist").value == "10:name=redis,9:year=2009,");
  BOOST_TEST(at(c, "old:hash-ziplist").encoding == "listpack");
  BOOST_TEST(at(c, "old:zset-ziplist").value == "1:c=-3,1:a=1,1:b=2.5,");
  BOOST_TEST(at(c, "old:list-quicklist").value == "2:q1,2:q2,1:3,2:q4,5:12345,");
  BOOST_TEST(at(c, "old:zset-strdouble").value == "2:m3=-inf,2:m1=1.5,2:m2=inf,");
  BOOST_TEST(at(c, "old:list-plain").value == "2:p1,1:2,2:p3,");
  BOOST_TEST(at(c, "old:expire-seconds").expire == 2100000000000);
  // Versions before 5 have no checksum.
  std::string v3 = ptest::make_rdb(3, std::string("\x00", 1) + ptest::str("k") + ptest::str("v"));
  ks::dataset d3(16);
  r = load(v3, d3);
  BOOST_REQUIRE_MESSAGE(r.ok, r.error);
  BOOST_TEST(at(ptest::canon_of(d3), "k").value == "v");
}

BOOST_AUTO_TEST_CASE(bad_values_are_reported) {
  namespace rdb = troupe::persistence::rdb;
  auto try_body = [](const std::string& body, rdb_parser_options o = {}) {
    ks::dataset d(16);
    return load(ptest::make_rdb(10, body), d, o);
  };
  // A duplicate key.
  rdb_load_result r = try_body(std::string("\x00", 1) + ptest::str("k") + ptest::str("1") + std::string("\x00", 1) +
                               ptest::str("k") + ptest::str("2"));
  BOOST_TEST(!r.ok);
  BOOST_TEST(r.error.find("duplicated key 'k'") != std::string::npos, r.error);
  // A set with a repeated member.
  r = try_body(std::string("\x02", 1) + ptest::str("s") + ptest::len(2) + ptest::str("a") + ptest::str("a"));
  BOOST_TEST(r.error.find("Duplicate set members") != std::string::npos, r.error);
  // A listpack hash with a repeated field (type 16), and one whose fields are all distinct.
  auto lp_hash = [](std::initializer_list<std::string_view> elems) {
    listpack_builder b;
    for (auto e : elems)
      b.add(e);
    return std::string("\x10", 1) + ptest::str("h") + ptest::str(b.finish());
  };
  r = try_body(lp_hash({"f", "1", "g", "2", "f", "3"}));
  BOOST_TEST(!r.ok);
  BOOST_TEST(r.error.find("Duplicate hash fields detected") != std::string::npos, r.error);
  r = try_body(lp_hash({"7", "1", "g", "2", "f", "3"}));
  BOOST_TEST(r.ok, r.error);
  // A zset with a NaN score.
  r = try_body(std::string("\x03", 1) + ptest::str("z") + ptest::len(1) + ptest::str("m") + "\xfd");
  BOOST_TEST(r.error.find("NAN") != std::string::npos, r.error);
  // An unknown type byte, at its offset.
  r = try_body(std::string("\x08", 1) + ptest::str("x"));
  BOOST_TEST(r.error.find("Unknown RDB value type 8") != std::string::npos, r.error);
  BOOST_TEST(r.error_offset == 9u);
  // A db beyond `databases`.
  rdb_parser_options few;
  few.databases = 4;
  r = try_body(std::string("\xfe\x05", 2), few);
  BOOST_TEST(r.error.find("more than 4 databases") != std::string::npos, r.error);
  // Empty collections are skipped, not loaded, as Redis does.
  {
    ks::dataset d(16);
    dataset_sink sink(d);
    r = load_rdb_bytes(ptest::make_rdb(10, std::string("\x04", 1) + ptest::str("h") + ptest::len(0)), sink);
    BOOST_TEST(r.ok);
    BOOST_TEST(r.skipped == 1u);
    BOOST_TEST(sink.skipped.size() == 1u);
    BOOST_TEST(ptest::canon_of(d).empty());
  }
  // Streams: an error by default; read past with skip_unsupported.
  std::string stream = std::string("\x13", 1) + ptest::str("st") + ptest::len(1) +
                       ptest::str(std::string(16, '\0')) + ptest::str("not-a-listpack-but-skipped") +
                       ptest::len(1) + ptest::len(5) + ptest::len(0) + ptest::len(5) + ptest::len(0) +
                       ptest::len(0) + ptest::len(0) + ptest::len(1) + ptest::len(1) + ptest::str("grp") +
                       ptest::len(5) + ptest::len(0) + ptest::len(1) + ptest::len(1) + std::string(16, '\x01') +
                       std::string(8, '\x02') + ptest::len(1) + ptest::len(1) + ptest::str("alice") +
                       std::string(8, '\x03') + ptest::len(1) + std::string(16, '\x01') + std::string("\x00", 1) +
                       ptest::str("after") + ptest::str("ok");
  r = try_body(stream);
  BOOST_TEST(r.error.find("stream") != std::string::npos, r.error);
  rdb_parser_options skip;
  skip.skip_unsupported = true;
  {
    ks::dataset d(16);
    dataset_sink sink(d);
    r = load_rdb_bytes(ptest::make_rdb(10, stream), sink, skip);
    BOOST_REQUIRE_MESSAGE(r.ok, r.error);
    BOOST_TEST(r.skipped == 1u);
    BOOST_TEST(at(ptest::canon_of(d), "after").value == "ok");
  }
}

BOOST_AUTO_TEST_CASE(idle_and_freq_opcodes) {
  class info_sink : public rdb_sink {
  public:
    std::string on_key(ks::entry* e, const rdb_key_info& i) override {
      ks::destroy_entry(e);
      infos.push_back(i);
      return {};
    }
    std::vector<rdb_key_info> infos;
  } sink;
  std::string body = std::string("\xfe\x02\xf8", 3) + ptest::len(100) + std::string("\x00", 1) + ptest::str("a") +
                     ptest::str("1") + std::string("\xf9\x07\x00", 3) + ptest::str("b") + ptest::str("2");
  rdb_load_result r = load_rdb_bytes(ptest::make_rdb(10, body), sink);
  BOOST_REQUIRE_MESSAGE(r.ok, r.error);
  BOOST_REQUIRE(sink.infos.size() == 2u);
  BOOST_TEST(sink.infos[0].db == 2);
  BOOST_TEST(sink.infos[0].lru_idle == 100);
  BOOST_TEST(sink.infos[0].lfu_freq == -1);
  BOOST_TEST(sink.infos[1].lru_idle == -1);   // opcodes apply to the next key only
  BOOST_TEST(sink.infos[1].lfu_freq == 7);
  // A dataset_sink turns IDLE into the access clock.
  ks::dataset d(16);
  dataset_sink ds(d, 1700000000000);
  BOOST_REQUIRE(load_rdb_bytes(ptest::make_rdb(10, body), ds).ok);
  ks::entry* a = d.db(2).slot(troupe::protocol::key_slot("a"))->find("a", ks::hash_key("a"));
  BOOST_REQUIRE(a != nullptr);
  BOOST_TEST(a->lru == ks::lru_clock(1700000000000) - 100);
}

BOOST_AUTO_TEST_SUITE_END()
