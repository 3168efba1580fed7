// MULTI / EXEC / DISCARD / WATCH / UNWATCH and the (un)subscribe commands of a connection.
#include <algorithm>

#include <caf/all.hpp>

#include "actors/connection_internal.hpp"
#include "keyspace/commands.hpp"

namespace troupe::actors::conn {

using protocol::command_spec;
using protocol::command_table;

namespace {

const command_spec& parent_of(const command_spec& s) {
  return s.parent >= 0 ? command_table::instance().at(s.parent) : s;
}

void discard(connection_ptr self) {
  auto& st = self->state;
  st.in_multi = false;
  st.multi_error = false;
  st.multi_queue.clear();
  unwatch_all(self);
}

// The slot ranges EXEC must lock: those of every queued data command's keys and of the WATCHed keys.
std::vector<uint16_t> exec_targets(connection_ptr self) {
  auto& st = self->state;
  auto& table = command_table::instance();
  std::vector<uint16_t> targets(st.watched_ranges.begin(), st.watched_ranges.end());
  std::vector<int> keys;
  for (auto& q : st.multi_queue) {
    auto* data = keyspace::command_registry::instance().find(q.cmd);
    if (data == nullptr)
      continue;
    keyspace::args_t args(q.args.begin(), q.args.end());
    bool whole = data->where == keyspace::scope::all;
    if (q.cmd == debug_id())
      whole = q.args.size() == 2;  // DEBUG DIGEST
    else if (!whole && !table.key_positions(table.at(q.cmd), args, keys))
      keys.clear();
    if (q.cmd == debug_id() && !whole) {
      keys.clear();
      for (size_t i = 2; i < q.args.size(); ++i)
        keys.push_back(static_cast<int>(i));
    }
    if (whole || keys.empty()) {
      for (size_t i = 0; i < st.routing->ranges.size(); ++i)
        targets.push_back(static_cast<uint16_t>(i));
      continue;
    }
    for (int k : keys)
      targets.push_back(st.routing->owner[static_cast<size_t>(protocol::key_slot(q.args[static_cast<size_t>(k)]))]);
  }
  return targets;
}

void exec_start(connection_ptr self, const std::vector<std::string>&) {
  auto& st = self->state;
  if (st.multi_error) {
    discard(self);
    std::string out;
    resp_writer(out).error("EXECABORT Transaction discarded because of previous errors.");
    deferred_done(self, std::move(out));
    return;
  }
  std::string redirect;
  if (cluster_exec_redirect(self, redirect)) {
    discard(self);
    std::string out;
    resp_writer(out).error(redirect);
    deferred_done(self, std::move(out));
    return;
  }
  auto targets = exec_targets(self);
  st.exec_running = false;
  st.exec_replies.clear();
  st.exec_pending.clear();
  st.exec_async_queue.clear();
  if (targets.empty()) {
    run_exec_locked(self);
    return;
  }
  st.exec_locking = true;
  start_locked(self, std::move(targets));
}

void finish_exec(connection_ptr self) {
  auto& st = self->state;
  std::string out;
  resp_writer w(out, st.sess.resp());
  w.array(st.exec_replies.size());
  for (auto& r : st.exec_replies)
    out += r;
  st.exec_replies.clear();
  st.exec_running = false;
  keyspace::effects_buffer none;
  bool wrote = st.exec_wrote;
  st.exec_wrote = false;
  if (!to_disk(self, none, out, hold_mode::reply, wrote))
    deferred_done(self, std::move(out));
}

void run_next_pending(connection_ptr self) {
  auto& st = self->state;
  if (st.exec_next >= st.exec_pending.size()) {
    finish_exec(self);
    return;
  }
  auto& q = st.exec_async_queue[st.exec_next];
  find_service(q.cmd)->async(self, q.args);
}

void update_counts(connection_ptr self) {
  auto& st = self->state;
  st.sess.info.sub = static_cast<int>(st.channels.size());
  st.sess.info.psub = static_cast<int>(st.patterns.size());
  st.sess.info.ssub = static_cast<int>(st.shard_channels.size());
}

void subscribe(connection_ptr self, resp_writer& w, const args_t& args, uint8_t kind) {
  auto& st = self->state;
  auto& set = kind == 0 ? st.channels : kind == 1 ? st.patterns : st.shard_channels;
  const char* word = kind == 0 ? "subscribe" : kind == 1 ? "psubscribe" : "ssubscribe";
  subscription sub;
  sub.kind = kind;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string name(args[i]);
    if (set.insert(name).second)
      sub.names.push_back(name);
    w.push(3);
    w.bulk(word);
    w.bulk(name);
    w.integer(static_cast<int64_t>(kind == 2 ? st.shard_channels.size() : st.channels.size() + st.patterns.size()));
  }
  update_counts(self);
  if (!sub.names.empty())
    self->send(st.srv->pubsub, subscribe_atom::value, std::move(sub));
}

void unsubscribe(connection_ptr self, resp_writer& w, const args_t& args, uint8_t kind) {
  auto& st = self->state;
  auto& set = kind == 0 ? st.channels : kind == 1 ? st.patterns : st.shard_channels;
  const char* word = kind == 0 ? "unsubscribe" : kind == 1 ? "punsubscribe" : "sunsubscribe";
  auto count = [&] {
    return static_cast<int64_t>(kind == 2 ? st.shard_channels.size() : st.channels.size() + st.patterns.size());
  };
  std::vector<std::string> names;
  if (args.size() > 1)
    names.assign(args.begin() + 1, args.end());
  else
    names.assign(set.begin(), set.end());
  subscription sub;
  sub.kind = kind;
  sub.add = false;
  if (names.empty()) {
    w.push(3);
    w.bulk(word);
    w.null();
    w.integer(count());
    return;
  }
  for (auto& n : names) {
    if (set.erase(n))
      sub.names.push_back(n);
    w.push(3);
    w.bulk(word);
    w.bulk(n);
    w.integer(count());
  }
  update_counts(self);
  if (!sub.names.empty())
    self->send(st.srv->pubsub, subscribe_atom::value, std::move(sub));
}

// Command ids looked up once: the hot path compares ids, not names.
struct ids {
  int multi, exec, discard, watch, unwatch, reset, quit;
  int subscribe, psubscribe, ssubscribe, unsubscribe, punsubscribe, sunsubscribe;
  ids() {
    auto& t = command_table::instance();
    multi = t.implement("multi");
    exec = t.implement("exec");
    discard = t.implement("discard");
    watch = t.id_of("watch");
    unwatch = t.implement("unwatch");
    reset = t.id_of("reset");
    quit = t.id_of("quit");
    subscribe = t.implement("subscribe");
    psubscribe = t.implement("psubscribe");
    ssubscribe = t.implement("ssubscribe");
    unsubscribe = t.implement("unsubscribe");
    punsubscribe = t.implement("punsubscribe");
    sunsubscribe = t.implement("sunsubscribe");
  }
  bool pubsub(int c) const {
    return c == subscribe || c == psubscribe || c == ssubscribe || c == unsubscribe || c == punsubscribe
           || c == sunsubscribe;
  }
};

const ids& command_ids() {
  static ids i;
  return i;
}

// Runs one (un)subscribe command into `w`; false if `spec` is not one.
bool run_pubsub(connection_ptr self, const command_spec& spec, const args_t& args, resp_writer& w) {
  auto& id = command_ids();
  // kind 0: channels, 1: patterns, 2: shard channels
  const std::pair<int, int> subs[] = {{id.subscribe, 0}, {id.psubscribe, 1}, {id.ssubscribe, 2}};
  const std::pair<int, int> unsubs[] = {{id.unsubscribe, 0}, {id.punsubscribe, 1}, {id.sunsubscribe, 2}};
  for (auto [cmd, kind] : subs)
    if (spec.id == cmd) {
      subscribe(self, w, args, kind);
      return true;
    }
  for (auto [cmd, kind] : unsubs)
    if (spec.id == cmd) {
      unsubscribe(self, w, args, kind);
      return true;
    }
  return false;
}

} // namespace

