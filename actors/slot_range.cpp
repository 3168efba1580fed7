// slot_range: owns the keys of a run of hash slots; executes the command batches connections send
// it, in order, on the I/O loop; can be locked by one connection for a command that spans actors.
#include <deque>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/actors.hpp"
#include "actors/loop_timer.hpp"
#include "actors/status.hpp"
#include "keyspace/commands.hpp"
#include "keyspace/expiry.hpp"
#include "keyspace/key_events.hpp"
#include "persistence/snapshot.hpp"
#include "protocol/command_table.hpp"

namespace troupe::actors {

namespace {

// The slot_range's broker: each of its runs on its loop holds the range's door (slot_range_door),
// so that a connection of another loop running a batch through it never runs at the same time.
// Finding the door taken, the run raises the door's `wanted` (no connection goes in after that)
// and is put off to the loop's next round, which serves the loop's sockets meanwhile.
class slot_range_broker : public broker_for<slot_range_actor> {
public:
  using super = broker_for<slot_range_actor>;
  using super::super;

  resume_result resume(caf::execution_unit* eu, size_t max_throughput) override {
    if (door_ != nullptr) {
      if (!door_->try_take()) {
        door_->wanted.store(true, std::memory_order_relaxed);
        ++door_waits_;
        // The one inside is long or its thread was preempted: let it have the core.
        if (++waits_in_a_row_ % 64 == 0)
          std::this_thread::yield();
        return resume_later;
      }
      door_->wanted.store(false, std::memory_order_relaxed);
      waits_in_a_row_ = 0;
      holding_ = true;
    }
    struct give_back {
      slot_range_broker* self;
      ~give_back() {
        if (self->holding_) {
          self->holding_ = false;
          self->door_->give_back();
        }
      }
    } leave{this};
    return super::resume(eu, max_throughput);
  }

  // From the range's first run (its initialization): from here on its runs hold `door`.
  void hold_door(slot_range_door* door) {
    while (!door->try_take())
      std::this_thread::yield();   // a connection that looked in while the range was not yet set
    door_ = door;
    holding_ = true;
  }

