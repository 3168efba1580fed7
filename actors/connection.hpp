// connection: one per client socket, forked by the listener onto the I/O loop. It parses what the
// socket has, routes each command (answered here, batched to the slot_range owning its keys, or run
// under the locks of several slot_ranges), and writes the replies back in order.
#pragma once

#include <deque>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <caf/io/all.hpp>

#include "actors/server.hpp"
#include "keyspace/key_events.hpp"
#include "keyspace/session.hpp"
#include "protocol/command_table.hpp"
#include "protocol/request_parser.hpp"

namespace troupe::actors {

using connection_broker = broker_for<connection_actor>;

struct connection_state {
  static inline const char* name = "connection";

  // A connection that ends without leaving normally (an exception in a handler) must not stay
  // listed as a poller: slot ranges would keep data for it forever.
  ~connection_state() {
    if (polling_counted && srv != nullptr) {
      srv->polls.remove(poll_seq);
      srv->polling_clients.fetch_sub(1, std::memory_order_relaxed);
    }
  }

  server* srv = nullptr;
  caf::io::connection_handle hdl;
  std::string actor_name;
  std::shared_ptr<const routing_table> routing;
  keyspace::session sess;
  keyspace::session_settings sset;
  uint64_t sset_version = ~0ull;
  std::string debug_mode = "no";
  int64_t timeout_s = 0;
  bool stop_writes_on_bgsave_error = false;   // ... and save points configured

  // Input.
  protocol::request_parser parser;
  std::string in;
  size_t pos = 0;
  keyspace::args_t args;
  std::vector<int> keypos;
  // The last command (CLIENT LIST cmd=), copied into sess.info.last_cmd only when it is read.
  const protocol::command_spec* last_spec = nullptr;
  const protocol::command_spec* last_spec_synced = nullptr;
  protocol::command_lookup_cache lookup;

  // The segment being built or in flight: replies go out in `parts` order. A part is a reply from
  // a slot_range (source = its index, index = position in its batch) or a local one (source -1).
  struct part {
    int32_t source;
    uint32_t index;
  };
  uint64_t segment = 1;
  std::vector<part> parts;
  std::vector<command_batch> batches;     // per slot_range
  std::vector<std::vector<std::string_view>> batch_args;   // ... and their arguments (into `in`,
  std::deque<std::string> inline_args;                      // or, for inline commands, into these)
  std::vector<uint32_t> batch_size;       // commands placed per slot_range
  std::vector<uint16_t> used;             // slot_ranges with commands in this segment
  std::vector<reply_batch> replies;       // per slot_range
  size_t outstanding = 0;
  std::string local;
  std::vector<uint32_t> local_ends;

  // A command that must run alone, after the segment before it has completed (multi-actor data
  // commands, INFO, CLIENT LIST ...). Its arguments are copied here.
  bool busy = false;
  bool has_deferred = false;
  std::vector<std::string> deferred;
  int deferred_cmd = -1;
  std::vector<int> deferred_keys;

  // A data command (or EXEC) run here under the locks of several slot_ranges.
  std::vector<uint16_t> lock_targets;
  size_t locks_granted = 0;
  std::unique_ptr<keyspace::events_observer> observer;  // routes touched()/ready() to their slot_range
  // A blocking command sent alone to its slot_range: its reply comes when it is served.
  bool awaiting_blocked = false;
  uint64_t blocked_segment = 0;
  int64_t block_deadline_ms = 0;   // a blocking command polled under several locks
  uint8_t unblock_requested = 0;   // CLIENT UNBLOCK while a poll held locks: 1 timeout, 2 error
  bool polling_counted = false;    // counted in server::polling_clients, listed in server::polls
  uint64_t poll_seq = 0;           // its arrival number there

  // MULTI / EXEC / WATCH.
  bool in_multi = false;
  bool multi_error = false;
  struct queued {
    int cmd;
    std::vector<std::string> args;
  };
  std::vector<queued> multi_queue;
  std::vector<uint16_t> watched_ranges;
  // EXEC in progress: replies in order; async ones (PUBLISH, INFO ...) are filled in after the
  // locked part, one by one.
  bool exec_running = false;
  bool exec_wrote = false;   // an EXEC with asynchronous commands wrote under its locks
  bool aof_always = false;   // appendonly yes and appendfsync always (refresh_settings)
  bool exec_locking = false;
  std::vector<queued> exec_async_queue;
  std::vector<std::string> exec_replies;
  std::vector<size_t> exec_pending;
  size_t exec_next = 0;

  // Pub/sub.
  std::set<std::string> channels, patterns, shard_channels;

  // Cluster mode.
  std::shared_ptr<const protocol::cluster_routing> cluster_routing;
  uint64_t cluster_routing_version = ~0ull;
  std::vector<int> redirect_keys, redirect_slots;   // cluster_redirect's, kept to reuse their allocations
  bool readonly = false;
  bool asking = false;

  bool close_after_flush = false;
  bool closing = false;
  bool halted = false;
  uint64_t pending_output = 0;
  // Bytes asked of each socket read. CAF refills its read buffer to this size after every read
  // (zero-filling it), so it starts small and doubles while reads come back full.
  uint32_t read_size = 4096;
  uint32_t small_reads = 0;
  // Replies go straight to the socket with one send(); only what the kernel does not take is
  // handed to CAF's write buffer (caf_pending until CAF reports it written), keeping order.
  bool caf_pending = false;
  std::string out;

  uint64_t handled = 0, commands = 0, segments = 0, batches_sent = 0;
  uint64_t batches_direct = 0;   // run through a slot_range's door instead of sent
  uint32_t loop = 0;   // the I/O loop this connection runs on
};

using connection_ptr = caf::stateful_actor<connection_state, connection_broker>*;

// Registers the commands connections serve themselves (call once at start).
void register_connection_commands();

// The broker function of a connection, on the socket `hdl` of its loop.
connection_broker::behavior_type connection(connection_ptr self, caf::io::connection_handle hdl, server* srv,
                                            int64_t id);

// Spawns a connection on `mm`'s loop for `fd`, an accepted socket that no loop reads yet (the
// listener hands each one over this way, to its own loop or another).
connection_actor spawn_connection(caf::io::middleman& mm, int fd, server* srv, int64_t id);

} // namespace troupe::actors