// The commands transaction_command (which checks this first) and pubsub_command (the pub/sub ones)
// act on outside MULTI: route() sends every other data command past them.
bool transaction_or_pubsub(const command_spec& spec) {
  auto& id = command_ids();
  const int c = spec.id;
  return c == id.multi || c == id.exec || c == id.discard || c == id.watch || c == id.unwatch || c == id.reset
         || parent_of(spec).id == id.quit || id.pubsub(c);
}

bool transaction_command(connection_ptr self, const command_spec& spec) {
  auto& st = self->state;
  if (!st.in_multi && !transaction_or_pubsub(spec))
    return false;
  auto& id = command_ids();
  const int c = spec.id;
  if (c == id.multi) {
    if (st.in_multi) {
      local_error(self, "ERR MULTI calls can not be nested");
      return true;
    }
    st.in_multi = true;
    st.multi_error = false;
    st.multi_queue.clear();
    auto w = local_writer(self);
    w.ok();
    end_local(self);
    return true;
  }
  if (c == id.exec) {
    if (!st.in_multi) {
      local_error(self, "ERR EXEC without MULTI");
      return true;
    }
    st.in_multi = false;
    st.deferred.assign(st.args.begin(), st.args.end());
    st.deferred_cmd = c;
    st.deferred_keys.clear();
    st.has_deferred = true;
    return true;
  }
  if (c == id.discard) {
    if (!st.in_multi) {
      local_error(self, "ERR DISCARD without MULTI");
      return true;
    }
    discard(self);
    auto w = local_writer(self);
    w.ok();
    end_local(self);
    return true;
  }
  if (c == id.watch && st.in_multi) {
    local_error(self, "ERR WATCH inside MULTI is not allowed");
    return true;
  }
  if (c == id.reset) {
    discard(self);
    forget_subscriptions(self);
    return false; // the session command replies
  }
  if (parent_of(spec).id == id.quit)
    return false;
  if (st.in_multi) {
    st.multi_queue.push_back({c, std::vector<std::string>(st.args.begin(), st.args.end())});
    auto w = local_writer(self);
    w.simple("QUEUED");
    end_local(self);
    return true;
  }
  if (c == id.unwatch) {
    unwatch_all(self);
    auto w = local_writer(self);
    w.ok();
    end_local(self);
    return true;
  }
  return false;
}

