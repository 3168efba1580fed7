// INFO rendering: sections, field names and the keyspace lines.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "keyspace/server_info.hpp"
#include "protocol/resp_writer.hpp"

using troupe::keyspace::human_bytes;
using troupe::keyspace::info_figures;
using troupe::keyspace::render_info;

namespace {

info_figures sample() {
  info_figures f;
  f.redis_version = "7.0.15";
  f.troupe_version = "0.1.0";
  f.os = "Linux";
  f.run_id = std::string(40, 'a');
  f.pid = 1234;
  f.port = 6379;
  f.uptime_s = 3 * 86400 + 5;
  f.connected_clients = 7;
  f.mem.total = 1024 * 1024;
  f.mem.peak = 2 * 1024 * 1024;
  f.dirty = 12;
  f.expired_keys = 3;
  f.keyspace_hits = 10;
  f.keyspace_misses = 4;
  f.dbs = {{0, 3, 1, 1000}, {1, 0, 0, 0}, {5, 10, 0, 0}};
  return f;
}

bool has(const std::string& text, const std::string& piece) { return text.find(piece) != std::string::npos; }

} // namespace

BOOST_AUTO_TEST_SUITE(server_info)

BOOST_AUTO_TEST_CASE(default_sections) {
  std::string s = render_info(sample(), {});
  BOOST_TEST(s.rfind("# Server\r\n", 0) == 0u);
  for (const char* section : {"# Clients\r\n", "# Memory\r\n", "# Persistence\r\n", "# Stats\r\n",
                              "# Replication\r\n", "# CPU\r\n", "# Modules\r\n", "# Errorstats\r\n", "# Cluster\r\n",
                              "# Keyspace\r\n"})
    BOOST_TEST(has(s, section), section);
  // Sections are separated by one empty line.
  BOOST_TEST(has(s, "\r\n\r\n# Clients\r\n"));
  BOOST_TEST(has(s, "redis_version:7.0.15\r\n"));
  BOOST_TEST(has(s, "redis_mode:standalone\r\n"));
  BOOST_TEST(has(s, "process_id:1234\r\n"));
  BOOST_TEST(has(s, "tcp_port:6379\r\n"));
  BOOST_TEST(has(s, "uptime_in_seconds:259205\r\n"));
  BOOST_TEST(has(s, "uptime_in_days:3\r\n"));
  BOOST_TEST(has(s, "connected_clients:7\r\n"));
  BOOST_TEST(has(s, "used_memory:1048576\r\n"));
  BOOST_TEST(has(s, "used_memory_human:1.00M\r\n"));
  BOOST_TEST(has(s, "used_memory_peak_perc:50.00%\r\n"));
  BOOST_TEST(has(s, "rdb_changes_since_last_save:12\r\n"));
  BOOST_TEST(has(s, "expired_keys:3\r\n"));
  BOOST_TEST(has(s, "keyspace_hits:10\r\n"));
  BOOST_TEST(has(s, "keyspace_misses:4\r\n"));
  BOOST_TEST(has(s, "role:master\r\n"));
  BOOST_TEST(has(s, "cluster_enabled:0\r\n"));
  // Keyspace: one line per database holding keys, nothing for empty ones.
  BOOST_TEST(has(s, "# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=1000\r\ndb5:keys=10,expires=0,avg_ttl=0\r\n"));
  BOOST_TEST(!has(s, "db1:"));
  BOOST_TEST(s.substr(s.size() - 2) == "\r\n");
  BOOST_TEST(!has(s, "# Commandstats"));
}

