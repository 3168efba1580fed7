// cluster: the node's view of the cluster. Feeds the bus messages its gossip_peers decode, its
// 100 ms cron and CLUSTER commands to the cluster_engine, and carries out what the engine asks:
// messages to peers, links to open and close, nodes.conf to save, routing to republish.
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/actors.hpp"
#include "config/cluster_engine.hpp"
#include "actors/status.hpp"
#include "config/log.hpp"

namespace troupe::actors {

namespace cb = protocol::cluster_bus;

namespace {

struct cluster_state_holder {
  static inline const char* name = "cluster";
  server* srv = nullptr;
  std::unique_ptr<config::cluster_engine> engine;
  std::map<uint64_t, gossip_peer_actor> peers;
  uint64_t handled = 0;
  uint64_t settings_version = ~0ull;
};

using self_ptr = cluster_actor::stateful_pointer<cluster_state_holder>;

// A non-blocking connect with a timeout; -1 on failure.
int connect_to(const std::string& host, int port, int timeout_ms) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0)
    return -1;
  int fd = -1;
  for (addrinfo* ai = res; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
      continue;
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = poll(&p, 1, timeout_ms) == 1 ? 0 : -1;
      int err = 0;
      socklen_t len = sizeof(err);
      if (rc == 0 && (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0))
        rc = -1;
    }
    if (rc != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  return fd;
}

config::cluster_settings read_settings(server& srv) {
  auto& cfg = *srv.cfg;
  config::cluster_settings s;
  s.node_timeout = cfg.get_int("cluster-node-timeout");
  s.require_full_coverage = cfg.get_bool("cluster-require-full-coverage");
  s.allow_reads_when_down = cfg.get_bool("cluster-allow-reads-when-down");
  s.allow_pubsubshard_when_down = cfg.get_bool("cluster-allow-pubsubshard-when-down");
  s.replica_no_failover = cfg.get_bool("cluster-replica-no-failover");
  s.announce_ip = cfg.get_string("cluster-announce-ip");
  s.hostname = cfg.get_string("cluster-announce-hostname");
  int announce_port = static_cast<int>(cfg.get_int("cluster-announce-port"));
  s.port = announce_port ? announce_port : srv.port;
  int bus_port = static_cast<int>(cfg.get_int("cluster-port"));
  int announce_bus = static_cast<int>(cfg.get_int("cluster-announce-bus-port"));
  s.cport = announce_bus ? announce_bus : (bus_port ? bus_port : srv.port + config::cluster_port_incr);
  s.config_file = cfg.get_string("cluster-config-file");
  std::string pref = cfg.get_string("cluster-preferred-endpoint-type");
  s.preferred = pref == "hostname" ? config::cluster_endpoint_type::hostname
                : pref == "unknown-endpoint" ? config::cluster_endpoint_type::unknown_endpoint
                                             : config::cluster_endpoint_type::ip;
  return s;
}

void apply(self_ptr self) {
  auto& st = self->state;
  auto e = st.engine->take_effects();
  for (auto& [level, text] : e.logs)
    config::logger::instance().log(static_cast<config::log_level>(level), text);
  for (auto& s : e.sends) {
    auto it = st.peers.find(s.link);
    if (it != st.peers.end())
      self->send(it->second, bus_out{s.type, std::move(s.bytes)});
  }
  for (auto link : e.closes) {
    auto it = st.peers.find(link);
    if (it != st.peers.end()) {
      self->send(it->second, close_atom::value);
      st.peers.erase(it);
    }
  }
  for (auto& c : e.connects) {
    server* srv = st.srv;
    uint64_t link = srv->next_link_id.fetch_add(1);
    int timeout = static_cast<int>(std::clamp<int64_t>(st.engine->settings().node_timeout / 2, 200, 2000));
    auto& mm = self->home_system().middleman();
    // The connect may take long (a dead address): it runs on a thread of its own.
    self->home_system().spawn<caf::detached>([=, &mm] {
      int fd = connect_to(c.ip, c.cport, timeout);
      if (fd < 0)
        caf::anon_send(srv->cluster, link_failed_atom::value, c.node);
      else
        spawn_gossip_peer(mm, *srv, fd, link, c.node);
    });
  }
  for (auto& p : e.publishes)
    caf::anon_send(st.srv->pubsub, publish_atom::value, p.channel, p.message, p.shard);
  if (e.save_config) {
    auto err = config::save_nodes_conf(st.engine->settings().config_file, st.engine->state().nodes_conf());
    if (!err.empty())
      config::log_warning("Could not save the cluster config file " + st.engine->settings().config_file + ": " + err);
  }
  if (e.routing_changed)
    st.srv->publish_routing(st.engine->routing());
}

void refresh_settings(self_ptr self) {
  auto& st = self->state;
  auto v = st.srv->cfg->version();
  if (v == st.settings_version)
    return;
  st.settings_version = v;
  auto s = read_settings(*st.srv);
  s.config_file = st.engine->settings().config_file;
  st.engine->update_settings(s);
}

cluster_actor::behavior_type cluster(self_ptr self, server* srv, config::cluster_engine* engine) {
  auto& st = self->state;
  st.srv = srv;
  st.engine.reset(engine);
  srv->directory.add("cluster", "cluster", caf::actor_cast<status_handle>(self));
  self->attach_functor([srv] { srv->directory.remove("cluster"); });
  srv->publish_routing(st.engine->routing());
  self->send(self, cron_atom::value);
  auto on_bus = [self](uint64_t link, cb::message m) {
    ++self->state.handled;
    try {
      self->state.engine->on_message(link, m, now_ms());
    } catch (const std::exception& e) {
      // A message the engine cannot handle must not take the cluster view down with it.
      config::log_warning(std::string("Cluster bus: could not process a message: ") + e.what());
    }
    apply(self);
  };
  return {
    [=](bus_ping& m) { on_bus(m.link, cb::message{std::move(m.hdr), std::move(m.body)}); },
    [=](bus_fail& m) { on_bus(m.link, cb::message{std::move(m.hdr), std::move(m.body)}); },
    [=](bus_publish& m) { on_bus(m.link, cb::message{std::move(m.hdr), std::move(m.body)}); },
    [=](bus_update& m) { on_bus(m.link, cb::message{std::move(m.hdr), std::move(m.body)}); },
    [=](bus_control& m) { on_bus(m.link, cb::message{std::move(m.hdr), cb::empty_body{}}); },
    [=](bus_error& e) {
      ++self->state.handled;
      self->state.engine->on_bad_message(e.link, e.type, e.why, e.fatal);
      apply(self);
    },
    [=](link_up_atom, uint64_t link, std::string& node, gossip_peer_actor& peer) {
      auto& st = self->state;
      ++st.handled;
      st.peers[link] = peer;
      st.engine->outbound_up(link, node, now_ms());
      apply(self);
    },
    [=](link_up_atom, uint64_t link, std::string& peer_ip, std::string& local_ip, gossip_peer_actor& peer) {
      auto& st = self->state;
      ++st.handled;
      st.peers[link] = peer;
      st.engine->inbound_up(link, peer_ip, local_ip, now_ms());
      apply(self);
    },
    [=](link_failed_atom, std::string& node) {
      ++self->state.handled;
      self->state.engine->outbound_failed(node, now_ms());
      apply(self);
    },
    [=](link_down_atom, uint64_t link) {
      auto& st = self->state;
      ++st.handled;
      st.peers.erase(link);
      st.engine->link_down(link, now_ms());
      apply(self);
    },
    [=](cron_atom) {
      ++self->state.handled;
      refresh_settings(self);
      try {
        self->state.engine->cron(now_ms());
      } catch (const std::exception& e) {
        config::log_warning(std::string("Cluster cron failed: ") + e.what());
      }
      apply(self);
      self->delayed_send(self, std::chrono::milliseconds(100), cron_atom::value);
    },
    [=](cluster_command& c) -> std::string {
      ++self->state.handled;
      keyspace::args_t args(c.args.begin(), c.args.end());
      std::string out;
      protocol::resp_writer w(out, c.resp);
      try {
        self->state.engine->command(args, w, now_ms(), c.has_keys);
      } catch (const std::exception& e) {
        out.clear();
        w.error(std::string("ERR internal error: ") + e.what());
        config::log_warning(std::string("CLUSTER command failed: ") + e.what());
      }
      apply(self);
      return out;
    },
    [=](publish_atom, std::string& channel, std::string& message, bool shard) {
      ++self->state.handled;
      self->state.engine->propagate_publish(channel, message, shard, now_ms());
      apply(self);
    },
    [=](status_atom) -> actor_status {
      auto& st = self->state;
      ++st.handled;
      auto& cs = st.engine->state();
      cluster_status s;
      s.myself = cs.myself()->id;
      s.state = cs.state_ok() ? "ok" : "fail";
      s.current_epoch = cs.current_epoch;
      s.my_epoch = cs.my_epoch();
      s.known_nodes = cs.size();
      s.links = st.peers.size();
      s.slots = static_cast<uint64_t>(cs.slot_count(s.myself));
      for (auto v : st.engine->stats().sent)
        s.messages_sent += v;
      for (auto v : st.engine->stats().received)
        s.messages_received += v;
      std::string summary = "myself=" + s.myself + " state=" + s.state + " epoch=" + std::to_string(s.current_epoch)
                            + " nodes=" + std::to_string(s.known_nodes) + " links=" + std::to_string(s.links)
                            + " slots=" + std::to_string(s.slots);
      return make_status(self, "cluster", "cluster", st.handled, summary, s);
    },
  };
}

} // namespace

