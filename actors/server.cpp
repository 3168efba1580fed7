#include "actors/server.hpp"

#include <sys/time.h>

#include "config/open_files.hpp"

namespace troupe::actors {

void actor_directory::add(const std::string& name, const std::string&, status_handle h) {
  std::lock_guard<std::mutex> guard(mutex_);
  actors_[name] = std::move(h);
}

void actor_directory::remove(const std::string& name) {
  std::lock_guard<std::mutex> guard(mutex_);
  actors_.erase(name);
}

std::vector<std::pair<std::string, status_handle>> actor_directory::snapshot() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return {actors_.begin(), actors_.end()};
}

uint32_t server::loop_of(const caf::io::middleman& mm) const {
  for (size_t i = 0; i < loops.size(); ++i)
    if (loops[i] == &mm)
      return static_cast<uint32_t>(i);
  return 0;
}

uint32_t server::loop_of(const caf::node_id& node) const {
  for (size_t i = 0; i < loops.size(); ++i)
    if (loops[i]->system().node() == node)
      return static_cast<uint32_t>(i);
  return 0;
}

keyspace::session_settings server::session_settings() const {
  keyspace::session_settings s;
  s.requirepass = cfg->get_string("requirepass");
  s.cluster_enabled = cluster_enabled;
  s.databases = databases;
  s.version = TROUPE_REDIS_VERSION;
  return s;
}

keyspace::keyspace_settings server::keyspace_settings() const {
  keyspace::keyspace_settings s;
  s.proto_max_bulk_len = cfg->get_int("proto-max-bulk-len");
  s.cluster_enabled = cluster_enabled;
  // (from the settings, as main sizes the routing table: it may not be in place yet when a range starts)
  s.slot_ranges = config::slot_range_count(cfg->get_int("io-threads"), cfg->get_int("slot-actors"));
  s.hash_max_listpack_entries = cfg->get_int("hash-max-listpack-entries");
  s.hash_max_listpack_value = cfg->get_int("hash-max-listpack-value");
  s.set_max_intset_entries = cfg->get_int("set-max-intset-entries");
  s.zset_max_listpack_entries = cfg->get_int("zset-max-listpack-entries");
  s.zset_max_listpack_value = cfg->get_int("zset-max-listpack-value");
  s.list_max_listpack_size = cfg->get_int("list-max-listpack-size");
  s.list_compress_depth = cfg->get_int("list-compress-depth");
  s.lfu = cfg->get_string("maxmemory-policy").find("lfu") != std::string::npos;
  s.lfu_log_factor = cfg->get_int("lfu-log-factor");
  s.lfu_decay_time = cfg->get_int("lfu-decay-time");
  return s;
}

int64_t now_ms() {
  timeval tv;
  gettimeofday(&tv, nullptr);
  return static_cast<int64_t>(tv.tv_sec) * 1000 + tv.tv_usec / 1000;
}

int64_t now_us() {
  timeval tv;
  gettimeofday(&tv, nullptr);
  return static_cast<int64_t>(tv.tv_sec) * 1000000 + tv.tv_usec;
}

} // namespace troupe::actors
