// The node's view of a Redis Cluster as a pure model, with Redis 7.0's text formats: nodes.conf
// (read and written exactly as redis-server 7.0 does, so either can load the other's file),
// CLUSTER NODES, CLUSTER INFO, and the data behind CLUSTER SLOTS and CLUSTER SHARDS.
//
// Pure C++17 (std + fmt); no clocks (times are passed in, milliseconds since the epoch), no
// sockets, no RESP. The `cluster` actor owns one cluster_state and runs the protocol logic on it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace troupe::config {

constexpr int cluster_slots = 16384;
constexpr std::size_t cluster_node_id_length = 40;
constexpr int cluster_port_incr = 10000;           // default bus port = port + 10000
constexpr int64_t cluster_blacklist_ttl_ms = 60000;  // CLUSTER FORGET keeps a node out this long
constexpr int cluster_fail_report_validity_mult = 2; // reports older than 2 * node timeout expire
constexpr int64_t cluster_writable_delay_ms = 2000;  // see cluster_state::update_state
constexpr int64_t cluster_min_rejoin_delay_ms = 500;
constexpr int64_t cluster_max_rejoin_delay_ms = 5000;

// Node flags, with the numeric values the cluster bus carries (so they copy to and from the wire).
namespace cluster_flag {
constexpr uint16_t master = 1;
constexpr uint16_t slave = 2;
constexpr uint16_t pfail = 4;
constexpr uint16_t fail = 8;
constexpr uint16_t myself = 16;
constexpr uint16_t handshake = 32;
constexpr uint16_t noaddr = 64;
constexpr uint16_t meet = 128;
constexpr uint16_t migrate_to = 256;
constexpr uint16_t nofailover = 512;
} // namespace cluster_flag

// Flags as CLUSTER NODES writes them: "myself,master", "slave", "master,fail?", "noflags", ...
// (meet and migrate_to are never shown).
std::string cluster_flags_text(uint16_t flags);

struct cluster_failure_report {
  std::string reporter;  // id of the master that reported the node as PFAIL/FAIL
  int64_t time = 0;      // ms, last time it said so
};

struct cluster_node {
  std::string id;               // 40 characters [a-z0-9] (Redis ids are hex)
  std::string ip;               // "" while unknown
  int port = 0;                 // client port (the TLS port on a TLS cluster)
  int cport = 0;                // cluster bus port
  int pport = 0;                // plaintext client port on a TLS cluster, else 0
  std::string hostname;         // announced hostname, "" if none
  uint16_t flags = 0;           // cluster_flag bits
  std::string master_id;        // "" unless a replica whose master is known
  uint64_t config_epoch = 0;
  int64_t ctime = 0;            // when this record was created (handshake timeouts)
  int64_t ping_sent = 0;        // ms; 0 = no ping pending
  int64_t pong_received = 0;    // ms
  int64_t data_received = 0;    // ms, any bus traffic
  int64_t fail_time = 0;        // ms, when FAIL was set
  int64_t voted_time = 0;       // ms, last vote given for a replica of this master
  int64_t repl_offset_time = 0;
  int64_t orphaned_time = 0;
  int64_t repl_offset = 0;      // from the bus header's offset
  bool link = false;            // outbound bus link up ("connected" in CLUSTER NODES)
  bool inbound_link = false;    // inbound bus link attached
  std::string shard_id;         // Troupe's; Redis 7.0 has no shard ids (not in nodes.conf)
  std::vector<cluster_failure_report> failure_reports;

  bool has(uint16_t f) const { return (flags & f) != 0; }
  bool is_master() const { return has(cluster_flag::master); }
  bool is_slave() const { return has(cluster_flag::slave); }
  bool is_myself() const { return has(cluster_flag::myself); }
  bool in_handshake() const { return has(cluster_flag::handshake); }
  bool failed() const { return has(cluster_flag::fail); }
  bool timed_out() const { return has(cluster_flag::pfail); }
};

// 40 random lowercase hex characters (node ids, shard ids), from std::random_device.
std::string random_node_id();
// What Redis accepts as a node id: exactly 40 characters of [a-z0-9].
bool valid_node_id(std::string_view id);