bool exec_waiting_for_locks(connection_ptr self) { return self->state.exec_locking; }

void run_exec_locked(connection_ptr self) {
  auto& st = self->state;
  st.exec_locking = false;
  keyspace::keyspace_stats stats;
  keyspace::keyspace_settings settings = st.srv->keyspace_settings();
  std::mt19937_64 rng{std::random_device{}()};
  keyspace::exec_context ctx(*st.srv->data, stats, settings, rng);
  ctx.set_observer(&observer(self));
  ctx.set_client(static_cast<uint64_t>(st.sess.info.id));
  ctx.set_blocking_allowed(false);
  ctx.set_in_transaction(true); // one MULTI/EXEC around the whole transaction (below)
  ctx.set_writes_refused(st.srv->write_fence.load());
  keyspace::effects_buffer effects;
  if (st.srv->aof_enabled)
    ctx.set_effects(&effects);
  int64_t now = now_ms();
  // WATCH: any watched key touched (or expired since) aborts the transaction.
  bool aborted = false;
  uint64_t me = static_cast<uint64_t>(st.sess.info.id);
  for (auto r : st.watched_ranges) {
    auto& w = st.routing->events[r]->watches;
    aborted = aborted || w.dirty(me);
    for (auto& k : w.keys_of(me)) {
      if (k.expired_at_watch)
        continue;
      keyspace::entry* e = ctx.peek(st.srv->data->db(k.db), k.key);
      if (e != nullptr && e->has_expire() && e->expire() < now)
        aborted = true;
    }
    w.unwatch(me);
  }
  st.watched_ranges.clear();
  auto& table = command_table::instance();
  if (!aborted) {
    std::string out;
    for (auto& q : st.multi_queue) {
      out.clear();
      resp_writer w(out, st.sess.resp());
      keyspace::args_t args(q.args.begin(), q.args.end());
      auto& spec = table.at(q.cmd);
      if (keyspace::command_registry::instance().find(q.cmd)) {
        ctx.begin(st.sess.db(), args, w, now);
        try {
          keyspace::execute(ctx, q.cmd);
        } catch (const std::exception& e) {
          w.error(std::string("ERR internal error: ") + e.what());
        }
      } else if (auto h = keyspace::find_session_command(q.cmd)) {
        h(st.sess, args, w, st.sset);
      } else if (auto* s = find_service(q.cmd); s && s->sync) {
        s->sync(self, args, w);
      } else if (s && s->async) {
        st.exec_pending.push_back(st.exec_replies.size());
        st.exec_async_queue.push_back(q);
      } else if (!run_pubsub(self, spec, args, w)) {
        w.error("ERR unknown command");
      }
      count_error(self, out);   // (an asynchronous one counts in deferred_done)
      st.exec_replies.push_back(out);
    }
  }
  // A transaction that wrote more than once enters the AOF as MULTI ... EXEC, so that a load
  // applies all of it or nothing.
  if (effects.ends.size() > 1) {
    keyspace::effects_buffer wrapped;
    int db = effects.ends.front().second;
    wrapped.add(db, {"MULTI"});
    uint32_t shift = static_cast<uint32_t>(wrapped.data.size());
    wrapped.data += effects.data;
    for (auto& [end, d] : effects.ends)
      wrapped.ends.emplace_back(end + shift, d);
    wrapped.add(effects.ends.back().second, {"EXEC"});
    effects = std::move(wrapped);
  }
  st.multi_queue.clear();
  if (aborted) {
    // (Held like a read under appendfsync always: the abort tells of a write.)
    std::string out;
    resp_writer(out, st.sess.resp()).null_array();
    if (!unlock_all(self, stats, effects, out))
      deferred_done(self, std::move(out));
    return;
  }
  st.exec_next = 0;
  if (st.exec_pending.empty()) {
    // Everything ran under the locks: the reply is complete now (and may wait for the fsync).
    std::string out;
    resp_writer w(out, st.sess.resp());
    w.array(st.exec_replies.size());
    for (auto& r : st.exec_replies)
      out += r;
    st.exec_replies.clear();
    if (!unlock_all(self, stats, effects, out))
      deferred_done(self, std::move(out));
    return;
  }
  // Asynchronous commands (PUBLISH, INFO ...) inside: their replies are filled in after the locked
  // part, so the effects go to the AOF now, held without a reply (other clients' replies wait for
  // their fsync), and the whole reply is held (appendfsync always) once it is complete, in
  // finish_exec.
  std::string none;
  st.exec_wrote = !effects.empty();
  unlock_all(self, stats, effects, none, hold_mode::without_reply);
  st.exec_running = true;
  run_next_pending(self);
}

