// The AOF: writer/reader round trips (LZ4 and plain), torn tails cut at every byte, corruption
// reported with its offset, transactions, RDB preambles, restart after a crash, and
// check_aof (against redis-check-aof's own figures on the plain file).
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <random>
#include <sstream>

#include "persistence/aof.hpp"
#include "persistence/rdb.hpp"
#include "test_support.hpp"

using namespace troupe::persistence;
namespace ks = troupe::keyspace;
using cmd = std::vector<std::string>;

namespace {

std::vector<std::string_view> views(const cmd& c) { return {c.begin(), c.end()}; }

std::string plain(const std::vector<cmd>& cmds) {
  std::string out;
  for (auto& c : cmds)
    encode_command(out, views(c));
  return out;
}

// Commands of a small workload: (db, command) pairs, with a transaction in the middle.
std::vector<std::pair<int, cmd>> workload(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::pair<int, cmd>> w;
  for (int i = 0; i < n; ++i) {
    int db = (i / 7) % 3;
    if (i == n / 2) {
      w.push_back({db, {"MULTI"}});
      w.push_back({db, {"INCR", "counter"}});
      w.push_back({db, {"LPUSH", "list", "a", "b"}});
      w.push_back({db, {"EXEC"}});
      continue;
    }
    std::string v(static_cast<size_t>(rng() % 40), static_cast<char>('a' + rng() % 26));
    w.push_back({db, {"SET", "key:" + std::to_string(rng() % 50), v}});
    if (i % 5 == 0)
      w.push_back({db, {"PEXPIREAT", "key:" + std::to_string(i), std::to_string(4102444800000 + i)}});
  }
  return w;
}

// What the reader must return for a workload: the commands with SELECTs where the db changes.
std::vector<cmd> expected_commands(const std::vector<std::pair<int, cmd>>& w) {
  std::vector<cmd> out;
  int db = -1;
  for (auto& [d, c] : w) {
    if (d != db) {
      out.push_back({"SELECT", std::to_string(d)});
      db = d;
    }
    out.push_back(c);
  }
  return out;
}

// Writes the workload, flushing every `batch` commands; returns the file bytes.
std::string write_aof(const std::vector<std::pair<int, cmd>>& w, bool lz4, size_t batch, bool close = false) {
  aof_writer_options o;
  o.lz4 = lz4;
  aof_writer aw(o);
  std::string file;
  for (size_t i = 0; i < w.size(); ++i) {
    aw.append(w[i].first, views(w[i].second));
    if ((i + 1) % batch == 0) {
      aw.flush();
      file += aw.take();
    }
  }
  if (close)
    aw.close();
  else
    aw.flush();
  file += aw.take();
  return file;
}

struct read_all_result {
  std::vector<cmd> commands;
  aof_reader::status st;
  uint64_t good;
  std::string error;
  uint64_t error_offset;
  uint64_t error_file_offset;
  aof_cut cut;
};

read_all_result read_all(const std::string& bytes) {
  aof_reader r;
  r.open_bytes(bytes);
  read_all_result res;
  std::vector<std::string_view> args;
  while ((res.st = r.next(args)) == aof_reader::status::command)
    res.commands.emplace_back(args.begin(), args.end());
  res.good = r.good_offset();
  res.error = r.error_message();
  res.error_offset = r.error_offset();
  res.error_file_offset = r.error_file_offset();
  res.cut = r.cut();
  return res;
}

// Commands of `all` that end at or before decoded offset `limit`, minus an unfinished
// transaction at the end.
std::vector<cmd> complete_before(const std::vector<cmd>& all, uint64_t limit) {
  std::vector<cmd> out;
  uint64_t off = 0;
  size_t multi_at = SIZE_MAX;
  for (auto& c : all) {
    std::string enc;
    encode_command(enc, views(c));
    if (off + enc.size() > limit)
      break;
    off += enc.size();
    if (c[0] == "MULTI")
      multi_at = out.size();
    if (c[0] == "EXEC")
      multi_at = SIZE_MAX;
    out.push_back(c);
  }
  if (multi_at != SIZE_MAX)
    out.resize(multi_at);
  return out;
}

class recording_handler : public aof_handler {
public:
  std::string on_command(const std::vector<std::string_view>& args) override {
    commands.emplace_back(args.begin(), args.end());
    return {};
  }
  std::string on_key(ks::entry* e, const rdb_key_info& info) override {
    keys.push_back(std::to_string(info.db) + "/" + std::string(e->key()));
    ks::destroy_entry(e);
    return {};
  }
  std::vector<cmd> commands;
  std::vector<std::string> keys;
};

} // namespace

