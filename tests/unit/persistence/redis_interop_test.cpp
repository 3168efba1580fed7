// Interoperability with the real redis-server 7.0 (and redis-check-rdb / redis-check-aof):
// RDB files both ways, DUMP / RESTORE payloads both ways, AOF files both ways, and the old
// encodings Redis still loads. Each test starts its own redis-server on a free port in a
// temporary directory and kills it at the end; without redis-server the tests say so and pass.
#include <boost/test/unit_test.hpp>

#include <chrono>

#include "old_formats.hpp"
#include "persistence/aof.hpp"
#include "persistence/dump_payload.hpp"
#include "persistence/rdb.hpp"
#include "test_support.hpp"

using namespace troupe::persistence;
namespace ks = troupe::keyspace;

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool have_redis() {
  if (ptest::have_tool("redis-server"))
    return true;
  BOOST_TEST_MESSAGE("redis-server is not installed: skipping");
  return false;
}

std::string diff(const ptest::canon& a, const ptest::canon& b) {
  std::string out;
  for (auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end())
      out += "only in first: " + std::to_string(k.first) + "/" + k.second + "\n";
    else if (!(it->second == v))
      out += "differs: " + std::to_string(k.first) + "/" + k.second + ": " + v.type + " " + v.encoding + " " +
             std::to_string(v.expire) + " vs " + it->second.type + " " + it->second.encoding + " " +
             std::to_string(it->second.expire) + (v.value == it->second.value ? "" : " (values differ)") + "\n";
  }
  for (auto& [k, v] : b)
    if (!a.count(k))
      out += "only in second: " + std::to_string(k.first) + "/" + k.second + "\n";
  return out;
}

// Fills redis-server with every type and encoding: small and large collections, integers,
// long and compressible strings, binary data, expiries, several dbs.
void fill_redis(ptest::client& c, int64_t now) {
  auto call = [&](std::vector<std::string> a) {
    auto r = c.call(a);
    BOOST_REQUIRE_MESSAGE(r.type != '-', a[0] + ": " + r.str);
  };
  call({"SELECT", "0"});
  call({"SET", "s:int", "12345"});
  call({"SET", "s:neg", "-99"});
  call({"SET", "s:int64", "9223372036854775807"});
  call({"SET", "s:embstr", "hello"});
  call({"SET", "s:empty", ""});
  call({"SET", "s:binary", std::string("\0\x01\r\n\xff", 5)});
  std::string rep;
  for (int i = 0; i < 2000; ++i)
    rep += "redis" + std::to_string(i % 7);
  call({"SET", "s:lzf", rep});
  call({"SET", "s:ttl", "v", "PX", "3600000"});
  call({"APPEND", "s:appended", "raw string grown in place"});
  // lists: small, big with long elements (and compressed inner nodes: list-compress-depth 1)
  call({"RPUSH", "l:small", "a", "1", "-5", "70000", "5000000000", ""});
  for (int chunk = 0; chunk < 10; ++chunk) {
    std::vector<std::string> a = {"RPUSH", "l:big"};
    for (int i = 0; i < 300; ++i) {
      int n = chunk * 300 + i;
      a.push_back(n % 400 == 3 ? std::string(5000, static_cast<char>('a' + n % 26)) : "item" + std::to_string(n));
    }
    call(a);
  }
  call({"PEXPIREAT", "l:big", std::to_string(now + 500000)});
  // sets
  call({"SADD", "set:intset", "1", "2", "3", "-400", "5000000000"});
  call({"SADD", "set:strings", "alpha", "beta", "7"});
  {
    std::vector<std::string> a = {"SADD", "set:bigints"};
    for (int i = 0; i < 1000; ++i)
      a.push_back(std::to_string(i * 3));
    call(a);
  }
  // hashes
  call({"HSET", "h:small", "f1", "v1", "n", "42", "neg", "-1"});
  {
    std::vector<std::string> a = {"HSET", "h:big"};
    for (int i = 0; i < 300; ++i) {
      a.push_back("field" + std::to_string(i));
      a.push_back("value" + std::to_string(i));
    }
    call(a);
  }
  call({"HSET", "h:longvalue", "x", std::string(200, 'x')});
  // sorted sets
  call({"ZADD", "z:small", "1", "one", "2.5", "twohalf", "-inf", "ninf", "+inf", "pinf", "0", "zero", "1e-300", "tiny"});
  {
    std::vector<std::string> a = {"ZADD", "z:big"};
    for (int i = 0; i < 300; ++i) {
      a.push_back(std::to_string(i * 1.5 - 100));
      a.push_back("m" + std::to_string(i));
    }
    call(a);
  }
  call({"PEXPIREAT", "z:big", std::to_string(now + 700000)});
  call({"SELECT", "2"});
  call({"SET", "db2:key", "two"});
  call({"HSET", "db2:hash", "a", "b"});
  call({"PEXPIREAT", "db2:hash", std::to_string(now + 800000)});
  call({"SELECT", "9"});
  call({"RPUSH", "db9:list", "x", "y"});
  call({"SELECT", "0"});
}

} // namespace

