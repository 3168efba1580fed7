// rdb_snapshotter: one per snapshot (SAVE, BGSAVE, BGREWRITEAOF, save points, shutdown). It takes
// every slot_range's lock in order, starts a snapshot in each while they are all held (one point
// in time for the whole dataset, without fork()), lets go, then serializes each range a step at a
// time on its own thread, through the range's door whenever the range is idle (a range that wants
// its door back cuts the step short), and writes the key records into an LZ4-framed RDB: a
// temporary file, fsynced and renamed over the target. The I/O loops only serialize the keys their
// clients are about to change (copy on write). For an AOF rewrite the RDB becomes the base of the
// new AOF, and the aof_writer appends what happened meanwhile.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include <caf/all.hpp>

#include "actors/actors.hpp"
#include "actors/status.hpp"
#include "actors/system_info.hpp"
#include "config/log.hpp"
#include "persistence/lz4_stream.hpp"
#include "persistence/rdb.hpp"

namespace troupe::actors {

namespace {

struct snap_state {
  static inline const char* name = "rdb_snapshotter";
  server* srv = nullptr;
  save_request req;
  std::string path, temp;
  int fd = -1;
  size_t locks = 0;
  std::unique_ptr<persistence::rdb_writer> rdb;
  std::unique_ptr<persistence::lz4_frame_writer> lz4;
  std::string error;
  rdb_snapshotter_status status;
  uint64_t handled = 0;
  std::string actor_name;
  std::vector<slot_range_door*> doors;                    // each slot_range's
  std::vector<bool> range_done;
  std::vector<uint64_t> keys_by_range, total_by_range;   // progress, per slot_range
  std::vector<uint64_t> dirty_by_range;                   // change counters at the snapshot point
  bool stepping = false;                                  // begun: step_atom goes round
};

using self_ptr = rdb_snapshotter_actor::stateful_pointer<snap_state>;

void write_all(self_ptr self, std::string_view bytes) {
  auto& st = self->state;
  if (!st.error.empty())
    return;
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(st.fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      st.error = std::string("write: ") + std::strerror(errno);
      return;
    }
    done += static_cast<size_t>(n);
  }
  st.status.bytes += done;
}

void drain(self_ptr self, bool final = false) {
  auto& st = self->state;
  st.lz4->write(st.rdb->take());
  if (final)
    st.lz4->end_frame();
  write_all(self, st.lz4->take());
}

void finish(self_ptr self) {
  auto& st = self->state;
  st.stepping = false;
  st.rdb->end();
  drain(self, true);
  if (st.error.empty() && ::fsync(st.fd) != 0)
    st.error = std::string("fsync: ") + std::strerror(errno);
  ::close(st.fd);
  st.fd = -1;
  save_result res;
  res.aof_rewrite = st.req.aof_rewrite;
  res.keys = st.status.keys;
  res.bytes = st.status.bytes;
  res.started_ms = st.status.started_ms;
  res.dirty_at_start = st.dirty_by_range;
  auto report = [self](save_result res) {
    auto& st = self->state;
    res.finished_ms = now_ms();
    if (!res.ok)
      ::unlink(st.temp.c_str());
    self->send(st.srv->node, saved_atom::value, res);
    self->quit();
  };
  if (!st.error.empty()) {
    res.error = st.error;
    if (st.req.aof_rewrite)
      self->send(st.srv->aof, abort_atom::value, st.status.id);
    report(res);
    return;
  }
  if (!st.req.aof_rewrite) {
    if (::rename(st.temp.c_str(), st.path.c_str()) != 0) {
      res.error = std::string("rename: ") + std::strerror(errno);
    } else {
      std::string dir = st.path.find('/') == std::string::npos ? "." : st.path.substr(0, st.path.rfind('/'));
      int dfd = ::open(dir.empty() ? "/" : dir.c_str(), O_RDONLY | O_DIRECTORY);
      if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
      }
      res.ok = true;
    }
    report(res);
    return;
  }
  // The AOF base is written: the aof_writer appends what was written since the snapshot started
  // and puts the new file in place of the old one.
  self->request(st.srv->aof, std::chrono::minutes(5), switch_atom::value, st.status.id, st.temp)
    .then(
      [=](std::string& err) mutable {
        res.ok = err.empty();
        res.error = err;
        report(res);
      },
      [=](caf::error& e) mutable {
        res.error = self->system().render(e);
        report(res);
      });
}

