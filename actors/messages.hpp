// Every message type the actors exchange, each with an `inspect` overload so that CAF can render
// (caf::deep_to_string) and serialize it. Atoms are declared here too.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor_control_block.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include "keyspace/context.hpp"
#include "keyspace/session.hpp"
#include "protocol/cluster_bus.hpp"

namespace troupe::actors {

using lock_atom = caf::atom_constant<caf::atom("lock")>;
using locked_atom = caf::atom_constant<caf::atom("locked")>;
using unlock_atom = caf::atom_constant<caf::atom("unlock")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using actors_atom = caf::atom_constant<caf::atom("actors")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using reset_atom = caf::atom_constant<caf::atom("reset")>;
using clients_atom = caf::atom_constant<caf::atom("clients")>;
using kill_atom = caf::atom_constant<caf::atom("kill")>;
using unblock_atom = caf::atom_constant<caf::atom("unblock")>;
using recheck_atom = caf::atom_constant<caf::atom("recheck")>;
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;
using expire_atom = caf::atom_constant<caf::atom("expire")>;
using timeout_atom = caf::atom_constant<caf::atom("timeout")>;
using unwatch_atom = caf::atom_constant<caf::atom("unwatch")>;
using btimeout_atom = caf::atom_constant<caf::atom("btimeout")>;
using publish_atom = caf::atom_constant<caf::atom("publish")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using cron_atom = caf::atom_constant<caf::atom("cron")>;
using sample_atom = caf::atom_constant<caf::atom("sample")>;
using link_up_atom = caf::atom_constant<caf::atom("linkup")>;
using link_down_atom = caf::atom_constant<caf::atom("linkdown")>;
using link_failed_atom = caf::atom_constant<caf::atom("linkfail")>;
using close_atom = caf::atom_constant<caf::atom("close")>;
using sync_atom = caf::atom_constant<caf::atom("sync")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using everysec_atom = caf::atom_constant<caf::atom("everysec")>;
using snapshot_atom = caf::atom_constant<caf::atom("snapshot")>;
using step_atom = caf::atom_constant<caf::atom("step")>;
using save_atom = caf::atom_constant<caf::atom("save")>;
using rewrite_atom = caf::atom_constant<caf::atom("rewrite")>;
using switch_atom = caf::atom_constant<caf::atom("switch")>;
using abort_atom = caf::atom_constant<caf::atom("abort")>;
using gather_atom = caf::atom_constant<caf::atom("gather")>;
using saved_atom = caf::atom_constant<caf::atom("saved")>;
using begun_atom = caf::atom_constant<caf::atom("begun")>;

// One command inside a batch: its arguments are the batch's arguments first_arg .. first_arg+argc-1
// (arg_ends' entries, or the views of copy_arguments below).
struct batch_command {
  uint32_t first_arg = 0;
  uint32_t argc = 0;
  uint32_t db = 0;
  uint16_t cmd = 0;   // command-table id
  uint8_t resp = 2;
  uint8_t flags = 0;  // may_block
  static constexpr uint8_t may_block = 1;
  int16_t slot = -1;  // the slot of the command's first key (spec first_key) if the connection computed it
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batch_command& x) {
  return f(caf::meta::type_name("batch_command"), x.first_arg, x.argc, x.cmd, x.db, x.resp, x.flags, x.slot);
}

// What a connection sends a slot_range per read: the commands of one segment that live there.
// A batch and its reply each carry the other's emptied buffers back (spare_*), so that batches
// crossing threads as messages allocate nothing once their buffers have grown.
struct command_batch {
  uint64_t segment = 0;
  int64_t client = 0;               // the connection's client id (WATCH, blocked clients)
  std::string data;                 // all arguments, back to back (sent as a message; see copy_arguments)
  std::vector<uint32_t> arg_ends;   // end offset of each argument in data
  std::vector<batch_command> cmds;
  std::string spare_out;            // an earlier reply's buffers, for this batch's reply
  std::vector<uint32_t> spare_ends;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, command_batch& x) {
  return f(caf::meta::type_name("command_batch"), x.segment, x.client, x.data, x.arg_ends, x.cmds, x.spare_out,
           x.spare_ends);
}

// The encoded replies to a command_batch, in its order.
struct reply_batch {
  uint64_t segment = 0;
  uint32_t source = 0;              // index of the slot_range
  std::string out;
  std::vector<uint32_t> ends;       // end offset of each reply in out
  std::string spare_data;           // the batch's buffers, emptied, for the connection's next batch
  std::vector<uint32_t> spare_arg_ends;
  std::vector<batch_command> spare_cmds;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reply_batch& x) {
  return f(caf::meta::type_name("reply_batch"), x.segment, x.source, x.out, x.ends, x.spare_data,
           x.spare_arg_ends, x.spare_cmds);
}

// Empties a buffer kept for reuse; one that an unusually large batch or reply grew past 64 KB
// gives its memory back.
template <class Buffer>
void empty_for_reuse(Buffer& b) {
  if (b.capacity() * sizeof(typename Buffer::value_type) > 64 * 1024)
    Buffer().swap(b);
  else
    b.clear();
}

inline void empty_for_reuse(command_batch& b) {
  empty_for_reuse(b.data);
  empty_for_reuse(b.arg_ends);
  empty_for_reuse(b.cmds);
}

// The buffers' round trip with a batch sent as a message: the connection lends its emptied reply
// buffers to the batch; the slot range writes the reply into them, and sends the batch's buffers,
// emptied, back with it; the connection takes them for its next batch to that range.
inline void lend_reply_buffers(reply_batch& from, command_batch& b) {
  b.spare_out = std::move(from.out);
  b.spare_ends = std::move(from.ends);
}

inline void take_reply_buffers(command_batch& b, reply_batch& r) {
  r.out = std::move(b.spare_out);
  r.ends = std::move(b.spare_ends);
}

inline void return_batch_buffers(command_batch& b, reply_batch& r) {
  empty_for_reuse(b);
  r.spare_data = std::move(b.data);
  r.spare_arg_ends = std::move(b.arg_ends);
  r.spare_cmds = std::move(b.cmds);
}

inline void take_batch_buffers(reply_batch& r, command_batch& b) {
  b.data = std::move(r.spare_data);
  b.arg_ends = std::move(r.spare_arg_ends);
  b.cmds = std::move(r.spare_cmds);
}

// A batch's arguments are views into the connection's input while it builds the batch, and while
// the batch runs through the range's door (the input does not change before the batch has run).
// Only a batch that travels as a message carries copies: into b.data, and back into views there.
inline void copy_arguments(const std::vector<std::string_view>& args, command_batch& b) {
  size_t total = 0;
  for (auto a : args)
    total += a.size();
  b.data.reserve(b.data.size() + total);
  b.arg_ends.reserve(b.arg_ends.size() + args.size());
  for (auto a : args) {
    b.data.append(a.data(), a.size());
    b.arg_ends.push_back(static_cast<uint32_t>(b.data.size()));
  }
}

inline void view_arguments(const command_batch& b, std::vector<std::string_view>& args) {
  args.clear();
  uint32_t start = 0;
  for (auto end : b.arg_ends) {
    args.emplace_back(b.data.data() + start, end - start);
    start = end;
  }
}

// Replies the aof_writer released after one fsync (appendfsync always) for connections of one I/O
// loop: sent to a slot range of that loop, which hands each to its connection on the loop's own
// thread, so that the writer's thread wakes that loop once, not once per reply.
struct released_replies {
  std::vector<caf::strong_actor_ptr> conns;   // connection_actors
  std::vector<reply_batch> replies;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, released_replies& x) {
  return f(caf::meta::type_name("released_replies"), x.replies);
}

// The write effects of a batch for the AOF; with appendfsync always, the reply to release (to
// `conn`) once they are on disk. `source`: the slot_range that sent them.
// A numbered batch of write effects inside an aof_effects message: its commands end at `end` (an
// index into `ends`). Numbers come from server::aof_seq as the batch settles, before its reply
// leaves; the aof_writer appends batches in number order (persistence/aof_order.hpp).
struct aof_segment {
  uint64_t seq = 0;
  uint32_t source = 0;           // the slot range (for a lock holder: its first locked range)
  uint32_t end = 0;
  uint64_t rewrite_marker = 0;   // non-zero: an AOF rewrite's snapshot of `source` starts here (no commands)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, aof_segment& x) {
  return f(caf::meta::type_name("aof_segment"), x.seq, x.source, x.end, x.rewrite_marker);
}

struct aof_effects {
  std::string data;
  std::vector<std::pair<uint32_t, uint32_t>> ends;   // (end offset, db) per command
  std::vector<aof_segment> segments;                 // in number order
  bool hold = false;                                 // the reply waits for the fsync of the last segment
  caf::strong_actor_ptr conn;                        // a connection_actor
  reply_batch reply;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, aof_effects& x) {
  return f(caf::meta::type_name("aof_effects"), x.data, x.ends, x.segments, x.hold, x.reply);
}

// Starts a snapshot in a slot_range (sent while the snapshotter holds every slot_range's lock,
// so that all of them start at the same point).
struct snapshot_begin {
  uint64_t id = 0;
  bool aof_rewrite = false;         // also marks the start in the effects stream to the aof_writer
  bool final = false;               // SHUTDOWN's last snapshot: no write may follow it
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot_begin& x) {
  return f(caf::meta::type_name("snapshot_begin"), x.id, x.aof_rewrite, x.final);
}

// What to snapshot into: an RDB file, or the base of a rewritten AOF.
struct save_request {
  bool aof_rewrite = false;
  bool background = true;       // BGSAVE / BGREWRITEAOF answer at once; SAVE waits
  bool schedule = false;        // BGSAVE SCHEDULE: run after an AOF rewrite in progress
  bool final = false;           // SHUTDOWN's: writes are refused from its snapshot point on
  std::string reason;           // for the log
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, save_request& x) {
  return f(caf::meta::type_name("save_request"), x.aof_rewrite, x.background, x.schedule, x.final, x.reason);
}

struct save_result {
  bool aof_rewrite = false;
  bool ok = false;
  std::string error;
  uint64_t keys = 0;
  uint64_t bytes = 0;
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
  std::vector<uint64_t> dirty_at_start;   // per slot_range: subtracted from its counter once saved
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, save_result& x) {
  return f(caf::meta::type_name("save_result"), x.aof_rewrite, x.ok, x.error, x.keys, x.bytes, x.started_ms,
           x.finished_ms, x.dirty_at_start);
}

// A slot_range's figures for INFO.
struct slot_range_report {
  uint32_t index = 0;
  uint64_t blocked_clients = 0;
  keyspace::keyspace_stats stats;
  std::vector<uint64_t> keys;       // per database
  std::vector<uint64_t> expires;    // per database
  std::vector<uint64_t> overhead;   // per database: its slot tables' buckets and entry headers
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slot_range_report& x) {
  return f(caf::meta::type_name("slot_range_report"), x.index, x.blocked_clients, x.stats, x.keys, x.expires, x.overhead);
}

// Every actor's answer to status_atom: ACTORS shows `summary` on one line and
// ACTORS INFO the whole record. `detail` is the actor's own status type, rendered by CAF.
struct actor_status {
  std::string name;
  std::string kind;
  uint64_t handled = 0;
  uint64_t mailbox = 0;
  std::string summary;
  std::string detail;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, actor_status& x) {
  return f(caf::meta::type_name("actor_status"), x.name, x.kind, x.handled, x.mailbox, x.summary, x.detail);
}

// CLIENT KILL, and CLIENT UNBLOCK (unblock != 0: the matching client is unblocked, not closed).
struct kill_request {
  keyspace::client_filter filter;
  int64_t requester = 0;
  uint8_t unblock = 0;   // 1: as if timed out, 2: with the -UNBLOCKED error
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, kill_request& x) {
  return f(caf::meta::type_name("kill_request"), x.filter, x.requester, x.unblock);
}

struct shutdown_request {
  bool save = false;
  bool nosave = false;
  bool now = false;
  bool force = false;
  std::string reason;   // for the log: "User requested shutdown...", "Received SIGTERM ..."
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shutdown_request& x) {
  return f(caf::meta::type_name("shutdown_request"), x.save, x.nosave, x.now, x.force, x.reason);
}

// Pub/sub: a connection's (un)subscription, a message delivered to it, and PUBSUB's questions.
struct subscription {
  uint8_t kind = 0;          // 0 channels, 1 patterns, 2 shard channels
  bool add = true;
  std::vector<std::string> names;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, subscription& x) {
  return f(caf::meta::type_name("subscription"), x.kind, x.add, x.names);
}

struct pubsub_delivery {
  uint8_t kind = 0;          // 0 message, 1 pmessage, 2 smessage
  std::string pattern;
  std::string channel;
  std::string message;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pubsub_delivery& x) {
  return f(caf::meta::type_name("pubsub_delivery"), x.kind, x.pattern, x.channel, x.message);
}

struct pubsub_query {
  std::string what;          // channels, numsub, numpat, shardchannels, shardnumsub
  std::vector<std::string> args;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pubsub_query& x) {
  return f(caf::meta::type_name("pubsub_query"), x.what, x.args);
}

struct pubsub_answer {
  std::vector<std::string> names;
  std::vector<int64_t> counts;
  int64_t number = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pubsub_answer& x) {
  return f(caf::meta::type_name("pubsub_answer"), x.names, x.counts, x.number);
}

// ---- Cluster bus: what a gossip_peer hands the cluster actor (one type per body kind), and back.

struct bus_ping {      // PING, PONG, MEET
  uint64_t link = 0;
  protocol::cluster_bus::header hdr;
  protocol::cluster_bus::ping_body body;
};

struct bus_fail {
  uint64_t link = 0;
  protocol::cluster_bus::header hdr;
  protocol::cluster_bus::fail_body body;
};

struct bus_publish {   // PUBLISH, PUBLISHSHARD
  uint64_t link = 0;
  protocol::cluster_bus::header hdr;
  protocol::cluster_bus::publish_body body;
};

struct bus_update {
  uint64_t link = 0;
  protocol::cluster_bus::header hdr;
  protocol::cluster_bus::update_body body;
};

struct bus_control {   // FAILOVER_AUTH_REQUEST/ACK, MFSTART, MODULE and types this node ignores
  uint64_t link = 0;
  protocol::cluster_bus::header hdr;
};

struct bus_error {     // a message the decoder rejected
  uint64_t link = 0;
  uint16_t type = 0;
  std::string why;
  bool fatal = false;
};

// An encoded message for the peer to write (type kept for ACTORS and the statistics).
struct bus_out {
  uint16_t type = 0;
  std::string bytes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bus_ping& x) {
  return f(caf::meta::type_name("bus_ping"), x.link, x.hdr, x.body);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bus_fail& x) {
  return f(caf::meta::type_name("bus_fail"), x.link, x.hdr, x.body);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bus_publish& x) {
  return f(caf::meta::type_name("bus_publish"), x.link, x.hdr, x.body);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bus_update& x) {
  return f(caf::meta::type_name("bus_update"), x.link, x.hdr, x.body);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bus_control& x) {
  return f(caf::meta::type_name("bus_control"), x.link, x.hdr);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bus_error& x) {
  return f(caf::meta::type_name("bus_error"), x.link, x.type, x.why, x.fatal);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bus_out& x) {
  return f(caf::meta::type_name("bus_out"), x.type, x.bytes);
}

// A CLUSTER command for the cluster actor, with what it needs to know about this node's data.
struct cluster_command {
  std::vector<std::string> args;
  uint8_t resp = 2;
  bool has_keys = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_command& x) {
  return f(caf::meta::type_name("cluster_command"), x.args, x.resp, x.has_keys);
}

// The status records of the individual actors (rendered into actor_status::detail).
struct slot_range_status {
  uint32_t index = 0;
  uint32_t loop = 0;   // the I/O loop it runs on (io-threads)
  int first_slot = 0, last_slot = 0;
  uint64_t keys = 0, expires = 0;
  uint64_t batches = 0, commands = 0;
  uint64_t direct_batches = 0;   // of `batches`, run by a connection through its door (no message)
  uint64_t direct_other_loop = 0;   // of those, by a connection of another I/O loop, on that loop's thread
  uint64_t door_waits = 0;       // its runs put off to the loop's next round: a connection was inside
  uint64_t aof_sends = 0;        // messages of effects to the aof_writer (several batches' each, gathered)
  int64_t gather_timer_fired = -1;   // expiries of its timer on the loop (loop_timer); -1: CAF's clock
  bool locked = false;
  std::string lock_holder;
  uint64_t queued_while_locked = 0;
  uint64_t blocked_clients = 0;
  uint64_t watched_keys = 0;
  uint64_t snapshot_id = 0;      // the snapshot it is serializing (0: none)
  uint64_t snapshot_steps = 0;   // steps the rdb_snapshotter took in it, over every snapshot
  uint64_t snapshot_stops = 0;   // of those, cut short because the range wanted its door back
  keyspace::keyspace_stats stats;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slot_range_status& x) {
  return f(caf::meta::type_name("slot_range_status"), x.index, x.loop, x.first_slot, x.last_slot, x.keys, x.expires,
           x.batches, x.direct_batches, x.direct_other_loop, x.door_waits, x.aof_sends, x.gather_timer_fired, x.commands, x.locked, x.lock_holder, x.queued_while_locked, x.blocked_clients,
           x.watched_keys, x.snapshot_id, x.snapshot_steps, x.snapshot_stops, x.stats);
}

struct connection_status {
  keyspace::client_info client;
  uint32_t loop = 0;   // the I/O loop it runs on (io-threads)
  uint64_t commands = 0;
  uint64_t segments = 0;
  uint64_t batches_sent = 0;
  uint64_t batches_direct = 0;   // run through a slot_range's door instead of sent
  uint64_t input_buffer = 0;
  uint64_t output_pending = 0;
  bool busy = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, connection_status& x) {
  return f(caf::meta::type_name("connection_status"), x.client, x.loop, x.commands, x.segments, x.batches_sent, x.batches_direct,
           x.input_buffer, x.output_pending, x.busy);
}

struct listener_status {
  std::string bind;
  uint16_t port = 0;
  uint64_t accepted = 0;
  uint64_t rejected = 0;
  uint64_t connections = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, listener_status& x) {
  return f(caf::meta::type_name("listener_status"), x.bind, x.port, x.accepted, x.rejected, x.connections);
}

struct node_status {
  int64_t pid = 0;
  uint16_t port = 0;
  std::string mode;
  int64_t uptime_s = 0;
  uint32_t slot_ranges = 0;
  std::string config_file;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_status& x) {
  return f(caf::meta::type_name("node_status"), x.pid, x.port, x.mode, x.uptime_s, x.slot_ranges, x.config_file);
}

struct pubsub_status {
  uint64_t channels = 0, patterns = 0, shard_channels = 0, subscribers = 0, published = 0, delivered = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pubsub_status& x) {
  return f(caf::meta::type_name("pubsub_status"), x.channels, x.patterns, x.shard_channels, x.subscribers,
           x.published, x.delivered);
}

struct cluster_status {
  std::string myself;
  std::string state;
  uint64_t current_epoch = 0, my_epoch = 0;
  uint64_t known_nodes = 0, links = 0, slots = 0;
  uint64_t messages_sent = 0, messages_received = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_status& x) {
  return f(caf::meta::type_name("cluster_status"), x.myself, x.state, x.current_epoch, x.my_epoch, x.known_nodes,
           x.links, x.slots, x.messages_sent, x.messages_received);
}

struct gossip_peer_status {
  uint64_t link = 0;
  std::string node;        // the peer's node id, once known
  std::string address;
  bool inbound = false;
  uint64_t received = 0, sent = 0, bytes_in = 0, bytes_out = 0, errors = 0;
  int64_t last_message_ms = 0;
  std::string last_type;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, gossip_peer_status& x) {
  return f(caf::meta::type_name("gossip_peer_status"), x.link, x.node, x.address, x.inbound, x.received, x.sent,
           x.bytes_in, x.bytes_out, x.errors, x.last_message_ms, x.last_type);
}

struct aof_writer_status {
  std::string file;
  std::string fsync_policy;
  uint64_t bytes_written = 0;       // compressed, on disk
  uint64_t bytes_appended = 0;      // RESP before compression
  uint64_t commands = 0, batches = 0, fsyncs = 0, held_replies = 0;
  uint64_t messages = 0;            // aof_effects received (each with one or more numbered batches)
  uint64_t reordered = 0;           // batches that arrived before a lower number and waited for it
  uint64_t waiting = 0;             // batches waiting now
  uint64_t late = 0;                // batches that came after the watchdog went past their number
  uint64_t dropped = 0;             // messages that came after the final flush
  uint64_t held_rounds = 0;         // appendfsync always, one loop: loop rounds of held writes flushed
  uint64_t direct_rounds = 0;       // of those, appended and fsynced on the loop's thread (no message)
  int64_t held_out = 0;             // replies handed over to wait for the disk, not yet released
  int64_t last_fsync_ms = 0;
  int64_t fsync_lag_ms = 0;         // age of the oldest write not yet fsynced
  double compression_ratio = 0;
  std::string last_error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, aof_writer_status& x) {
  return f(caf::meta::type_name("aof_writer_status"), x.file, x.fsync_policy, x.bytes_written, x.bytes_appended,
           x.commands, x.batches, x.fsyncs, x.held_replies, x.messages, x.reordered, x.waiting, x.late, x.dropped, x.held_rounds, x.direct_rounds, x.held_out, x.last_fsync_ms, x.fsync_lag_ms, x.compression_ratio,
           x.last_error);
}

struct rdb_snapshotter_status {
  uint64_t id = 0;
  bool aof_rewrite = false;
  std::string file;
  uint32_t ranges = 0, ranges_done = 0;
  uint64_t keys = 0, bytes = 0;
  uint64_t keys_total = 0;   // keys at the snapshot point, over the slot_ranges heard from so far
  int64_t started_ms = 0;
  uint64_t steps = 0;           // steps taken in the slot_ranges
  uint64_t busy = 0;            // times a range was busy (its door taken or wanted, locked, not begun)
  int64_t last_step_ms = 0;     // when the last step was taken (0: none yet)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rdb_snapshotter_status& x) {
  return f(caf::meta::type_name("rdb_snapshotter_status"), x.id, x.aof_rewrite, x.file, x.ranges, x.ranges_done,
           x.keys, x.bytes, x.keys_total, x.started_ms, x.steps, x.busy, x.last_step_ms);
}

struct inspector_status {
  uint64_t listings = 0;
  uint64_t actors_known = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, inspector_status& x) {
  return f(caf::meta::type_name("inspector_status"), x.listings, x.actors_known);
}

} // namespace troupe::actors