// Messages sent and received per bus message type (index = type 0..10), for CLUSTER INFO.
struct cluster_bus_stats {
  std::array<uint64_t, 11> sent{};
  std::array<uint64_t, 11> received{};
  uint64_t links_buffer_limit_exceeded = 0;
};

// cluster-preferred-endpoint-type.
enum class cluster_endpoint_type { ip, hostname, unknown_endpoint };

struct cluster_reply_options {
  cluster_endpoint_type preferred = cluster_endpoint_type::ip;
  bool tls_cluster = false;  // tls-cluster yes: `port` is the TLS port, `pport` the plain one
  bool use_pport = false;    // CLUSTER SLOTS: report pport (when known) to a plain client
  int64_t my_repl_offset = 0;  // myself's replication offset (Redis does not keep it in the node)
};

// One node of a CLUSTER SLOTS range: reply as [endpoint, port, id, {metadata...}].
struct cluster_slots_node {
  std::optional<std::string> endpoint;  // nullopt = RESP null (unknown-endpoint)
  int port = 0;
  std::string id;
  std::vector<std::pair<std::string, std::string>> metadata;  // a map, in this order
};

// One CLUSTER SLOTS element: [start, end, master, replica...].
struct cluster_slots_range {
  int start = 0;
  int end = 0;
  std::vector<cluster_slots_node> nodes;  // master first, then available replicas
};

// One node of a CLUSTER SHARDS shard, a map written in this order: "id", "port" (only when not 0),
// "tls-port" (only when not 0), "ip", "endpoint", "hostname" (only when not empty), "role",
// "replication-offset" (integer), "health".
struct cluster_shard_node {
  std::string id;
  int port = 0;
  int tls_port = 0;
  std::string ip;
  std::string endpoint;
  std::string hostname;
  std::string role;    // "master" | "replica"
  int64_t replication_offset = 0;
  std::string health;  // "online" | "fail" | "loading"
};

// One CLUSTER SHARDS element: {"slots": [start, end, start, end...], "nodes": [...]}.
struct cluster_shard {
  std::vector<int> slots;
  std::vector<cluster_shard_node> nodes;  // the master, then its replicas
};

// Outcome of reading nodes.conf.
struct cluster_load_result {
  enum class status {
    loaded,   // the state was read
    missing,  // no file: start a new cluster config (Redis then writes one)
    empty,    // zero-length file: likewise
    error,    // unreadable or corrupt: Redis logs and exits
  };
  status what = status::error;
  std::string error;                  // for status::error: what is wrong and on which line
  std::vector<std::string> warnings;  // e.g. "Skipping unknown cluster config variable 'x'"
};

class cluster_state {
public:
  cluster_state() = default;

  // A new cluster of one: a myself node with a random id, flags myself|master, and a shard id.
  static cluster_state create(std::string ip, int port, int cport, int64_t now);

  // ---- epochs and the overall state (public: the actor sets them as the protocol dictates)
  uint64_t current_epoch = 0;
  uint64_t last_vote_epoch = 0;

  // ---- nodes ---------------------------------------------------------------------------------
  // In the order they were added (CLUSTER NODES and nodes.conf list them in this order).
  const std::vector<cluster_node>& nodes() const { return nodes_; }
  std::size_t size() const { return nodes_.size(); }  // cluster_known_nodes
  const cluster_node* find(std::string_view id) const;
  // For changing a node's fields. Do not change `id` this way (use rename_node), and change
  // `master_id` through set_replica_of / set_as_master.
  cluster_node* find(std::string_view id);
  const cluster_node* myself() const;
  cluster_node* myself();

  // Adds a node. Fails (false) if the id is taken or not valid_node_id. A node with the
  // myself flag becomes myself (only one may). A non-empty master_id must name a known node.
  bool add_node(cluster_node node);
  // Removes a node as Redis's clusterDelNode does: its slots become unassigned, migrations to or
  // from it are closed, failure reports it made are dropped, its replicas lose their master_id.
  // Myself cannot be forgotten.
  bool forget_node(std::string_view id);
  // Gives a node its real id (the handshake node learns it from the first PONG). References
  // (slots, replicas' master_id, failure reports) follow. False if `to` is taken or invalid.
  bool rename_node(std::string_view from, std::string_view to);

