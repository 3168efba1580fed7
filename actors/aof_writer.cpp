// aof_writer: appends the write effects slot_ranges send it to the LZ4-framed append-only file,
// and fsyncs as appendfsync says. With `always`, the replies of the writes wait here until their
// batch is on disk; batches that queue up meanwhile share one fsync (group commit). Runs on a
// thread of its own: file I/O never stalls the I/O loop. Batches come numbered (aof_segment) and
// are appended in number order, whatever order their messages arrive in (persistence/aof_order.hpp).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>

#include <caf/all.hpp>

#include "actors/actors.hpp"
#include "actors/status.hpp"
#include "config/log.hpp"
#include "persistence/aof.hpp"
#include "persistence/aof_order.hpp"

namespace troupe::actors {

namespace {

struct held {
  connection_actor conn;
  reply_batch reply;
};

// A batch that arrived before its turn, in the message it came with.
struct kept_segment {
  std::shared_ptr<aof_effects> msg;
  size_t index = 0;
};

struct aof_state {
  static inline const char* name = "aof_writer";
  server* srv = nullptr;
  int fd = -1;
  std::unique_ptr<persistence::aof_writer> writer;
  std::string unwritten;            // bytes a failed write left behind, written first next time
  std::vector<held> pending;        // replies waiting for the fsync
  bool sync_scheduled = false;
  bool dirty = false;               // written since the last fsync
  int64_t dirty_since = 0;
  std::string policy = "everysec";
  uint64_t cfg_version = ~0ull;
  aof_writer_status status;
  uint64_t handled = 0;
  // A rewrite in progress: the effects each slot_range sends after its marker also go into the
  // tail of the new file.
  uint64_t rewrite_id = 0;
  std::set<uint32_t> marked;
  uint32_t rewrite_ranges = 0;      // markers to wait for before the switch
  std::unique_ptr<persistence::aof_writer> tail;
  caf::typed_response_promise<std::string> switch_promise;   // a switch waiting for markers
  uint64_t switch_id = 0;
  std::string switch_temp;
  persistence::aof_order<kept_segment> order;
  bool closed = false;              // the final flush is done
  uint64_t stall_next = 0;          // order.next() at the last tick, and for how many ticks
  int stall_ticks = 0;
};

// The writer's actor: each of its runs holds the door (server::aof_direct) that a loop takes to
// append and fsync a round's held replies itself (flush_held_round). Its first run, which sets the
// door up, does not: no loop goes in meanwhile, as its mailbox does not read as blocked (idle)
// before that run ends.
class aof_writer_base : public aof_writer_actor::base {
public:
  using super = aof_writer_actor::base;
  using super::super;

  resume_result resume(caf::execution_unit* eu, size_t max_throughput) override {
    if (door_ == nullptr)   // the first run (its initialization sets the door)
      return super::resume(eu, max_throughput);
    std::lock_guard<std::mutex> hold(door_->m);
    return super::resume(eu, max_throughput);
  }