BOOST_AUTO_TEST_SUITE(redis_interop)

BOOST_AUTO_TEST_CASE(our_rdb_loads_in_redis) {
  if (!have_redis())
    return;
  ptest::temp_dir dir;
  int64_t now = now_ms();
  ks::dataset data(16);
  ptest::fill_sample(data, now);
  auto ours = ptest::canon_of(data);
  // Troupe's file is LZ4-framed: `lz4 -d` gives the RDB that redis-server loads.
  BOOST_REQUIRE(save_rdb_file(dir.file("troupe.rdb"), data, true).empty());
  auto d = ptest::run("lz4 -d -c " + dir.file("troupe.rdb") + " > " + dir.file("dump.rdb"));
  BOOST_REQUIRE_MESSAGE(d.status == 0, d.out);
  if (ptest::have_tool("redis-check-rdb")) {
    auto chk = ptest::run("redis-check-rdb " + dir.file("dump.rdb"));
    BOOST_TEST(chk.status == 0, chk.out);
    BOOST_TEST(chk.out.find("RDB looks OK!") != std::string::npos, chk.out);
    BOOST_TEST(chk.out.find("Checksum OK") != std::string::npos, chk.out);
  }
  ptest::redis_server srv(dir.path(), "--dbfilename dump.rdb --enable-debug-command yes");
  BOOST_REQUIRE_MESSAGE(srv.up(), srv.log());
  ptest::client c(srv.port());
  BOOST_TEST(c.call({"DBSIZE"}).integer == static_cast<int64_t>(std::count_if(ours.begin(), ours.end(), [](auto& kv) {
               return kv.first.first == 0;
             })));
  auto theirs = ptest::canon_of_redis(c);
  BOOST_TEST((theirs == ours), diff(ours, theirs));
  BOOST_TEST(srv.log().find("Done loading RDB") != std::string::npos, srv.log());

  // Without compression and checksum too.
  rdb_writer_options o;
  o.compression = false;
  o.checksum = false;
  ptest::write_file(dir.file("plain.rdb"), rdb_serialize(data, o));
  if (ptest::have_tool("redis-check-rdb")) {
    auto chk = ptest::run("redis-check-rdb " + dir.file("plain.rdb"));
    BOOST_TEST(chk.status == 0, chk.out);
  }
  c.call({"CONFIG", "SET", "dbfilename", "plain.rdb"});
  c.call({"FLUSHALL"});
  auto r = c.call({"DEBUG", "RELOAD", "NOSAVE"});
  BOOST_TEST(r.type == '+', r.str);
  auto reloaded = ptest::canon_of_redis(c);
  BOOST_TEST((reloaded == ours), diff(ours, reloaded));
}