  uint64_t door_waits() const { return door_waits_; }

private:
  slot_range_door* door_ = nullptr;
  bool holding_ = false;
  uint64_t door_waits_ = 0;   // runs put off because a connection was inside
  uint32_t waits_in_a_row_ = 0;
};

// Work that arrived while the actor was locked, kept in arrival order: a batch, a lock request, or
// anything else that reads or changes the range's keys or registries (the lock holder, maybe on
// another I/O loop's thread, is touching them).
struct deferred {
  bool is_lock = false;
  command_batch batch;
  connection_actor sender;
  std::function<void()> work;
};

// A client blocked on keys of this range (BLPOP ...): its command, kept to be run again.
struct waiter {
  connection_actor conn;
  uint64_t segment = 0;
  int64_t client = 0;
  batch_command cmd;
  std::vector<std::string> args;
  uint64_t seq = 0;   // arrival number among every blocked client of the node
};

struct slot_range_state {
  static inline const char* name = "slot_range";
  server* srv = nullptr;
  uint32_t index = 0;
  uint32_t loop = 0;   // the I/O loop it runs on
  int first = 0, last = 0;
  std::string actor_name;
  keyspace::keyspace_stats stats;
  keyspace::keyspace_settings settings;
  uint64_t settings_version = ~0ull;
  std::mt19937_64 rng{std::random_device{}()};
  std::unique_ptr<keyspace::exec_context> ctx;
  keyspace::args_t args;
  std::vector<std::string_view> batch_args;   // a batch that came as a message: views into its data
  bool locked = false;
  caf::actor_addr holder;
  std::deque<deferred> queue;
  uint64_t handled = 0, batches = 0, commands = 0, queued_total = 0;
  uint64_t direct = 0;         // batches run through the door (run_batch_directly)
  uint64_t direct_other = 0;   // of those, by a connection of another I/O loop (on its thread)
  std::vector<keyspace::key_ref> prefetch;   // the keys of the next commands of a pipelined batch
  std::vector<keyspace::expire_cursor> expire_cursors;
  keyspace::key_events* events = nullptr;
  std::unique_ptr<keyspace::events_observer> observer;
  std::map<uint64_t, waiter> waiters;
  uint64_t next_waiter = 1;
  // AOF: the effects of the batch being run; with appendfsync always the replies of a batch with
  // effects go through the aof_writer, which releases them once fsynced.
  // Without it, the effects of several batches gather here for a moment (gather_effects), each
  // batch numbered as it settles (segments).
  keyspace::effects_buffer effects;
  std::vector<aof_segment> segments;
  bool aof_always = false;
  std::chrono::microseconds gather_time{1000};
  bool gather_scheduled = false;
  // Its timer for gathering (gather_atom), on its own loop (nullptr: CAF's delayed_send). Never
  // freed: the loop may still hold it (an epoll round already in hand) when a range ends, which it
  // does only as the process does; it holds the range weakly.
  loop_timer* gather_timer = nullptr;
  uint64_t held_sends = 0;   // effects sent with a reply to hold (appendfsync always)
  uint64_t aof_sends = 0;    // messages to the aof_writer
  // A snapshot in progress: the rdb_snapshotter serializes it a step at a time on its own thread,
  // through the door while the range is idle (step_snapshot_directly); the range's own writes
  // serialize what they are about to change first (events->snapshot).
  std::unique_ptr<persistence::slot_range_snapshot> snapshot;
  uint64_t snapshot_id = 0;
  uint64_t dirty_at_snapshot = 0;
  std::set<std::pair<int, std::string>> held_for_pollers;   // ready keys an earlier poller waits on
  std::vector<std::pair<int, std::string>> claimed_skipped;   // keys a blocking command left to a poller
  uint64_t snapshot_steps = 0;   // steps the snapshotter took in this range, over every snapshot
  uint64_t snapshot_stops = 0;   // of those, cut short because the range wanted its door back
};

using self_ptr = caf::stateful_actor<slot_range_state, slot_range_broker>*;

// Gathered AOF effects go to the aof_writer at once when they reach this size.
constexpr size_t gather_limit = 64 * 1024;

void refresh_settings(self_ptr self) {
  auto& st = self->state;
  auto v = st.srv->cfg->version();
  if (v != st.settings_version) {
    st.settings = st.srv->keyspace_settings();
    st.aof_always = st.srv->aof_enabled && st.srv->cfg->get_string("appendfsync") == "always";
    st.gather_time = std::chrono::microseconds(st.srv->cfg->get_int("aof-gather-usec"));
    st.settings_version = v;
  }
}

// Numbers the effects added since the last number as one batch (aof_segment), before anything
// that depends on them (a reply, an unlock) leaves. `always`: even with no commands (a held reply
// needs a number to wait for).
void number_effects(self_ptr self, uint64_t rewrite_marker = 0, bool always = false) {
  auto& st = self->state;
  auto end = static_cast<uint32_t>(st.effects.ends.size());
  uint32_t begin = st.segments.empty() ? 0 : st.segments.back().end;
  if (end == begin && !always && rewrite_marker == 0)
    return;
  st.segments.push_back(st.srv->number_aof_batch(st.index, end, rewrite_marker));
}

// Moves the numbered effects gathered so far into `e`; false if there are none.
bool take_effects(self_ptr self, aof_effects& e) {
  auto& st = self->state;
  number_effects(self);
  if (st.segments.empty())
    return false;
  e.data = std::move(st.effects.data);
  e.ends = std::move(st.effects.ends);
  e.segments = std::move(st.segments);
  st.effects.clear();
  st.segments.clear();
  ++st.aof_sends;
  return true;
}

// Sends the numbered effects gathered so far to the aof_writer (in `e`, which may hold a reply).
void send_effects(self_ptr self, aof_effects e = {}) {
  if (take_effects(self, e))
    self->send(self->state.srv->aof, std::move(e));
}

// appendfsync always: a batch whose reply waits for the disk sends its effects (numbered, with the
// reply) to the aof_writer. On one I/O loop they wait with the other held writes of the loop's round
// (server::aof_direct) until a function posted to the loop runs once the round's sockets are
// served: the whole round then takes one write and one fsync (flush_held_round), as Redis's writes
// do before its event loop sleeps.
void hold_for_disk(self_ptr self, aof_effects e) {
  auto& st = self->state;
  if (st.srv->loops.size() != 1) {
    send_effects(self, std::move(e));
    return;
  }
  take_effects(self, e);   // (settle numbered them, even with no commands: the reply waits on it)
  auto& door = st.srv->aof_direct;
  door.held.push_back(std::move(e));
  if (!door.round_posted) {
    door.round_posted = true;
    server* srv = st.srv;
    self->backend().post([srv] { flush_held_round(*srv); });
  }
}

// Sends the range `msg` in `after`: through its timer `t` on its own loop (whose callback sends
// that message, given `arg`), or through CAF's clock when it has none.
template <class... Ts>
void set_off(self_ptr self, loop_timer* t, std::chrono::microseconds after, uint64_t arg, Ts... msg) {
  if (t != nullptr)
    t->arm(after, arg);
  else
    self->delayed_send(self, after, msg...);
}

// Effects no reply waits for on disk: without appendfsync always they gather here for
// aof-gather-usec (or up to 64 KiB) and go to the aof_writer in one message, so that fifty
// clients' unpipelined writes cost the writer's thread one wake-up, not fifty. Their numbers are
// taken now, so the writer still appends them in the order they ran, across slot ranges.
void gather_effects(self_ptr self) {
  auto& st = self->state;
  number_effects(self);
  if (st.segments.empty())
    return;
  if (st.aof_always || st.gather_time.count() == 0 || st.effects.data.size() >= gather_limit) {
    send_effects(self);
  } else if (!st.gather_scheduled) {
    st.gather_scheduled = true;
    set_off(self, st.gather_timer, st.gather_time, 0, gather_atom::value);
  }
}

// Settles a batch's reply: its effects go to the aof_writer first. True if the reply can go to its
// connection now; false if the aof_writer took it, to release it once the write is on disk
// (appendfsync always). Without AOF, always true. `wrote_earlier`: some of the batch's effects went
// to the writer already, held with another reply (a client it served mid-batch), so with
// appendfsync always this reply waits for the disk too, even with no effects left of its own.
bool settle(self_ptr self, const connection_actor& conn, reply_batch& r, bool wrote_earlier = false) {
  auto& st = self->state;
  if (!st.aof_always) {
    gather_effects(self);
    return true;
  }
  if (!st.srv->reply_waits_for_disk(!st.effects.empty() || wrote_earlier))
    return true;
  ++st.held_sends;
  st.srv->aof_held_out.fetch_add(1, std::memory_order_acq_rel);
  number_effects(self, 0, true);
  aof_effects e;
  e.hold = true;
  e.conn = caf::actor_cast<caf::strong_actor_ptr>(conn);
  e.reply = std::move(r);
  hold_for_disk(self, std::move(e));
  return false;
}

// Sends a reply to its connection, through the aof_writer when it must wait for the disk.
void deliver(self_ptr self, const connection_actor& conn, reply_batch r) {
  refresh_settings(self);   // (a client served outside a batch: after CONFIG SET appendfsync, too)
  if (settle(self, conn, r))
    self->send(conn, std::move(r));
}

// Runs one command; the reply goes to `w`. True unless the command asked to block.
bool run_command(self_ptr self, const batch_command& c, int64_t client, protocol::resp_writer& w, int64_t now) {
  auto& st = self->state;
  w.set_resp(c.resp);
  st.ctx->begin(c.db, st.args, w, now);
  st.ctx->set_client(static_cast<uint64_t>(client));
  st.ctx->set_blocking_allowed((c.flags & batch_command::may_block) != 0);
  // A newly arrived blocking command leaves alone what is kept for a client polling across slot
  // ranges (it blocked first); a waiter served from a ready key was checked in serve_ready.
  bool claims = (c.flags & batch_command::may_block) != 0 && !st.ctx->block_retry() && !st.srv->polls.empty();
  if (claims)
    st.ctx->set_block_claimed([&st, db = static_cast<int>(c.db)](std::string_view key) {
      if (st.srv->polls.earliest(db, key) == UINT64_MAX)
        return false;
      st.claimed_skipped.emplace_back(db, std::string(key));
      return true;
    });
  st.ctx->set_writes_refused(st.srv->write_fence.load(std::memory_order_relaxed));
  try {
    keyspace::execute(*st.ctx, c.cmd);
  } catch (const std::bad_alloc&) {
    w.error("OOM command not allowed when used memory > 'maxmemory'.");
  } catch (const std::exception& e) {
    w.error(std::string("ERR internal error: ") + e.what());
  }
  if (claims) {
    st.ctx->set_block_claimed({});
    // Parked behind a poller: look at those keys again when the poller is done with them.
    if (st.ctx->blocked())
      st.held_for_pollers.insert(st.claimed_skipped.begin(), st.claimed_skipped.end());
    st.claimed_skipped.clear();
  }
  return !st.ctx->blocked();
}

// A blocking command found nothing: keep it until one of its keys gets data or it times out.
void park(self_ptr self, const command_batch& b, const batch_command& c, const connection_actor& sender) {
  auto& st = self->state;
  uint64_t id = st.next_waiter++;
  waiter w{sender, b.segment, b.client, c, std::vector<std::string>(st.args.begin(), st.args.end())};
  std::vector<int> pos;
  auto& spec = protocol::command_table::instance().at(c.cmd);
  protocol::command_table::instance().blocking_key_positions(spec, st.args, pos);
  std::vector<std::string> keys;
  for (int p : pos)
    keys.push_back(w.args[static_cast<size_t>(p)]);
  st.events->blocked.add(id, c.db, keys);
  self->monitor(sender);
  int64_t timeout = st.ctx->block_timeout_ms();
  w.seq = ++st.srv->block_seq;
  st.waiters.emplace(id, std::move(w));
  if (timeout > 0)
    self->delayed_send(self, std::chrono::milliseconds(timeout), btimeout_atom::value, id);
}

void forget_waiter(self_ptr self, uint64_t id) {
  self->state.events->blocked.remove(id);
  self->state.waiters.erase(id);
}

// Serves blocked clients whose keys got data, first come first served.
void serve_ready(self_ptr self) {
  auto& st = self->state;
  if (st.waiters.empty())
    return;
  // Keys held back for a poller: look at them again (it may have taken what was there, or left).
  for (auto& k : st.held_for_pollers)
    st.events->blocked.ready(k.first, k.second);
  st.held_for_pollers.clear();
  int64_t now = now_ms();
  while (auto key = st.events->blocked.next_ready()) {
    for (uint64_t id : st.events->blocked.waiters_of(*key)) {
      auto it = st.waiters.find(id);
      if (it == st.waiters.end())
        continue;
      auto& w = it->second;
      if (!st.srv->polls.empty() && st.srv->polls.earliest(key->first, key->second) < w.seq) {
        // A client that blocked earlier polls for this key too: it is served first, at its poll.
        st.held_for_pollers.insert(*key);
        break;
      }
      st.args.assign(w.args.begin(), w.args.end());
      reply_batch r;
      r.segment = w.segment;
      r.source = st.index;
      protocol::resp_writer out(r.out);
      st.ctx->set_block_retry(true, key->second); // served from the ready key alone, as Redis does
      bool served = run_command(self, w.cmd, w.client, out, now);
      st.ctx->set_block_retry(false);
      if (!served)
        break; // nothing left for the next ones either
      r.ends.push_back(static_cast<uint32_t>(r.out.size()));
      deliver(self, w.conn, std::move(r));
      forget_waiter(self, id);
    }
  }
}

// Runs a batch. True with `r` filled if its reply can go to the connection now; false if it leaves
// later (a blocking command parked, or appendfsync always holding it until fsynced).
bool execute_batch(self_ptr self, command_batch& b, const std::string_view* args, const connection_actor& sender,
                   reply_batch& r) {
  auto& st = self->state;
  refresh_settings(self);
  ++st.batches;
  const uint64_t held_before = st.held_sends;   // (clients served mid-batch take its effects so far)
  r.segment = b.segment;
  r.source = st.index;
  r.out.clear();
  r.ends.clear();
  r.ends.reserve(b.cmds.size());
  protocol::resp_writer w(r.out);
  int64_t now = now_ms();
  bool parked = false;
  auto& specs = protocol::command_table::instance();
  size_t hint = 0;   // the next of st.prefetch's keys
  st.prefetch.clear();   // (views into an earlier batch, whose buffer this one may reuse)
  for (size_t k = 0; k < b.cmds.size(); ++k) {
    auto& c = b.cmds[k];
    if (k % keyspace::prefetch_window == 0 && b.cmds.size() > 1) {
      // Pipelined: bring the next commands' first keys into the cache together.
      st.prefetch.clear();
      hint = 0;
      for (size_t j = k; j < std::min(b.cmds.size(), k + keyspace::prefetch_window); ++j) {
        auto& d = b.cmds[j];
        auto fk = static_cast<uint32_t>(specs.at(d.cmd).first_key);
        if (fk == 0 || fk >= d.argc)
          continue;
        st.prefetch.push_back({static_cast<int>(d.db), args[d.first_arg + fk], d.slot});
      }
      keyspace::prefetch(*st.srv->data, st.prefetch.data(), st.prefetch.size());
    }
    st.args.assign(args + c.first_arg, args + c.first_arg + c.argc);
    // The prefetch computed this command's first key's slot and hash: its lookup takes them.
    if (hint < st.prefetch.size()) {
      auto& ref = st.prefetch[hint];
      auto fk = static_cast<uint32_t>(specs.at(c.cmd).first_key);
      if (fk != 0 && fk < c.argc && ref.key.data() == st.args[fk].data()) {
        st.ctx->set_key_hint(ref.key.data(), ref.key.size(), ref.slot, ref.hash);
        ++hint;
      }
    }
    size_t reply_at = r.out.size();
    bool ran = run_command(self, c, b.client, w, now);
    st.ctx->clear_key_hint();
    if (!ran) {
      park(self, b, c, sender); // blocking commands always come alone
      parked = true;
      continue;
    }
    if (st.srv->errors.count_if_error(std::string_view(r.out).substr(reply_at)))
      ++st.stats.error_replies;   // (INFO total_error_replies and errorstats)
    r.ends.push_back(static_cast<uint32_t>(r.out.size()));
    // Clients blocked on a key this command filled are served before the next command runs, as
    // Redis serves them after each command (a pipelined RPUSH a; RPUSH b: the first wakes them).
    if (!st.waiters.empty())
      serve_ready(self);
  }
  st.commands += b.cmds.size();
  bool ready = false;
  if (!parked)
    ready = settle(self, sender, r, st.held_sends != held_before);
  else
    gather_effects(self);
  serve_ready(self);
  return ready;
}

// A batch that came as a message (its buffers' round trip: messages.hpp).
void run_batch(self_ptr self, command_batch& b, const connection_actor& sender) {
  reply_batch r;
  take_reply_buffers(b, r);
  auto& st = self->state;
  view_arguments(b, st.batch_args);
  if (!execute_batch(self, b, st.batch_args.data(), sender, r))
    return;
  return_batch_buffers(b, r);
  self->send(sender, std::move(r));
}

void start_snapshot(self_ptr self, snapshot_begin& b) {
  auto& st = self->state;
  persistence::rdb_save_options opts;
  opts.compression = st.srv->cfg->get_bool("rdbcompression");
  opts.checksum = st.srv->cfg->get_bool("rdbchecksum");
  st.snapshot = std::make_unique<persistence::slot_range_snapshot>(*st.srv->data, st.first, st.last, opts);
  st.snapshot_id = b.id;
  if (b.final)
    st.srv->write_fence.store(true);
  st.events->snapshot = st.snapshot.get();
  if (b.aof_rewrite) {
    // From here on, this range's effects also belong to the rewritten AOF: the marker takes its
    // number after theirs, and goes at once (the rewrite's switch waits for every marker).
    number_effects(self);
    number_effects(self, b.id);
    send_effects(self);
  } else {
    // rdb_changes_since_last_save counts from the snapshot's start once the save succeeded.
    st.dirty_at_snapshot = st.stats.dirty;
  }
}

void grant_lock(self_ptr self, const connection_actor& to) {
  auto& st = self->state;
  st.locked = true;
  st.holder = to.address();
  self->monitor(to);
  self->send(to, locked_atom::value, st.index);
}

// Runs what queued up while locked, until the queue is empty or a lock request locks us again.
void drain(self_ptr self) {
  auto& st = self->state;
  while (!st.locked && !st.queue.empty()) {
    deferred d = std::move(st.queue.front());
    st.queue.pop_front();
    if (d.work)
      d.work();
    else if (d.is_lock)
      grant_lock(self, d.sender);
    else
      run_batch(self, d.batch, d.sender);
  }
}

void release(self_ptr self) {
  auto& st = self->state;
  if (!st.locked)
    return;
  st.locked = false;
  st.holder = caf::actor_addr{};
  serve_ready(self); // the lock holder may have pushed to keys someone waits on
  drain(self);
}

// Runs `f` now, or after the lock holder is done.
void when_unlocked(self_ptr self, std::function<void()> f) {
  auto& st = self->state;
  if (st.locked)
    st.queue.push_back(deferred{false, {}, {}, std::move(f)});
  else
    f();
}

actor_status status_of(self_ptr self) {
  auto& st = self->state;
  slot_range_status s;
  s.index = st.index;
  s.loop = st.loop;
  s.first_slot = st.first;
  s.last_slot = st.last;
  for (int i = 0; i < st.srv->data->count(); ++i) {
    s.keys += st.srv->data->db(i).size(st.first, st.last);
    s.expires += st.srv->data->db(i).volatile_count(st.first, st.last);
  }
  s.batches = st.batches;
  s.direct_batches = st.direct;
  s.direct_other_loop = st.direct_other;
  s.door_waits = self->door_waits();
  s.aof_sends = st.aof_sends;
  s.gather_timer_fired = st.gather_timer ? static_cast<int64_t>(st.gather_timer->fired()) : -1;
  s.commands = st.commands;
  s.locked = st.locked;
  s.lock_holder = st.locked ? caf::to_string(st.holder) : "";
  s.queued_while_locked = st.queued_total;
  s.blocked_clients = st.waiters.size();
  s.watched_keys = st.events->watches.watched_keys();
  s.snapshot_id = st.snapshot ? st.snapshot_id : 0;
  s.snapshot_steps = st.snapshot_steps;
  s.snapshot_stops = st.snapshot_stops;
  s.stats = st.stats;
  std::string summary = "slots=" + std::to_string(st.first) + "-" + std::to_string(st.last)
                        + " loop=" + std::to_string(st.loop)
                        + " keys=" + std::to_string(s.keys) + " expires=" + std::to_string(s.expires)
                        + " batches=" + std::to_string(st.batches) + " direct=" + std::to_string(st.direct)
                        + " direct_other_loop=" + std::to_string(st.direct_other)
                        + " door_waits=" + std::to_string(s.door_waits)
                        + " commands=" + std::to_string(st.commands) + " locked=" + (st.locked ? "yes" : "no")
                        + " snapshot_steps=" + std::to_string(st.snapshot_steps) + " snapshot_stops="
                        + std::to_string(st.snapshot_stops)
                        + (st.snapshot ? " snapshot=" + std::to_string(st.snapshot_id) : "")
                        + (st.srv->aof_enabled ? " aof_sends=" + std::to_string(st.aof_sends) + " gather_timer="
                                                     + (st.gather_timer ? "loop:" + std::to_string(st.gather_timer->fired())
                                                                        : std::string("clock"))
                                                 : "");
  return make_status(self, st.actor_name, "slot_range", st.handled, summary, s);
}

// A reply that reads the range's tables: now, or once the lock holder is done.
template <class T>
caf::result<T> answer_unlocked(self_ptr self, T (*make)(self_ptr)) {
  if (!self->state.locked)
    return make(self);
  auto rp = self->make_response_promise<T>();
  when_unlocked(self, [self, rp, make]() mutable { rp.deliver(make(self)); });
  return rp;
}

// The shutdown's flush: what a lock holder wrote went to the aof_writer before its unlock.
bool send_gathered(self_ptr self) {
  if (self->state.srv->loops.size() == 1)
    flush_held_round(*self->state.srv);   // the loop round's held writes, of every range
  send_effects(self);
  return true;
}

slot_range_report make_report(self_ptr self) {
  auto& st = self->state;
  slot_range_report r;
  r.index = st.index;
  r.blocked_clients = st.waiters.size();
  r.stats = st.stats;
  for (int i = 0; i < st.srv->data->count(); ++i) {
    auto& db = st.srv->data->db(i);
    r.keys.push_back(db.size(st.first, st.last));
    r.expires.push_back(db.volatile_count(st.first, st.last));
    r.overhead.push_back(db.bucket_bytes(st.first, st.last) + r.keys.back() * sizeof(keyspace::entry));
  }
  return r;
}

slot_range_broker::behavior_type slot_range(self_ptr self, server* srv, uint32_t index, int first, int last,
                                             keyspace::key_events* events, slot_range_door* door) {
  auto& st = self->state;
  st.events = events;
  st.observer = std::make_unique<keyspace::events_observer>(events);
  st.srv = srv;
  st.index = index;
  st.first = first;
  st.last = last;
  st.actor_name = "slot_range:" + std::to_string(index);
  st.loop = srv->loop_of(self->system().middleman());
  st.settings = srv->keyspace_settings();
  st.ctx = std::make_unique<keyspace::exec_context>(*srv->data, st.stats, st.settings, st.rng);
  st.ctx->set_observer(st.observer.get());
  if (srv->aof_enabled)
    st.ctx->set_effects(&st.effects);
  // The timers call back on the loop's thread.
  auto me = caf::actor_cast<caf::weak_actor_ptr>(self);
  st.gather_timer = loop_timer::create(self->system().middleman(), [me](uint64_t) {
    if (auto range = me.lock())
      caf::anon_send(caf::actor_cast<slot_range_actor>(range), gather_atom::value);
  }).release();
  st.expire_cursors.resize(static_cast<size_t>(srv->data->count()));
  srv->directory.add(st.actor_name, "slot_range", caf::actor_cast<status_handle>(self));
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    std::vector<uint64_t> gone;
    for (auto& [id, w] : st.waiters)
      if (w.conn.address() == dm.source)
        gone.push_back(id);
    if (!gone.empty())
      when_unlocked(self, [self, gone] {
        for (auto id : gone)
          forget_waiter(self, id); // a blocked client disconnected
      });
    if (st.locked && dm.source == st.holder)
      release(self); // the holder died without unlocking
  });
  self->hold_door(door);
  door->range.store(self, std::memory_order_relaxed);
  self->attach_functor([srv, door, name = st.actor_name] {
    door->range.store(nullptr, std::memory_order_relaxed);
    srv->directory.remove(name);
  });
  self->delayed_send(self, std::chrono::milliseconds(100), expire_atom::value);
  return {
    [=](command_batch& b) {
      auto& st = self->state;
      ++st.handled;
      auto sender = caf::actor_cast<connection_actor>(self->current_sender());
      if (st.locked) {
        ++st.queued_total;
        st.queue.push_back(deferred{false, std::move(b), sender, {}});
        return;
      }
      run_batch(self, b, sender);
    },
    [=](lock_atom, uint64_t) {
      auto& st = self->state;
      ++st.handled;
      auto sender = caf::actor_cast<connection_actor>(self->current_sender());
      if (st.locked) {
        st.queue.push_back(deferred{true, {}, sender, {}});
        return;
      }
      grant_lock(self, sender);
    },
    [=](unlock_atom, keyspace::keyspace_stats& delta) {
      auto& st = self->state;
      ++st.handled;
      st.stats.add(delta);
      if (st.locked && self->current_sender() && self->current_sender()->address() == st.holder) {
        self->demonitor(st.holder);
        release(self);
      }
    },
    [=](stats_atom) -> caf::result<slot_range_report> {
      ++self->state.handled;
      return answer_unlocked(self, make_report);
    },
    [=](saved_atom, uint64_t dirty_at_start) {
      auto& st = self->state;
      ++st.handled;
      st.stats.dirty -= std::min(st.stats.dirty, dirty_at_start);
    },
    [=](reset_atom) {
      auto& st = self->state;
      ++st.handled;
      uint64_t dirty = st.stats.dirty;
      st.stats = keyspace::keyspace_stats{};
      st.stats.dirty = dirty;
    },
    [=](expire_atom) {
      auto& st = self->state;
      ++st.handled;
      self->delayed_send(self, std::chrono::milliseconds(100), expire_atom::value);
      if (st.locked || !st.srv->active_expire.load(std::memory_order_relaxed)
          || st.srv->loading.load(std::memory_order_acquire))
        return;
      int64_t now = now_ms();
      for (int i = 0; i < st.srv->data->count(); ++i) {
        auto& db = st.srv->data->db(i);
        keyspace::active_expire_step(db, st.first, st.last, st.expire_cursors[static_cast<size_t>(i)], now, 2000,
                                     st.stats, st.observer.get(), i, st.srv->aof_enabled ? &st.effects : nullptr);
      }
      gather_effects(self);
    },
    [=](unwatch_atom, int64_t client) {
      ++self->state.handled;
      when_unlocked(self, [self, client] { self->state.events->watches.unwatch(static_cast<uint64_t>(client)); });
    },
    [=](btimeout_atom, uint64_t id) {
      auto& st = self->state;
      ++st.handled;
      if (st.locked) {
        when_unlocked(self, [self, id] { self->send(self, btimeout_atom::value, id); });
        return;
      }
      auto it = st.waiters.find(id);
      if (it == st.waiters.end())
        return;
      reply_batch r;
      r.segment = it->second.segment;
      r.source = st.index;
      protocol::resp_writer(r.out, it->second.cmd.resp).null_array();
      r.ends.push_back(static_cast<uint32_t>(r.out.size()));
      deliver(self, it->second.conn, std::move(r));   // (it tells the keys were empty: held like a read)
      forget_waiter(self, id);
    },
    [=](recheck_atom) {
      ++self->state.handled;
      if (!self->state.locked)
        serve_ready(self);
    },
    [=](unblock_atom, int64_t client, bool with_error) {
      auto& st = self->state;
      ++st.handled;
      if (st.locked) {
        when_unlocked(self, [self, client, with_error] { self->send(self, unblock_atom::value, client, with_error); });
        return;
      }
      for (auto it = st.waiters.begin(); it != st.waiters.end(); ++it) {
        if (it->second.client != client)
          continue;
        reply_batch r;
        r.segment = it->second.segment;
        r.source = st.index;
        protocol::resp_writer w(r.out, it->second.cmd.resp);
        if (with_error)
          w.error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
        else
          w.null_array();
        r.ends.push_back(static_cast<uint32_t>(r.out.size()));
        deliver(self, it->second.conn, std::move(r));   // (held like a read, as the timeout's)
        forget_waiter(self, it->first);
        return;
      }
    },
    [=](snapshot_begin& b) {
      ++self->state.handled;
      // Sent by the rdb_snapshotter while it holds this range's lock itself: it starts at once,
      // ahead of whatever queued up meanwhile (the snapshot's point in time).
      start_snapshot(self, b);
    },
    [=](gather_atom) {
      auto& st = self->state;
      ++st.handled;
      st.gather_scheduled = false;
      send_effects(self);
    },
    [=](flush_atom) -> caf::result<bool> {
      ++self->state.handled;
      return answer_unlocked(self, send_gathered);   // shutdown: before the aof_writer's last flush
    },
    [=](released_replies& r) {
      ++self->state.handled;
      for (size_t i = 0; i < r.replies.size(); ++i)
        self->send(caf::actor_cast<connection_actor>(r.conns[i]), std::move(r.replies[i]));
    },
    [=](status_atom) -> caf::result<actor_status> {
      ++self->state.handled;
      return answer_unlocked(self, status_of);
    },
  };
}

} // namespace