  // CLUSTER MEET: adds a node with a random id, flags handshake|meet, at ip:port@cport (ip is
  // normalized, "::ffff:1.2.3.4" style text included). Returns the new id; std::nullopt when the
  // address is not valid ("EINVAL") or a handshake with that address is already running.
  std::optional<std::string> start_handshake(std::string_view ip, int port, int cport,
                                             int64_t now);
  bool handshake_in_progress(std::string_view ip, int port, int cport) const;

  // Roles. set_replica_of also takes the master's shard id; it flags the master migrate_to (as
  // Redis does once a master has replicas) and clears it from a previous master left with none.
  bool set_replica_of(std::string_view replica, std::string_view master);
  // Makes a node a master (flags master, not slave; master_id cleared). A former replica other
  // than myself gets migrate_to, as in Redis.
  bool set_as_master(std::string_view id);
  // The replicas whose master_id is `master`, in node order.
  std::vector<const cluster_node*> replicas_of(std::string_view master) const;

  // CLUSTER FORGET's ban list: gossip must not re-add these ids until the ban expires.
  void blacklist_add(std::string_view id, int64_t now);
  bool blacklisted(std::string_view id, int64_t now);

  // ---- slots ---------------------------------------------------------------------------------
  const cluster_node* slot_owner(int slot) const;
  // Assigns an unassigned slot (clusterAddSlot). False if assigned already or the node unknown.
  bool assign_slot(int slot, std::string_view id);
  // Assigns regardless of the current owner (SETSLOT NODE, a newer configEpoch's claim).
  bool set_slot_owner(int slot, std::string_view id);
  // False if the slot was not assigned.
  bool unassign_slot(int slot);
  // Unassigns every slot of the node; returns how many.
  int unassign_all(std::string_view id);
  // CLUSTER ADDSLOTS / ADDSLOTSRANGE applied to `id`: all or nothing. Returns "" or Redis's error
  // text without "-": "ERR Invalid or out of range slot", "ERR Slot 5 is already busy",
  // "ERR Slot 5 specified multiple times". An importing state on an added slot is cleared.
  std::string add_slots(std::string_view id, const std::vector<int>& slots);
  // CLUSTER DELSLOTS / DELSLOTSRANGE: "" or "ERR Slot 5 is already unassigned", ...
  std::string del_slots(const std::vector<int>& slots);
  int slot_count(std::string_view id) const;
  // The node's slots as inclusive ranges, ascending.
  std::vector<std::pair<int, int>> slot_ranges(std::string_view id) const;
  // The node's slots as the bus's 2048-byte bitmap (slot s = bit s & 7 of byte s / 8).
  std::array<uint8_t, cluster_slots / 8> slot_bitmap(std::string_view id) const;

  // MIGRATING / IMPORTING (empty id clears). False for a bad slot or an unknown node.
  bool set_migrating(int slot, std::string_view to);
  bool set_importing(int slot, std::string_view from);
  const cluster_node* migrating_to(int slot) const;
  const cluster_node* importing_from(int slot) const;
  void clear_migrations();  // clusterCloseAllSlots

  // ---- failure reports -----------------------------------------------------------------------
  // Records that `reporter` sees `failing` as PFAIL/FAIL at `now`. True if the report is new,
  // false if an existing one was refreshed (or a node is unknown).
  bool add_failure_report(std::string_view failing, std::string_view reporter, int64_t now);
  // Drops the report of `reporter` on `failing` (gossip says the node is fine); also expires old
  // reports as Redis does. True if there was one.
  bool remove_failure_report(std::string_view failing, std::string_view reporter, int64_t now,
                             int64_t node_timeout);
  // Expires reports older than node_timeout * 2, then counts them.
  int failure_report_count(std::string_view failing, int64_t now, int64_t node_timeout);

