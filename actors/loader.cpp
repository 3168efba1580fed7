// Start-up loading: the AOF when appendonly is on and it exists, else the RDB file, into the
// dataset, on a thread of its own while the node already answers (-LOADING until done, as Redis
// does). Then the aof_writer starts on the repaired file.
#include <sys/stat.h>
#include <unistd.h>

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

// Replays the AOF's commands through the keyspace, as a client would run them.
class replay : public persistence::aof_handler {
public:
  explicit replay(server& srv)
    : srv_(srv), settings_(srv.keyspace_settings()), ctx_(*srv.data, stats_, settings_, rng_) {
    ctx_.set_blocking_allowed(false);
  }

  std::string on_command(const std::vector<std::string_view>& args) override {
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
    if ((commands & 0xffff) == 0)
      srv_.loading_loaded.store(commands, std::memory_order_relaxed);
    return "";
  }

  std::string on_key(keyspace::entry* e, const persistence::rdb_key_info& info) override {
    return preamble_.on_key(e, info);
  }

  uint64_t commands = 0;

private:
  server& srv_;
  keyspace::keyspace_stats stats_;
  keyspace::keyspace_settings settings_;
  std::mt19937_64 rng_{std::random_device{}()};
  keyspace::exec_context ctx_;
  persistence::dataset_sink preamble_{*srv_.data, -1, false};
  std::string out_;
  int db_ = 0;
};

void fatal(const std::string& what) {
  config::log_warning(what);
  std::_Exit(1);
}

void load(caf::actor_system* sys, server* srv) {
  auto& cfg = *srv->cfg;
  std::string aof_path = cfg.get_string("appendfilename");
  std::string rdb_path = cfg.get_string("dbfilename");
  int64_t start = now_ms();
  if (srv->aof_enabled && exists(aof_path)) {
    srv->loading_total = file_size(aof_path);
    replay handler(*srv);
    persistence::aof_load_options opts;
    opts.load_truncated = cfg.get_bool("aof-load-truncated");
    opts.rdb.databases = srv->data->count();
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
    char secs[32];
    std::snprintf(secs, sizeof(secs), "%.3f", static_cast<double>(now_ms() - start) / 1000);
    config::log_notice(std::string("DB loaded from append only file: ") + secs + " seconds");
  } else if (exists(rdb_path)) {
    srv->loading_total = file_size(rdb_path);
    persistence::dataset_sink sink(*srv->data, now_ms());
    persistence::rdb_parser_options opts;
    opts.databases = srv->data->count();
    opts.verify_checksum = cfg.get_bool("rdbchecksum");
    auto r = persistence::load_rdb_file(rdb_path, sink, opts);
    if (!r.ok)
      fatal("Short read or OOM loading DB. Unrecoverable error, aborting now. (" + rdb_path + ": " + r.error
            + ")");
    config::log_notice("Done loading RDB, keys loaded: " + std::to_string(sink.loaded)
                       + ", keys expired: " + std::to_string(sink.expired) + ".");
    char secs[32];
    std::snprintf(secs, sizeof(secs), "%.3f", static_cast<double>(now_ms() - start) / 1000);
    config::log_notice(std::string("DB loaded from disk: ") + secs + " seconds");
  }
  if (srv->aof_enabled) {
    auto a = spawn_aof_writer(*sys, *srv, aof_path, "");
    if (!a)
      fatal(sys->render(a.error()));
    srv->aof = *a;
  }
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