// A step's key records into the file; the number of keys it brought.
uint64_t add_step(self_ptr self, size_t range, snapshot_step& step) {
  auto& st = self->state;
  ++st.status.steps;
  st.status.last_step_ms = now_ms();
  st.status.keys_total += step.total - st.total_by_range[range];
  st.total_by_range[range] = step.total;
  st.dirty_by_range[range] = step.dirty_at_start;
  uint64_t new_keys = step.keys - st.keys_by_range[range];
  st.keys_by_range[range] = step.keys;
  st.status.keys += new_keys;
  st.srv->save_keys_processed = st.status.keys;
  st.srv->save_keys_total = st.status.keys_total;
  for (auto& [db, bytes] : step.records) {
    st.rdb->select_db(db);
    st.rdb->raw(bytes);
  }
  if (st.rdb->output().size() > 256 * 1024)
    drain(self);
  return new_keys;
}

// One round: a step in each slot_range not done yet that is idle. Then the next round at once,
// after a short sleep if every range was busy, or after rdb-key-save-delay (hidden, as in Redis:
// microseconds per key, to watch a save in progress) times the keys serialized; the actor answers
// status requests between rounds.
void step_round(self_ptr self) {
  auto& st = self->state;
  int64_t delay = std::max<int64_t>(0, st.srv->cfg->get_int("rdb-key-save-delay"));
  uint64_t new_keys = 0;
  bool stepped = false;
  for (size_t i = 0; i < st.doors.size(); ++i) {
    if (st.range_done[i])
      continue;
    // A delayed save goes a slot at a time; otherwise a step is 16 keys or 8 KB or so:
    // about 50 us in which a client of the range waits for its door (less: it asks for it back).
    auto step = delay > 0 ? step_snapshot_directly(*st.doors[i], st.status.id, 1, 1)
                          : step_snapshot_directly(*st.doors[i], st.status.id, 16, 8 * 1024);
    if (step.what == snapshot_step::outcome::busy) {
      ++st.status.busy;
      continue;
    }
    if (step.what == snapshot_step::outcome::gone) {
      st.error = "a slot range ended during the snapshot";
      finish(self);
      return;
    }
    stepped = true;
    new_keys += add_step(self, i, step);
    if (step.what == snapshot_step::outcome::done) {
      st.range_done[i] = true;
      if (++st.status.ranges_done == st.status.ranges) {
        finish(self);
        return;
      }
    }
  }
  if (delay > 0 && new_keys > 0)
    self->delayed_send(self, std::chrono::microseconds(delay * static_cast<int64_t>(new_keys)), step_atom::value);
  else {
    if (!stepped)
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    self->send(self, step_atom::value);
  }
}

