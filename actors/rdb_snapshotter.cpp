// rdb_snapshotter: one per snapshot (SAVE, BGSAVE, BGREWRITEAOF, save points, shutdown). It takes
// every slot_range's lock in order, starts a snapshot in each while they are all held (one point
// in time for the whole dataset, without fork()), lets go, then writes the key records they send
// into an LZ4-framed RDB: a temporary file, fsynced and renamed over the target. For an AOF rewrite
// the RDB becomes the base of the new AOF, and the aof_writer appends what happened meanwhile.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>

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
  std::vector<uint64_t> keys_by_range, total_by_range;   // progress, per slot_range
  std::vector<uint64_t> dirty_by_range;                   // change counters at the snapshot point
  std::deque<snapshot_chunk> backlog;                      // rdb-key-save-delay only
  bool pacing = false;                                     // a delayed step_atom is on its way
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

// Adds one chunk's records to the file; the number of keys it brought.
uint64_t process_chunk(self_ptr self, snapshot_chunk& c) {
  auto& st = self->state;
  uint64_t new_keys = 0;
  if (c.source < st.keys_by_range.size()) {
    new_keys = c.keys - st.keys_by_range[c.source];
    st.status.keys += new_keys;
    st.keys_by_range[c.source] = c.keys;
    st.srv->save_keys_processed = st.status.keys;
  }
  int64_t taken = 0;
  for (auto& [db, bytes] : c.records) {
    st.rdb->select_db(db);
    st.rdb->raw(bytes);
    taken += static_cast<int64_t>(bytes.size());
  }
  st.srv->snapshot_queued.fetch_sub(taken, std::memory_order_relaxed);
  if (st.rdb->output().size() > 256 * 1024)
    drain(self);
  if (c.done && ++st.status.ranges_done == st.status.ranges)
    finish(self);
  return new_keys;
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
      [](snapshot_chunk&) {},
      [](step_atom) {},
      [](status_atom) { return actor_status{}; },
    };
  }
  // The compression and the writes run on this actor's own thread; at a lower priority, so that
  // on a busy machine they wait rather than the I/O threads that serve clients (as Redis's
  // forked child competes with the parent only through the scheduler).
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10);
  st.rdb->begin();
  srv->snapshot_queued.store(0);   // (one snapshot runs at a time; nothing of an earlier one is owed)
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
      b.snapshotter = caf::actor_cast<caf::strong_actor_ptr>(self);
      for (auto& r : ranges) {
        self->send(r, b);
        self->send(r, unlock_atom::value, keyspace::keyspace_stats{});
      }
      // Every slot_range has the begin message ahead of anything a client sends from now on.
      self->send(st.srv->node, begun_atom::value, st.status.id);
    },
    [=](snapshot_chunk& c) {
      auto& st = self->state;
      ++st.handled;
      ++st.status.chunks;
      st.status.last_chunk_ms = now_ms();
      if (c.source < st.total_by_range.size()) {
        st.status.keys_total += c.total - st.total_by_range[c.source];
        st.total_by_range[c.source] = c.total;
        st.srv->save_keys_total = st.status.keys_total;
        st.dirty_by_range[c.source] = c.dirty_at_start;
      }
      // rdb-key-save-delay (hidden, as in Redis): microseconds per key, to watch a save in
      // progress. Chunks wait in a backlog, each processed after the previous one's delay;
      // the actor stays responsive meanwhile.
      if (st.srv->cfg->get_int("rdb-key-save-delay") > 0 || st.pacing) {
        st.backlog.push_back(std::move(c));
        st.status.backlog = st.backlog.size();
        if (!st.pacing) {
          st.pacing = true;
          self->send(self, step_atom::value);
        }
        return;
      }
      process_chunk(self, c);
    },
    [=](step_atom) {
      auto& st = self->state;
      ++st.handled;
      if (st.backlog.empty()) {
        st.pacing = false;
        return;
      }
      snapshot_chunk c = std::move(st.backlog.front());
      st.backlog.pop_front();
      st.status.backlog = st.backlog.size();
      uint64_t new_keys = process_chunk(self, c);
      int64_t d = std::max<int64_t>(0, st.srv->cfg->get_int("rdb-key-save-delay"));
      self->delayed_send(self, std::chrono::microseconds(d * static_cast<int64_t>(new_keys)), step_atom::value);
    },
    [=](status_atom) -> actor_status {
      auto& st = self->state;
      ++st.handled;
      std::string summary = std::string("save=") + (st.req.aof_rewrite ? "aof-rewrite" : "rdb") + " file="
                            + st.status.file + " ranges_done=" + std::to_string(st.status.ranges_done) + "/"
                            + std::to_string(st.status.ranges) + " keys=" + std::to_string(st.status.keys) + "/"
                            + std::to_string(st.status.keys_total) + " bytes=" + std::to_string(st.status.bytes)
                            + " chunks=" + std::to_string(st.status.chunks) + " backlog=" + std::to_string(st.status.backlog)
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