slot_range_actor spawn_slot_range(caf::io::middleman& mm, server& srv, uint32_t index, int first_slot,
                                  int last_slot, keyspace::key_events* events, slot_range_door* door) {
  return mm.spawn_broker(slot_range, &srv, index, first_slot, last_slot, events, door);
}

direct_result run_batch_directly(slot_range_door& door, command_batch& b, const std::string_view* args,
                                 const connection_actor& sender, reply_batch& r, uint32_t loop) {
  for (auto& c : b.cmds)
    if ((c.flags & batch_command::may_block) != 0)
      return direct_result::not_run;
  bool own_loop = loop == door.loop;
  if (door.wanted.load(std::memory_order_relaxed))
    return direct_result::not_run;   // the range waits for its own run
  if (!own_loop) {
    // Not worth taking the door (and making the range's own run wait) for a range with mail.
    auto range = static_cast<self_ptr>(door.range.load(std::memory_order_relaxed));
    if (range == nullptr || !range->mailbox().blocked())
      return direct_result::not_run;
  }
  if (!door.try_take())
    return direct_result::not_run;   // the range runs, or another connection is inside
  slot_range_door::held leave{door};
  auto self = static_cast<self_ptr>(door.range.load(std::memory_order_relaxed));
  if (self == nullptr)
    return direct_result::not_run;
  auto& st = self->state;
  if (st.locked || !st.queue.empty())
    return direct_result::not_run;
  // Nothing waiting in the mailbox: what this client sent before (an UNWATCH, an unlock) has been
  // handled, so running now keeps its order. A blocked mailbox is an idle actor's empty one; from
  // the range's own loop (its only reader's thread) an empty one that is not blocked is idle too.
  auto& mb = self->mailbox();
  if (!mb.blocked() && (!own_loop || !mb.empty()))
    return direct_result::not_run;
  ++st.handled;
  ++st.direct;
  if (!own_loop)
    ++st.direct_other;
  return execute_batch(self, b, args, sender, r) ? direct_result::ready : direct_result::later;
}

