// Every actor interface of a Troupe node, in one place (see ARCHITECTURE.md, "The actors").
#pragma once

#include <cstdint>
#include <vector>

#include <caf/io/system_messages.hpp>
#include <caf/io/typed_broker.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/messages.hpp"

namespace troupe::actors {

// The broker type of an actor declared below that runs on an I/O loop (the same signatures).
template <class Actor>
struct broker_of;
template <class... Sigs>
struct broker_of<caf::typed_actor<Sigs...>> {
  using type = caf::io::typed_broker<Sigs...>;
};
template <class Actor>
using broker_for = typename broker_of<Actor>::type;

// What every actor answers; the inspector holds its peers as this.
using status_handle = caf::typed_actor<caf::replies_to<status_atom>::with<actor_status>>;

// slot_range: owns the keys of a run of hash slots and executes the batches sent to it.
using slot_range_actor = caf::typed_actor<
  caf::reacts_to<command_batch>,
  caf::reacts_to<lock_atom, uint64_t>,                    // lock for a multi-actor command
  caf::reacts_to<unlock_atom, keyspace::keyspace_stats>,  // release, with the command's counters
  caf::replies_to<stats_atom>::with<slot_range_report>,
  caf::reacts_to<reset_atom>,                             // CONFIG RESETSTAT
  caf::reacts_to<saved_atom, uint64_t>,                   // a save of its data from this many changes on
  caf::reacts_to<expire_atom>,                            // active expiry tick
  caf::reacts_to<unwatch_atom, int64_t>,                  // UNWATCH / DISCARD / disconnect of a client
  caf::reacts_to<btimeout_atom, uint64_t>,                // a blocked client's timeout
  caf::reacts_to<unblock_atom, int64_t, bool>,            // CLIENT UNBLOCK of a client (true: ERROR)
  caf::reacts_to<recheck_atom>,                           // a poller left: serve what waited for it
  caf::reacts_to<snapshot_begin>,                         // start serializing for a snapshot
  caf::reacts_to<gather_atom>,                            // send the AOF effects gathered so far
  caf::replies_to<flush_atom>::with<bool>,                // shutdown: send them now, then answer
  caf::reacts_to<released_replies>,                       // hand fsynced replies to this loop's connections
  caf::replies_to<status_atom>::with<actor_status>>;

// connection: one per client socket. What the socket reads reaches it through its direct_scribe
// (a call, not a new_data_msg).
using connection_actor = caf::typed_actor<
  caf::reacts_to<caf::io::connection_closed_msg>,
  caf::reacts_to<caf::io::data_transferred_msg>,
  caf::reacts_to<reply_batch>,
  caf::reacts_to<locked_atom, uint32_t>,
  caf::replies_to<clients_atom>::with<keyspace::client_info>,
  caf::replies_to<kill_atom, kill_request>::with<bool>,
  caf::reacts_to<timeout_atom>,                           // idle-timeout tick
  caf::reacts_to<btimeout_atom, uint64_t>,                // retry a blocking command (several slot ranges)
  caf::reacts_to<pubsub_delivery>,
  caf::replies_to<status_atom>::with<actor_status>>;

// listener: the client port; forks a connection per accepted socket.
using listener_actor = caf::typed_actor<
  caf::reacts_to<caf::io::new_connection_msg>,
  caf::reacts_to<caf::io::acceptor_closed_msg>,
  caf::replies_to<clients_atom>::with<std::vector<keyspace::client_info>>,
  caf::replies_to<kill_atom, kill_request>::with<int64_t>,
  caf::replies_to<status_atom>::with<actor_status>>;

// pubsub: channel and pattern subscriptions; delivers PUBLISH to subscribers.
using pubsub_actor = caf::typed_actor<
  caf::reacts_to<subscribe_atom, subscription>,           // from a connection
  caf::replies_to<publish_atom, std::string, std::string, bool>::with<int64_t>,  // channel, message, shard
  caf::replies_to<pubsub_query>::with<pubsub_answer>,
  caf::replies_to<status_atom>::with<actor_status>>;

// gossip_peer: one per cluster bus link; frames and decodes, the cluster actor decides.
using gossip_peer_actor = caf::typed_actor<
  caf::reacts_to<caf::io::new_data_msg>,
  caf::reacts_to<caf::io::connection_closed_msg>,
  caf::reacts_to<bus_out>,
  caf::reacts_to<close_atom>,
  caf::replies_to<status_atom>::with<actor_status>>;

// cluster: the node's view of the cluster, the bus protocol, CLUSTER commands.
using cluster_actor = caf::typed_actor<
  caf::reacts_to<bus_ping>, caf::reacts_to<bus_fail>, caf::reacts_to<bus_publish>, caf::reacts_to<bus_update>,
  caf::reacts_to<bus_control>, caf::reacts_to<bus_error>,
  caf::reacts_to<link_up_atom, uint64_t, std::string, gossip_peer_actor>,       // outbound: link, node
  caf::reacts_to<link_up_atom, uint64_t, std::string, std::string, gossip_peer_actor>,  // inbound: peer ip, local ip
  caf::reacts_to<link_failed_atom, std::string>,                               // could not connect to node
  caf::reacts_to<link_down_atom, uint64_t>,
  caf::reacts_to<cron_atom>,
  caf::replies_to<cluster_command>::with<std::string>,
  caf::reacts_to<publish_atom, std::string, std::string, bool>,                // propagate a local PUBLISH
  caf::replies_to<status_atom>::with<actor_status>>;

// bus_listener: the cluster bus port; forks an inbound gossip_peer per accepted link.
using bus_listener_actor = caf::typed_actor<
  caf::reacts_to<caf::io::new_connection_msg>,
  caf::reacts_to<caf::io::acceptor_closed_msg>,
  caf::replies_to<status_atom>::with<actor_status>>;

// aof_writer: the LZ4 append-only file; fsync per policy; group commit for appendfsync always.
using aof_writer_actor = caf::typed_actor<
  caf::reacts_to<aof_effects>,
  caf::reacts_to<sync_atom>,                               // the group commit point
  caf::reacts_to<everysec_atom>,                           // appendfsync everysec tick
  caf::replies_to<flush_atom>::with<std::string>,          // shutdown: close the frame, fsync ("" or error)
  caf::reacts_to<rewrite_atom, uint64_t, uint32_t>,        // a rewrite starts: buffer what follows the markers
  caf::replies_to<switch_atom, uint64_t, std::string>::with<std::string>,  // rewrite base written: switch
  caf::reacts_to<abort_atom, uint64_t>,                    // the rewrite failed: stop buffering
  caf::replies_to<status_atom>::with<actor_status>>;

// rdb_snapshotter: one per snapshot; writes the chunks slot_ranges send into an RDB (or AOF base).
using rdb_snapshotter_actor = caf::typed_actor<
  caf::reacts_to<locked_atom, uint32_t>,
  caf::reacts_to<step_atom>,                 // the next round of steps
  caf::replies_to<status_atom>::with<actor_status>>;

// node: start-up order, shutdown, snapshots (SAVE, BGSAVE, BGREWRITEAOF, save points).
using node_actor = caf::typed_actor<
  caf::replies_to<shutdown_atom, shutdown_request>::with<std::string>,   // "" once the process exits
  caf::replies_to<save_request>::with<std::string>,                       // the reply for the client
  caf::reacts_to<saved_atom, save_result>,                                // from an rdb_snapshotter
  caf::reacts_to<begun_atom, uint64_t>,                                   // a snapshot's point is taken
  caf::reacts_to<cron_atom>,                                              // save points, once a second
  caf::reacts_to<sample_atom>,                                            // INFO's instantaneous_*, 10 a second
  caf::replies_to<status_atom>::with<actor_status>>;

// inspector: asks every registered actor for its status.
using inspector_actor = caf::typed_actor<
  caf::replies_to<actors_atom>::with<std::vector<actor_status>>,
  caf::replies_to<status_atom>::with<actor_status>>;

} // namespace troupe::actors