BOOST_AUTO_TEST_CASE(redis_dump_rdb_decodes) {
  if (!have_redis())
    return;
  ptest::temp_dir dir;
  int64_t now = now_ms();
  ptest::redis_server srv(dir.path(), "--dbfilename dump.rdb --list-compress-depth 1");
  BOOST_REQUIRE_MESSAGE(srv.up(), srv.log());
  ptest::client c(srv.port());
  fill_redis(c, now);
  auto theirs = ptest::canon_of_redis(c);
  // A function library and a stream: Troupe reports the first and (when asked) skips the second.
  auto fl = c.call({"FUNCTION", "LOAD", "#!lua name=mylib\nredis.register_function('f', function() return 1 end)"});
  BOOST_TEST(fl.type != '-', fl.str);
  c.call({"SELECT", "3"});
  c.call({"XADD", "stream", "*", "a", "1"});
  c.call({"XGROUP", "CREATE", "stream", "g", "0"});
  c.call({"XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "stream", ">"});
  c.call({"SELECT", "0"});
  BOOST_REQUIRE(c.call({"SAVE"}).type == '+');

  for (bool via_lz4 : {false, true}) {
    std::string path = dir.file("dump.rdb");
    if (via_lz4) {   // also as Troupe would store a received RDB: inside an LZ4 frame
      ptest::run("lz4 -q -f " + dir.file("dump.rdb") + " " + dir.file("dump.rdb.lz4"));
      path = dir.file("dump.rdb.lz4");
    }
    ks::dataset data(16);
    dataset_sink sink(data);
    rdb_parser_options opts;
    opts.skip_unsupported = true;
    opts.settings = ptest::redis_defaults();
    rdb_load_result r = load_rdb_file(path, sink, opts);
    BOOST_REQUIRE_MESSAGE(r.ok, r.error);
    BOOST_TEST(r.version == 10);
    BOOST_TEST(r.checksum_verified);
    BOOST_TEST(r.lz4 == via_lz4);
    BOOST_TEST(r.skipped == 1u);
    BOOST_TEST(sink.functions.size() == 1u);
    BOOST_TEST(sink.functions[0].find("name=mylib") != std::string::npos);
    BOOST_TEST((sink.skipped == std::vector<std::pair<std::string, std::string>>{{"stream", "stream"}}));
    std::map<std::string, std::string> aux(sink.aux.begin(), sink.aux.end());
    BOOST_TEST(aux["redis-ver"] == "7.0.15");
    auto ours = ptest::canon_of(data);
    BOOST_TEST((ours == theirs), diff(theirs, ours));
  }
  // Without skip_unsupported the stream is an error that names it.
  ks::dataset data(16);
  dataset_sink sink(data);
  rdb_load_result r = load_rdb_file(dir.file("dump.rdb"), sink);
  BOOST_TEST(!r.ok);
  BOOST_TEST(r.error.find("stream") != std::string::npos, r.error);
}

BOOST_AUTO_TEST_CASE(dump_payloads_both_ways) {
  if (!have_redis())
    return;
  ptest::temp_dir dir;
  int64_t now = now_ms();
  ptest::redis_server srv(dir.path());
  BOOST_REQUIRE_MESSAGE(srv.up(), srv.log());
  ptest::client c(srv.port());
  fill_redis(c, now);
  auto theirs = ptest::canon_of_redis(c);
  ks::keyspace_settings settings = ptest::redis_defaults();
  // Redis -> Troupe: every key's DUMP restores here to the same value and encoding.
  size_t n = 0;
  for (auto& [k, st] : theirs) {
    c.call({"SELECT", std::to_string(k.first)});
    auto dump = c.call({"DUMP", k.second});
    BOOST_REQUIRE(dump.type == '$');
    restore_result r = restore_payload(dump.str, k.second, st.expire, settings);
    BOOST_REQUIRE_MESSAGE(r.ok(), k.second + ": " + r.error);
    BOOST_TEST((ptest::state_of(r.entry) == st), k.second);
    // Troupe -> Redis: our payload of that value RESTOREs in redis-server to the same state.
    std::string ours = dump_payload(r.entry);
    std::string copy = k.second + ":copy";
    auto rr = c.call({"RESTORE", copy, "0", ours});
    BOOST_TEST(rr.type == '+', k.second + ": " + rr.str);
    ptest::key_state want = st;
    want.expire = -1;
    ptest::client c2(srv.port());
    c2.call({"SELECT", std::to_string(k.first)});
    ptest::canon one = ptest::canon_of_redis(c2, 16);
    auto it = one.find({k.first, copy});
    BOOST_REQUIRE(it != one.end());
    BOOST_TEST((it->second == want), copy);
    c.call({"DEL", copy});
    ks::destroy_entry(r.entry);
    ++n;
  }
  BOOST_TEST(n == theirs.size());
  c.call({"SELECT", "0"});
  // The same errors for the same bad payloads.
  auto* e = ks::make_string_entry("x", ks::hash_key("x"), "value", -1);
  std::string good = dump_payload(e);
  ks::destroy_entry(e);
  std::string bad_crc = good;
  bad_crc[1] = static_cast<char>(bad_crc[1] ^ 1);
  auto r1 = c.call({"RESTORE", "bad1", "0", bad_crc});
  BOOST_TEST(r1.type == '-');
  BOOST_TEST(r1.str == std::string(restore_payload(bad_crc, "bad1", -1, settings).error));
  std::string bad_data = std::string("\x04\x05", 2) + "junk";   // a hash claiming 5 pairs
  bad_data += std::string("\x0a\x00", 2);
  uint64_t crc = crc64(0, bad_data);
  for (int i = 0; i < 8; ++i)
    bad_data.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  auto r2 = c.call({"RESTORE", "bad2", "0", bad_data});
  BOOST_TEST(r2.type == '-');
  BOOST_TEST(r2.str == std::string(restore_payload(bad_data, "bad2", -1, settings).error));
  BOOST_TEST(r2.str == "ERR Bad data format");
}

BOOST_AUTO_TEST_CASE(old_encodings_agree_with_redis) {
  if (!have_redis())
    return;
  ptest::temp_dir dir;
  std::string file = ptest::make_rdb(9, ptest::old_format_records());
  ptest::write_file(dir.file("old.rdb"), file);
  ks::dataset data(16);
  dataset_sink sink(data);
  rdb_parser_options opts;
  opts.settings = ptest::redis_defaults();
  rdb_load_result r = load_rdb_file(dir.file("old.rdb"), sink, opts);
  BOOST_REQUIRE_MESSAGE(r.ok, r.error);
  ptest::redis_server srv(dir.path(), "--dbfilename old.rdb");
  BOOST_REQUIRE_MESSAGE(srv.up(), srv.log());
  ptest::client c(srv.port());
  auto theirs = ptest::canon_of_redis(c);
  auto ours = ptest::canon_of(data);
  BOOST_TEST(theirs.size() == 8u, srv.log());
  BOOST_TEST((ours == theirs), diff(theirs, ours));
}

BOOST_AUTO_TEST_CASE(aof_both_ways) {
  if (!have_redis())
    return;
  ptest::temp_dir dir;
  // Troupe -> Redis: our AOF, decompressed, is an old-style AOF that redis-server 7.0 migrates
  // into appendonlydir/ and loads.
  aof_writer w;
  std::vector<std::pair<int, std::vector<std::string>>> cmds = {
      {0, {"SET", "a", "1"}},
      {0, {"RPUSH", "list", "x", "y", "z"}},
      {0, {"MULTI"}},
      {0, {"INCRBY", "a", "41"}},
      {0, {"HSET", "h", "f", "v"}},
      {0, {"EXEC"}},
      {3, {"SADD", "s", "m1", "m2"}},
      {3, {"ZADD", "z", "1.5", "m"}},
      {3, {"PEXPIREAT", "z", "4102444800000"}},
      {0, {"DEL", "list"}},
  };
  for (size_t i = 0; i < cmds.size(); ++i) {
    w.append(cmds[i].first, {cmds[i].second.begin(), cmds[i].second.end()});
    if (i % 3 == 2)
      w.flush();
  }
  w.flush();
  ptest::write_file(dir.file("troupe.aof"), w.take());
  ptest::run("mkdir -p " + dir.file("r1"));
  auto d = ptest::run("lz4 -d -c " + dir.file("troupe.aof") + " > " + dir.file("r1/appendonly.aof"));
  if (ptest::have_tool("redis-check-aof")) {
    auto chk = ptest::run("redis-check-aof " + dir.file("r1/appendonly.aof"));
    BOOST_TEST(chk.status == 0, chk.out);
    BOOST_TEST(chk.out.find("is valid") != std::string::npos, chk.out);
  }
  {
    ptest::redis_server srv(dir.file("r1"), "--appendonly yes --appendfilename appendonly.aof");
    BOOST_REQUIRE_MESSAGE(srv.up(), srv.log());
    ptest::client c(srv.port());
    BOOST_TEST(c.call({"GET", "a"}).str == "42");
    BOOST_TEST(c.call({"HGET", "h", "f"}).str == "v");
    BOOST_TEST(c.call({"EXISTS", "list"}).integer == 0);
    c.call({"SELECT", "3"});
    BOOST_TEST(c.call({"SCARD", "s"}).integer == 2);
    BOOST_TEST(c.call({"PEXPIRETIME", "z"}).integer == 4102444800000);
    BOOST_TEST(srv.log().find("migrated an old-style AOF") != std::string::npos, srv.log());
  }
  // Redis -> Troupe: the AOF redis-server writes (RESP incr file; RDB-preamble base after a
  // rewrite) reads here.
  ptest::run("mkdir -p " + dir.file("r2"));
  ptest::redis_server srv(dir.file("r2"), "--appendonly yes --appendfsync always");
  BOOST_REQUIRE_MESSAGE(srv.up(), srv.log());
  ptest::client c(srv.port());
  c.call({"SET", "k1", "v1"});
  c.call({"SELECT", "5"});
  c.call({"RPUSH", "l", "1", "2"});
  c.call({"SET", "k2", "v2", "PX", "100000"});
  std::string incr = dir.file("r2/appendonlydir/appendonly.aof.1.incr.aof");
  aof_reader r;
  BOOST_REQUIRE(r.open(incr));
  std::vector<std::string_view> args;
  std::vector<std::string> names;
  aof_reader::status st;
  while ((st = r.next(args)) == aof_reader::status::command)
    names.emplace_back(args[0]);
  BOOST_TEST((st == aof_reader::status::end), r.error_message());
  BOOST_TEST((names == std::vector<std::string>{"SELECT", "SET", "SELECT", "RPUSH", "SET"}));
  std::ostringstream out;
  BOOST_TEST(check_aof(incr, false, out) == 0, out.str());
  // After BGREWRITEAOF the base is an RDB (aof-use-rdb-preamble yes).
  BOOST_REQUIRE(c.call({"BGREWRITEAOF"}).type == '+');
  std::string base;
  for (int i = 0; i < 100 && base.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto ls = ptest::run("ls " + dir.file("r2/appendonlydir") + " | grep base.rdb");
    if (ls.status == 0 && c.call({"INFO", "persistence"}).str.find("aof_rewrite_in_progress:0") != std::string::npos)
      base = dir.file("r2/appendonlydir/") + ls.out.substr(0, ls.out.find('\n'));
  }
  BOOST_REQUIRE(!base.empty());
  struct h : aof_handler {
    std::string on_command(const std::vector<std::string_view>&) override { return {}; }
    std::string on_key(ks::entry* e, const rdb_key_info&) override {
      ks::destroy_entry(e);
      ++keys;
      return {};
    }
    int keys = 0;
  } handler;
  aof_load_result lr = load_aof_file(base, handler);
  BOOST_TEST(lr.ok(), lr.message);
  BOOST_TEST(lr.rdb_preamble);
  BOOST_TEST(handler.keys == 3);
}

BOOST_AUTO_TEST_SUITE_END()
