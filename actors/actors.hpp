// How each actor is started. Each actor's behaviour lives in the .cpp named after it.
#pragma once

#include <string>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/io/middleman.hpp>

#include "actors/server.hpp"

namespace troupe::actors {

// On the I/O loop (a broker without a socket), so that connections reach it without a thread hop.
slot_range_actor spawn_slot_range(caf::io::middleman& mm, server& srv, uint32_t index, int first_slot,
                                  int last_slot, keyspace::key_events* events, slot_range_door* door);
// For a connection, from its own handler on I/O loop `loop`: runs `b` (its arguments: `args`) in the
// slot_range at once, on this thread, if the range is idle (its door free, nothing in its mailbox,
// not locked) and nothing in `b` may block. `ready`: `r` holds the reply; `later`: it will come as a
// reply_batch message; `not_run`: send `b` instead, with its arguments copied in.
enum class direct_result { not_run, ready, later };
direct_result run_batch_directly(slot_range_door& door, command_batch& b, const std::string_view* args,
                                 const connection_actor& sender, reply_batch& r, uint32_t loop);
// For the rdb_snapshotter, on its own thread: the next step of snapshot `id` in the slot_range
// behind `door`, taken at once if the range is idle (its door free and not wanted, not locked, the
// snapshot's begin handled), else `busy`: at least `min_keys` keys or `max_bytes` bytes of key
// records (whole slots), fewer when the range wants its door back meanwhile.
struct snapshot_step {
  enum class outcome { busy, stepped, done, gone } what = outcome::busy;
  std::vector<std::pair<int, std::string>> records;   // key records per database, in order
  uint64_t keys = 0;             // serialized so far in this range
  uint64_t total = 0;            // keys the range held at the snapshot point
  uint64_t dirty_at_start = 0;   // the range's change counter at the snapshot point
};
snapshot_step step_snapshot_directly(slot_range_door& door, uint64_t id, size_t min_keys, uint64_t max_bytes);

// appendfsync always, one I/O loop: the held writes of the loop's round (server::aof_direct.held),
// appended, written and fsynced on this thread (the loop's) and their replies handed to their
// connections if the aof_writer is idle; otherwise sent to it as messages.
void flush_held_round(server& srv);

// Binds every address of `bind` (Redis's syntax) on `port`; `what` names the socket in errors.
caf::expected<std::vector<caf::io::doorman_ptr>> bind_all(caf::io::middleman& mm, const std::string& bind,
                                                         uint16_t port, const std::string& what);
// Binds every address of `bind` (Redis's syntax: "* -::*", "127.0.0.1 -::1") on `port`.
caf::expected<listener_actor> spawn_listener(caf::io::middleman& mm, server& srv, const std::string& bind,
                                             uint16_t port);
node_actor spawn_node(caf::actor_system& sys, server& srv);
pubsub_actor spawn_pubsub(caf::io::middleman& mm, server& srv);
// Cluster mode: the cluster actor (loads or creates nodes.conf; nullopt and a message if it can't),
// and the listener on the bus port.
caf::expected<cluster_actor> spawn_cluster(caf::actor_system& sys, server& srv);
caf::expected<bus_listener_actor> spawn_bus_listener(caf::io::middleman& mm, server& srv, const std::string& bind,
                                                     uint16_t port);
// The AOF writer over `path` (opened for appending); `seal` first closes a frame left open.
caf::expected<aof_writer_actor> spawn_aof_writer(caf::actor_system& sys, server& srv, const std::string& path,
                                                 const std::string& seal);
// A snapshot of the whole dataset into `path` (an RDB, or the base of a rewritten AOF); it reports
// to the node (saved_atom) and ends.
rdb_snapshotter_actor spawn_snapshotter(caf::actor_system& sys, server& srv, uint64_t id, const save_request& req,
                                        const std::string& path);
// Loads the AOF or RDB file in the background (srv.loading is true until done), then starts the
// aof_writer when appendonly is on. A corrupt file stops the process, as in Redis.
void start_loading(caf::actor_system& sys, server& srv);
// A gossip_peer over a connected socket (an outbound link to `node`).
gossip_peer_actor spawn_gossip_peer(caf::io::middleman& mm, server& srv, int fd, uint64_t link, std::string node);
inspector_actor spawn_inspector(caf::actor_system& sys, server& srv);

// Fills an actor_status with what every actor reports.
template <class Self, class Detail>
actor_status make_status(Self* self, const std::string& name, const char* kind, uint64_t handled,
                         std::string summary, Detail detail);

} // namespace troupe::actors
