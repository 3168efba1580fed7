#include "actors/system_info.hpp"

#include <jemalloc/jemalloc.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>

namespace troupe::actors {

// What the process holds allocated (jemalloc's stats.allocated, refreshed first: its statistics
// are snapshots taken at each "epoch").
uint64_t used_memory() {
  uint64_t epoch = 1;
  size_t len = sizeof(epoch);
  mallctl("epoch", &epoch, &len, &epoch, len);
  size_t allocated = 0;
  len = sizeof(allocated);
  if (mallctl("stats.allocated", &allocated, &len, nullptr, 0) != 0)
    return 0;
  return allocated;
}

keyspace::memory_figures collect_memory(server& srv, const std::vector<slot_range_report>& reports) {
  keyspace::memory_figures f;
  f.total = used_memory();   // (a fresh epoch for the stats below too)
  uint64_t peak = srv.used_memory_peak.load();
  while (f.total > peak && !srv.used_memory_peak.compare_exchange_weak(peak, f.total)) {
  }
  f.peak = std::max(peak, f.total);
  f.startup = srv.used_memory_startup;
  for (auto [name, field] : {std::pair{"stats.allocated", &f.allocator_allocated},
                             std::pair{"stats.active", &f.allocator_active},
                             std::pair{"stats.resident", &f.allocator_resident}}) {
    size_t v = 0, len = sizeof(v);
    if (mallctl(name, &v, &len, nullptr, 0) == 0)
      *field = v;
  }
  f.rss = resident_memory();
  size_t dbs = static_cast<size_t>(srv.data->count());
  std::vector<keyspace::memory_figures::db> per(dbs);
  std::vector<uint64_t> keys(dbs, 0);
  for (auto& r : reports)
    for (size_t i = 0; i < dbs && i < r.keys.size() && i < r.expires.size() && i < r.overhead.size(); ++i) {
      keys[i] += r.keys[i];
      per[i].main += r.overhead[i];
      per[i].expires += r.expires[i] * sizeof(int64_t);   // (an expiry lives in its entry)
    }
  for (size_t i = 0; i < dbs; ++i) {
    f.keys += keys[i];
    if (keys[i] > 0) {
      per[i].index = static_cast<int>(i);
      f.dbs.push_back(per[i]);
    }
  }
  return f;
}

std::string allocator_report() {
  std::string out;
  malloc_stats_print([](void* to, const char* text) { static_cast<std::string*>(to)->append(text); }, &out, nullptr);
  return out;
}

void purge_allocator() {
  // "arena.<MALLCTL_ARENAS_ALL>.purge"
  mallctl(("arena." + std::to_string(MALLCTL_ARENAS_ALL) + ".purge").c_str(), nullptr, nullptr, nullptr, 0);
}

// "jemalloc-5.3.0", as Redis names its allocator in INFO.
std::string allocator_name() {
  const char* version = nullptr;
  size_t len = sizeof(version);
  if (mallctl("version", &version, &len, nullptr, 0) != 0 || version == nullptr)
    return "jemalloc";
  std::string v = version;
  return "jemalloc-" + v.substr(0, v.find('-'));
}

uint64_t resident_memory() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr)
    return 0;
  unsigned long size = 0, rss = 0;
  if (std::fscanf(f, "%lu %lu", &size, &rss) != 2)
    rss = 0;
  std::fclose(f);
  return static_cast<uint64_t>(rss) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

