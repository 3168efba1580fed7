// Start-up loading: the AOF when appendonly is on and it exists, else the RDB file, into the
// dataset, on a thread of its own while the node already answers (-LOADING until done, as Redis
// does). Then the aof_writer starts on the repaired file.
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include <caf/all.hpp>

#include "actors/actors.hpp"
#include "config/log.hpp"
#include "keyspace/commands.hpp"
#include "persistence/aof.hpp"
#include "persistence/rdb.hpp"
#include "protocol/command_table.hpp"
#include "protocol/numbers.hpp"

namespace troupe::actors {

namespace {

bool exists(const std::string& path) {
  struct stat sb;
  return ::stat(path.c_str(), &sb) == 0;
}

uint64_t file_size(const std::string& path) {
  struct stat sb;
  return ::stat(path.c_str(), &sb) == 0 ? static_cast<uint64_t>(sb.st_size) : 0;
}

// key-load-delay (hidden, as in Redis): microseconds to wait per key or command loaded, so that
// tests can watch a load in progress. Negative: 1 microsecond every -N keys.
void load_delay(int64_t d, uint64_t n) {
  if (d > 0)
    std::this_thread::sleep_for(std::chrono::microseconds(d));
  else if (d < 0 && n % static_cast<uint64_t>(-d) == 0)
    std::this_thread::sleep_for(std::chrono::microseconds(1));
}

class loading_sink : public persistence::dataset_sink {
public:
  loading_sink(keyspace::dataset& data, int64_t now_ms, int64_t delay)
    : dataset_sink(data, now_ms), delay_(delay) {}
  std::string on_key(keyspace::entry* e, const persistence::rdb_key_info& info) override {
    if (delay_)
      load_delay(delay_, ++n_);
    return dataset_sink::on_key(e, info);
  }

private:
  int64_t delay_;
  uint64_t n_ = 0;
};

// Replays the AOF's commands through the keyspace, as a client would run them.
class replay : public persistence::aof_handler {
public:
  explicit replay(server& srv)
    : srv_(srv), settings_(srv.keyspace_settings()), ctx_(*srv.data, stats_, settings_, rng_),
      delay_(srv.cfg->get_int("key-load-delay")) {
    ctx_.set_blocking_allowed(false);
  }

  std::string on_command(const std::vector<std::string_view>& args) override {
    if (delay_)
      load_delay(delay_, commands + 1);
    auto& table = protocol::command_table::instance();
    const protocol::command_spec* spec = table.lookup_call(args);
    if (spec == nullptr)
      return "Unknown command '" + std::string(args[0]) + "' reading the append only file";
    if (spec->name == "select") {
      int64_t db;
      if (args.size() != 2 || !protocol::parse_int64(args[1], db) || db < 0 || db >= srv_.data->count())
        return "Bad SELECT in the append only file";
      db_ = static_cast<int>(db);
      return "";
    }
    if (!keyspace::command_registry::instance().find(spec->id))
      return ""; // commands that touch no data (they should not be there) are skipped
    out_.clear();
    protocol::resp_writer w(out_);
    ctx_.begin(db_, args, w, now_ms());
    keyspace::execute(ctx_, spec->id);
    ++commands;
    return "";
  }

  std::string on_key(keyspace::entry* e, const persistence::rdb_key_info& info) override {
    return preamble_.on_key(e, info);
  }