  // ---- cluster state -------------------------------------------------------------------------
  struct health {
    bool ok = false;
    int size = 0;               // masters serving at least one slot
    int reachable_masters = 0;  // ... and neither PFAIL nor FAIL
  };
  // The state rule alone: fail when a slot is unassigned or served by a FAIL node (with
  // require_full_coverage), or when fewer than size/2+1 slot-serving masters are reachable.
  health evaluate(bool require_full_coverage) const;
  // Redis's clusterUpdateState: applies evaluate(), holding a master in "fail" for 2 s after the
  // first call (cluster_writable_delay_ms) and, after it was in a minority, for the rejoin delay
  // (node_timeout clamped to 0.5 .. 5 s). Updates cluster_size. True if the state changed.
  bool update_state(int64_t now, int64_t node_timeout, bool require_full_coverage);
  bool state_ok() const { return state_ok_; }
  void set_state_ok(bool ok) { state_ok_ = ok; }
  int cluster_size() const { return size_; }
  // cluster_my_epoch: myself's configEpoch, or its master's when myself is a replica.
  uint64_t my_epoch() const;
  // The greatest configEpoch of any node, or currentEpoch if greater (clusterGetMaxEpoch).
  uint64_t max_epoch() const;

  // ---- text formats --------------------------------------------------------------------------
  // CLUSTER NODES: one line per node, each ending in "\n". With include_handshake false, handshake
  // nodes are left out (as nodes.conf does). use_pport prints pport instead of port when known.
  std::string nodes_text(bool include_handshake = true, bool use_pport = false) const;
  // One node's line, without the newline.
  std::string node_line(const cluster_node& node, bool use_pport = false) const;
  // nodes.conf: the CLUSTER NODES lines (handshake nodes left out) and
  // "vars currentEpoch <n> lastVoteEpoch <m>\n".
  std::string nodes_conf() const;
  // Reads nodes.conf text as Redis 7.0's clusterLoadConfig does. On success *this holds the
  // loaded state (a failed load leaves *this unchanged). `now` stands in for the times Redis sets
  // at load: a non-zero ping_sent / pong_received becomes `now`, a "fail" flag sets fail_time.
  // Links start down. Replicas' configEpoch is read as 0 (the file shows their master's).
  // currentEpoch is raised to the greatest configEpoch. Nodes get shard ids (replicas share their
  // master's). Text that is only blank lines gives status::empty.
  cluster_load_result load_nodes_conf(std::string_view text, int64_t now);

  // CLUSTER INFO text, lines ending in "\r\n", fields as Redis 7.0.15 prints them.
  std::string info_text(const cluster_bus_stats& stats) const;
  // CLUSTER SLOTS: one entry per run of consecutive slots with the same owner.
  std::vector<cluster_slots_range> slots_reply(const cluster_reply_options& opt = {}) const;
  // CLUSTER SHARDS: one entry per master (in node order), with or without slots.
  std::vector<cluster_shard> shards_reply(const cluster_reply_options& opt = {}) const;

private:
  int index_of(std::string_view id) const;
  void reindex();
  void own(int slot, int idx);  // owner_ and nslots_ together
  void remove_replica_link(int replica);
  std::vector<int> replica_indexes(int master) const;
  std::string endpoint_of(const cluster_node& n, cluster_endpoint_type t) const;

  std::vector<cluster_node> nodes_;
  std::unordered_map<std::string, int> by_id_;
  int myself_ = -1;
  // Node index per slot, -1 = none.
  std::vector<int> owner_ = std::vector<int>(cluster_slots, -1);
  std::vector<int> nslots_;  // slots owned, per node index
  std::vector<int> migrating_ = std::vector<int>(cluster_slots, -1);
  std::vector<int> importing_ = std::vector<int>(cluster_slots, -1);
  std::unordered_map<std::string, int64_t> blacklist_;
  bool state_ok_ = false;  // Redis starts in "fail"
  int size_ = 0;
  int64_t first_update_ = 0;
  int64_t among_minority_time_ = 0;
};

// Writes nodes.conf atomically: a temporary file in the same directory, fsync, rename over
// `path`, fsync of the directory. Returns "" or the error (strerror text with the step).
// Note: Redis itself rewrites the file in place (and keeps an flock on it); a lock taken on the
// old file does not follow a rename.
std::string save_nodes_conf(const std::string& path, std::string_view content);
// Reads the file and loads it into `state` (status::missing when it does not exist).
cluster_load_result load_nodes_conf_file(const std::string& path, int64_t now,
                                         cluster_state& state);

} // namespace troupe::config