snapshot_step step_snapshot_directly(slot_range_door& door, uint64_t id, size_t min_keys, uint64_t max_bytes) {
  snapshot_step out;
  if (door.wanted.load(std::memory_order_relaxed) || !door.try_take())
    return out;   // the range runs or waits to, or a connection is inside
  slot_range_door::held leave{door};
  auto self = static_cast<self_ptr>(door.range.load(std::memory_order_relaxed));
  if (self == nullptr) {
    out.what = snapshot_step::outcome::gone;
    return out;
  }
  auto& st = self->state;
  // Locked: the lock holder may be touching the keys from its own thread. Another id: the range
  // has not had the snapshot's begin yet.
  if (st.locked || !st.snapshot || st.snapshot_id != id)
    return out;
  ++st.snapshot_steps;
  bool more = st.snapshot->step(min_keys, max_bytes, &door.wanted);
  if (more && door.wanted.load(std::memory_order_relaxed))
    ++st.snapshot_stops;
  out.records = st.snapshot->take();
  out.keys = st.snapshot->keys();
  out.total = st.snapshot->total();
  out.dirty_at_start = st.dirty_at_snapshot;
  out.what = more ? snapshot_step::outcome::stepped : snapshot_step::outcome::done;
  if (!more) {
    st.events->snapshot = nullptr;
    st.snapshot.reset();
  }
  return out;
}

} // namespace troupe::actors