caf::expected<cluster_actor> spawn_cluster(caf::actor_system& sys, server& srv) {
  auto settings = read_settings(srv);
  int64_t now = now_ms();
  config::cluster_state state;
  auto loaded = config::load_nodes_conf_file(settings.config_file, now, state);
  for (auto& w : loaded.warnings)
    config::log_warning(w);
  using status = config::cluster_load_result::status;
  if (loaded.what == status::error)
    return caf::make_error(caf::sec::runtime_error,
                           "Unrecoverable error: corrupted cluster config file \"" + settings.config_file + "\": "
                             + loaded.error);
  if (loaded.what != status::loaded) {
    state = config::cluster_state::create(settings.announce_ip, settings.port, settings.cport, now);
    config::log_notice("No cluster configuration found, I'm " + state.myself()->id);
    auto err = config::save_nodes_conf(settings.config_file, state.nodes_conf());
    if (!err.empty())
      return caf::make_error(caf::sec::runtime_error, "Unable to save the cluster config file "
                                                        + settings.config_file + ": " + err);
  } else {
    config::log_notice("Node configuration loaded, I'm " + state.myself()->id);
  }
  auto* engine = new config::cluster_engine(settings, std::move(state));
  return sys.spawn(cluster, &srv, engine);
}

} // namespace troupe::actors