BOOST_AUTO_TEST_SUITE(aof)

BOOST_AUTO_TEST_CASE(round_trip_lz4_and_plain) {
  ptest::temp_dir dir;
  auto w = workload(300, 1);
  auto expect = expected_commands(w);
  for (bool lz4 : {true, false}) {
    std::string file = write_aof(w, lz4, 10);
    BOOST_TEST(looks_like_lz4(file) == lz4);
    auto r = read_all(file);
    BOOST_TEST((r.st == aof_reader::status::end), r.error);
    BOOST_TEST((r.commands == expect));
    if (!lz4)
      BOOST_TEST((file == plain(expect)));
    // Written to disk and read back from the file.
    std::string path = dir.file(lz4 ? "a.aof" : "p.aof");
    ptest::write_file(path, file);
    aof_reader fr;
    BOOST_REQUIRE(fr.open(path));
    std::vector<std::string_view> args;
    size_t n = 0;
    while (fr.next(args) == aof_reader::status::command)
      ++n;
    BOOST_TEST(n == expect.size());
    BOOST_TEST(fr.lz4() == lz4);
  }
  // `lz4 -d` gives the plain AOF, which redis-check-aof accepts.
  std::string path = dir.file("a.aof");
  auto d = ptest::run("lz4 -d -c " + path + " > " + dir.file("plain.aof"));
  BOOST_TEST((ptest::read_file(dir.file("plain.aof")) == plain(expect)));
  if (ptest::have_tool("redis-check-aof")) {
    auto c = ptest::run("redis-check-aof " + dir.file("plain.aof"));
    BOOST_TEST(c.status == 0, c.out);
    BOOST_TEST(c.out.find("is valid") != std::string::npos, c.out);
  }
}

BOOST_AUTO_TEST_CASE(encoded_effects_and_prepend) {
  aof_writer aw;
  std::string resp;
  encode_command(resp, {"SET", "a", "1"});
  encode_command(resp, {"SET", "b", "2"});
  aw.append_encoded(4, resp);
  aw.append(4, {"DEL", "a"});
  aw.append(0, {"DEL", "z"});
  aw.close();
  auto r = read_all(aw.take());
  std::vector<cmd> expect = {{"SELECT", "4"}, {"SET", "a", "1"}, {"SET", "b", "2"}, {"DEL", "a"}, {"SELECT", "0"}, {"DEL", "z"}};
  BOOST_TEST((r.commands == expect));
  BOOST_TEST((r.st == aof_reader::status::end));
}