BOOST_AUTO_TEST_CASE(selected_sections) {
  info_figures f = sample();
  std::string ks = render_info(f, {"keyspace"});
  BOOST_TEST(ks == "# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=1000\r\ndb5:keys=10,expires=0,avg_ttl=0\r\n");
  BOOST_TEST(render_info(f, {"KEYSPACE"}) == ks);
  std::string two = render_info(f, {"server", "keyspace"});
  BOOST_TEST(two.rfind("# Server\r\n", 0) == 0u);
  BOOST_TEST(has(two, "\r\n\r\n# Keyspace\r\n"));
  BOOST_TEST(!has(two, "# Memory"));
  BOOST_TEST(render_info(f, {"nosuchsection"}) == "");
  f.cluster_enabled = true;
  BOOST_TEST(render_info(f, {"cluster"}) == "# Cluster\r\ncluster_enabled:1\r\n");
  f.dbs.clear();
  BOOST_TEST(render_info(f, {"keyspace"}) == "# Keyspace\r\n");
  std::string all = render_info(f, {"all"});
  BOOST_TEST(has(all, "# Server\r\n"));
  BOOST_TEST(has(all, "# Keyspace\r\n"));
  BOOST_TEST(render_info(f, {"default"}) == render_info(f, {}));
}

BOOST_AUTO_TEST_CASE(human_sizes) {
  BOOST_TEST(human_bytes(0) == "0B");
  BOOST_TEST(human_bytes(1023) == "1023B");
  BOOST_TEST(human_bytes(1024) == "1.00K");
  BOOST_TEST(human_bytes(1536) == "1.50K");
  BOOST_TEST(human_bytes(1024 * 1024) == "1.00M");
  BOOST_TEST(human_bytes(1258291) == "1.20M");
  BOOST_TEST(human_bytes(1024ull * 1024 * 1024) == "1.00G");
  BOOST_TEST(human_bytes(1024ull * 1024 * 1024 * 1024) == "1.00T");
}

namespace {

troupe::keyspace::memory_figures memory_sample() {
  troupe::keyspace::memory_figures f;
  f.peak = 40u << 20;
  f.total = 30u << 20;
  f.startup = 10u << 20;
  f.dbs = {{0, 1000, 80}, {3, 500, 0}};
  f.keys = 200;
  f.allocator_allocated = 30u << 20;
  f.allocator_active = 32u << 20;
  f.allocator_resident = 36u << 20;
  f.rss = 45u << 20;
  return f;
}

std::string stats_of(const troupe::keyspace::memory_figures& f, int resp) {
  std::string out;
  troupe::protocol::resp_writer w(out, resp);
  troupe::keyspace::render_memory_stats(f, w);
  return out;
}

} // namespace

BOOST_AUTO_TEST_CASE(memory_stats_fields_in_redis_order) {
  auto f = memory_sample();
  std::string r2 = stats_of(f, 2);
  // 27 fields and one per database with keys: a flat array in RESP2, a map in RESP3 (its
  // databases' maps nested).
  BOOST_TEST(r2.rfind("*58\r\n$14\r\npeak.allocated\r\n:41943040\r\n", 0) == 0);
  BOOST_TEST(stats_of(f, 3).rfind("%29\r\n", 0) == 0);
  BOOST_TEST(has(stats_of(f, 3), "$4\r\ndb.3\r\n%3\r\n"));
  BOOST_TEST(has(r2, "$4\r\ndb.0\r\n*6\r\n$23\r\noverhead.hashtable.main\r\n:1000\r\n$26\r\noverhead.hashtable.expires\r\n:80\r\n"));
  const char* order[] = {"peak.allocated", "total.allocated", "startup.allocated", "replication.backlog",
                         "clients.slaves", "clients.normal", "cluster.links", "aof.buffer", "lua.caches",
                         "functions.caches", "db.0", "db.3", "overhead.total", "keys.count",
                         "keys.bytes-per-key", "dataset.bytes", "dataset.percentage", "peak.percentage",
                         "allocator.allocated", "allocator.active", "allocator.resident",
                         "allocator-fragmentation.ratio", "allocator-fragmentation.bytes",
                         "allocator-rss.ratio", "allocator-rss.bytes", "rss-overhead.ratio",
                         "rss-overhead.bytes", "fragmentation", "fragmentation.bytes"};
  size_t at = 0;
  for (auto* name : order) {
    size_t next = r2.find("\r\n" + std::string(name) + "\r\n", at);
    BOOST_TEST(next != std::string::npos, name);
    at = next;
  }
  // overhead.total: the start's and the tables'; the dataset is the rest of what is allocated.
  uint64_t overhead = (10u << 20) + 1000 + 80 + 500;
  BOOST_TEST(has(r2, "overhead.total\r\n:" + std::to_string(overhead) + "\r\n"));
  BOOST_TEST(has(r2, "keys.count\r\n:200\r\n"));
  BOOST_TEST(has(r2, "keys.bytes-per-key\r\n:" + std::to_string((20u << 20) / 200) + "\r\n"));
  BOOST_TEST(has(r2, "dataset.bytes\r\n:" + std::to_string((30u << 20) - overhead) + "\r\n"));
  BOOST_TEST(has(r2, "peak.percentage\r\n$2\r\n75\r\n"));
  BOOST_TEST(has(r2, "allocator-fragmentation.ratio\r\n$18\r\n1.0666667222976685\r\n"));   // (a float, as Redis's)
  BOOST_TEST(has(r2, "allocator-rss.bytes\r\n:" + std::to_string(4u << 20) + "\r\n"));
  BOOST_TEST(has(r2, "fragmentation.bytes\r\n:" + std::to_string(15u << 20) + "\r\n"));
  // Nothing allocated past the start: no division by zero.
  troupe::keyspace::memory_figures empty;
  BOOST_TEST(has(stats_of(empty, 2), "dataset.percentage\r\n$1\r\n0\r\n"));
}