// Inspection of the cluster bus structs (found by ADL in their namespace).
namespace troupe::protocol::cluster_bus {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slot_bitmap& x) {
  return f(caf::meta::type_name("slot_bitmap"), x.bytes);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, header& x) {
  return f(caf::meta::type_name("header"), x.version, x.type, x.port, x.current_epoch, x.config_epoch, x.offset,
           x.sender, x.slots, x.slaveof, x.myip, x.pport, x.cport, x.flags, x.state, x.mflags);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, gossip_entry& x) {
  return f(caf::meta::type_name("gossip_entry"), x.name, x.ping_sent, x.pong_received, x.ip, x.port, x.cport,
           x.flags, x.pport);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ping_extension& x) {
  return f(caf::meta::type_name("ping_extension"), x.type, x.payload);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ping_body& x) {
  return f(caf::meta::type_name("ping_body"), x.gossip, x.extensions);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fail_body& x) {
  return f(caf::meta::type_name("fail_body"), x.node);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, publish_body& x) {
  return f(caf::meta::type_name("publish_body"), x.channel, x.message);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, update_body& x) {
  return f(caf::meta::type_name("update_body"), x.config_epoch, x.node, x.slots);
}

} // namespace troupe::protocol::cluster_bus

// Inspection of the pure types that travel inside messages (found by ADL in their namespace).
namespace troupe::keyspace {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, keyspace_stats& x) {
  return f(caf::meta::type_name("keyspace_stats"), x.hits, x.misses, x.expired, x.dirty, x.expire_cycles,
           x.error_replies);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_info& x) {
  return f(caf::meta::type_name("client_info"), x.id, x.addr, x.laddr, x.fd, x.name, x.created_ms, x.last_ms, x.db,
           x.sub, x.psub, x.ssub, x.multi, x.qbuf, x.qbuf_free, x.argv_mem, x.obl, x.oll, x.omem, x.tot_mem, x.flags,
           x.last_cmd, x.resp, x.lib_name, x.lib_ver);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_filter& x) {
  return f(caf::meta::type_name("client_filter"), x.old_style, x.id, x.addr, x.laddr, x.type, x.user, x.skipme,
           x.maxage);
}

} // namespace troupe::keyspace