  uint64_t commands = 0;
  uint64_t preamble_keys() const { return preamble_.loaded; }

private:
  server& srv_;
  keyspace::keyspace_stats stats_;
  keyspace::keyspace_settings settings_;
  std::mt19937_64 rng_{std::random_device{}()};
  keyspace::exec_context ctx_;
  persistence::dataset_sink preamble_{*srv_.data, -1, false};
  std::string out_;
  int db_ = 0;
  int64_t delay_ = 0;
};

void fatal(const std::string& what) {
  config::log_warning(what);
  std::_Exit(1);
}

// Logs the loading progress every few seconds while a big file loads.
class progress_logger {
public:
  explicit progress_logger(server& srv) : thread_([this, &srv] { run(srv); }) {}
  ~progress_logger() {
    {
      std::lock_guard<std::mutex> g(mutex_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

private:
  void run(server& srv) {
    std::unique_lock<std::mutex> g(mutex_);
    while (!cv_.wait_for(g, std::chrono::seconds(2), [this] { return stop_; })) {
      uint64_t done = srv.loading_loaded.load(std::memory_order_relaxed);
      uint64_t total = srv.loading_total.load(std::memory_order_relaxed);
      if (total == 0)
        continue;
      char line[160];
      std::snprintf(line, sizeof(line), "Loading: %.2f%% (%llu of %llu bytes, %.1f seconds)",
                    100.0 * static_cast<double>(done) / static_cast<double>(total),
                    static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                    static_cast<double>(now_ms() - srv.loading_start_ms) / 1000);
      config::log_notice(line);
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

void load(caf::actor_system* sys, server* srv) {
  auto& cfg = *srv->cfg;
  std::string aof_path = cfg.get_string("appendfilename");
  std::string rdb_path = cfg.get_string("dbfilename");
  int64_t start = now_ms();
  auto progress = std::make_unique<progress_logger>(*srv);
  if (srv->aof_enabled && exists(aof_path)) {
    srv->loading_total = file_size(aof_path);
    replay handler(*srv);
    persistence::aof_load_options opts;
    opts.load_truncated = cfg.get_bool("aof-load-truncated");
    opts.rdb.databases = srv->data->count();
    opts.rdb.settings = srv->keyspace_settings();   // encodings chosen by this node's thresholds
    opts.file_progress = &srv->loading_loaded;
    auto r = persistence::load_aof_file(aof_path, handler, opts);
    if (!r.ok())
      fatal("Bad file format reading the append only file " + aof_path + ": " + r.message
            + " (at offset " + std::to_string(r.error_file_offset)
            + "). Make a backup of your AOF file, then use ./troupe-server --check-aof --fix <filename>");
    if (r.result == persistence::aof_load_result::outcome::truncated)
      config::log_warning(r.message);
    auto err = persistence::apply_aof_cut(aof_path, r.cut);
    if (!err.empty())
      fatal("Could not repair the append only file " + aof_path + ": " + err);
    progress.reset();
    srv->loaded_keys = handler.preamble_keys();
    char secs[32];
    std::snprintf(secs, sizeof(secs), "%.3f", static_cast<double>(now_ms() - start) / 1000);
    config::log_notice(std::string("DB loaded from append only file: ") + secs + " seconds");
  } else if (exists(rdb_path)) {
    srv->loading_total = file_size(rdb_path);
    loading_sink sink(*srv->data, now_ms(), cfg.get_int("key-load-delay"));
    persistence::rdb_parser_options opts;
    opts.databases = srv->data->count();
    opts.settings = srv->keyspace_settings();
    opts.verify_checksum = cfg.get_bool("rdbchecksum");
    opts.file_progress = &srv->loading_loaded;
    auto r = persistence::load_rdb_file(rdb_path, sink, opts);
    progress.reset();
    srv->loaded_keys = sink.loaded;
    srv->loaded_keys_expired = sink.expired;
    if (!r.ok)
      fatal("Short read or OOM loading DB. Unrecoverable error, aborting now. (" + rdb_path + ": " + r.error
            + ")");
    config::log_notice("Done loading RDB, keys loaded: " + std::to_string(sink.loaded)
                       + ", keys expired: " + std::to_string(sink.expired) + ".");
    char secs[32];
    std::snprintf(secs, sizeof(secs), "%.3f", static_cast<double>(now_ms() - start) / 1000);
    config::log_notice(std::string("DB loaded from disk: ") + secs + " seconds");
    if (srv->aof_enabled && sink.loaded > 0) {
      // appendonly yes and no AOF yet: the next start reads the AOF alone, so the data loaded from
      // the RDB becomes the AOF's base (an RDB preamble) before the first write is accepted.
      persistence::rdb_writer_options wo;
      wo.compression = cfg.get_bool("rdbcompression");
      wo.checksum = cfg.get_bool("rdbchecksum");
      wo.aof_base = true;
      auto err = persistence::save_rdb_file(aof_path, *srv->data, true, wo, now_ms());
      if (!err.empty())
        fatal("Could not create the append only file " + aof_path + " from the loaded RDB: " + err);
      config::log_notice("Created the append only file " + aof_path + " from the data loaded from " + rdb_path);
    }
  }
  if (srv->aof_enabled) {
    auto a = spawn_aof_writer(*sys, *srv, aof_path, "");
    if (!a)
      fatal(sys->render(a.error()));
    srv->aof = *a;
  }
  progress.reset();
  srv->loading_loaded = srv->loading_total.load();
  srv->loading.store(false, std::memory_order_release);
}

} // namespace

void start_loading(caf::actor_system& sys, server& srv) {
  srv.loading.store(true, std::memory_order_release);
  srv.loading_start_ms = now_ms();
  std::thread(load, &sys, &srv).detach();
}

} // namespace troupe::actors
