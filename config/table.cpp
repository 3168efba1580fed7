// The directive table: one row per directive redis-server 7.0.15 accepts, plus Troupe's own.
// Names, types, ranges, defaults and flags were read off a running redis-server 7.0.15
// (CONFIG GET *, CONFIG SET probes and startup errors). Adding a directive is adding one row.
#include "config/detail.hpp"

#include <cctype>
#include <climits>
#include <unordered_map>

namespace troupe::config::detail {

namespace {

constexpr long long int_max = INT_MAX;
constexpr long long int_min = INT_MIN;
constexpr long long ll_max = LLONG_MAX;
constexpr long long uint_max = UINT_MAX;
constexpr unsigned long long ull_max = ULLONG_MAX;

constexpr unsigned IMM = f_immutable;
constexpr unsigned PROT = f_protected;
constexpr unsigned HID = f_hidden;
constexpr unsigned EFF = f_effective;
constexpr unsigned NONE = f_empty_is_none;
constexpr unsigned START = f_start_only;

// Row builders, so that each directive stays one line.
constexpr spec B(std::string_view n, std::string_view def, unsigned f = 0) {
  return {n, {}, kind::boolean, def, 0, 0, {}, f, nullptr};
}
constexpr spec I(std::string_view n, std::string_view def, long long lo, long long hi, unsigned f = 0) {
  return {n, {}, kind::integer, def, lo, static_cast<unsigned long long>(hi), {}, f, nullptr};
}
constexpr spec M(std::string_view n, std::string_view def, long long lo, unsigned long long hi,
                 unsigned f = 0) {
  return {n, {}, kind::memory, def, lo, hi, {}, f, nullptr};
}
constexpr spec E(std::string_view n, std::string_view def, std::string_view choices, unsigned f = 0) {
  return {n, {}, kind::enumeration, def, 0, 0, choices, f, nullptr};
}
constexpr spec S(std::string_view n, std::string_view def, unsigned f = 0, string_check check = nullptr) {
  return {n, {}, kind::string, def, 0, 0, {}, f, check};
}
constexpr spec X(std::string_view n, kind k, std::string_view def, unsigned f = 0,
                 std::string_view choices = {}) {
  return {n, {}, k, def, 0, 0, choices, f, nullptr};
}
constexpr spec A(spec s, std::string_view alias) {
  s.alias = alias;
  return s;
}

bool has_path_separator(const std::string& v) {
  return v.find('/') != std::string::npos || v.find('\\') != std::string::npos;
}

const char* check_appendfilename(const std::string& v) {
  if (v.empty()) return "appendfilename can't be empty";
  if (has_path_separator(v)) return "appendfilename can't be a path, just a filename";
  return nullptr;
}

const char* check_appenddirname(const std::string& v) {
  if (v.empty()) return "appenddirname can't be empty";
  if (has_path_separator(v)) return "appenddirname can't be a path, just a dirname";
  return nullptr;
}

const char* check_dbfilename(const std::string& v) {
  if (has_path_separator(v)) return "dbfilename can't be a path, just a filename";
  return nullptr;
}

const char* check_hostname(const std::string& v) {
  if (v.size() >= 256) return "Hostnames must be less than 256 characters";
  for (unsigned char c : v)
    if (!std::isalnum(c) && c != '-' && c != '.')
      return "Hostnames may only contain alphanumeric characters, hyphens or dots";
  return nullptr;
}

// The template may only use the known {variables}, and must not expand to blanks alone
// ({title} and {server-mode} may expand to nothing).
const char* check_proc_title(const std::string& v) {
  static const char* const invalid = "template format is invalid or contains unknown variables";
  std::string expanded;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '{') {
      expanded.push_back(v[i]);
      continue;
    }
    auto close = v.find('}', i);
    if (close == std::string::npos) return invalid;
    std::string var = v.substr(i + 1, close - i - 1);
    if (var == "title" || var == "server-mode") {
      // may be empty
    } else if (var == "listen-addr" || var == "port" || var == "tls-port" || var == "unixsocket" ||
               var == "config-file") {
      expanded += "x";
    } else {
      return invalid;
    }
    i = close;
  }
  if (trim(expanded, " ").empty()) return invalid;
  return nullptr;
}

