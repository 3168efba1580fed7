// node: the node's supervisor. It owns the shutdown sequence (SHUTDOWN, signals) and the
// snapshots: SAVE, BGSAVE, BGREWRITEAOF, the `save` points and the save at shutdown, each run by
// an rdb_snapshotter it spawns; it keeps what INFO persistence and LASTSAVE report.
#include <map>
#include <unistd.h>

#include <caf/all.hpp>

#include "actors/actors.hpp"
#include "actors/status.hpp"
#include "config/log.hpp"
#include "keyspace/server_info.hpp"

namespace troupe::actors {

namespace {

struct waiting_save {
  caf::response_promise promise;
  bool aof_rewrite;
};

struct node_state {
  static inline const char* name = "node";
  server* srv = nullptr;
  uint64_t handled = 0;
  bool stopping = false;
  uint64_t next_snapshot = 1;
  bool rdb_running = false, aof_running = false;
  // One snapshot at a time (a slot_range serializes one): the other kind waits for it.
  bool aof_rewrite_scheduled = false, rdb_scheduled = false;
  int64_t last_bgsave_try_s = 0, last_rewrite_try_ms = 0;
  keyspace::instant_metric ops, input, output;   // INFO's instantaneous_* (sample_atom)
  std::vector<waiting_save> waiting;            // SAVE / SHUTDOWN waiting for a snapshot
  caf::response_promise shutdown_promise;
  shutdown_request pending_shutdown;
  bool shutdown_waits_for_save = false;
  bool final_running = false;   // SHUTDOWN's own snapshot runs (not an older one it waits out)
  // BGSAVE / BGREWRITEAOF replies held until their snapshot's point is taken in every slot_range
  // (as Redis replies after fork(): a write the client sends after the reply is not in it).
  std::map<uint64_t, std::pair<caf::typed_response_promise<std::string>, std::string>> starting;
  uint64_t last_started = 0;
  uint64_t aof_base_size = 0;
};

using self_ptr = node_actor::stateful_pointer<node_state>;

std::string rdb_path(server& srv) { return srv.cfg->get_string("dbfilename"); }
std::string aof_path(server& srv) { return srv.cfg->get_string("appendfilename"); }

bool busy(self_ptr self) { return self->state.aof_running || self->state.rdb_running; }

void set_scheduled(self_ptr self, bool aof_rewrite, bool v) {
  auto& st = self->state;
  (aof_rewrite ? st.aof_rewrite_scheduled : st.rdb_scheduled) = v;
  if (aof_rewrite)
    st.srv->aof_rewrite_scheduled = v;
}

// Starts a snapshot now, or schedules it after the one running (false: scheduled).
bool start(self_ptr self, bool aof_rewrite, const std::string& reason, bool final = false) {
  auto& st = self->state;
  if (busy(self)) {
    set_scheduled(self, aof_rewrite, true);
    return false;
  }
  set_scheduled(self, aof_rewrite, false);
  (aof_rewrite ? st.aof_running : st.rdb_running) = true;
  (aof_rewrite ? st.srv->aof_rewrite_in_progress : st.srv->bgsave_in_progress) = true;
  (aof_rewrite ? st.srv->aof_rewrite_started_ms : st.srv->bgsave_started_ms) = now_ms();
  if (!aof_rewrite)
    st.last_bgsave_try_s = now_ms() / 1000;
  else
    st.last_rewrite_try_ms = now_ms();
  st.srv->save_keys_processed = 0;
  st.srv->save_keys_total = 0;
  save_request req;
  req.aof_rewrite = aof_rewrite;
  req.reason = reason;
  req.final = final;
  if (final)
    st.final_running = true;
  if (!reason.empty())
    config::log_notice(reason);
  config::log_notice(aof_rewrite ? "Background append only file rewriting started"
                                 : "Background saving started");
  st.last_started = st.next_snapshot;
  spawn_snapshotter(self->home_system(), *st.srv, st.next_snapshot++, req,
                    aof_rewrite ? aof_path(*st.srv) : rdb_path(*st.srv));
  return true;
}

void finish_shutdown(self_ptr self) {
  auto& st = self->state;
  char code = 'S';
  if (write(st.srv->shutdown_pipe, &code, 1) != 1)
    config::log_warning("Could not signal the shutdown to the main thread");
  if (st.shutdown_promise.pending())
    st.shutdown_promise.deliver(std::string());
}

node_actor::behavior_type node(self_ptr self, server* srv) {
  self->state.srv = srv;
  srv->directory.add("node", "node", caf::actor_cast<status_handle>(self));
  self->attach_functor([srv] { srv->directory.remove("node"); });
  self->delayed_send(self, std::chrono::seconds(1), cron_atom::value);
  self->send(self, sample_atom::value);
  return {
    [=](shutdown_atom, shutdown_request& req) -> caf::result<std::string> {
      auto& st = self->state;
      ++st.handled;
      if (st.stopping)
        return std::string("ERR Errors trying to SHUTDOWN. Check logs.");
      if (!req.reason.empty())
        config::log_warning(req.reason);
      bool save = !req.nosave && (req.save || !st.srv->cfg->save_params().empty());
      if (!save || st.srv->loading.load()) {
        st.stopping = true;
        finish_shutdown(self);
        return std::string();
      }
      config::log_notice("Saving the final RDB snapshot before exiting.");
      st.stopping = true;
      st.pending_shutdown = req;
      st.shutdown_promise = self->make_response_promise<std::string>();
      st.shutdown_waits_for_save = true;
      // A snapshot of its own, taken now: not a BGSAVE already running, which began earlier.
      if (!busy(self))
        start(self, false, "", true);
      return st.shutdown_promise;
    },
    [=](save_request& req) -> caf::result<std::string> {
      auto& st = self->state;
      ++st.handled;
      if (req.aof_rewrite && !st.srv->aof_enabled && !st.srv->aof) {
        return std::string("-ERR Background AOF rewrite needs appendonly yes in Troupe");
      }
      bool running = req.aof_rewrite ? st.aof_running : st.rdb_running;
      if (req.background) {
        if (running)
          return std::string(req.aof_rewrite ? "-ERR Background append only file rewriting already in progress"
                                             : "-ERR Background save already in progress");
        if (busy(self)) {
          // Redis's answers while the other kind of snapshot runs.
          if (req.aof_rewrite) {
            set_scheduled(self, true, true);
            return std::string("+Background append only file rewriting scheduled");
          }
          if (!req.schedule)
            return std::string("-ERR An AOF log rewriting in progress: can't BGSAVE right now. Use BGSAVE "
                               "SCHEDULE in order to schedule a BGSAVE whenever possible.");
          set_scheduled(self, false, true);
          return std::string("+Background saving scheduled");
        }
        start(self, req.aof_rewrite, req.reason);
        auto rp = self->make_response_promise<std::string>();
        st.starting[st.last_started] = {rp, req.aof_rewrite ? "+Background append only file rewriting started"
                                                            : "+Background saving started"};
        return rp;
      }
      // SAVE: waits for a snapshot taken now (not one already running, which started earlier).
      if (running)
        return std::string("-ERR Background save already in progress");
      auto rp = self->make_response_promise<std::string>();
      st.waiting.push_back({rp, req.aof_rewrite});
      start(self, req.aof_rewrite, "");   // or right after the AOF rewrite running
      return rp;
    },
    [=](begun_atom, uint64_t id) {
      auto& st = self->state;
      ++st.handled;
      if (auto it = st.starting.find(id); it != st.starting.end()) {
        it->second.first.deliver(it->second.second);
        st.starting.erase(it);
      }
    },
    [=](saved_atom, save_result& res) {
      auto& st = self->state;
      ++st.handled;
      // Ended before its point was taken (it could not open its file): the save did start.
      for (auto& [id, waiting] : st.starting)
        waiting.first.deliver(waiting.second);
      st.starting.clear();
      (res.aof_rewrite ? st.aof_running : st.rdb_running) = false;
      (res.aof_rewrite ? st.srv->aof_rewrite_in_progress : st.srv->bgsave_in_progress) = false;
      (res.aof_rewrite ? st.srv->aof_rewrite_started_ms : st.srv->bgsave_started_ms) = 0;
      st.srv->save_keys_processed = 0;
      st.srv->save_keys_total = 0;
      int64_t secs = (res.finished_ms - res.started_ms) / 1000;
      if (res.aof_rewrite) {
        st.srv->aof_last_rewrite_ok = res.ok;
        st.srv->aof_last_rewrite_secs = secs;
        if (res.ok) {
          ++st.srv->aof_rewrites;
          st.srv->aof_rewrite_failures = 0;
        } else {
          ++st.srv->aof_rewrite_failures;
          config::log_warning("Background AOF rewrite failed: " + res.error);
        }
      } else {
        st.srv->bgsave_ok = res.ok;
        st.srv->rdb_last_bgsave_secs = secs;
        if (res.ok) {
          auto& ranges = st.srv->routing->ranges;
          for (size_t i = 0; i < ranges.size() && i < res.dirty_at_start.size(); ++i)
            self->send(ranges[i], saved_atom::value, res.dirty_at_start[i]);
          st.srv->lastsave = res.finished_ms / 1000;
          ++st.srv->rdb_saves;
          config::log_notice("DB saved on disk");
          config::log_notice("Background saving terminated with success");
        } else {
          config::log_warning("Background saving error: " + res.error);
        }
      }
      for (auto it = st.waiting.begin(); it != st.waiting.end();) {
        if (it->aof_rewrite != res.aof_rewrite) {
          ++it;
          continue;
        }
        it->promise.deliver(res.ok ? std::string("+OK") : std::string("-ERR " + res.error));
        it = st.waiting.erase(it);
      }
      if (st.shutdown_waits_for_save) {
        if (!st.final_running) {
          start(self, false, "", true);   // what ran before SHUTDOWN is over: now its own
          return;
        }
        st.final_running = false;
        st.shutdown_waits_for_save = false;
        if (res.ok || st.pending_shutdown.force) {
          finish_shutdown(self);
          return;
        }
        config::log_warning("Error trying to save the DB, can't exit.");
        st.stopping = false;
        st.srv->write_fence.store(false);
        st.shutdown_promise.deliver(std::string("ERR Errors trying to SHUTDOWN. Check logs."));
      }
      // What waited for this snapshot to end: the other kind first, then a repeat of this kind.
      if (st.rdb_scheduled && !st.rdb_running && !st.aof_running)
        start(self, false, "");
      if (st.aof_rewrite_scheduled && !st.rdb_running && !st.aof_running)
        start(self, true, "");
    },
    [=](sample_atom) {
      auto& st = self->state;
      ++st.handled;
      self->delayed_send(self, std::chrono::milliseconds(100), sample_atom::value);
      auto* srv = st.srv;
      int64_t now = now_ms();
      st.ops.sample(now, srv->sum(&server::loop_counters::total_commands));
      st.input.sample(now, srv->sum(&server::loop_counters::net_input));
      st.output.sample(now, srv->sum(&server::loop_counters::net_output));
      srv->inst_ops = st.ops.per_second();
      srv->inst_input = st.input.per_second();
      srv->inst_output = st.output.per_second();
    },
    [=](cron_atom) {
      auto& st = self->state;
      ++st.handled;
      self->delayed_send(self, std::chrono::seconds(1), cron_atom::value);
      if (st.stopping || st.srv->loading.load())
        return;
      if (st.aof_rewrite_scheduled && !busy(self))
        start(self, true, "");
      // Automatic AOF rewrite: auto-aof-rewrite-percentage growth over the size after the last
      // rewrite (or the load), once the file is past auto-aof-rewrite-min-size.
      auto* srv = st.srv;
      int64_t perc = srv->cfg->get_int("auto-aof-rewrite-percentage");
      uint64_t size = srv->aof_current_size.load(), base = srv->aof_base_size.load();
      bool backoff = srv->aof_rewrite_failures.load() > 0 && now_ms() - st.last_rewrite_try_ms < 60000;
      if (srv->aof_enabled && perc > 0 && !busy(self) && !backoff
          && size > static_cast<uint64_t>(srv->cfg->get_int("auto-aof-rewrite-min-size"))) {
        int64_t growth = static_cast<int64_t>(size * 100 / (base ? base : 1)) - 100;
        if (growth >= perc) {
          start(self, true, "Starting automatic rewriting of AOF on " + std::to_string(growth) + "% growth");
          return;
        }
      }
      // `save <seconds> <changes>` points: ask the slot_ranges how much changed since the last save.
      auto params = srv->cfg->save_params();
      if (params.empty() || busy(self))
        return;
      // After a failed BGSAVE, retry only every 5 seconds (as Redis's CONFIG_BGSAVE_RETRY_DELAY).
      if (!srv->bgsave_ok.load() && now_ms() / 1000 - st.last_bgsave_try_s <= 5)
        return;
      struct gather {
        uint64_t dirty = 0;
        size_t left = 0;
      };
      auto g = std::make_shared<gather>();
      g->left = srv->routing->ranges.size();
      for (auto& r : srv->routing->ranges) {
        self->request(r, std::chrono::seconds(5), stats_atom::value).then(
          [=](slot_range_report& rep) {
            g->dirty += rep.stats.dirty;
            if (--g->left > 0)
              return;
            auto& st = self->state;
            int64_t elapsed = now_ms() / 1000 - st.srv->lastsave.load();
            for (auto& [secs, changes] : params) {
              if (g->dirty >= static_cast<uint64_t>(changes) && elapsed > secs && !busy(self)) {
                start(self, false, std::to_string(changes) + " changes in " + std::to_string(secs)
                                     + " seconds. Saving...");
                break;
              }
            }
          },
          [=](caf::error&) {});
      }
    },
    [=](status_atom) -> actor_status {
      auto& st = self->state;
      ++st.handled;
      node_status s;
      s.pid = getpid();
      s.port = st.srv->port;
      s.mode = st.srv->cluster_enabled ? "cluster" : "standalone";
      s.uptime_s = (now_ms() - st.srv->start_ms) / 1000;
      s.slot_ranges = static_cast<uint32_t>(st.srv->routing->ranges.size());
      s.config_file = st.srv->cfg->config_file();
      std::string summary = "pid=" + std::to_string(s.pid) + " port=" + std::to_string(s.port) + " mode=" + s.mode
                            + " uptime=" + std::to_string(s.uptime_s) + " slot_ranges=" + std::to_string(s.slot_ranges)
                            + " bgsave=" + (st.rdb_running ? "running" : "idle")
                            + " aof_rewrite=" + (st.aof_running ? "running" : "idle");
      return make_status(self, "node", "node", st.handled, summary, s);
    },
  };
}

} // namespace

node_actor spawn_node(caf::actor_system& sys, server& srv) { return sys.spawn(node, &srv); }

} // namespace troupe::actors