rdb_snapshotter_actor::behavior_type snapshotter(self_ptr self, server* srv, uint64_t id, save_request req,
                                                 std::string path) {
  auto& st = self->state;
  st.srv = srv;
  st.req = req;
  st.path = path;
  st.temp = (path.find('/') == std::string::npos ? std::string() : path.substr(0, path.rfind('/') + 1))
            + (req.aof_rewrite ? "temp-rewriteaof-" : "temp-") + std::to_string(getpid()) + "-"
            + std::to_string(id) + (req.aof_rewrite ? ".aof" : ".rdb");
  st.status.id = id;
  st.status.aof_rewrite = req.aof_rewrite;
  st.status.file = path;
  st.status.ranges = static_cast<uint32_t>(srv->routing->ranges.size());
  st.status.started_ms = now_ms();
  st.doors = srv->routing->doors;
  st.range_done.assign(st.status.ranges, false);
  st.keys_by_range.assign(st.status.ranges, 0);
  st.total_by_range.assign(st.status.ranges, 0);
  st.dirty_by_range.assign(st.status.ranges, 0);
  st.actor_name = "rdb_snapshotter:" + std::to_string(id);
  srv->directory.add(st.actor_name, "rdb_snapshotter", caf::actor_cast<status_handle>(self));
  self->attach_functor([srv, name = st.actor_name] { srv->directory.remove(name); });
  st.fd = ::open(st.temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  persistence::rdb_writer_options opts;
  opts.compression = srv->cfg->get_bool("rdbcompression");
  opts.checksum = srv->cfg->get_bool("rdbchecksum");
  opts.used_mem = used_memory();
  opts.aof_base = req.aof_rewrite;
  st.rdb = std::make_unique<persistence::rdb_writer>(opts);
  st.lz4 = std::make_unique<persistence::lz4_frame_writer>();
  if (st.fd < 0) {
    st.error = "Failed opening the temp RDB file " + st.temp + " (in server root dir " + st.path + "): "
               + std::strerror(errno);
    save_result res;
    res.aof_rewrite = req.aof_rewrite;
    res.error = st.error;
    res.started_ms = res.finished_ms = now_ms();
    self->send(srv->node, saved_atom::value, res);
    self->quit();
    return {
      [](locked_atom, uint32_t) {},
      [](step_atom) {},
      [](status_atom) { return actor_status{}; },
    };
  }
  st.rdb->begin();
  if (req.aof_rewrite)
    self->send(srv->aof, rewrite_atom::value, id, st.status.ranges);
  // Lock every slot_range, in order, then start the snapshot in all of them at once.
  self->send(srv->routing->ranges[0], lock_atom::value, id);
  return {
    [=](locked_atom, uint32_t) {
      auto& st = self->state;
      ++st.handled;
      auto& ranges = st.srv->routing->ranges;
      if (++st.locks < ranges.size()) {
        self->send(ranges[st.locks], lock_atom::value, st.status.id);
        return;
      }
      snapshot_begin b;
      b.id = st.status.id;
      b.aof_rewrite = st.req.aof_rewrite;
      b.final = st.req.final;
      for (auto& r : ranges) {
        self->send(r, b);
        self->send(r, unlock_atom::value, keyspace::keyspace_stats{});
      }
      // Every slot_range has the begin message ahead of anything a client sends from now on.
      self->send(st.srv->node, begun_atom::value, st.status.id);
      st.stepping = true;
      self->send(self, step_atom::value);
    },
    [=](step_atom) {
      auto& st = self->state;
      ++st.handled;
      if (st.stepping)
        step_round(self);
    },
    [=](status_atom) -> actor_status {
      auto& st = self->state;
      ++st.handled;
      std::string summary = std::string("save=") + (st.req.aof_rewrite ? "aof-rewrite" : "rdb") + " file="
                            + st.status.file + " ranges_done=" + std::to_string(st.status.ranges_done) + "/"
                            + std::to_string(st.status.ranges) + " keys=" + std::to_string(st.status.keys) + "/"
                            + std::to_string(st.status.keys_total) + " bytes=" + std::to_string(st.status.bytes)
                            + " steps=" + std::to_string(st.status.steps) + " busy=" + std::to_string(st.status.busy)
                            + " elapsed_ms=" + std::to_string(now_ms() - st.status.started_ms);
      return make_status(self, st.actor_name, "rdb_snapshotter", st.handled, summary, st.status);
    },
  };
}

} // namespace

rdb_snapshotter_actor spawn_snapshotter(caf::actor_system& sys, server& srv, uint64_t id, const save_request& req,
                                        const std::string& path) {
  return sys.spawn<caf::detached>(snapshotter, &srv, id, req, path);
}

} // namespace troupe::actors