std::vector<spec> build() {
  const char* const shutdown_flags = "default save nosave now force";
  return {
      E("acl-pubsub-default", "resetchannels", "allchannels resetchannels"),
      S("aclfile", "", IMM),
      I("acllog-max-len", "128", 0, ll_max),
      I("active-defrag-cycle-max", "25", 1, 99),
      I("active-defrag-cycle-min", "1", 1, 99),
      M("active-defrag-ignore-bytes", "104857600", 1, ll_max),
      I("active-defrag-max-scan-fields", "1000", 1, ll_max),
      I("active-defrag-threshold-lower", "10", 0, 1000),
      I("active-defrag-threshold-upper", "100", 0, 1000),
      I("active-expire-effort", "1", 1, 10),
      B("activedefrag", "no"),
      B("activerehashing", "yes"),
      B("always-show-logo", "no", IMM | EFF),
      B("aof-disable-auto-gc", "no"),
      I("aof-gather-usec", "1000", 0, 10000000),  // Troupe: how long a slot range gathers AOF effects (not with always)
      B("aof-load-truncated", "yes"),
      B("aof-rewrite-incremental-fsync", "yes"),
      B("aof-timestamp-enabled", "no"),
      B("aof-use-rdb-preamble", "yes"),
      S("aof_rewrite_cpulist", "", IMM | NONE),
      S("appenddirname", "appendonlydir", IMM, check_appenddirname),
      S("appendfilename", "appendonly.aof", IMM, check_appendfilename),
      E("appendfsync", "everysec", "everysec always no"),
      B("appendonly", "no", START),
      M("auto-aof-rewrite-min-size", "67108864", 0, ll_max),
      I("auto-aof-rewrite-percentage", "100", 0, int_max),
      S("bgsave_cpulist", "", IMM | NONE),
      X("bind", kind::bind, "* -::*", EFF),
      S("bind-source-addr", "", NONE),
      S("bio_cpulist", "", IMM | NONE),
      A(I("busy-reply-threshold", "5000", 0, ll_max), "lua-time-limit"),
      X("client-output-buffer-limit", kind::client_obuf,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"),
      M("client-query-buffer-limit", "1073741824", 1048576, ll_max, EFF),
      B("cluster-allow-pubsubshard-when-down", "yes"),
      B("cluster-allow-reads-when-down", "no"),
      B("cluster-allow-replica-migration", "yes"),
      I("cluster-announce-bus-port", "0", 0, 65535),
      S("cluster-announce-hostname", "", 0 | NONE, check_hostname),
      S("cluster-announce-ip", "", NONE),
      I("cluster-announce-port", "0", 0, 65535),
      I("cluster-announce-tls-port", "0", 0, 65535),
      S("cluster-config-file", "nodes.conf", IMM),
      B("cluster-enabled", "no", IMM | EFF),
      M("cluster-link-sendbuf-limit", "0", 0, ull_max),
      I("cluster-migration-barrier", "1", 0, int_max),
      I("cluster-node-timeout", "15000", 0, ll_max),
      I("cluster-port", "0", 0, 65535, IMM),
      E("cluster-preferred-endpoint-type", "ip", "ip hostname unknown-endpoint"),
      A(B("cluster-replica-no-failover", "no"), "cluster-slave-no-failover"),
      A(I("cluster-replica-validity-factor", "10", 0, int_max), "cluster-slave-validity-factor"),
      B("cluster-require-full-coverage", "yes"),
      B("crash-log-enabled", "yes"),
      B("crash-memcheck-enabled", "yes"),
      B("daemonize", "no", IMM | EFF),
      I("databases", "16", 1, int_max, IMM | EFF),
      S("dbfilename", "dump.rdb", PROT, check_dbfilename),
      X("dir", kind::dir, "", PROT | EFF | f_always_rewrite),
      B("disable-thp", "yes", IMM),
      B("dynamic-hz", "yes"),
      E("enable-debug-command", "no", "no yes local", IMM),
      E("enable-module-command", "no", "no yes local", IMM),
      E("enable-protected-configs", "no", "no yes local", IMM),
      A(I("hash-max-listpack-entries", "512", 0, ll_max), "hash-max-ziplist-entries"),
      A(M("hash-max-listpack-value", "64", 0, ll_max), "hash-max-ziplist-value"),
      M("hll-sparse-max-bytes", "3000", 0, ll_max),
      I("hz", "10", 0, int_max, EFF | f_clamp_hz),
      S("ignore-warnings", ""),
      I("io-threads", "1", 1, 128, IMM | EFF),   // I/O loops, each with its connections and slot ranges
      B("io-threads-do-reads", "no", IMM),
      B("jemalloc-bg-thread", "yes"),
      I("key-load-delay", "0", int_min, int_max, HID),
      I("latency-monitor-threshold", "0", 0, ll_max),
      B("latency-tracking", "yes"),
      X("latency-tracking-info-percentiles", kind::percentiles, "50 99 99.9", f_always_rewrite),
      B("lazyfree-lazy-eviction", "no"),
      B("lazyfree-lazy-expire", "no"),
      B("lazyfree-lazy-server-del", "no"),
      B("lazyfree-lazy-user-del", "no"),
      B("lazyfree-lazy-user-flush", "no"),
      I("lfu-decay-time", "1", 0, int_max),
      I("lfu-log-factor", "10", 0, int_max),
      I("list-compress-depth", "0", 0, int_max),
      A(I("list-max-listpack-size", "-2", int_min, int_max), "list-max-ziplist-size"),
      I("loading-process-events-interval-bytes", "2097152", 1024, int_max, HID),
      S("logfile", "", IMM | EFF),
      E("loglevel", "notice", "debug verbose notice warning", EFF),
      B("lua-enable-deprecated-api", "no", IMM | HID),
      S("masterauth", "", NONE),
      S("masteruser", "", NONE),
      I("maxclients", "10000", 1, uint_max, EFF),
      M("maxmemory", "0", 0, ull_max),
      X("maxmemory-clients", kind::memory_or_percent, "0"),
      I("maxmemory-eviction-tenacity", "10", 0, 100),
      E("maxmemory-policy", "noeviction",
        "volatile-lru volatile-lfu volatile-random volatile-ttl allkeys-lru allkeys-lfu "
        "allkeys-random noeviction"),
      I("maxmemory-samples", "5", 1, int_max),
      I("metrics-port", "0", 0, 65535, IMM),  // Troupe
      A(I("min-replicas-max-lag", "10", 0, int_max), "min-slaves-max-lag"),
      A(I("min-replicas-to-write", "0", 0, int_max), "min-slaves-to-write"),
      B("no-appendfsync-on-rewrite", "no"),
      X("notify-keyspace-events", kind::notify, ""),
      E("oom-score-adj", "no", "no yes relative:yes absolute"),
      X("oom-score-adj-values", kind::oom_values, "0 200 800"),
      S("pidfile", "", IMM | EFF | NONE),
      I("port", "6379", 0, 65535, EFF),
      S("proc-title-template", "{title} {listen-addr} {server-mode}", 0, check_proc_title),
      E("propagation-error-behavior", "ignore", "ignore panic panic-on-replicas"),
      B("protected-mode", "yes", EFF),
      M("proto-max-bulk-len", "536870912", 1048576, ll_max, EFF),
      I("rdb-key-save-delay", "0", int_min, int_max, HID),
      B("rdb-del-sync-files", "no"),
      B("rdb-save-incremental-fsync", "yes"),
      B("rdbchecksum", "yes", IMM),
      B("rdbcompression", "yes"),
      M("repl-backlog-size", "1048576", 1, ll_max, f_backlog_min),
      I("repl-backlog-ttl", "3600", 0, ll_max),
      B("repl-disable-tcp-nodelay", "no"),
      E("repl-diskless-load", "disabled", "disabled on-empty-db swapdb"),
      B("repl-diskless-sync", "yes"),
      I("repl-diskless-sync-delay", "5", 0, int_max),
      I("repl-diskless-sync-max-replicas", "0", 0, int_max),
      A(I("repl-ping-replica-period", "10", 1, int_max), "repl-ping-slave-period"),
      I("repl-timeout", "60", 1, int_max),
      A(S("replica-announce-ip", "", NONE), "slave-announce-ip"),
      A(I("replica-announce-port", "0", 0, 65535), "slave-announce-port"),
      B("replica-announced", "yes"),
      B("replica-ignore-disk-write-errors", "no"),
      A(B("replica-ignore-maxmemory", "yes"), "slave-ignore-maxmemory"),
      A(B("replica-lazy-flush", "no"), "slave-lazy-flush"),
      A(I("replica-priority", "100", 0, int_max), "slave-priority"),
      A(B("replica-read-only", "yes"), "slave-read-only"),
      A(B("replica-serve-stale-data", "yes"), "slave-serve-stale-data"),
      A(X("replicaof", kind::replicaof, "", IMM), "slaveof"),
      S("requirepass", "", EFF | NONE),
      E("sanitize-dump-payload", "no", "no yes clients"),
      X("save", kind::save, "3600 1 300 100 60 10000", EFF | f_always_rewrite),
      S("server_cpulist", "", IMM | NONE),
      I("set-max-intset-entries", "512", 0, ll_max),
      B("set-proc-title", "yes", IMM),
      X("shutdown-on-sigint", kind::flags, "default", 0, shutdown_flags),
      X("shutdown-on-sigterm", kind::flags, "default", 0, shutdown_flags),
      I("shutdown-timeout", "10", 0, int_max),
      I("slot-actors", "1", 1, 1024, EFF),  // Troupe: at least one per I/O loop (io-threads)
      I("slowlog-log-slower-than", "10000", -1, ll_max),
      I("slowlog-max-len", "128", 0, ll_max),
      I("socket-mark-id", "0", 0, uint_max, IMM),
      B("stop-writes-on-bgsave-error", "yes"),
      M("stream-node-max-bytes", "4096", 0, ll_max),
      I("stream-node-max-entries", "100", 0, ll_max),
      E("supervised", "no", "upstart systemd auto no", IMM),
      B("syslog-enabled", "no", IMM),
      E("syslog-facility", "local0", "user local0 local1 local2 local3 local4 local5 local6 local7", IMM),
      S("syslog-ident", "redis", IMM),
      I("tcp-backlog", "511", 0, int_max, IMM),
      I("tcp-keepalive", "300", 0, int_max, EFF),
      I("timeout", "0", 0, int_max, EFF),
      E("tls-auth-clients", "yes", "no yes optional"),
      S("tls-ca-cert-dir", "", NONE),
      S("tls-ca-cert-file", "", NONE),
      S("tls-cert-file", "", NONE),
      S("tls-ciphers", "", NONE),
      S("tls-ciphersuites", "", NONE),
      S("tls-client-cert-file", "", NONE),
      S("tls-client-key-file", "", NONE),
      S("tls-client-key-file-pass", "", NONE),
      B("tls-cluster", "no"),
      S("tls-dh-params-file", "", NONE),
      S("tls-key-file", "", NONE),
      S("tls-key-file-pass", "", NONE),
      I("tls-port", "0", 0, 65535),
      B("tls-prefer-server-ciphers", "no"),
      S("tls-protocols", "", NONE),
      B("tls-replication", "no"),
      I("tls-session-cache-size", "20480", 0, int_max),
      I("tls-session-cache-timeout", "300", 0, int_max),
      B("tls-session-caching", "yes"),
      I("tracking-table-max-keys", "1000000", 0, ll_max),
      S("unixsocket", "", IMM | NONE),
      X("unixsocketperm", kind::octal, "0", IMM),
      B("use-exit-on-panic", "no", HID),
      I("watchdog-period", "0", 0, int_max, HID),
      A(I("zset-max-listpack-entries", "128", 0, ll_max), "zset-max-ziplist-entries"),
      A(M("zset-max-listpack-value", "64", 0, ll_max), "zset-max-ziplist-value"),
      // Directives of the file (and flags) only: not configs of CONFIG GET/SET.
      X("include", kind::include, "", EFF),
      X("rename-command", kind::file_only, ""),
      X("user", kind::file_only, ""),
      X("loadmodule", kind::file_only, ""),
      X("sentinel", kind::sentinel, ""),
      X("list-max-ziplist-entries", kind::deprecated, ""),
      X("list-max-ziplist-value", kind::deprecated, ""),
      X("lua-replicate-commands", kind::deprecated, ""),
  };
}

}  // namespace

