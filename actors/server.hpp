// What the actors of one node share: the configuration, the dataset (each slot_range touches only
// its own slots), the routing of slots to slot_range actors, counters, and the directory of
// actors the inspector walks. Created by main before any actor and outlives them all.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "config/config.hpp"
#include "keyspace/context.hpp"
#include "keyspace/database.hpp"
#include "keyspace/error_stats.hpp"
#include "keyspace/key_events.hpp"
#include "keyspace/session.hpp"
#include "protocol/cluster_routing.hpp"

namespace caf::io {
class middleman;
}

namespace troupe::actors {

// A slot_range's door. Whoever runs the range's code holds it: the range itself for each of its
// runs on its loop (slot_range_broker::resume), or a connection of any I/O loop that runs a batch
// through it while the range is idle (nothing in its mailbox, not locked: run_batch_directly), on
// the connection's own thread. A connection that finds the door taken sends its batch as a
// message; a range that finds it taken raises `wanted`, which keeps connections out until the
// range has had its run on its loop's next round. `range` is set by the range as it starts and
// cleared as it ends, both while holding the door (slot ranges last as long as the process).
// One cache line each: every loop's connections look at it.
struct alignas(64) slot_range_door {
  uint32_t loop = 0;
  std::atomic<void*> range{nullptr};
  std::atomic<bool> taken{false};
  std::atomic<bool> wanted{false};
  bool try_take() {
    return !taken.load(std::memory_order_relaxed) && !taken.exchange(true, std::memory_order_acquire);
  }
  void give_back() { taken.store(false, std::memory_order_release); }
  // Gives a door taken with try_take back as the scope ends.
  struct held {
    slot_range_door& door;
    ~held() { door.give_back(); }
  };
};

// appendfsync always on one I/O loop: the writes of a round of the loop wait here (`held`: each
// batch's numbered effects with its held reply, pushed by the slot ranges as they settle) until a
// function posted to the loop (`round_posted`) runs once the round's sockets are served. That takes
// the aof_writer's door (`m`, which the writer holds for each of its runs on its thread) and, while
// the writer is idle (nothing in its mailbox, no rewrite under way), appends them, writes and fsyncs
// once on the loop's own thread and hands the replies to their connections (flush_held_round), as
// Redis does before its event loop sleeps; the writer busy, they go to it as messages. Only the
// loop's thread touches `held` and `round_posted`. With several loops each batch goes to the writer
// at once: loops would take turns at the door, each blocked in its own fsync while the other waits,
// where the writer's thread makes one fsync for both. `writer` is set by the writer as it starts and
// cleared as it ends, holding `m`.
struct aof_door {
  std::mutex m;
  std::atomic<void*> writer{nullptr};
  std::vector<aof_effects> held;
  bool round_posted = false;
  std::atomic<uint64_t> rounds{0};   // rounds flushed (the writer's status shows them)
};

// Slot -> slot_range actor. Immutable once published.
struct routing_table {
  std::vector<slot_range_actor> ranges;
  std::vector<keyspace::key_events*> events;   // each slot_range's WATCHers and blocked clients
  std::vector<slot_range_door*> doors;          // each slot_range's door (owned by the server)
  std::array<uint16_t, protocol::slot_count> owner{};
};

// The actors that answer ACTORS, by name.
class actor_directory {
public:
  void add(const std::string& name, const std::string& kind, status_handle h);
  void remove(const std::string& name);
  std::vector<std::pair<std::string, status_handle>> snapshot() const;

private:
  mutable std::mutex mutex_;
  std::map<std::string, status_handle> actors_;
};

struct server {
  config::store* cfg = nullptr;
  std::unique_ptr<keyspace::dataset> data;
  std::shared_ptr<const routing_table> routing;
  node_actor node;
  pubsub_actor pubsub;
  cluster_actor cluster;   // cluster mode only
  aof_writer_actor aof;    // appendonly yes only
  aof_door aof_direct;     // the writes of a loop round waiting for its fsync (appendfsync always, one loop)
  // appendfsync always: replies handed to the aof_writer (or to aof_direct) and not yet released.
  // While there are any, a reply with no write of its own waits for the disk too: it may have read
  // a write not yet fsynced (Redis sends no reply before the fsync of the writes before it).
  alignas(64) std::atomic<int64_t> aof_held_out{0};
  // appendfsync always: whether a reply waits for the disk. It does when it comes with writes
  // (`writes`) and, with none of its own, while any write's reply waits (aof_held_out). Whoever
  // holds it adds one to aof_held_out; the aof_writer's release takes it off after the fsync.
  bool reply_waits_for_disk(bool writes) const {
    return writes || aof_held_out.load(std::memory_order_acquire) > 0;
  }
  bool aof_enabled = false;
  bool aof_always = false;           // appendfsync always at start (replies wait for the fsync)
  std::atomic<bool> loading{false};
  std::atomic<uint64_t> loading_loaded{0}, loading_total{0};
  int64_t loading_start_ms = 0;
  // Persistence errors that stop writes (MISCONF), set by the aof_writer / rdb_snapshotter.
  std::atomic<bool> aof_ok{true};
  // Set by the slot_ranges as SHUTDOWN's final snapshot begins: from then on writes are refused
  // (the snapshot could not hold them); cleared if that save fails and the node goes on.
  std::atomic<bool> write_fence{false};
  std::atomic<bool> bgsave_ok{true};
  std::atomic<bool> bgsave_in_progress{false}, aof_rewrite_in_progress{false};
  std::atomic<bool> aof_last_rewrite_ok{true};
  std::atomic<int64_t> rdb_last_bgsave_secs{-1}, aof_last_rewrite_secs{-1};
  std::atomic<uint64_t> rdb_saves{0}, aof_rewrites{0};
  std::atomic<uint64_t> aof_rewrite_failures{0};          // consecutive
  std::atomic<int64_t> bgsave_started_ms{0}, aof_rewrite_started_ms{0};
  std::atomic<uint64_t> save_keys_processed{0}, save_keys_total{0};   // the running snapshot's
  std::atomic<uint64_t> aof_current_size{0}, aof_base_size{0};       // bytes on disk
  std::atomic<uint64_t> loaded_keys{0}, loaded_keys_expired{0};     // by the last load
  std::atomic<bool> aof_rewrite_scheduled{false};
  // Numbers the batches of AOF effects as they settle (aof_segment::seq); the aof_writer appends
  // them in this order. Every number taken must reach the writer, or it waits for it forever.
  alignas(64) std::atomic<uint64_t> aof_seq{1};
  // The next number, for the batch of `source`'s effects ending at command `end`.
  aof_segment number_aof_batch(uint32_t source, uint32_t end, uint64_t rewrite_marker = 0) {
    return {aof_seq.fetch_add(1, std::memory_order_relaxed), source, end, rewrite_marker};
  }
  void set_aof_error(const std::string& e) {
    std::lock_guard<std::mutex> g(persist_mutex);
    aof_error = e;
    aof_ok = e.empty();
  }
  std::string aof_error_text() const {
    std::lock_guard<std::mutex> g(persist_mutex);
    return aof_error;
  }
  mutable std::mutex persist_mutex;
  std::string aof_error;
  // The cluster's slot ownership as connections route by it; replaced whole by the cluster actor
  // (std::atomic_store), with cluster_version bumped so connections notice cheaply.
  std::shared_ptr<const protocol::cluster_routing> cluster_routing;
  std::atomic<uint64_t> cluster_version{0};
  std::atomic<uint64_t> next_link_id{1};
  std::shared_ptr<const protocol::cluster_routing> routing_snapshot() const {
    return std::atomic_load(&cluster_routing);
  }
  void publish_routing(std::shared_ptr<const protocol::cluster_routing> r) {
    std::atomic_store(&cluster_routing, std::move(r));
    cluster_version.fetch_add(1, std::memory_order_release);
  }
  std::vector<std::unique_ptr<keyspace::key_events>> events;
  std::vector<std::unique_ptr<slot_range_door>> doors;
  // The I/O loops (io-threads): loop 0 is the main actor system's middleman, each further loop the
  // middleman of an actor system of its own (CAF 0.17 runs one multiplexer per middleman). Slot
  // range i lives on loop i % N; accepted sockets are dealt to the loops in turn.
  std::vector<caf::io::middleman*> loops;
  std::atomic<uint64_t> next_loop{0};
  // The index of the loop `mm` runs (0 when it is none of them).
  uint32_t loop_of(const caf::io::middleman& mm) const;
  uint32_t loop_of(const caf::node_id& node) const;   // of an actor, by its actor system's node id
  listener_actor listener;
  inspector_actor inspector;
  actor_directory directory;

