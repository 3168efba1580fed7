// INFO: the figures a node gathers from its actors, rendered in Redis 7.0's sections and field names.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::protocol {
class resp_writer;
}

namespace troupe::keyspace {

// MEMORY STATS and MEMORY DOCTOR's figures, in bytes.
struct memory_figures {
  uint64_t peak = 0, total = 0, startup = 0;   // allocated: the most ever, now, once started
  // Parts Redis counts apart from the dataset (Troupe keeps none of them apart yet: 0).
  uint64_t replication_backlog = 0, clients_replicas = 0, clients_normal = 0, cluster_links = 0, aof_buffer = 0;
  // Each database with keys: its tables' overhead (buckets and entry headers) and its expiries'.
  struct db { int index; uint64_t main, expires; };
  std::vector<db> dbs;
  uint64_t keys = 0;
  uint64_t allocator_allocated = 0, allocator_active = 0, allocator_resident = 0;   // jemalloc's stats
  uint64_t rss = 0;
};

// INFO's instantaneous_* figures, computed as Redis computes them: the rate from each sample of a
// running total to the next, averaged over the last 16 samples (zeros until there are 16).
class instant_metric {
public:
  void sample(int64_t now_ms, uint64_t total);
  uint64_t per_second() const;

private:
  static constexpr size_t samples = 16;
  uint64_t rates_[samples] = {};
  size_t next_ = 0;
  int64_t last_ms_ = 0;
  uint64_t last_total_ = 0;
};

struct info_figures {
  // Server
  std::string redis_version, troupe_version, mode = "standalone", os, executable, config_file, run_id;
  int64_t pid = 0, port = 0, hz = 10, uptime_s = 0, now_us = 0, io_threads = 1, slot_actors = 1;
  // Clients
  uint64_t connected_clients = 0, maxclients = 10000, blocked_clients = 0;
  // Memory
  memory_figures mem;
  uint64_t total_system_memory = 0, maxmemory = 0;
  std::string maxmemory_policy = "noeviction", allocator;   // INFO mem_allocator, e.g. "jemalloc-5.3.0"
  // Persistence
  uint64_t dirty = 0;
  int64_t lastsave = 0;
  bool aof_enabled = false;
  bool loading = false;
  uint64_t loading_loaded = 0, loading_total = 0;
  int64_t loading_start = 0;
  bool bgsave_in_progress = false, bgsave_ok = true;
  int64_t rdb_last_bgsave_secs = -1;
  uint64_t rdb_saves = 0;
  bool aof_rewrite_in_progress = false, aof_last_rewrite_ok = true, aof_write_ok = true;
  int64_t aof_last_rewrite_secs = -1;
  uint64_t aof_rewrites = 0;
  int64_t bgsave_started_ms = 0, aof_rewrite_started_ms = 0;   // 0: none running
  uint64_t save_keys_processed = 0, save_keys_total = 0;
  uint64_t aof_current_size = 0, aof_base_size = 0, aof_rewrite_failures = 0;
  bool aof_rewrite_scheduled = false;
  uint64_t loaded_keys = 0, loaded_keys_expired = 0;
  // Stats
  uint64_t inst_ops = 0, inst_input = 0, inst_output = 0;   // per second (bytes for the last two)
  uint64_t pubsub_channels = 0, pubsub_patterns = 0, pubsub_shard_channels = 0;
  uint64_t total_connections = 0, total_commands = 0, net_input = 0, net_output = 0, rejected_connections = 0,
           expired_keys = 0, keyspace_hits = 0, keyspace_misses = 0, total_error_replies = 0,
           expire_cycles = 0;
  // Errorstats: (code, count), in byte order of the codes
  std::vector<std::pair<std::string, uint64_t>> errorstats;
  // Replication
  std::string replid;
  // CPU (seconds)
  double cpu_sys = 0, cpu_user = 0, cpu_sys_children = 0, cpu_user_children = 0;
  // Cluster
  bool cluster_enabled = false;
  // Keyspace
  struct db { int index; uint64_t keys, expires, avg_ttl; };
  std::vector<db> dbs;
};

// Renders the sections named by INFO's arguments (none: the default ones; "all", "everything").
std::string render_info(const info_figures& f, const std::vector<std::string_view>& sections);

// MEMORY STATS: Redis 7.0's fields, in its order (a map; RESP2: a flat array).
void render_memory_stats(const memory_figures& f, protocol::resp_writer& w);
// MEMORY DOCTOR's report: what looks wrong in those figures, or that nothing does.
std::string memory_doctor(const memory_figures& f);

// "1.20M"-style sizes, as INFO's *_human fields.
std::string human_bytes(uint64_t n);

} // namespace troupe::keyspace