  aof_door* door_ = nullptr;
};

using self_ptr = caf::stateful_actor<aof_state, aof_writer_base>*;

// Clients see Redis's text ("MISCONF Errors writing to the AOF file: No space left on device");
// the log also says which call failed.
void fail(self_ptr self, const std::string& what) {
  auto& st = self->state;
  std::string err = std::strerror(errno);
  if (st.status.last_error != err)
    config::log_warning("Error writing to the AOF file (" + what + "): " + err);
  st.status.last_error = err;
  st.srv->set_aof_error(err);
}

void clear_error(self_ptr self) {
  auto& st = self->state;
  if (st.status.last_error.empty())
    return;
  st.status.last_error.clear();
  st.srv->set_aof_error("");
  config::log_warning("AOF write error looks solved, Redis can write again.");
}

// Writes everything produced so far; false on an error (the bytes are kept for a retry).
bool write_out(self_ptr self) {
  auto& st = self->state;
  st.unwritten += st.writer->take();
  size_t done = 0;
  while (done < st.unwritten.size()) {
    ssize_t n = ::write(st.fd, st.unwritten.data() + done, st.unwritten.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      st.unwritten.erase(0, done);
      fail(self, "write");
      return false;
    }
    done += static_cast<size_t>(n);
  }
  st.status.bytes_written += done;
  st.srv->aof_current_size += done;
  st.unwritten.clear();
  if (done > 0 && !st.dirty) {
    st.dirty = true;
    st.dirty_since = now_ms();
  }
  // Everything is written: with appendfsync always the error stays until an fsync succeeds too.
  if (done > 0 && st.policy != "always")
    clear_error(self);
  return true;
}

bool fsync_now(self_ptr self) {
  auto& st = self->state;
  if (!st.dirty)
    return true;
  if (::fdatasync(st.fd) != 0) {
    fail(self, "fdatasync");
    return false;
  }
  st.dirty = false;
  ++st.status.fsyncs;
  st.status.last_fsync_ms = now_ms();
  clear_error(self);
  return true;
}

// Sends the replies waiting for the disk to their connections, or (not `ok`) an error in place of
// each: through each loop's first slot range (one message per loop), or, from a loop's own thread
// (`direct`), to each connection (posted to the loop, no wake-up, nothing in a range's mailbox).
void release(self_ptr self, bool ok, const std::string& error, bool direct = false) {
  auto& st = self->state;
  std::vector<released_replies> per_loop(st.srv->loops.size());
  st.srv->aof_held_out.fetch_sub(static_cast<int64_t>(st.pending.size()), std::memory_order_acq_rel);
  for (auto& h : st.pending) {
    if (!h.conn)
      continue;   // (a hold with no reply: writes others must not see before the fsync)
    if (!ok) {
      // Not on disk: no client may take its write as acknowledged. Every command of the batch
      // gets the error (their replies were all held).
      size_t n = std::max<size_t>(1, h.reply.ends.size());
      h.reply.out.clear();
      h.reply.ends.clear();
      protocol::resp_writer w(h.reply.out);
      for (size_t i = 0; i < n; ++i) {
        w.error("MISCONF Errors writing to the AOF file: " + error);
        h.reply.ends.push_back(static_cast<uint32_t>(h.reply.out.size()));
      }
    }
    if (direct) {
      self->send(h.conn, std::move(h.reply));
      continue;
    }
    auto& to = per_loop[st.srv->loop_of(h.conn.node())];
    to.conns.push_back(caf::actor_cast<caf::strong_actor_ptr>(h.conn));
    to.replies.push_back(std::move(h.reply));
  }
  st.pending.clear();
  // One message per loop (to its first slot range, which lives on it), not one per reply.
  for (size_t loop = 0; loop < per_loop.size(); ++loop) {
    auto& r = per_loop[loop];
    if (r.replies.size() == 1)
      self->send(caf::actor_cast<connection_actor>(r.conns[0]), std::move(r.replies[0]));
    else if (!r.replies.empty())
      self->send(st.srv->routing->ranges[loop], std::move(r));
  }
}

// The group commit point: writes what was appended, fsyncs it (appendfsync always) and releases
// the replies waiting for it (`direct`: from a loop's own thread, as release says).
void sync_and_release(self_ptr self, bool direct = false) {
  auto& st = self->state;
  st.writer->flush();
  bool ok = write_out(self);
  if (ok && st.policy == "always")
    ok = fsync_now(self);
  release(self, ok, st.status.last_error, direct);
}

// Appends batch `i` of `e`: its commands (also to a rewrite's tail once its range's marker
// passed), or its marker; the message's held reply comes with its last batch.
void append_segment(self_ptr self, aof_effects& e, size_t i) {
  auto& st = self->state;
  auto& seg = e.segments[i];
  if (seg.rewrite_marker != 0) {
    if (seg.rewrite_marker == st.rewrite_id)
      st.marked.insert(seg.source);
  }
  uint32_t first = i == 0 ? 0 : e.segments[i - 1].end;
  uint32_t start = first == 0 ? 0 : e.ends[first - 1].first;
  bool to_tail = st.tail && st.marked.count(seg.source);
  if (seg.end > first)
    ++st.status.batches;
  for (uint32_t k = first; k < seg.end; ++k) {
    auto [end, db] = e.ends[k];
    auto cmd = std::string_view(e.data).substr(start, end - start);
    st.writer->append_encoded(db, cmd);
    if (to_tail)
      st.tail->append_encoded(db, cmd);
    st.status.bytes_appended += cmd.size();
    start = end;
    ++st.status.commands;
  }
  if (e.hold && i + 1 == e.segments.size()) {
    st.pending.push_back({caf::actor_cast<connection_actor>(e.conn), std::move(e.reply)});
    ++st.status.held_replies;
  }
}

// Appends the batches of `e` whose turn it is, and those that waited on them; keeps the rest.
void take_in(self_ptr self, aof_effects& e) {
  auto& st = self->state;
  auto emit = [self](kept_segment& k) { append_segment(self, *k.msg, k.index); };
  std::shared_ptr<aof_effects> kept;
  const size_t n = e.segments.size();   // (e may be moved into `kept` on the way)
  for (size_t i = 0; i < n; ++i) {
    uint64_t seq = (kept ? *kept : e).segments[i].seq;
    if (!kept && st.order.late(seq)) {
      if (st.status.late++ == 0)
        config::log_warning("AOF: a batch numbered " + std::to_string(seq) + " came after later ones were appended");
      append_segment(self, e, i);
      continue;
    }
    if (!kept && st.order.take(seq)) {
      append_segment(self, e, i);
      st.order.release(emit);
      continue;
    }
    if (!kept)
      kept = std::make_shared<aof_effects>(std::move(e));
    st.order.keep(seq, {kept, i});
    ++st.status.reordered;
  }
}

void refresh(self_ptr self) {
  auto& st = self->state;
  auto v = st.srv->cfg->version();
  if (v == st.cfg_version)
    return;
  st.cfg_version = v;
  st.policy = st.srv->cfg->get_string("appendfsync");
  st.status.fsync_policy = st.policy;
}

// The rewrite's base is written to `temp`: appends the tail, fsyncs, renames it over the AOF and
// goes on in the new file. "" or the error.
std::string switch_files(self_ptr self, const std::string& temp) {
  auto& st = self->state;
  st.tail->close();
  std::string bytes = st.tail->take();
  st.tail.reset();
  st.rewrite_id = 0;
  int fd = ::open(temp.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0)
    return std::string("open: ") + std::strerror(errno);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      std::string err = std::string("write: ") + std::strerror(errno);
      ::close(fd);
      ::unlink(temp.c_str());
      return err;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::rename(temp.c_str(), st.status.file.c_str()) != 0) {
    std::string err = std::strerror(errno);
    ::close(fd);
    ::unlink(temp.c_str());
    return err;
  }
  std::string dir = st.status.file.find('/') == std::string::npos
                      ? "."
                      : st.status.file.substr(0, st.status.file.rfind('/'));
  if (int dfd = ::open(dir.empty() ? "/" : dir.c_str(), O_RDONLY | O_DIRECTORY); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  // From now on the new file: its base and tail are complete; a fresh frame follows. Bytes a
  // failed write left behind belong to the old file's stream (and their effects are in the
  // new file already: in its base, or its tail).
  ::close(st.fd);
  st.fd = fd;
  st.unwritten.clear();
  st.writer = std::make_unique<persistence::aof_writer>();
  struct stat sb {};
  uint64_t size = ::fstat(fd, &sb) == 0 ? static_cast<uint64_t>(sb.st_size) : 0;
  st.srv->aof_current_size = size;
  st.srv->aof_base_size = size;
  st.dirty = false;
  st.status.bytes_written = 0;
  st.status.bytes_appended = 0;
  config::log_notice("Background AOF rewrite finished successfully");
  return "";
}

// A switch waits until every slot range's marker is appended: the batches before a marker are in
// the rewrite's base, those after it in its tail or in the new file.
void switch_when_marked(self_ptr self) {
  auto& st = self->state;
  if (st.switch_promise.pending() && st.switch_id == st.rewrite_id && st.marked.size() >= st.rewrite_ranges)
    st.switch_promise.deliver(switch_files(self, st.switch_temp));
}

// A switch still waiting when its rewrite ends another way (aborted, or a new one started after
// the snapshotter gave up on it) gets an error, never the next rewrite's tail.
void drop_switch(self_ptr self) {
  auto& st = self->state;
  if (st.switch_promise.pending())
    st.switch_promise.deliver(std::string("the rewrite was abandoned"));
}

// After batches were appended: with appendfsync always, or replies waiting, an fsync is due (it
// waits until the batches already queued are written too: one fsync for all); otherwise they are
// written now. A switch may have got its last marker.
void after_append(self_ptr self, size_t held_before) {
  auto& st = self->state;
  bool syncs = st.pending.size() != held_before || st.policy == "always";
  if (!syncs) {
    st.writer->flush();
    write_out(self);
  } else if (!st.sync_scheduled) {   // written at the sync point, in one LZ4 block and one write()
    st.sync_scheduled = true;
    self->send(self, sync_atom::value);
  }
  switch_when_marked(self);
}

aof_writer_actor::behavior_type aof_writer(self_ptr self, server* srv, std::string path, int fd,
                                           std::string seal) {
  auto& st = self->state;
  st.srv = srv;
  st.fd = fd;
  st.status.file = path;
  st.writer = std::make_unique<persistence::aof_writer>();
  struct stat sb {};
  uint64_t size = ::fstat(fd, &sb) == 0 ? static_cast<uint64_t>(sb.st_size) : 0;
  srv->aof_current_size = size;
  srv->aof_base_size = size;
  if (!seal.empty())
    st.writer->prepend_raw(seal); // closes the frame a previous run left open
  refresh(self);
  srv->directory.add("aof_writer", "aof_writer", caf::actor_cast<status_handle>(self));
  {
    std::lock_guard<std::mutex> hold(srv->aof_direct.m);
    srv->aof_direct.writer.store(self, std::memory_order_release);
  }
  self->door_ = &srv->aof_direct;
  self->attach_functor([srv] {
    srv->aof_direct.writer.store(nullptr, std::memory_order_release);   // (in a run: the door is held)
    srv->directory.remove("aof_writer");
  });
  self->delayed_send(self, std::chrono::seconds(1), everysec_atom::value);
  return {
    [=](aof_effects& e) {
      auto& st = self->state;
      ++st.handled;
      if (st.closed) {
        // After the last flush (the process is about to exit): nothing acknowledged comes now
        // (writes are refused), and a write() racing the exit could tear the file's tail.
        if (st.status.dropped++ == 0)
          config::log_warning("AOF: effects arrived after the final flush; not written");
        return;
      }
      ++st.status.messages;
      size_t held_before = st.pending.size();
      take_in(self, e);
      after_append(self, held_before);
    },
    [=](sync_atom) {
      auto& st = self->state;
      ++st.handled;
      st.sync_scheduled = false;
      refresh(self);
      sync_and_release(self);
    },
    [=](everysec_atom) {
      auto& st = self->state;
      ++st.handled;
      refresh(self);
      if (!st.unwritten.empty())
        write_out(self); // retry after an error
      if (st.policy != "no")
        fsync_now(self);
      // Every number taken reaches this actor within aof-gather-usec (at most 10 s). One missing
      // for much longer is a bug: say so, and go on past it rather than stop appending.
      if (st.order.waiting() > 0 && st.order.next() == st.stall_next) {
        if (++st.stall_ticks >= 30) {
          size_t held_before = st.pending.size();
          auto skipped = st.order.release_all([self](kept_segment& k) { append_segment(self, *k.msg, k.index); });
          config::log_warning("AOF: " + std::to_string(skipped) + " batch number(s) never arrived in 30 s; "
                              + "appending the batches that waited for them");
          after_append(self, held_before);
          st.stall_ticks = 0;
        }
      } else {
        st.stall_next = st.order.next();
        st.stall_ticks = 0;
      }
      self->delayed_send(self, std::chrono::seconds(1), everysec_atom::value);
    },
    [=](flush_atom) -> std::string {
      auto& st = self->state;
      ++st.handled;
      // The last flush: the slot ranges sent what they gathered; a batch still waiting for a lower
      // number (which cannot come now) is appended too, in order.
      auto skipped = st.order.release_all([self](kept_segment& k) { append_segment(self, *k.msg, k.index); });
      if (skipped > 0)
        config::log_warning("AOF: " + std::to_string(skipped) + " batch number(s) missing at shutdown");
      st.writer->close();
      st.closed = true;
      bool ok = write_out(self) && (st.dirty = true, fsync_now(self));
      release(self, ok, st.status.last_error);
      return ok ? "" : st.status.last_error;
    },
    [=](rewrite_atom, uint64_t id, uint32_t ranges) {
      auto& st = self->state;
      ++st.handled;
      drop_switch(self);
      st.rewrite_id = id;
      st.rewrite_ranges = ranges;
      st.marked.clear();
      st.tail = std::make_unique<persistence::aof_writer>();
    },
    [=](abort_atom, uint64_t id) {
      auto& st = self->state;
      ++st.handled;
      if (id == st.rewrite_id) {
        drop_switch(self);
        st.rewrite_id = 0;
        st.tail.reset();
      }
    },
    [=](switch_atom, uint64_t id, std::string& temp) -> caf::result<std::string> {
      auto& st = self->state;
      ++st.handled;
      if (id != st.rewrite_id || !st.tail)
        return std::string("no rewrite in progress");
      if (st.marked.size() >= st.rewrite_ranges)
        return switch_files(self, temp);
      drop_switch(self);
      st.switch_promise = self->make_response_promise<std::string>();
      st.switch_id = id;
      st.switch_temp = temp;
      return st.switch_promise;
    },
    [=](status_atom) -> actor_status {
      auto& st = self->state;
      ++st.handled;
      auto s = st.status;
      s.waiting = st.order.waiting();
      s.held_rounds = srv->aof_direct.rounds.load(std::memory_order_relaxed);
      s.held_out = srv->aof_held_out.load(std::memory_order_relaxed);
      s.fsync_lag_ms = st.dirty ? now_ms() - st.dirty_since : 0;
      s.compression_ratio = s.bytes_written ? static_cast<double>(s.bytes_appended) / static_cast<double>(s.bytes_written) : 0;
      char ratio[32];
      std::snprintf(ratio, sizeof(ratio), "%.2f", s.compression_ratio);
      std::string summary = "file=" + s.file + " appendfsync=" + s.fsync_policy + " bytes_written="
                            + std::to_string(s.bytes_written) + " bytes_appended=" + std::to_string(s.bytes_appended)
                            + " compression=" + ratio + " fsyncs=" + std::to_string(s.fsyncs)
                            + " fsync_lag_ms=" + std::to_string(s.fsync_lag_ms) + " messages=" + std::to_string(s.messages)
                            + " batches=" + std::to_string(s.batches) + " reordered=" + std::to_string(s.reordered)
                            + " waiting=" + std::to_string(s.waiting)
                            + (s.fsync_policy == "always" ? " held_out=" + std::to_string(s.held_out) : "")
                            + (s.held_rounds ? " held_rounds=" + std::to_string(s.held_rounds)
                                                   + " direct_rounds=" + std::to_string(s.direct_rounds) : "");
      return make_status(self, "aof_writer", "aof_writer", st.handled, summary, s);
    },
  };
}

} // namespace

void flush_held_round(server& srv) {
  auto& door = srv.aof_direct;
  door.round_posted = false;
  if (door.held.empty())
    return;
  door.rounds.fetch_add(1, std::memory_order_relaxed);
  {
    std::unique_lock<std::mutex> hold(door.m, std::try_to_lock);
    auto self = hold.owns_lock() ? static_cast<self_ptr>(door.writer.load(std::memory_order_acquire)) : nullptr;
    // Only while it is idle: a blocked mailbox is an empty one its thread waits on, so nothing sent
    // to it before (a rewrite's start, a sync it scheduled) is passed over. Never in a rewrite (its
    // switch is the writer's to make) or after the final flush.
    if (self != nullptr && self->mailbox().blocked() && !self->state.closed && !self->state.sync_scheduled
        && !self->state.tail && !self->state.switch_promise.pending()) {
      auto& st = self->state;
      ++st.handled;
      refresh(self);
      for (auto& e : door.held) {
        ++st.status.messages;
        take_in(self, e);
      }
      door.held.clear();
      ++st.status.direct_rounds;
      sync_and_release(self, true);   // one write and one fsync for the round
      return;
    }
  }
  for (auto& e : door.held)
    caf::anon_send(srv.aof, std::move(e));
  door.held.clear();
}

caf::expected<aof_writer_actor> spawn_aof_writer(caf::actor_system& sys, server& srv, const std::string& path,
                                                 const std::string& seal) {
  struct stat before {};
  bool existed = ::stat(path.c_str(), &before) == 0;
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return caf::make_error(caf::sec::runtime_error,
                           "Can't open the append-only file " + path + ": " + std::strerror(errno));
  if (!existed) {
    // A new file: its directory entry must reach the disk too, or an fsynced write may vanish
    // with the whole file after a power loss.
    std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
    int dfd = ::open(dir.empty() ? "/" : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }
  return sys.spawn<caf::detached>(aof_writer, &srv, path, fd, seal);
}

} // namespace troupe::actors