// Directives that take effect in Troupe beyond those flagged EFF in their rows: persistence,
// cluster, encodings (read where they are used).
std::vector<spec> with_effects(std::vector<spec> rows) {
  static const std::string_view effective[] = {
      "aof-gather-usec", "aof-load-truncated", "appendfilename", "appendfsync", "appendonly", "auto-aof-rewrite-min-size",
      "auto-aof-rewrite-percentage", "dbfilename", "rdbchecksum", "rdbcompression", "stop-writes-on-bgsave-error",
      "cluster-allow-pubsubshard-when-down", "cluster-allow-reads-when-down", "cluster-announce-bus-port",
      "cluster-announce-hostname", "cluster-announce-ip", "cluster-announce-port", "cluster-config-file",
      "cluster-node-timeout", "cluster-port", "cluster-preferred-endpoint-type", "cluster-replica-no-failover",
      "cluster-require-full-coverage", "enable-debug-command", "enable-protected-configs",
      "hash-max-listpack-entries", "hash-max-listpack-value", "list-max-listpack-size",
      "set-max-intset-entries", "zset-max-listpack-entries", "zset-max-listpack-value", "key-load-delay", "rdb-key-save-delay"};
  for (auto& r : rows)
    for (auto name : effective)
      if (r.name == name)
        r.flags |= f_effective;
  return rows;
}

const std::vector<spec>& table() {
  static const std::vector<spec> rows = with_effects(build());
  return rows;
}

std::optional<std::size_t> find(std::string_view name) {
  static const std::unordered_map<std::string, std::size_t> index = [] {
    std::unordered_map<std::string, std::size_t> m;
    const auto& rows = table();
    for (std::size_t i = 0; i < rows.size(); ++i) {
      m.emplace(std::string(rows[i].name), i);
      if (!rows[i].alias.empty()) m.emplace(std::string(rows[i].alias), i);
    }
    return m;
  }();
  auto it = index.find(lower(name));
  if (it == index.end()) return std::nullopt;
  return it->second;
}

}  // namespace troupe::config::detail