  // Fixed at start.
  uint16_t port = 6379;
  bool cluster_enabled = false;
  int databases = 16;
  int64_t start_ms = 0;
  std::string run_id;
  std::string executable;

  // Counters (relaxed atomics: read by INFO only).
  std::atomic<uint64_t> total_connections{0};
  std::atomic<uint64_t> connected_clients{0};
  std::atomic<int64_t> polling_clients{0};   // blocked on keys of several slot_ranges (INFO blocked_clients)
  keyspace::poll_registry polls;               // ... and the keys they wait on, by arrival
  std::atomic<uint64_t> block_seq{0};          // arrival numbers of blocked clients
  std::atomic<uint64_t> rejected_connections{0};
  // Counted by the connections on every command and read: one cache line per I/O loop, so that
  // loops on different cores do not contend for it; INFO adds them up.
  struct alignas(64) loop_counters {
    std::atomic<uint64_t> total_commands{0};
    std::atomic<uint64_t> net_input{0};
    std::atomic<uint64_t> net_output{0};
    std::atomic<uint64_t> error_replies{0};
  };
  std::array<loop_counters, 128> per_loop;   // io-threads is at most 128
  keyspace::error_stats errors;              // INFO errorstats, counted where error_replies are
  uint64_t sum(std::atomic<uint64_t> loop_counters::*field) const {
    uint64_t n = 0;
    for (auto& c : per_loop)
      n += (c.*field).load(std::memory_order_relaxed);
    return n;
  }
  // INFO's instantaneous_ops_per_sec, _input_kbps and _output_kbps (per second), sampled by the node.
  std::atomic<uint64_t> inst_ops{0}, inst_input{0}, inst_output{0};
  // INFO's pubsub_channels, pubsub_patterns and pubsubshard_channels, kept by the pubsub actor.
  std::atomic<uint64_t> pubsub_channels{0}, pubsub_patterns{0}, pubsub_shard_channels{0};
  std::atomic<int64_t> next_client_id{3}; // redis-server's first client gets id 3 too
  std::atomic<int64_t> lastsave{0};
  std::atomic<uint64_t> used_memory_peak{0};
  uint64_t used_memory_startup = 0;
  // Written by the node to wake main for shutdown ('S'); signal handlers write 'T' / 'I'.
  int shutdown_pipe = -1;
  std::string pidfile;
  // DEBUG SET-ACTIVE-EXPIRE
  std::atomic<bool> active_expire{true};

  // Settings that change with CONFIG SET, cached with the config version they came from.
  keyspace::session_settings session_settings() const;
  keyspace::keyspace_settings keyspace_settings() const;
};

int64_t now_ms();
int64_t now_us();

} // namespace troupe::actors