BOOST_AUTO_TEST_CASE(torn_tail_at_every_byte) {
  ptest::temp_dir dir;
  auto w = workload(24, 2);
  auto all = expected_commands(w);
  std::string decoded = plain(all);
  for (bool lz4 : {true, false}) {
    std::string file = write_aof(w, lz4, 3);
    // Where each decoded byte becomes available in the file: a prefix of `cut` bytes decodes to
    // `avail[cut]` bytes.
    std::vector<uint64_t> avail(file.size() + 1);
    {
      lz4_frame_reader lr;
      std::string o;
      for (size_t cut = 0; cut <= file.size(); ++cut) {
        if (cut > 0 && lz4)
          lr.feed(std::string_view(file).substr(cut - 1, 1), o);
        avail[cut] = lz4 ? o.size() : cut;
      }
    }
    for (size_t cut = 0; cut <= file.size(); ++cut) {
      std::string prefix = file.substr(0, cut);
      auto r = read_all(prefix);
      auto expect = complete_before(all, avail[cut]);
      BOOST_TEST((r.st == aof_reader::status::end || r.st == aof_reader::status::truncated),
                 "cut " << cut << ": " << r.error);
      BOOST_TEST(r.commands.size() >= expect.size(), "cut " << cut);
      // The good part is exactly the complete commands outside an unfinished transaction.
      uint64_t good = plain(expect).size();
      BOOST_TEST(r.good == good, "lz4 " << lz4 << " cut " << cut);
      if (r.st == aof_reader::status::end)
        BOOST_TEST(avail[cut] == good, "cut " << cut);
      // Applying the cut leaves a file that reads cleanly to exactly those commands.
      BOOST_REQUIRE(r.cut.possible);
      std::string repaired = prefix.substr(0, static_cast<size_t>(r.cut.keep)) + r.cut.append;
      auto again = read_all(repaired);
      BOOST_TEST((again.st == aof_reader::status::end), "cut " << cut << ": " << again.error);
      BOOST_TEST((again.commands == expect), "lz4 " << lz4 << " cut " << cut);
      if (lz4 && cut % 37 == 0) {   // the lz4 CLI reads the repaired file without complaint
        ptest::write_file(dir.file("r.aof"), repaired);
        auto t = ptest::run("lz4 -d -c " + dir.file("r.aof") + " > " + dir.file("r.plain"));
        BOOST_TEST(t.status == 0, "cut " << cut << ": " << t.out);
        BOOST_TEST((ptest::read_file(dir.file("r.plain")) == plain(expect)), "cut " << cut);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(mid_file_corruption_is_an_error_with_its_offset) {
  auto w = workload(200, 3);
  auto all = expected_commands(w);
  std::string p = plain(all);
  // Plain: a command that does not start with '*'.
  size_t at = 0;
  for (size_t i = 0; i < 100; ++i) {
    std::string enc;
    encode_command(enc, views(all[i]));
    at += enc.size();
  }
  std::string bad = p;
  bad[at] = '?';
  auto r = read_all(bad);
  BOOST_TEST((r.st == aof_reader::status::error));
  BOOST_TEST(r.error_offset == at);
  BOOST_TEST(r.error == "Expected prefix '*', got: '?'");
  BOOST_TEST(r.commands.size() == 100u);
  BOOST_TEST(r.good == at);
  // A broken CRLF after a bulk.
  bad = p;
  size_t crlf = p.find("\r\n*", at + 10);
  bad[crlf] = 'X';
  r = read_all(bad);
  BOOST_TEST((r.st == aof_reader::status::error));
  BOOST_TEST(r.error.find("Expected \\r\\n") != std::string::npos, r.error);
  // LZ4: a damaged block is an error at that block's file offset; what came before is served.
  std::string file = write_aof(w, true, 20);
  lz4_frame_reader lr;
  lr.set_track_marks(true);
  std::string o;
  BOOST_REQUIRE(lr.feed(file, o));
  auto& marks = lr.marks();
  auto& victim = marks[marks.size() / 2];   // a block in the middle
  std::string lbad = file;
  lbad[victim.compressed + 6] = static_cast<char>(lbad[victim.compressed + 6] ^ 0x55);
  r = read_all(lbad);
  BOOST_TEST((r.st == aof_reader::status::error));
  BOOST_TEST(r.error_file_offset == victim.compressed, r.error);
  BOOST_TEST(r.error_offset == victim.decoded);
  BOOST_TEST(r.error.find("LZ4") != std::string::npos);
  BOOST_TEST((r.commands == complete_before(all, victim.decoded)));
  // A cut there gives a valid file with those commands.
  std::string repaired = lbad.substr(0, static_cast<size_t>(r.cut.keep)) + r.cut.append;
  auto again = read_all(repaired);
  BOOST_TEST((again.st == aof_reader::status::end));
  BOOST_TEST((again.commands == complete_before(all, victim.decoded)));
}

BOOST_AUTO_TEST_CASE(transactions_and_annotations) {
  std::string p = plain({{"SET", "a", "1"}, {"MULTI"}, {"SET", "b", "2"}, {"EXEC"}}) + "#TS:1700000000\r\n" +
                  plain({{"MULTI"}, {"SET", "c", "3"}});
  ptest::temp_dir dir;
  ptest::write_file(dir.file("t.aof"), p);
  recording_handler h;
  aof_load_result lr = load_aof_file(dir.file("t.aof"), h);
  BOOST_TEST((lr.result == aof_load_result::outcome::truncated), lr.message);
  // The finished transaction is delivered without MULTI/EXEC; the unfinished one not at all.
  std::vector<cmd> expect = {{"SET", "a", "1"}, {"SET", "b", "2"}};
  BOOST_TEST((h.commands == expect));
  size_t before_multi = p.find("*1\r\n$5\r\nMULTI", p.find("#TS"));
  BOOST_TEST(lr.good_offset == before_multi);
  BOOST_TEST(lr.cut.keep == before_multi);
  BOOST_TEST(lr.message.find("MULTI") != std::string::npos, lr.message);
  // aof-load-truncated no: an error.
  aof_load_options strict;
  strict.load_truncated = false;
  recording_handler h2;
  lr = load_aof_file(dir.file("t.aof"), h2, strict);
  BOOST_TEST((lr.result == aof_load_result::outcome::error));
  BOOST_TEST(lr.message.find("Unexpected end of file") != std::string::npos, lr.message);
  // Nested MULTI is corrupt.
  auto r = read_all(plain({{"MULTI"}, {"MULTI"}}));
  BOOST_TEST((r.st == aof_reader::status::error));
  BOOST_TEST(r.error == "Unexpected MULTI in AOF");
}

BOOST_AUTO_TEST_CASE(restart_after_a_crash_seals_and_appends) {
  ptest::temp_dir dir;
  std::string path = dir.file("node.aof");
  auto w1 = workload(50, 4);
  std::string file = write_aof(w1, true, 5);   // flushed, frame never closed: a crash
  ptest::write_file(path, file);
  recording_handler h;
  aof_load_result lr = load_aof_file(path, h);
  BOOST_REQUIRE_MESSAGE(lr.ok(), lr.message);
  BOOST_TEST((lr.result == aof_load_result::outcome::ok));
  BOOST_TEST((h.commands.size() == expected_commands(w1).size() - 2));   // MULTI/EXEC not delivered
  // The cut keeps the whole file and closes the open frame (end mark + content checksum).
  BOOST_TEST(lr.cut.keep == file.size());
  BOOST_TEST(lr.cut.append.size() == 8u);
  BOOST_REQUIRE(apply_aof_cut(path, lr.cut).empty());
  // The restarted node appends a new frame.
  aof_writer aw;
  aw.append(0, {"SET", "after", "restart"});
  aw.flush();
  {
    std::ofstream f(path, std::ios::binary | std::ios::app);
    f << aw.take();
  }
  recording_handler h2;
  lr = load_aof_file(path, h2);
  BOOST_REQUIRE_MESSAGE(lr.ok(), lr.message);
  BOOST_TEST((h2.commands.back() == cmd{"SET", "after", "restart"}));
  BOOST_TEST((h2.commands[h2.commands.size() - 2] == cmd{"SELECT", "0"}));
  auto t = ptest::run("lz4 -d -c " + path + " > " + dir.file("plain.aof"));
  BOOST_TEST(ptest::read_file(dir.file("plain.aof")).size() == lr.decoded_size);
  // A torn block at the end: the load cuts it off (aof-load-truncated) and reports where.
  std::string torn = ptest::read_file(path);
  torn.resize(torn.size() - 3);
  ptest::write_file(path, torn);
  recording_handler h3;
  lr = load_aof_file(path, h3);
  BOOST_TEST((lr.result == aof_load_result::outcome::truncated), lr.message);
  BOOST_TEST((h3.commands.back() != cmd{"SET", "after", "restart"}));
  BOOST_TEST(lr.message.find("incomplete") != std::string::npos, lr.message);
  BOOST_REQUIRE(apply_aof_cut(path, lr.cut).empty());
  recording_handler h4;
  lr = load_aof_file(path, h4);
  BOOST_TEST((lr.result == aof_load_result::outcome::ok), lr.message);
  BOOST_TEST((h4.commands == h3.commands));
  BOOST_TEST(ptest::run("lz4 -t " + path).status == 0);
}

BOOST_AUTO_TEST_CASE(rdb_preamble) {
  ptest::temp_dir dir;
  ks::dataset data(16);
  ptest::put_string(data, 0, "from-rdb", "1");
  ptest::put_string(data, 5, "also-rdb", "2");
  rdb_writer_options o;
  o.aof_base = true;
  std::string body = rdb_serialize(data, o) + plain({{"SELECT", "0"}, {"SET", "tail", "3"}});
  for (bool lz4 : {true, false}) {
    std::string path = dir.file("pre.aof");
    ptest::write_file(path, lz4 ? lz4_frame_compress(body) : body);
    recording_handler h;
    aof_load_result lr = load_aof_file(path, h);
    BOOST_REQUIRE_MESSAGE(lr.ok(), lr.message);
    BOOST_TEST(lr.rdb_preamble);
    std::sort(h.keys.begin(), h.keys.end());
    BOOST_TEST((h.keys == std::vector<std::string>{"0/from-rdb", "5/also-rdb"}));
    BOOST_TEST((h.commands == std::vector<cmd>{{"SELECT", "0"}, {"SET", "tail", "3"}}));
    BOOST_TEST(lr.good_offset == body.size());
    std::ostringstream out;
    BOOST_TEST(check_aof(path, false, out) == 0, out.str());
    BOOST_TEST(out.str().find("RDB preamble is OK") != std::string::npos);
  }
  // As a rewrite would lay it out: the preamble in one frame, the commands after it in others.
  std::string path = dir.file("rewritten.aof");
  {
    lz4_frame_writer z;
    rdb_writer rw(o);
    rw.begin();
    rw.select_db(0);
    rw.key(data.db(0).slot(troupe::protocol::key_slot("from-rdb"))->find("from-rdb", ks::hash_key("from-rdb")));
    rw.end();
    z.write(rw.take());
    z.end_frame();
    aof_writer aw;
    aw.prepend_raw(z.take());
    aw.append(2, {"SET", "tail", "3"});
    aw.flush();
    std::string f = aw.take();
    aw.append(2, {"DEL", "tail"});
    aw.flush();
    ptest::write_file(path, f + aw.take());
  }
  recording_handler h;
  aof_load_result lr = load_aof_file(path, h);
  BOOST_REQUIRE_MESSAGE(lr.ok(), lr.message);
  BOOST_TEST(lr.rdb_preamble);
  BOOST_TEST((h.keys == std::vector<std::string>{"0/from-rdb"}));
  BOOST_TEST((h.commands == std::vector<cmd>{{"SELECT", "2"}, {"SET", "tail", "3"}, {"DEL", "tail"}}));
  BOOST_TEST(lr.cut.append.size() == 8u);   // the open command frame gets sealed
}

BOOST_AUTO_TEST_CASE(check_aof_reports_and_fixes) {
  ptest::temp_dir dir;
  auto w = workload(40, 5);
  auto all = expected_commands(w);
  for (bool lz4 : {false, true}) {
    std::string file = write_aof(w, lz4, 4, true);
    std::string path = dir.file(lz4 ? "c.aof.lz4" : "c.aof");
    ptest::write_file(path, file);
    std::ostringstream ok;
    BOOST_TEST(check_aof(path, false, ok) == 0, ok.str());
    BOOST_TEST(ok.str().find("is valid") != std::string::npos, ok.str());
    // Tear the tail.
    std::string torn = file.substr(0, file.size() - 20);
    ptest::write_file(path, torn);
    std::ostringstream bad;
    BOOST_TEST(check_aof(path, false, bad) == 1);
    BOOST_TEST(bad.str().find("is not valid. Use the --fix option to try fixing it.") != std::string::npos, bad.str());
    BOOST_TEST(bad.str().find("AOF analyzed: filename=" + path + ", size=" + std::to_string(torn.size())) !=
                   std::string::npos,
               bad.str());
    if (!lz4 && ptest::have_tool("redis-check-aof")) {
      // Same verdict and figures as redis-check-aof on the plain file.
      auto theirs = ptest::run("redis-check-aof " + path);
      BOOST_TEST(theirs.status == 1);
      auto pick = [](const std::string& s) {
        auto a = s.find("ok_up_to=");
        return s.substr(a, s.find('\n', a) - a);
      };
      BOOST_TEST(pick(bad.str()) == pick(theirs.out), bad.str() << "\n--- redis-check-aof:\n" << theirs.out);
    }
    // Declined fix changes nothing.
    std::istringstream no("n\n");
    std::ostringstream declined;
    BOOST_TEST(check_aof(path, true, declined, &no) == 1);
    BOOST_TEST(declined.str().find("Aborting...") != std::string::npos);
    BOOST_TEST(ptest::read_file(path).size() == torn.size());
    // Fix.
    std::istringstream yes("y\n");
    std::ostringstream fixed;
    BOOST_TEST(check_aof(path, true, fixed, &yes) == 0, fixed.str());
    BOOST_TEST(fixed.str().find("Successfully truncated AOF " + path) != std::string::npos, fixed.str());
    std::ostringstream after;
    BOOST_TEST(check_aof(path, false, after) == 0, after.str());
    auto r = read_all(ptest::read_file(path));
    BOOST_TEST((r.st == aof_reader::status::end));
    BOOST_TEST(!r.commands.empty());
    BOOST_TEST((r.commands == complete_before(all, r.good)));
    if (lz4)
      BOOST_TEST(ptest::run("lz4 -t " + path).status == 0);
    // Mid-file damage is reported with its offset and fixed by cutting there.
    std::string damaged = file;
    size_t mid = lz4 ? file.size() / 2 : plain(all).find("*3", file.size() / 2);
    damaged[mid] = static_cast<char>(damaged[mid] ^ (lz4 ? 0x20 : 0x01));
    ptest::write_file(path, damaged);
    std::ostringstream dm;
    BOOST_TEST(check_aof(path, false, dm) == 1);
    BOOST_TEST(dm.str().find("\n0x") != std::string::npos, dm.str());
    if (!lz4)
      BOOST_TEST(dm.str().find(": Expected prefix '*', got: '+'") != std::string::npos, dm.str());
    std::ostringstream dmfix;
    BOOST_TEST(check_aof(path, true, dmfix) == 0, dmfix.str());
    std::ostringstream dmafter;
    BOOST_TEST(check_aof(path, false, dmafter) == 0, dmafter.str());
  }
}

BOOST_AUTO_TEST_CASE(garbage_never_crashes) {
  auto w = workload(30, 8);
  std::mt19937_64 rng(8);
  for (bool lz4 : {false, true}) {
    std::string file = write_aof(w, lz4, 4);
    for (int i = 0; i < 2000; ++i) {
      std::string g = file;
      g[rng() % g.size()] = static_cast<char>(rng());
      if (i % 3 == 0)
        g.resize(rng() % g.size());
      auto r = read_all(g);
      if (r.cut.possible) {   // whatever was found, the cut leaves a clean file
        auto again = read_all(g.substr(0, static_cast<size_t>(std::min<uint64_t>(r.cut.keep, g.size()))) + r.cut.append);
        BOOST_TEST((again.st == aof_reader::status::end), "iteration " << i << ": " << again.error);
        BOOST_TEST(again.commands.size() <= r.commands.size());
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
