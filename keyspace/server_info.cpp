#include "keyspace/server_info.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

#include "protocol/command_table.hpp"
#include "protocol/resp_writer.hpp"

namespace troupe::keyspace {

std::string human_bytes(uint64_t n) {
  char buf[64];
  double d = static_cast<double>(n);
  if (n < 1024)
    std::snprintf(buf, sizeof(buf), "%lluB", static_cast<unsigned long long>(n));
  else if (n < 1024ull * 1024)
    std::snprintf(buf, sizeof(buf), "%.2fK", d / 1024);
  else if (n < 1024ull * 1024 * 1024)
    std::snprintf(buf, sizeof(buf), "%.2fM", d / (1024.0 * 1024));
  else if (n < 1024ull * 1024 * 1024 * 1024)
    std::snprintf(buf, sizeof(buf), "%.2fG", d / (1024.0 * 1024 * 1024));
  else
    std::snprintf(buf, sizeof(buf), "%.2fT", d / (1024.0 * 1024 * 1024 * 1024));
  return buf;
}

namespace {

uint64_t minus(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

// A ratio as Redis keeps it (a float), so that it prints as Redis prints it.
double ratio(uint64_t a, uint64_t b, double scale = 1) {
  return b == 0 ? 0 : static_cast<double>(static_cast<float>(static_cast<double>(a) * scale / static_cast<double>(b)));
}

uint64_t overhead_total(const memory_figures& f) {
  uint64_t n = f.startup + f.replication_backlog + f.clients_replicas + f.clients_normal + f.cluster_links + f.aof_buffer;
  for (auto& d : f.dbs)
    n += d.main + d.expires;
  return n;
}

class section_writer {
public:
  explicit section_writer(std::string& out) : out_(out) {}
  void begin(const char* name) {
    if (!out_.empty())
      out_ += "\r\n";
    out_ += "# ";
    out_ += name;
    out_ += "\r\n";
  }
  void field(const char* name, std::string_view value) {
    out_ += name;
    out_ += ':';
    out_.append(value.data(), value.size());
    out_ += "\r\n";
  }
  void field(const char* name, uint64_t v) { field(name, std::to_string(v)); }
  void field(const char* name, int64_t v) { field(name, std::to_string(v)); }
  void field(const char* name, int v) { field(name, std::to_string(v)); }
  void fixed(const char* name, double v, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
    field(name, buf);
  }

private:
  std::string& out_;
};

const char* const default_sections[] = {"server", "clients", "memory", "persistence", "stats", "replication",
                                        "cpu", "modules", "errorstats", "cluster", "keyspace"};

} // namespace

std::string render_info(const info_figures& f, const std::vector<std::string_view>& args) {
  std::set<std::string> want;
  bool everything = false;
  if (args.empty())
    want.insert(std::begin(default_sections), std::end(default_sections));
  for (auto a : args) {
    std::string s;
    protocol::to_lower(a, s);
    if (s == "default")
      want.insert(std::begin(default_sections), std::end(default_sections));
    else if (s == "all" || s == "everything") {
      want.insert(std::begin(default_sections), std::end(default_sections));
      want.insert("commandstats");
      want.insert("latencystats");
      everything = everything || s == "everything";
    } else
      want.insert(s);
  }
  std::string out;
  section_writer w(out);
  if (want.count("server")) {
    w.begin("Server");
    w.field("redis_version", f.redis_version);
    w.field("redis_git_sha1", "00000000");
    w.field("redis_git_dirty", "0");
    w.field("redis_build_id", "troupe");
    w.field("redis_mode", f.mode);
    w.field("os", f.os);
    w.field("arch_bits", "64");
    w.field("monotonic_clock", "POSIX clock_gettime");
    w.field("multiplexing_api", "epoll");
    w.field("gcc_version", __VERSION__);
    w.field("process_id", f.pid);
    w.field("process_supervised", "no");
    w.field("run_id", f.run_id);
    w.field("tcp_port", f.port);
    w.field("server_time_usec", f.now_us);
    w.field("uptime_in_seconds", f.uptime_s);
    w.field("uptime_in_days", f.uptime_s / 86400);
    w.field("hz", f.hz);
    w.field("configured_hz", f.hz);
    w.field("lru_clock", (f.now_us / 1000000) & ((1 << 24) - 1));
    w.field("executable", f.executable);
    w.field("config_file", f.config_file);
    w.field("io_threads_active", f.io_threads > 1 ? 1 : 0);
    w.field("troupe_version", f.troupe_version);
    w.field("troupe_io_threads", f.io_threads);
    w.field("troupe_slot_actors", f.slot_actors);
  }
  if (want.count("clients")) {
    w.begin("Clients");
    w.field("connected_clients", f.connected_clients);
    w.field("cluster_connections", 0);
    w.field("maxclients", f.maxclients);
    w.field("client_recent_max_input_buffer", 0);
    w.field("client_recent_max_output_buffer", 0);
    w.field("blocked_clients", f.blocked_clients);
    w.field("tracking_clients", 0);
    w.field("clients_in_timeout_table", 0);
  }
  if (want.count("memory")) {
    w.begin("Memory");
    const memory_figures& m = f.mem;
    uint64_t overhead = overhead_total(m);
    uint64_t dataset = minus(m.total, overhead);
    auto percent = [](double v) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.2f%%", v);
      return std::string(buf);
    };
    w.field("used_memory", m.total);
    w.field("used_memory_human", human_bytes(m.total));
    w.field("used_memory_rss", m.rss);
    w.field("used_memory_rss_human", human_bytes(m.rss));
    w.field("used_memory_peak", m.peak);
    w.field("used_memory_peak_human", human_bytes(m.peak));
    w.field("used_memory_peak_perc", percent(m.peak ? ratio(m.total, m.peak, 100) : 100.0));
    w.field("used_memory_overhead", overhead);
    w.field("used_memory_startup", m.startup);
    w.field("used_memory_dataset", dataset);
    w.field("used_memory_dataset_perc", percent(ratio(dataset, minus(m.total, m.startup), 100)));
    w.field("allocator_allocated", m.allocator_allocated);
    w.field("allocator_active", m.allocator_active);
    w.field("allocator_resident", m.allocator_resident);
    w.field("total_system_memory", f.total_system_memory);
    w.field("total_system_memory_human", human_bytes(f.total_system_memory));
    // No scripting in Troupe: no Lua or function engine memory.
    for (const char* name : {"used_memory_lua", "used_memory_vm_eval"})
      w.field(name, 0);
    w.field("used_memory_lua_human", human_bytes(0));
    for (const char* name : {"used_memory_scripts_eval", "number_of_cached_scripts", "number_of_functions",
                             "number_of_libraries", "used_memory_vm_functions", "used_memory_vm_total"})
      w.field(name, 0);
    w.field("used_memory_vm_total_human", human_bytes(0));
    w.field("used_memory_functions", 0);
    w.field("used_memory_scripts", 0);
    w.field("used_memory_scripts_human", human_bytes(0));
    w.field("maxmemory", f.maxmemory);
    w.field("maxmemory_human", human_bytes(f.maxmemory));
    w.field("maxmemory_policy", f.maxmemory_policy);
    w.fixed("allocator_frag_ratio", ratio(m.allocator_active, m.allocator_allocated), 2);
    w.field("allocator_frag_bytes", minus(m.allocator_active, m.allocator_allocated));
    w.fixed("allocator_rss_ratio", ratio(m.allocator_resident, m.allocator_active), 2);
    w.field("allocator_rss_bytes", minus(m.allocator_resident, m.allocator_active));
    w.fixed("rss_overhead_ratio", ratio(m.rss, m.allocator_resident), 2);
    w.field("rss_overhead_bytes", minus(m.rss, m.allocator_resident));
    w.fixed("mem_fragmentation_ratio", ratio(m.rss, m.total), 2);
    w.field("mem_fragmentation_bytes", minus(m.rss, m.total));
    w.field("mem_not_counted_for_evict", 0);
    w.field("mem_replication_backlog", m.replication_backlog);
    w.field("mem_total_replication_buffers", 0);
    w.field("mem_clients_slaves", m.clients_replicas);
    w.field("mem_clients_normal", m.clients_normal);
    w.field("mem_cluster_links", m.cluster_links);
    w.field("mem_aof_buffer", m.aof_buffer);
    w.field("mem_allocator", f.allocator);
    w.field("active_defrag_running", 0);
    w.field("lazyfree_pending_objects", 0);
    w.field("lazyfreed_objects", 0);
  }
  if (want.count("persistence")) {
    w.begin("Persistence");
    w.field("loading", f.loading ? 1 : 0);
    w.field("async_loading", 0);
    w.field("current_cow_peak", 0);
    w.field("current_cow_size", 0);
    w.field("current_cow_size_age", 0);
    w.fixed("current_fork_perc", 0.0, 2);
    w.field("current_save_keys_processed", f.save_keys_processed);
    w.field("current_save_keys_total", f.save_keys_total);
    int64_t now_ms = f.now_us / 1000;
    w.field("rdb_changes_since_last_save", f.dirty);
    w.field("rdb_bgsave_in_progress", f.bgsave_in_progress ? 1 : 0);
    w.field("rdb_last_save_time", f.lastsave);
    w.field("rdb_last_bgsave_status", f.bgsave_ok ? "ok" : "err");
    w.field("rdb_last_bgsave_time_sec", f.rdb_last_bgsave_secs);
    w.field("rdb_current_bgsave_time_sec",
            f.bgsave_in_progress && f.bgsave_started_ms ? (now_ms - f.bgsave_started_ms) / 1000 : -1);
    w.field("rdb_saves", f.rdb_saves);
    w.field("rdb_last_cow_size", 0);
    w.field("rdb_last_load_keys_expired", f.loaded_keys_expired);
    w.field("rdb_last_load_keys_loaded", f.loaded_keys);
    w.field("aof_enabled", f.aof_enabled ? 1 : 0);
    w.field("aof_rewrite_in_progress", f.aof_rewrite_in_progress ? 1 : 0);
    w.field("aof_rewrite_scheduled", f.aof_rewrite_scheduled ? 1 : 0);
    w.field("aof_last_rewrite_time_sec", f.aof_last_rewrite_secs);
    w.field("aof_current_rewrite_time_sec",
            f.aof_rewrite_in_progress && f.aof_rewrite_started_ms ? (now_ms - f.aof_rewrite_started_ms) / 1000 : -1);
    w.field("aof_last_bgrewrite_status", f.aof_last_rewrite_ok ? "ok" : "err");
    w.field("aof_rewrites", f.aof_rewrites);
    w.field("aof_rewrites_consecutive_failures", f.aof_rewrite_failures);
    w.field("aof_last_write_status", f.aof_write_ok ? "ok" : "err");
    w.field("aof_last_cow_size", 0);
    w.field("module_fork_in_progress", 0);
    w.field("module_fork_last_cow_size", 0);
    if (f.aof_enabled) {
      w.field("aof_current_size", f.aof_current_size);
      w.field("aof_base_size", f.aof_base_size);
      w.field("aof_pending_rewrite", 0);
      w.field("aof_buffer_length", 0);
      w.field("aof_pending_bio_fsync", 0);
      w.field("aof_delayed_fsync", 0);
    }
    if (f.loading) {
      double perc = f.loading_total ? 100.0 * static_cast<double>(f.loading_loaded) / static_cast<double>(f.loading_total) : 0;
      int64_t elapsed_s = (now_ms - f.loading_start) / 1000;
      int64_t eta = f.loading_loaded && f.loading_total > f.loading_loaded
                      ? static_cast<int64_t>(static_cast<double>(elapsed_s) * static_cast<double>(f.loading_total - f.loading_loaded)
                                             / static_cast<double>(f.loading_loaded))
                      : 1;
      w.field("loading_start_time", f.loading_start / 1000);
      w.field("loading_total_bytes", f.loading_total);
      w.field("loading_rdb_used_mem", 0);
      w.field("loading_loaded_bytes", f.loading_loaded);
      w.fixed("loading_loaded_perc", perc, 2);
      w.field("loading_eta_seconds", eta);
    }
  }
  if (want.count("stats")) {
    w.begin("Stats");
    w.field("total_connections_received", f.total_connections);
    w.field("total_commands_processed", f.total_commands);
    w.field("instantaneous_ops_per_sec", f.inst_ops);
    w.field("total_net_input_bytes", f.net_input);
    w.field("total_net_output_bytes", f.net_output);
    w.field("total_net_repl_input_bytes", 0);   // (no replication stream yet)
    w.field("total_net_repl_output_bytes", 0);
    w.fixed("instantaneous_input_kbps", static_cast<double>(f.inst_input) / 1024, 2);
    w.fixed("instantaneous_output_kbps", static_cast<double>(f.inst_output) / 1024, 2);
    w.fixed("instantaneous_input_repl_kbps", 0, 2);
    w.fixed("instantaneous_output_repl_kbps", 0, 2);
    w.field("rejected_connections", f.rejected_connections);
    w.field("sync_full", 0);
    w.field("sync_partial_ok", 0);
    w.field("sync_partial_err", 0);
    w.field("expired_keys", f.expired_keys);
    w.field("expired_stale_perc", "0.00");
    w.field("expired_time_cap_reached_count", 0);
    w.field("evicted_keys", 0);
    w.field("evicted_clients", 0);
    w.field("total_eviction_exceeded_time", 0);
    w.field("current_eviction_exceeded_time", 0);
    w.field("keyspace_hits", f.keyspace_hits);
    w.field("keyspace_misses", f.keyspace_misses);
    w.field("pubsub_channels", f.pubsub_channels);
    w.field("pubsub_patterns", f.pubsub_patterns);
    w.field("pubsubshard_channels", f.pubsub_shard_channels);
    w.field("latest_fork_usec", 0);
    w.field("total_forks", 0);
    // None of these exist in Troupe (MIGRATE, replicas, active defragmentation, client tracking).
    for (const char* name : {"migrate_cached_sockets", "slave_expires_tracked_keys", "active_defrag_hits",
                             "active_defrag_misses", "active_defrag_key_hits", "active_defrag_key_misses",
                             "total_active_defrag_time", "current_active_defrag_time", "tracking_total_keys",
                             "tracking_total_items", "tracking_total_prefixes", "unexpected_error_replies"})
      w.field(name, 0);
    w.field("total_error_replies", f.total_error_replies);
  }
  if (want.count("replication")) {
    w.begin("Replication");
    w.field("role", "master");
    w.field("connected_slaves", 0);
    w.field("master_failover_state", "no-failover");
    w.field("master_replid", f.replid);
    w.field("master_replid2", "0000000000000000000000000000000000000000");
    w.field("master_repl_offset", 0);
    w.field("second_repl_offset", -1);
    w.field("repl_backlog_active", 0);
    w.field("repl_backlog_size", 1048576);
    w.field("repl_backlog_first_byte_offset", 0);
    w.field("repl_backlog_histlen", 0);
  }
  if (want.count("cpu")) {
    w.begin("CPU");
    w.fixed("used_cpu_sys", f.cpu_sys, 6);
    w.fixed("used_cpu_user", f.cpu_user, 6);
    w.fixed("used_cpu_sys_children", f.cpu_sys_children, 6);
    w.fixed("used_cpu_user_children", f.cpu_user_children, 6);
  }
  if (want.count("modules"))
    w.begin("Modules");
  if (want.count("errorstats")) {
    w.begin("Errorstats");
    for (auto& [code, n] : f.errorstats)
      w.field(("errorstat_" + code).c_str(), "count=" + std::to_string(n));
  }
  if (want.count("cluster")) {
    w.begin("Cluster");
    w.field("cluster_enabled", f.cluster_enabled ? 1 : 0);
  }
  if (want.count("keyspace")) {
    w.begin("Keyspace");
    for (auto& d : f.dbs) {
      if (d.keys == 0 && d.expires == 0)
        continue;
      std::string line = "keys=" + std::to_string(d.keys) + ",expires=" + std::to_string(d.expires)
                         + ",avg_ttl=" + std::to_string(d.avg_ttl);
      std::string name = "db" + std::to_string(d.index);
      w.field(name.c_str(), line);
    }
  }
  (void)everything;
  return out;
}

void instant_metric::sample(int64_t now_ms, uint64_t total) {
  int64_t t = now_ms - last_ms_;
  rates_[next_] = t > 0 && total >= last_total_ ? (total - last_total_) * 1000 / static_cast<uint64_t>(t) : 0;
  next_ = (next_ + 1) % samples;
  last_ms_ = now_ms;
  last_total_ = total;
}

uint64_t instant_metric::per_second() const {
  uint64_t sum = 0;
  for (uint64_t r : rates_)
    sum += r;
  return sum / samples;
}

void render_memory_stats(const memory_figures& f, protocol::resp_writer& w) {
  auto field = [&](const char* name, uint64_t v) {
    w.bulk(name);
    w.integer(static_cast<int64_t>(v));
  };
  auto real = [&](const char* name, double v) {
    w.bulk(name);
    w.dbl(v);
  };
  uint64_t overhead = overhead_total(f);
  uint64_t net = minus(f.total, f.startup);
  uint64_t dataset = minus(f.total, overhead);
  w.map(27 + f.dbs.size());
  field("peak.allocated", f.peak);
  field("total.allocated", f.total);
  field("startup.allocated", f.startup);
  field("replication.backlog", f.replication_backlog);
  field("clients.slaves", f.clients_replicas);
  field("clients.normal", f.clients_normal);
  field("cluster.links", f.cluster_links);
  field("aof.buffer", f.aof_buffer);
  field("lua.caches", 0);
  field("functions.caches", 0);
  for (auto& d : f.dbs) {
    w.bulk("db." + std::to_string(d.index));
    w.map(3);
    field("overhead.hashtable.main", d.main);
    field("overhead.hashtable.expires", d.expires);
    field("overhead.hashtable.slot-to-keys", 0);
  }
  field("overhead.total", overhead);
  field("keys.count", f.keys);
  field("keys.bytes-per-key", f.keys ? net / f.keys : 0);
  field("dataset.bytes", dataset);
  real("dataset.percentage", ratio(dataset, net, 100));
  real("peak.percentage", ratio(f.total, f.peak, 100));
  field("allocator.allocated", f.allocator_allocated);
  field("allocator.active", f.allocator_active);
  field("allocator.resident", f.allocator_resident);
  real("allocator-fragmentation.ratio", ratio(f.allocator_active, f.allocator_allocated));
  field("allocator-fragmentation.bytes", minus(f.allocator_active, f.allocator_allocated));
  real("allocator-rss.ratio", ratio(f.allocator_resident, f.allocator_active));
  field("allocator-rss.bytes", minus(f.allocator_resident, f.allocator_active));
  real("rss-overhead.ratio", ratio(f.rss, f.allocator_resident));
  field("rss-overhead.bytes", minus(f.rss, f.allocator_resident));
  real("fragmentation", ratio(f.rss, f.total));
  field("fragmentation.bytes", minus(f.rss, f.total));
}

std::string memory_doctor(const memory_figures& f) {
  constexpr uint64_t small = 5ull << 20, notable = 10ull << 20;
  if (f.total < small)
    return "This instance has under 5 MB allocated (" + human_bytes(f.total)
           + "): too little for its memory figures to mean anything. Ask again once it holds data.\n";
  std::vector<std::string> issues;
  char buf[512];
  auto ratio_of = [](uint64_t a, uint64_t b) { return b ? static_cast<double>(a) / static_cast<double>(b) : 0.0; };
  if (ratio_of(f.peak, f.total) > 1.5) {
    std::snprintf(buf, sizeof(buf),
                  " * Peak: %s allocated at the most, %.2f times the %s allocated now. The allocator may keep "
                  "pages of what was freed since: see the fragmentation figures of MEMORY STATS.\n",
                  human_bytes(f.peak).c_str(), ratio_of(f.peak, f.total), human_bytes(f.total).c_str());
    issues.emplace_back(buf);
  }
  // Each: `a` over `b` past 1.1 and by more than 10 MB; the text takes a, b and their ratio.
  struct check {
    uint64_t a, b;
    const char* text;
  };
  const check checks[] = {
    {f.allocator_active, f.allocator_allocated,
     " * Allocator fragmentation: jemalloc's active pages hold %s for %s allocated (%.2f). Deleting or "
     "rewriting many keys of mixed sizes leaves such gaps.\n"},
    {f.allocator_resident, f.allocator_active,
     " * Allocator RSS: jemalloc keeps %s resident for %s of active pages (%.2f). MEMORY PURGE hands its "
     "dirty pages back to the OS.\n"},
    {f.rss, f.allocator_resident,
     " * RSS overhead: the process has %s resident for the %s jemalloc keeps resident (%.2f): memory "
     "outside the allocator (thread stacks, libraries, pages mapped by the kernel).\n"},
  };
  for (auto& c : checks)
    if (ratio_of(c.a, c.b) > 1.1 && c.a - c.b > notable) {
      std::snprintf(buf, sizeof(buf), c.text, human_bytes(c.a).c_str(), human_bytes(c.b).c_str(), ratio_of(c.a, c.b));
      issues.emplace_back(buf);
    }
  if (issues.empty())
    return "No memory issue found: " + human_bytes(f.total) + " allocated, " + human_bytes(f.rss)
           + " resident, peak " + human_bytes(f.peak) + ".\n";
  std::string out = "Memory issues found:\n\n";
  for (auto& i : issues)
    out += i + "\n";
  return out;
}

} // namespace troupe::keyspace