BOOST_AUTO_TEST_CASE(memory_doctor_reports) {
  using troupe::keyspace::memory_doctor;
  troupe::keyspace::memory_figures tiny;
  tiny.total = 1u << 20;
  BOOST_TEST(has(memory_doctor(tiny), "under 5 MB"));
  auto f = memory_sample();
  f.peak = f.total;
  f.allocator_resident = f.allocator_active;
  f.rss = f.allocator_resident;
  BOOST_TEST(memory_doctor(f).rfind("No memory issue found", 0) == 0);
  f.peak = 60u << 20;   // twice what is allocated now
  std::string r = memory_doctor(f);
  BOOST_TEST(r.rfind("Memory issues found", 0) == 0);
  BOOST_TEST(has(r, "Peak: 60.00M"));
  BOOST_TEST(!has(r, "RSS"));
  f.rss = 100u << 20;
  BOOST_TEST(has(memory_doctor(f), "RSS overhead"));
  f.allocator_resident = 80u << 20;
  BOOST_TEST(has(memory_doctor(f), "Allocator RSS"));
  f.allocator_active = 60u << 20;
  BOOST_TEST(has(memory_doctor(f), "Allocator fragmentation"));
}

BOOST_AUTO_TEST_CASE(instantaneous_metrics_average_the_last_16_rates) {
  troupe::keyspace::instant_metric m;
  m.sample(1000, 0);
  BOOST_TEST(m.per_second() == 0u);
  // 500 per 100 ms: 5000 a second, but only one sample of 16 so far.
  m.sample(1100, 500);
  BOOST_TEST(m.per_second() == 5000u / 16);
  for (int i = 2; i <= 16; ++i)
    m.sample(1000 + 100 * i, 500u * static_cast<uint64_t>(i));
  BOOST_TEST(m.per_second() == 5000u);
  // Idle from here: the rate falls as idle samples replace busy ones.
  for (int i = 1; i <= 8; ++i)
    m.sample(2600 + 100 * i, 8000);
  BOOST_TEST(m.per_second() == 2500u);
  for (int i = 9; i <= 16; ++i)
    m.sample(2600 + 100 * i, 8000);
  BOOST_TEST(m.per_second() == 0u);
  // No time passed, or the total went back (CONFIG RESETSTAT): a zero rate, not a huge one.
  m.sample(4300, 9000);   // 10000 a second
  m.sample(4300, 9500);
  m.sample(4400, 100);
  BOOST_TEST(m.per_second() == 10000u / 16);
}

BOOST_AUTO_TEST_SUITE_END()
