// Redis Cluster's protocol, as a pure class: what a node does on each bus message, on its 100 ms
// cron and on each CLUSTER command, applied to config::cluster_state and expressed as effects
// (messages to send, links to open or close, the config to save, routing to republish). No CAF,
// no sockets, no clock: the `cluster` actor feeds it events and carries out its effects (unit
// tests drive a few engines wired to each other instead).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "config/cluster_state.hpp"
#include <string_view>
#include "protocol/cluster_bus.hpp"
#include "protocol/cluster_routing.hpp"
#include "protocol/resp_writer.hpp"

namespace troupe::config {

namespace cb = protocol::cluster_bus;

struct cluster_settings {
  int64_t node_timeout = 15000;
  bool require_full_coverage = true;
  bool allow_reads_when_down = false;
  bool allow_pubsubshard_when_down = true;
  bool replica_no_failover = false;
  std::string announce_ip;       // cluster-announce-ip ("" = learn it from MEETs)
  std::string hostname;          // cluster-announce-hostname
  int port = 6379;               // client port (cluster-announce-port when set)
  int cport = 16379;             // bus port (cluster-announce-bus-port when set)
  std::string config_file;       // nodes.conf path
  config::cluster_endpoint_type preferred = config::cluster_endpoint_type::ip;
};

using link_id = uint64_t;

// What the engine asks its actor to do; drained after every call.
struct cluster_effects {
  struct send {
    link_id link;
    std::string bytes;
    uint16_t type;
  };
  struct connect {
    std::string node;
    std::string ip;
    int cport;
  };
  struct publish {
    std::string channel, message;
    bool shard;
  };
  std::vector<send> sends;
  std::vector<connect> connects;
  std::vector<link_id> closes;
  std::vector<publish> publishes;     // PUBLISH from the bus, for local subscribers
  std::vector<std::pair<int, std::string>> logs;  // (0 debug .. 3 warning, text)
  bool save_config = false;
  bool routing_changed = false;
};

class cluster_engine {
public:
  cluster_engine(cluster_settings settings, config::cluster_state state);

  // ---- links (an outbound link belongs to the node we connected to; an inbound one names its
  // sender once it speaks) --------------------------------------------------------------------
  void outbound_up(link_id link, const std::string& node, int64_t now);
  void outbound_failed(const std::string& node, int64_t now);
  void inbound_up(link_id link, std::string peer_ip, std::string local_ip, int64_t now);
  void link_down(link_id link, int64_t now);

  // ---- events ----------------------------------------------------------------------------------
  void on_message(link_id link, const cb::message& msg, int64_t now);
  // A message the decoder rejected (counted as received, as Redis counts before validating).
  void on_bad_message(link_id link, uint16_t type, const std::string& why, bool fatal);
  void cron(int64_t now);

  // ---- CLUSTER commands (args[0] == "cluster"), answered into `w`. `keys_in_db0`: whether this
  // node holds keys (CLUSTER RESET, REPLICATE and redis-cli check that).
  void command(const std::vector<std::string_view>& args, protocol::resp_writer& w, int64_t now, bool has_keys);
  // PUBLISH / SPUBLISH from a local client: sent to the other nodes (all, or the slot's shard).
  void propagate_publish(const std::string& channel, const std::string& message, bool shard, int64_t now);

  std::shared_ptr<const protocol::cluster_routing> routing() const;
  const config::cluster_state& state() const { return state_; }
  const cluster_settings& settings() const { return settings_; }
  void update_settings(const cluster_settings& s) { settings_ = s; }
  cluster_effects take_effects();
  const config::cluster_bus_stats& stats() const { return stats_; }
  // ACTORS: each link's node, direction and figures.
  struct link_info {
    link_id id;
    std::string node;
    bool inbound;
    int64_t since;
    uint64_t sent, received;
  };
  std::vector<link_info> links() const;

private:
  struct link_state {
    std::string node;       // outbound: the node; inbound: the sender, once known
    bool inbound = false;
    std::string peer_ip;    // inbound: the socket's peer address
    std::string local_ip;
    int64_t ctime = 0;
    uint64_t sent = 0, received = 0;
  };

  void log(int level, std::string text) { effects_.logs.emplace_back(level, std::move(text)); }
  void save() { effects_.save_config = true; }
  void changed() {
    effects_.save_config = true;
    effects_.routing_changed = true;
  }
  void send(link_id link, cb::message msg);
  cb::header my_header(cb::message_type type) const;
  cb::message build_ping(cb::message_type type, int64_t now);
  void send_ping(link_id link, cb::message_type type, int64_t now);
  void broadcast(const cb::message& msg);
  std::optional<link_id> link_of(const std::string& node) const;
  config::cluster_node* sender_of(const link_state& l, const cb::header& h);

  void process_ping_like(link_id id, link_state& l, const cb::message& msg, int64_t now);
  void process_gossip(config::cluster_node* sender, const cb::ping_body& body, int64_t now);
  void update_slots_config(config::cluster_node& sender, uint64_t sender_epoch, const cb::slot_bitmap& slots);
  void handle_epoch_collision(const config::cluster_node& sender);
  void mark_failing_if_needed(config::cluster_node& node, int64_t now);
  void clear_failure_if_needed(config::cluster_node& node, int64_t now);
  void send_fail(const std::string& node);
  void send_update(link_id link, const config::cluster_node& owner);
  void vote_if_needed(link_id link, const cb::header& h, config::cluster_node* sender, int64_t now);
  void forget_node(const std::string& id);
  void update_state(int64_t now);
  config::cluster_node& me() { return *state_.myself(); }

  cluster_settings settings_;
  config::cluster_state state_;
  cluster_effects effects_;
  config::cluster_bus_stats stats_;
  std::map<link_id, link_state> links_;
  std::map<std::string, link_id> outbound_;   // node -> its outbound link
  std::map<std::string, int64_t> connecting_; // node -> when we asked to connect
  uint64_t iteration_ = 0;
  std::mt19937_64 rng_{std::random_device{}()};
  bool state_dirty_ = true;
};

} // namespace troupe::config