keyspace::info_figures collect_info(server& srv, const std::vector<slot_range_report>& reports) {
  keyspace::info_figures f;
  f.redis_version = TROUPE_REDIS_VERSION;
  f.troupe_version = TROUPE_VERSION;
  f.mode = srv.cluster_enabled ? "cluster" : "standalone";
  utsname u;
  if (uname(&u) == 0)
    f.os = std::string(u.sysname) + " " + u.release + " " + u.machine;
  f.executable = srv.executable;
  f.config_file = srv.cfg->config_file();
  f.run_id = srv.run_id;
  f.pid = getpid();
  f.port = srv.port;
  f.hz = srv.cfg->get_int("hz");
  int64_t now = now_us();
  f.now_us = now;
  f.uptime_s = (now / 1000 - srv.start_ms) / 1000;
  f.io_threads = srv.cfg->get_int("io-threads");
  f.slot_actors = static_cast<int64_t>(srv.routing->ranges.size());
  f.connected_clients = srv.connected_clients.load();
  f.maxclients = static_cast<uint64_t>(srv.cfg->get_int("maxclients"));
  f.mem = collect_memory(srv, reports);
  f.inst_ops = srv.inst_ops.load();
  f.inst_input = srv.inst_input.load();
  f.inst_output = srv.inst_output.load();
  f.pubsub_channels = srv.pubsub_channels.load();
  f.pubsub_patterns = srv.pubsub_patterns.load();
  f.pubsub_shard_channels = srv.pubsub_shard_channels.load();
  f.total_system_memory = static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  f.maxmemory = static_cast<uint64_t>(srv.cfg->get_int("maxmemory"));
  f.maxmemory_policy = srv.cfg->get_string("maxmemory-policy");
  f.allocator = allocator_name();
  f.lastsave = srv.lastsave.load();
  f.aof_enabled = srv.aof_enabled;
  f.loading = srv.loading.load();
  f.loading_loaded = srv.loading_loaded.load();
  f.loading_total = srv.loading_total.load();
  f.loading_start = srv.loading_start_ms;
  f.bgsave_in_progress = srv.bgsave_in_progress.load();
  f.bgsave_ok = srv.bgsave_ok.load();
  f.rdb_last_bgsave_secs = srv.rdb_last_bgsave_secs.load();
  f.rdb_saves = srv.rdb_saves.load();
  f.aof_rewrite_in_progress = srv.aof_rewrite_in_progress.load();
  f.aof_last_rewrite_ok = srv.aof_last_rewrite_ok.load();
  f.aof_last_rewrite_secs = srv.aof_last_rewrite_secs.load();
  f.aof_rewrites = srv.aof_rewrites.load();
  f.aof_write_ok = srv.aof_ok.load();
  f.bgsave_started_ms = srv.bgsave_started_ms.load();
  f.aof_rewrite_started_ms = srv.aof_rewrite_started_ms.load();
  f.save_keys_processed = srv.save_keys_processed.load();
  f.save_keys_total = srv.save_keys_total.load();
  f.aof_current_size = srv.aof_current_size.load();
  f.aof_base_size = srv.aof_base_size.load();
  f.aof_rewrite_failures = srv.aof_rewrite_failures.load();
  f.aof_rewrite_scheduled = srv.aof_rewrite_scheduled.load();
  f.loaded_keys = srv.loaded_keys.load();
  f.loaded_keys_expired = srv.loaded_keys_expired.load();
  f.total_connections = srv.total_connections.load();
  f.total_commands = srv.sum(&server::loop_counters::total_commands);
  f.net_input = srv.sum(&server::loop_counters::net_input);
  f.net_output = srv.sum(&server::loop_counters::net_output);
  f.rejected_connections = srv.rejected_connections.load();
  f.total_error_replies = srv.sum(&server::loop_counters::error_replies);
  f.errorstats = srv.errors.counts();
  f.replid = srv.run_id;
  rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    f.cpu_sys = static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) / 1e6;
    f.cpu_user = static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6;
  }
  if (getrusage(RUSAGE_CHILDREN, &ru) == 0) {
    f.cpu_sys_children = static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) / 1e6;
    f.cpu_user_children = static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6;
  }
  f.cluster_enabled = srv.cluster_enabled;
  f.blocked_clients += static_cast<uint64_t>(std::max<int64_t>(0, srv.polling_clients.load()));
  std::vector<uint64_t> keys(static_cast<size_t>(srv.data->count())), expires(keys.size());
  for (auto& r : reports) {
    f.blocked_clients += r.blocked_clients;
    f.expired_keys += r.stats.expired;
    f.keyspace_hits += r.stats.hits;
    f.keyspace_misses += r.stats.misses;
    f.dirty += r.stats.dirty;
    f.expire_cycles += r.stats.expire_cycles;
    f.total_error_replies += r.stats.error_replies;
    for (size_t i = 0; i < r.keys.size() && i < keys.size(); ++i) {
      keys[i] += r.keys[i];
      expires[i] += r.expires[i];
    }
  }
  for (size_t i = 0; i < keys.size(); ++i)
    f.dbs.push_back({static_cast<int>(i), keys[i], expires[i], 0});
  return f;
}

} // namespace troupe::actors
