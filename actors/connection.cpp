// connection: input, routing, segments of batches, locks. See connection.hpp.
#include "actors/connection.hpp"
#include "actors/direct_scribe.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include <caf/all.hpp>

#include "actors/actors.hpp"
#include "actors/connection_internal.hpp"
#include "actors/status.hpp"
#include "config/log.hpp"
#include "keyspace/commands.hpp"
#include "protocol/command_table.hpp"

namespace troupe::actors {

using protocol::command_spec;
using protocol::command_table;

namespace conn {

namespace {

std::string peer_string(int fd, bool local) {
  sockaddr_storage sa{};
  socklen_t len = sizeof(sa);
  int rc = local ? getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len)
                 : getpeername(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  if (rc != 0)
    return "?:0";
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (sa.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&sa);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    port = ntohs(in->sin_port);
  } else if (sa.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    port = ntohs(in6->sin6_port);
  }
  std::string h = host;
  if (h.rfind("::ffff:", 0) == 0 && h.find('.') != std::string::npos)
    h = h.substr(7); // an IPv4 client on a dual-stack socket
  return h + ":" + std::to_string(port);
}

void refresh_settings(connection_ptr self) {
  auto& st = self->state;
  auto v = st.srv->cfg->version();
  if (v == st.sset_version)
    return;
  st.sset_version = v;
  st.sset = st.srv->session_settings();
  st.debug_mode = st.srv->cfg->get_string("enable-debug-command");
  st.timeout_s = st.srv->cfg->get_int("timeout");
  st.aof_always = st.srv->aof_enabled && st.srv->cfg->get_string("appendfsync") == "always";
  st.stop_writes_on_bgsave_error = st.srv->cfg->get_bool("stop-writes-on-bgsave-error")
                                   && !st.srv->cfg->save_params().empty();
  protocol::parser_limits lim;
  lim.max_bulk_len = st.srv->cfg->get_int("proto-max-bulk-len");
  st.parser.set_limits(lim);
}

// Writes the replies of the finished segment in order and starts a new one.
void finish_segment(connection_ptr self) {
  auto& st = self->state;
  if (st.used.size() == 1 && st.local_ends.empty() && st.out.empty()) {
    send_bytes(self, st.replies[st.used[0]].out);
  } else {
    for (auto& p : st.parts) {
      if (p.source < 0) {
        uint32_t start = p.index == 0 ? 0 : st.local_ends[p.index - 1];
        write_out(self, std::string_view(st.local).substr(start, st.local_ends[p.index] - start));
      } else {
        auto& r = st.replies[static_cast<size_t>(p.source)];
        uint32_t start = p.index == 0 ? 0 : r.ends[p.index - 1];
        write_out(self, std::string_view(r.out).substr(start, r.ends[p.index] - start));
      }
    }
  }
  for (auto i : st.used) {
    st.batch_size[i] = 0;
    empty_for_reuse(st.replies[i].out);   // kept for the next segment
    empty_for_reuse(st.replies[i].ends);
  }
  st.used.clear();
  st.srv->per_loop[st.loop].total_commands.fetch_add(st.parts.size(), std::memory_order_relaxed);
  st.parts.clear();
  st.local.clear();
  st.local_ends.clear();
  ++st.segment;
  ++st.segments;
  flush_out(self);
}

// Runs or sends the segment's batches (or, without any, writes its local replies at once). A batch
// for an idle slot_range runs at once, on this thread, through the range's door (whichever I/O
// loop the range lives on); the others go as messages, and the segment completes when their
// replies are all in.
void dispatch(connection_ptr self) {
  auto& st = self->state;
  if (st.used.empty()) {
    if (!st.parts.empty())
      finish_segment(self);
    return;
  }
  st.outstanding = 0;
  st.busy = true;
  auto me = caf::actor_cast<connection_actor>(self);
  for (auto i : st.used) {
    auto& b = st.batches[i];
    auto& args = st.batch_args[i];
    auto res = run_batch_directly(*st.routing->doors[i], b, args.data(), me, st.replies[i], st.loop);
    if (res != direct_result::not_run) {
      empty_for_reuse(args);
      ++st.batches_direct;
      if (res == direct_result::later)
        ++st.outstanding;   // held by the aof_writer until fsynced
      empty_for_reuse(b);   // kept for the next segment
      continue;
    }
    copy_arguments(args, b);   // (views into `in`, which changes before the range gets to them)
    empty_for_reuse(args);
    ++st.outstanding;
    ++st.batches_sent;
    lend_reply_buffers(st.replies[i], b);   // (their round trip: messages.hpp)
    self->send(st.routing->ranges[i], std::move(b));
    b = command_batch{};
  }
  st.inline_args.clear();
  if (st.outstanding == 0) {
    finish_segment(self);
    st.busy = false;
  }
}

void add_to_batch(connection_ptr self, uint16_t range, int cmd, int first_key_slot = -1) {
  auto& st = self->state;
  auto& b = st.batches[range];
  if (st.batch_size[range] == 0) {
    st.used.push_back(range);
    b.segment = st.segment;
    b.client = st.sess.info.id;
  }
  batch_command c;
  auto& args = st.batch_args[range];
  c.first_arg = static_cast<uint32_t>(args.size());
  c.argc = static_cast<uint32_t>(st.args.size());
  c.cmd = static_cast<uint16_t>(cmd);
  c.db = static_cast<uint32_t>(st.sess.db());
  c.resp = static_cast<uint8_t>(st.sess.resp());
  c.slot = static_cast<int16_t>(first_key_slot);
  if (st.parser.last_inline()) {
    for (auto a : st.args)
      args.emplace_back(st.inline_args.emplace_back(a));   // the parser reuses its words
  } else {
    args.insert(args.end(), st.args.begin(), st.args.end());
  }
  b.cmds.push_back(c);
  st.parts.push_back({range, st.batch_size[range]++});
}

// Defers the current command until the segment before it has completed.
void defer(connection_ptr self, int cmd, std::vector<int> keys = {}) {
  auto& st = self->state;
  st.deferred.assign(st.args.begin(), st.args.end());
  st.deferred_cmd = cmd;
  st.deferred_keys = std::move(keys);
  st.has_deferred = true;
}

std::vector<uint16_t> ranges_of(connection_ptr self, const std::vector<std::string>& args, const std::vector<int>& keys) {
  auto& st = self->state;
  std::vector<uint16_t> targets;
  if (keys.empty()) {
    for (size_t i = 0; i < st.routing->ranges.size(); ++i)
      targets.push_back(static_cast<uint16_t>(i));
  } else {
    for (int k : keys)
      targets.push_back(st.routing->owner[static_cast<size_t>(protocol::key_slot(args[static_cast<size_t>(k)]))]);
  }
  std::sort(targets.begin(), targets.end());
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  return targets;
}

// A client polling for keys of several slot ranges counts as blocked (INFO blocked_clients).
// Its keys go into the node's poll registry with its arrival number: a slot_range then keeps data
// on them for it rather than serve a client that blocked later (first blocked, first served).
void set_polling(connection_ptr self, bool on) {
  auto& st = self->state;
  if (st.polling_counted == on)
    return;
  st.polling_counted = on;
  st.srv->polling_clients.fetch_add(on ? 1 : -1, std::memory_order_relaxed);
  if (on) {
    auto& table = command_table::instance();
    std::vector<std::string_view> args(st.deferred.begin(), st.deferred.end());
    std::vector<int> pos;
    table.blocking_key_positions(table.at(st.deferred_cmd), args, pos);
    std::vector<std::string> keys;
    for (int k : pos)
      keys.push_back(st.deferred[static_cast<size_t>(k)]);
    st.poll_seq = ++st.srv->block_seq;
    st.srv->polls.add(st.poll_seq, st.sess.db(), keys);
    return;
  }
  st.srv->polls.remove(st.poll_seq);
  // What a slot_range held back for this client goes to the next in line.
  for (auto& r : st.routing->ranges)
    self->send(r, recheck_atom::value);
}

// Ends a blocking command polled across slot ranges without serving it: its timeout reply, or
// CLIENT UNBLOCK ... ERROR's error.
void end_poll(connection_ptr self, bool with_error) {
  auto& st = self->state;
  st.block_deadline_ms = 0;
  st.unblock_requested = 0;
  st.sess.info.flags = "N";
  set_polling(self, false);
  std::string out;
  resp_writer w(out, st.sess.resp());
  if (with_error)
    w.error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
  else
    w.null_array();
  // (It tells that the keys were empty: held like a read under appendfsync always.)
  keyspace::effects_buffer none;
  if (!to_disk(self, none, out, hold_mode::reply))
    deferred_done(self, out);
}

// A blocking command waiting in its slot_range (not polled across ranges): the range holding it
// answers for it and forgets it (the others ignore this). True if there was one.
bool unblock_in_range(connection_ptr self, bool with_error) {
  auto& st = self->state;
  if (!(st.awaiting_blocked && st.sess.info.flags == "b" && st.block_deadline_ms == 0))
    return false;
  for (auto& r : st.routing->ranges)
    self->send(r, unblock_atom::value, st.sess.info.id, with_error);
  return true;
}

// CLIENT UNBLOCK of this client: true if it was blocked.
bool unblock(connection_ptr self, bool with_error) {
  auto& st = self->state;
  if (unblock_in_range(self, with_error))
    return true;
  if (st.block_deadline_ms == 0)
    return false;
  if (st.lock_targets.empty())
    end_poll(self, with_error);   // between two polls
  else
    st.unblock_requested = with_error ? 2 : 1;   // in one: answered as it ends
  return true;
}

// Runs the deferred data command here, under the locks just granted.
void run_locked(connection_ptr self) {
  auto& st = self->state;
  if (st.unblock_requested != 0) {
    // CLIENT UNBLOCK came while this poll waited for its locks and was told the client was
    // blocked: it ends as unblocked, without looking at its keys (as in Redis, whatever came
    // to them stays there).
    keyspace::keyspace_stats none;
    keyspace::effects_buffer no_effects;
    std::string no_reply;
    unlock_all(self, none, no_effects, no_reply, hold_mode::none);
    end_poll(self, st.unblock_requested == 2);
    return;
  }
  keyspace::keyspace_stats stats;
  keyspace::keyspace_settings settings = st.srv->keyspace_settings();
  std::mt19937_64 rng{std::random_device{}()};
  keyspace::exec_context ctx(*st.srv->data, stats, settings, rng);
  ctx.set_observer(&observer(self));
  ctx.set_client(static_cast<uint64_t>(st.sess.info.id));
  keyspace::effects_buffer effects;
  if (st.srv->aof_enabled)
    ctx.set_effects(&effects);
  keyspace::args_t args(st.deferred.begin(), st.deferred.end());
  std::string out;
  resp_writer w(out, st.sess.resp());
  int64_t now = now_ms();
  ctx.begin(st.sess.db(), args, w, now);
  bool blocking = command_table::instance().at(st.deferred_cmd).has(protocol::cmd_blocking);
  ctx.set_blocking_allowed(blocking);
  ctx.set_block_retry(st.block_deadline_ms != 0); // polling again: a key of another type waits on
  if (blocking && !st.srv->polls.empty()) {
    // First blocked, first served among pollers too: leave alone a key an earlier poller waits on
    // (a newcomer, not yet listed, comes after every listed poller).
    uint64_t mine = st.polling_counted ? st.poll_seq : UINT64_MAX;
    ctx.set_block_claimed([srv = st.srv, db = st.sess.db(), mine](std::string_view key) {
      return srv->polls.earliest(db, key) < mine;
    });
  }
  ctx.set_writes_refused(st.srv->write_fence.load());
  try {
    keyspace::execute(ctx, st.deferred_cmd);
  } catch (const std::exception& e) {
    w.error(std::string("ERR internal error: ") + e.what());
  }
  if (ctx.blocked())
    set_polling(self, true);   // before the unlock: nothing reaches these keys in between
  bool later = unlock_all(self, stats, effects, out, ctx.blocked() ? hold_mode::none : hold_mode::reply);   // (blocked: no reply yet)
  if (ctx.blocked()) {
    // Keys in several slot ranges: look again shortly (single-range blocking commands wait in
    // their slot_range and are served in arrival order instead).
    if (st.block_deadline_ms == 0)
      st.block_deadline_ms = ctx.block_timeout_ms() > 0 ? now + ctx.block_timeout_ms() : -1;
    if (st.block_deadline_ms > 0 && now >= st.block_deadline_ms) {
      end_poll(self, false);
      return;
    }
    st.sess.info.flags = "b";
    set_polling(self, true);
    self->delayed_send(self, std::chrono::milliseconds(10), btimeout_atom::value, st.segment);
    return;
  }
  st.block_deadline_ms = 0;
  st.sess.info.flags = "N";
  set_polling(self, false);
  if (!later)
    deferred_done(self, out);
}

void run_deferred(connection_ptr self) {
  auto& st = self->state;
  int cmd = st.deferred_cmd;
  st.busy = true;
  if (auto* s = find_service(cmd); s != nullptr && s->async) {
    s->async(self, st.deferred);
    return;
  }
  auto& spec = command_table::instance().at(cmd);
  auto targets = ranges_of(self, st.deferred, st.deferred_keys);
  if (spec.has(protocol::cmd_blocking) && targets.size() == 1 && !st.deferred_keys.empty()) {
    // Alone to its slot_range, which keeps it until it can be served or times out.
    command_batch b;
    b.segment = st.blocked_segment = ++st.segment;
    b.client = st.sess.info.id;
    batch_command c;
    c.argc = static_cast<uint32_t>(st.deferred.size());
    c.cmd = static_cast<uint16_t>(cmd);
    c.db = static_cast<uint32_t>(st.sess.db());
    c.resp = static_cast<uint8_t>(st.sess.resp());
    c.flags = batch_command::may_block;
    for (auto& a : st.deferred) {
      b.data += a;
      b.arg_ends.push_back(static_cast<uint32_t>(b.data.size()));
    }
    b.cmds.push_back(c);
    st.awaiting_blocked = true;
    st.sess.info.flags = "b";
    self->send(st.routing->ranges[targets[0]], std::move(b));
    return;
  }
  start_locked(self, std::move(targets));
}

// Routes a data command by its keys (st.keypos; empty with scope::all: the whole dataset).
void route_data(connection_ptr self, const command_spec& spec, keyspace::scope where) {
  auto& st = self->state;
  auto& routing = *st.routing;
  const int cmd = spec.id;
  if (spec.has(protocol::cmd_blocking)) {
    defer(self, cmd, st.keypos);
    return;
  }
  if (routing.ranges.size() == 1) {
    add_to_batch(self, 0, cmd);
    return;
  }
  if (where == keyspace::scope::all && st.keypos.empty()) {
    defer(self, cmd);
    return;
  }
  if (st.keypos.empty()) {
    add_to_batch(self, 0, cmd); // no keys (bad arguments): the command reports its own error
    return;
  }
  const int slot = protocol::key_slot(st.args[static_cast<size_t>(st.keypos[0])]);
  uint16_t target = routing.owner[static_cast<size_t>(slot)];
  for (size_t i = 1; i < st.keypos.size(); ++i) {
    if (routing.owner[protocol::key_slot(st.args[static_cast<size_t>(st.keypos[i])])] != target) {
      defer(self, cmd, st.keypos);
      return;
    }
  }
  // The slot goes along for the range's prefetch when it is that of the key the prefetch takes.
  bool first_key = st.keypos[0] == spec.first_key;
  add_to_batch(self, target, cmd, first_key ? slot : -1);
}

void unknown_command(connection_ptr self) {
  auto& st = self->state;
  std::string args;
  for (size_t i = 1; i < st.args.size() && args.size() < 128; ++i) {
    size_t room = 128 - args.size();
    args += "'" + std::string(st.args[i].substr(0, room)) + "' ";
  }
  local_error(self, "ERR unknown command '" + std::string(st.args[0].substr(0, 128))
                      + "', with args beginning with: " + args);
  if (st.in_multi)
    st.multi_error = true;
}

// Looks the command up and checks it as Redis does before running it: unknown, subcommand,
// arity, authentication. nullptr if an error was replied.
const command_spec* check(connection_ptr self) {
  auto& st = self->state;
  auto& table = command_table::instance();
  const command_spec* spec = st.lookup.find(st.args[0]);
  if (spec == nullptr || !spec->implemented) {
    unknown_command(self);
    return nullptr;
  }
  if (spec->is_container() && st.args.size() > 1) {
    const command_spec* sub = table.find_sub(*spec, st.args[1]);
    if (sub == nullptr || !sub->implemented) {
      std::string upper = spec->name;
      for (auto& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      local_error(self, "ERR unknown subcommand '" + std::string(st.args[1].substr(0, 128)) + "'. Try " + upper
                          + " HELP.");
      if (st.in_multi)
        st.multi_error = true;
      return nullptr;
    }
    spec = sub;
  }
  if (!spec->arity_ok(st.args.size())) {
    local_error(self, "ERR wrong number of arguments for '" + spec->display_name + "' command");
    if (st.in_multi)
      st.multi_error = true;
    return nullptr;
  }
  if (!st.sess.authenticated && !spec->has(protocol::cmd_no_auth)) {
    local_error(self, "NOAUTH Authentication required.");
    if (st.in_multi)
      st.multi_error = true;
    return nullptr;
  }
  if (st.srv->loading.load(std::memory_order_acquire) && !spec->has(protocol::cmd_loading)) {
    local_error(self, "LOADING Redis is loading the dataset in memory");
    return nullptr;
  }
  if (spec->has(protocol::cmd_write) && st.stop_writes_on_bgsave_error
      && !st.srv->bgsave_ok.load(std::memory_order_relaxed)) {
    local_error(self, "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to "
                      "disk. Commands that may modify the data set are disabled, because this instance is configured "
                      "to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). "
                      "Please check the Redis logs for details about the RDB error.");
    if (st.in_multi)
      st.multi_error = true;
    return nullptr;
  }
  if (spec->has(protocol::cmd_write) && !st.srv->aof_ok.load(std::memory_order_relaxed)) {
    local_error(self, "MISCONF Errors writing to the AOF file: " + st.srv->aof_error_text());
    if (st.in_multi)
      st.multi_error = true;
    return nullptr;
  }
  if (subscribed_mode(self)) {
    static const char* allowed[] = {"subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe",
                                    "punsubscribe", "ping", "quit", "reset"};
    std::string_view base = spec->parent >= 0 ? table.at(spec->parent).name : spec->name;
    if (std::find(std::begin(allowed), std::end(allowed), base) == std::end(allowed)) {
      local_error(self, "ERR Can't execute '" + spec->display_name + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / "
                          "PING / QUIT / RESET are allowed in this context");
      return nullptr;
    }
  }
  return spec;
}

// Routes a data command (GET, SET ...) by its keys, registering WATCH's ranges.
void route_data_command(connection_ptr self, const command_spec& spec, const keyspace::data_command& data) {
  auto& st = self->state;
  const int id = spec.id;
  st.keypos.clear();
  if (data.where == keyspace::scope::keys && !command_table::instance().key_positions(spec, st.args, st.keypos))
    st.keypos.clear();
  route_data(self, spec, data.where);
  static const int watch_id = command_table::instance().id_of("watch");   // id_of is a linear scan
  if (id == watch_id) {
    for (int k : st.keypos) {
      auto r = st.routing->owner[static_cast<size_t>(protocol::key_slot(st.args[static_cast<size_t>(k)]))];
      if (std::find(st.watched_ranges.begin(), st.watched_ranges.end(), r) == st.watched_ranges.end())
        st.watched_ranges.push_back(r);
    }
  }
}

// The data command for an id that nothing but the data path handles (no connection-level,
// transaction, pub/sub, cluster, DEBUG or service step claims it), or nullptr. Built once, after
// every command has been registered (the first routed command comes after start-up).
const keyspace::data_command* plain_data_command(int id) {
  static const std::vector<const keyspace::data_command*> plain = [] {
    auto& table = command_table::instance();
    std::vector<const keyspace::data_command*> v(table.size(), nullptr);
    for (auto& c : table.all()) {
      auto* data = keyspace::command_registry::instance().find(c.id);
      if (data != nullptr && keyspace::find_session_command(c.id) == nullptr && c.id != debug_id()
          && !transaction_or_pubsub(c) && !cluster_local(c) && find_service(c.id) == nullptr)
        v[static_cast<size_t>(c.id)] = data;
    }
    return v;
  }();
  return plain[static_cast<size_t>(id)];
}

void route(connection_ptr self) {
  auto& st = self->state;
  const command_spec* spec = check(self);
  if (spec == nullptr)
    return;
  st.last_spec = spec;   // (copied into client_info.last_cmd only when someone looks: sync_last_cmd)
  // The common case, outside MULTI: straight to the data path (in cluster mode, once the command's
  // slot is known to be served here).
  if (!st.in_multi) {
    if (auto* data = plain_data_command(spec->id)) {
      if (!cluster_redirect(self, *spec, st.args))
        route_data_command(self, *spec, *data);
      return;
    }
  }
  if (cluster_connection_command(self, *spec))
    return;
  if (cluster_redirect(self, *spec, st.args))
    return;
  if (transaction_command(self, *spec))
    return;
  if (pubsub_command(self, *spec))
    return;
  // Connection-level commands.
  if (auto h = keyspace::find_session_command(spec->id)) {
    sync_last_cmd(self);   // CLIENT INFO shows itself as the last command
    auto w = local_writer(self);
    h(st.sess, st.args, w, st.sset);
    end_local(self);
    st.parser.set_unauthenticated(!st.sess.authenticated);
    if (st.sess.close_after_reply)
      st.close_after_flush = true;
    return;
  }
  const int id = spec->id;
  if (id == debug_id()) {
    auto w = local_writer(self);
    if (debug_command(self, w, st.keypos)) {
      end_local(self);
      return;
    }
    route_data(self, *spec, st.keypos.empty() ? keyspace::scope::all : keyspace::scope::keys);
    return;
  }
  if (int target = slot_command_target(self, *spec); target >= 0) {
    add_to_batch(self, static_cast<uint16_t>(target), id);
    return;
  }
  if (auto* data = keyspace::command_registry::instance().find(id)) {
    route_data_command(self, *spec, *data);
    return;
  }
  if (auto* s = find_service(id)) {
    if (s->async) {
      defer(self, id);
    } else {
      auto w = local_writer(self);
      s->sync(self, st.args, w);
      end_local(self);
    }
    return;
  }
  unknown_command(self);
}

void compact_input(connection_ptr self) {
  auto& st = self->state;
  if (st.pos == 0)
    return;
  if (st.pos >= st.in.size()) {
    st.in.clear();
    if (st.in.capacity() > 1024 * 1024)
      std::string().swap(st.in); // give back a big buffer once its command is done
  } else {
    st.in.erase(0, st.pos);
  }
  st.pos = 0;
}

} // namespace

// ---- shared with the other connection files ------------------------------------------------

void write_out(connection_ptr self, std::string_view bytes) { self->state.out.append(bytes.data(), bytes.size()); }

void send_bytes(connection_ptr self, std::string_view bytes) {
  auto& st = self->state;
  if (bytes.empty() || st.closing)
    return;
  st.srv->per_loop[st.loop].net_output.fetch_add(bytes.size(), std::memory_order_relaxed);
  if (!st.caf_pending) {
    ssize_t n = ::send(static_cast<int>(st.hdl.id()), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n == static_cast<ssize_t>(bytes.size()))
      return;
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        return; // the peer is gone: CAF reports the closed connection on its next read
      n = 0;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  auto& buf = self->wr_buf(st.hdl);
  buf.insert(buf.end(), bytes.begin(), bytes.end());
  st.caf_pending = true;
  self->flush(st.hdl);
}

void flush_out(connection_ptr self) {
  auto& st = self->state;
  if (st.out.empty())
    return;
  send_bytes(self, st.out);
  st.out.clear();
}

resp_writer local_writer(connection_ptr self) { return resp_writer(self->state.local, self->state.sess.resp()); }

void end_local(connection_ptr self) {
  auto& st = self->state;
  size_t begin = st.local_ends.empty() ? 0 : st.local_ends.back();
  count_error(self, std::string_view(st.local).substr(begin));
  st.parts.push_back({-1, static_cast<uint32_t>(st.local_ends.size())});
  st.local_ends.push_back(static_cast<uint32_t>(st.local.size()));
}

void count_error(connection_ptr self, std::string_view reply) {
  if (self->state.srv->errors.count_if_error(reply))
    self->state.srv->per_loop[self->state.loop].error_replies.fetch_add(1, std::memory_order_relaxed);
}

void local_error(connection_ptr self, std::string_view msg) {
  auto w = local_writer(self);
  w.error(msg);
  end_local(self);
}

void close_now(connection_ptr self) {
  auto& st = self->state;
  if (st.closing)
    return;
  flush_out(self);
  st.closing = true;
  set_polling(self, false);
  self->flush(st.hdl);
  self->close(st.hdl);
  self->quit();
}

bool is_loopback(const std::string& addr) {
  return addr.rfind("127.", 0) == 0 || addr.rfind("::1:", 0) == 0;
}

void sync_last_cmd(connection_ptr self) {
  auto& st = self->state;
  if (st.last_spec != nullptr && st.last_spec != st.last_spec_synced) {
    st.sess.info.last_cmd = st.last_spec->display_name;
    st.last_spec_synced = st.last_spec;
  }
}

keyspace::client_info& refreshed_info(connection_ptr self) {
  auto& st = self->state;
  sync_last_cmd(self);
  auto& i = st.sess.info;
  i.qbuf = st.in.size() - st.pos;
  i.qbuf_free = st.in.capacity() - st.in.size();
  i.omem = st.pending_output;
  i.tot_mem = st.in.capacity() + st.local.capacity() + sizeof(connection_state);
  for (auto& b : st.batches)
    i.tot_mem += b.data.capacity() + b.arg_ends.capacity() * sizeof(uint32_t)
                 + b.cmds.capacity() * sizeof(batch_command);
  for (auto& a : st.batch_args)
    i.tot_mem += a.capacity() * sizeof(std::string_view);
  for (auto& r : st.replies)
    i.tot_mem += r.out.capacity() + r.ends.capacity() * sizeof(uint32_t);
  i.multi = st.in_multi ? static_cast<int>(st.multi_queue.size()) : -1;
  i.sub = static_cast<int>(st.channels.size());
  i.psub = static_cast<int>(st.patterns.size());
  i.ssub = static_cast<int>(st.shard_channels.size());
  return i;
}

keyspace::events_observer& observer(connection_ptr self) {
  auto& st = self->state;
  if (!st.observer)
    st.observer = std::make_unique<keyspace::events_observer>(&st.routing->owner, st.routing->events);
  return *st.observer;
}

void start_locked(connection_ptr self, std::vector<uint16_t> targets) {
  auto& st = self->state;
  std::sort(targets.begin(), targets.end());
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  st.lock_targets = std::move(targets);
  st.locks_granted = 0;
  st.busy = true;
  self->send(st.routing->ranges[st.lock_targets[0]], lock_atom::value, st.segment);
}

bool unlock_all(connection_ptr self, const keyspace::keyspace_stats& stats, keyspace::effects_buffer& effects,
                std::string& reply, hold_mode mode) {
  auto& st = self->state;
  bool later = to_disk(self, effects, reply, mode);
  effects.clear();
  for (size_t k = 0; k < st.lock_targets.size(); ++k)
    self->send(st.routing->ranges[st.lock_targets[k]], unlock_atom::value,
               k == 0 ? stats : keyspace::keyspace_stats{});
  st.lock_targets.clear();
  return later;
}

bool to_disk(connection_ptr self, keyspace::effects_buffer& effects, std::string& reply, hold_mode mode,
             bool wrote_earlier) {
  auto& st = self->state;
  if (!st.srv->aof_enabled)
    return false;
  // (Checked after the locks were granted: a write that ran before in a locked range was counted
  // when it settled.)
  bool hold = mode != hold_mode::none && st.aof_always
              && st.srv->reply_waits_for_disk(!effects.empty() || wrote_earlier);
  if (effects.empty() && !hold)
    return false;
  bool with_reply = hold && mode == hold_mode::reply;
  // The effects take their number before any lock is released: a command another client runs
  // on one of these slot_ranges after the unlock gets a higher one. Every locked range began a
  // rewrite's snapshot before this lock, or none did, so the first one's marker decides whether
  // they also go to the rewrite's tail. A hold with no effects is numbered too: the writer
  // releases it with the fsync of everything numbered before it.
  aof_effects e;
  uint32_t source = st.lock_targets.empty() ? 0 : st.lock_targets[0];
  e.segments.push_back(st.srv->number_aof_batch(source, static_cast<uint32_t>(effects.ends.size())));
  e.data = std::move(effects.data);
  e.ends = std::move(effects.ends);
  effects.clear();
  if (hold) {
    // The reply comes back from the aof_writer once the write is on disk; with no reply (the
    // writes of an EXEC whose reply is not complete yet), other clients' replies still wait for
    // that fsync.
    e.hold = true;
    st.srv->aof_held_out.fetch_add(1, std::memory_order_acq_rel);   // (released by the writer)
  }
  if (with_reply) {
    e.conn = caf::actor_cast<caf::strong_actor_ptr>(self);
    e.reply.segment = st.blocked_segment = ++st.segment;
    e.reply.out = std::move(reply);
    e.reply.ends.push_back(static_cast<uint32_t>(e.reply.out.size()));
    st.awaiting_blocked = true;
  }
  self->send(st.srv->aof, std::move(e));
  return with_reply;
}

// Grows the read size while reads fill it (up to 64 KB), shrinks it after many small reads (down
// to 512 bytes): the socket's read buffer is that size for as long as the connection lives.
void adapt_read_size(connection_ptr self, size_t got) {
  auto& st = self->state;
  uint32_t next = st.read_size;
  if (got >= st.read_size && st.read_size < 64 * 1024) {
    next = st.read_size * 2;
    st.small_reads = 0;
  } else if (got < st.read_size / 4 && st.read_size > 512) {
    if (++st.small_reads >= 64) {
      next = st.read_size / 2;
      st.small_reads = 0;
    }
  } else {
    st.small_reads = 0;
  }
  if (next != st.read_size) {
    st.read_size = next;
    self->configure_read(st.hdl, caf::io::receive_policy::at_most(next));
  }
}

// What one read of the socket returned (its direct_scribe calls this on the connection's loop).
void take_input(connection_ptr self, const char* data, size_t size) {
  auto& st = self->state;
  ++st.handled;
  st.srv->per_loop[st.loop].net_input.fetch_add(size, std::memory_order_relaxed);
  st.in.append(data, size);
  adapt_read_size(self, size);
  if (!st.busy)
    process(self);
}

void deferred_done(connection_ptr self, std::string reply) {
  auto& st = self->state;
  count_error(self, reply);
  if (st.exec_running) {
    exec_async_done(self, std::move(reply));
    return;
  }
  write_out(self, reply);
  flush_out(self);
  st.srv->per_loop[st.loop].total_commands.fetch_add(1, std::memory_order_relaxed);
  st.busy = false;
  process(self);
}

void process(connection_ptr self) {
  auto& st = self->state;
  refresh_settings(self);
  // The client's last interaction (CLIENT LIST idle=), once per read as Redis sets it.
  st.sess.info.last_ms = now_ms();
  while (!st.busy && !st.closing) {
    if (st.has_deferred) {
      st.has_deferred = false;
      run_deferred(self);
      continue;
    }
    if (st.close_after_flush)
      break;
    auto status = st.parser.parse(st.in, st.pos, st.args);
    if (status == protocol::request_parser::status::incomplete)
      break;
    if (status == protocol::request_parser::status::error) {
      local_error(self, "ERR " + st.parser.error_message());
      st.close_after_flush = true;
      break;
    }
    ++st.commands;
    route(self);
    if (st.has_deferred && !st.parts.empty())
      dispatch(self);
  }
  if (!st.busy && !st.closing) {
    dispatch(self);
    if (!st.busy && st.close_after_flush && !st.has_deferred) {
      close_now(self);
      return;
    }
  }
  compact_input(self);
}

} // namespace conn

void register_connection_commands() {
  conn::register_services();
  conn::register_transactions();
  keyspace::find_session_command(0);
}

connection_broker::behavior_type connection(connection_ptr self, caf::io::connection_handle hdl, server* srv,
                                            int64_t id) {
  using namespace conn;
  auto& st = self->state;
  st.srv = srv;
  st.hdl = hdl;
  st.routing = srv->routing;
  st.actor_name = "connection:" + std::to_string(id);
  st.loop = srv->loop_of(self->system().middleman());
  int fd = static_cast<int>(hdl.id());
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (int idle = static_cast<int>(srv->cfg->get_int("tcp-keepalive")); idle > 0) {
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    int interval = std::max(1, idle / 3), count = 3;
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
  }
  auto& info = st.sess.info;
  info.id = id;
  info.fd = fd;
  info.addr = peer_string(fd, false);
  info.laddr = peer_string(fd, true);
  info.created_ms = info.last_ms = now_ms();
  refresh_settings(self);
  st.sess.authenticated = st.sset.requirepass.empty();
  st.parser.set_unauthenticated(!st.sess.authenticated);
  size_t n = st.routing->ranges.size();
  st.batches.resize(n);
  st.batch_args.resize(n);
  st.batch_size.assign(n, 0);
  st.replies.resize(n);
  self->configure_read(hdl, caf::io::receive_policy::at_most(st.read_size));
  self->ack_writes(hdl, true);
  srv->connected_clients.fetch_add(1, std::memory_order_relaxed);
  srv->directory.add(st.actor_name, "connection", caf::actor_cast<status_handle>(self));
  self->attach_functor([self, srv, name = st.actor_name] {
    srv->directory.remove(name);
    srv->connected_clients.fetch_sub(1, std::memory_order_relaxed);
  });
  // protected-mode: with no password, only clients on this machine are served, as in Redis.
  bool denied = srv->cfg->get_bool("protected-mode") && st.sset.requirepass.empty() && !is_loopback(info.addr);
  if (denied) {
    write_out(self, "-DENIED Troupe is running in protected mode: no password is set and the client is not on "
                    "the loopback interface. Set a password with 'requirepass', or start with "
                    "'--protected-mode no' (only where the network is trusted), then reconnect.\r\n");
    close_now(self);
  } else if (st.timeout_s > 0) {
    self->delayed_send(self, std::chrono::seconds(1), timeout_atom::value);
  }
  auto leave = [self] {
    auto& st = self->state;
    // Blocked in a slot range: it forgets this client before anything sent after the client is
    // gone (its down message may come later than a push another client sends then, when the
    // range had not yet parked the command as this connection ended).
    unblock_in_range(self, false);
    unwatch_all(self);
    forget_subscriptions(self);
    st.closing = true;
    set_polling(self, false);
    self->quit();
  };
  return {
    [=](const caf::io::connection_closed_msg&) {
      ++self->state.handled;
      leave();
    },
    [=](const caf::io::data_transferred_msg& msg) {
      auto& st = self->state;
      st.pending_output = msg.remaining;
      if (msg.remaining == 0)
        st.caf_pending = false;
      // Backpressure: stop reading while the client does not read its replies.
      if (!st.halted && msg.remaining > 64 * 1024 * 1024) {
        st.halted = true;
        self->halt(st.hdl);
      } else if (st.halted && msg.remaining < 1024 * 1024) {
        st.halted = false;
        self->trigger(st.hdl);
      }
    },
    [=](reply_batch& r) {
      auto& st = self->state;
      ++st.handled;
      if (st.closing)
        return;
      if (st.awaiting_blocked && r.segment == st.blocked_segment) {
        st.awaiting_blocked = false;
        st.sess.info.flags = "N";
        ++st.segment;
        deferred_done(self, std::move(r.out));
        return;
      }
      if (r.segment != st.segment)
        return;
      uint32_t src = r.source;
      take_batch_buffers(r, st.batches[src]);   // empty since the batch left: nothing is added while busy
      st.replies[src] = std::move(r);
      if (--st.outstanding > 0)
        return;
      finish_segment(self);
      st.busy = false;
      process(self);
    },
    [=](locked_atom, uint32_t) {
      auto& st = self->state;
      ++st.handled;
      if (++st.locks_granted < st.lock_targets.size()) {
        self->send(st.routing->ranges[st.lock_targets[st.locks_granted]], lock_atom::value, st.segment);
        return;
      }
      if (exec_waiting_for_locks(self))
        run_exec_locked(self);
      else
        run_locked(self);
    },
    [=](clients_atom) -> keyspace::client_info {
      ++self->state.handled;
      return refreshed_info(self);
    },
    [=](kill_atom, kill_request& req) -> bool {
      auto& st = self->state;
      ++st.handled;
      if (!req.filter.matches(refreshed_info(self), req.requester, now_ms()))
        return false;
      if (req.unblock != 0)
        return unblock(self, req.unblock == 2);
      if (st.sess.info.id == req.requester) {
        st.close_after_flush = true;
      } else {
        unwatch_all(self);
        forget_subscriptions(self);
        close_now(self);
      }
      return true;
    },
    [=](timeout_atom) {
      auto& st = self->state;
      ++st.handled;
      if (st.closing || st.timeout_s <= 0)
        return;
      bool idle_ok = st.busy || !st.channels.empty() || !st.patterns.empty() || !st.shard_channels.empty();
      if (!idle_ok && (now_ms() - st.sess.info.last_ms) / 1000 > st.timeout_s) {
        config::log_verbose("Closing idle client");
        unwatch_all(self);
        close_now(self);
        return;
      }
      self->delayed_send(self, std::chrono::seconds(1), timeout_atom::value);
    },
    [=](btimeout_atom, uint64_t segment) {
      // Polling a blocking command whose keys span several slot ranges.
      auto& st = self->state;
      ++st.handled;
      if (!st.closing && st.block_deadline_ms != 0 && segment == st.segment && st.lock_targets.empty())
        start_locked(self, ranges_of(self, st.deferred, st.deferred_keys));
    },
    [=](pubsub_delivery& d) {
      ++self->state.handled;
      deliver(self, d);
    },
    [=](status_atom) -> actor_status {
      auto& st = self->state;
      ++st.handled;
      connection_status s;
      s.client = refreshed_info(self);
      s.loop = st.loop;
      s.commands = st.commands;
      s.segments = st.segments;
      s.batches_sent = st.batches_sent;
      s.batches_direct = st.batches_direct;
      s.input_buffer = st.in.size();
      s.output_pending = st.pending_output;
      s.busy = st.busy;
      std::string summary = "addr=" + st.sess.info.addr + " loop=" + std::to_string(st.loop) + " db="
                            + std::to_string(st.sess.db()) + " commands="
                            + std::to_string(st.commands) + " segments=" + std::to_string(st.segments)
                            + " batches=" + std::to_string(st.batches_sent)
                            + " direct=" + std::to_string(st.batches_direct) + " busy=" + (st.busy ? "yes" : "no");
      return make_status(self, st.actor_name, "connection", st.handled, summary, s);
    },
  };
}

namespace {

connection_broker::behavior_type adopt(connection_ptr self, int fd, server* srv, int64_t id) {
  auto on_data = [](caf::io::abstract_broker* broker, const char* data, size_t size) {
    conn::take_input(static_cast<connection_ptr>(broker), data, size);
  };
  return connection(self, direct_scribe::add_to(self, fd, on_data), srv, id);
}

} // namespace

connection_actor spawn_connection(caf::io::middleman& mm, int fd, server* srv, int64_t id) {
  return caf::actor_cast<connection_actor>(mm.spawn_broker(adopt, fd, srv, id));
}

} // namespace troupe::actors
