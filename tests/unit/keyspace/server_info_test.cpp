// INFO rendering: sections, field names and the keyspace lines.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "keyspace/server_info.hpp"

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
  f.used_memory = 1024 * 1024;
  f.used_memory_peak = 2 * 1024 * 1024;
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

BOOST_AUTO_TEST_SUITE_END()