void exec_async_done(connection_ptr self, std::string reply) {
  auto& st = self->state;
  st.exec_replies[st.exec_pending[st.exec_next]] = std::move(reply);
  ++st.exec_next;
  run_next_pending(self);
}

void unwatch_all(connection_ptr self) {
  auto& st = self->state;
  for (auto r : st.watched_ranges)
    self->send(st.routing->ranges[r], unwatch_atom::value, st.sess.info.id);
  st.watched_ranges.clear();
}

void forget_subscriptions(connection_ptr self) {
  auto& st = self->state;
  for (uint8_t kind = 0; kind < 3; ++kind) {
    auto& set = kind == 0 ? st.channels : kind == 1 ? st.patterns : st.shard_channels;
    if (set.empty())
      continue;
    subscription sub;
    sub.kind = kind;
    sub.add = false;
    sub.names.assign(set.begin(), set.end());
    set.clear();
    self->send(st.srv->pubsub, subscribe_atom::value, std::move(sub));
  }
  update_counts(self);
}

bool pubsub_command(connection_ptr self, const command_spec& spec) {
  if (!command_ids().pubsub(spec.id))
    return false;   // (the common case: no writer made)
  auto w = local_writer(self);
  if (!run_pubsub(self, spec, self->state.args, w))
    return false;
  end_local(self);
  return true;
}

bool subscribed_mode(connection_ptr self) {
  auto& st = self->state;
  return st.sess.resp() == 2 && !(st.channels.empty() && st.patterns.empty() && st.shard_channels.empty());
}

void deliver(connection_ptr self, const pubsub_delivery& d) {
  auto& st = self->state;
  if (st.closing)
    return;
  std::string out;
  resp_writer w(out, st.sess.resp());
  if (d.kind == 1) {
    w.push(4);
    w.bulk("pmessage");
    w.bulk(d.pattern);
  } else {
    w.push(3);
    w.bulk(d.kind == 2 ? "smessage" : "message");
  }
  w.bulk(d.channel);
  w.bulk(d.message);
  if (st.parts.empty() && !st.busy) {
    write_out(self, out);
    flush_out(self);
  } else {
    write_out(self, out); // goes out with the replies in flight
  }
}

void register_transactions() { command_ids(); }

// EXEC runs as an asynchronous service: it waits for the locks of the slot ranges it touches.
void exec_service(connection_ptr self, const std::vector<std::string>& args) {
  command_ids();
  exec_start(self, args);
}

} // namespace troupe::actors::conn
