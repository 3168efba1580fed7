// gossip_peer: one cluster bus link. Decodes what arrives into typed messages for the cluster
// actor and writes what the cluster actor sends; the decisions are the cluster actor's.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/actors.hpp"
#include "actors/status.hpp"

namespace troupe::actors {

namespace cb = protocol::cluster_bus;

namespace {

using peer_broker = broker_for<gossip_peer_actor>;

struct peer_state {
  static inline const char* name = "gossip_peer";
  server* srv = nullptr;
  caf::io::connection_handle hdl;
  std::string actor_name;
  cb::decoder decoder;
  gossip_peer_status status;
  uint64_t handled = 0;
};

using self_ptr = caf::stateful_actor<peer_state, peer_broker>*;

std::string address_of(int fd, bool local) {
  sockaddr_storage sa{};
  socklen_t len = sizeof(sa);
  if ((local ? getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len)
             : getpeername(fd, reinterpret_cast<sockaddr*>(&sa), &len)) != 0)
    return "";
  char host[INET6_ADDRSTRLEN] = "";
  if (sa.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&sa)->sin_addr, host, sizeof(host));
  else if (sa.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&sa)->sin6_addr, host, sizeof(host));
  std::string h = host;
  if (h.rfind("::ffff:", 0) == 0 && h.find('.') != std::string::npos)
    h = h.substr(7);
  return h;
}

void dispatch(self_ptr self, cb::message& m) {
  auto& st = self->state;
  uint64_t link = st.status.link;
  auto& cluster = st.srv->cluster;
  ++st.status.received;
  st.status.last_type = std::string(cb::message_type_name(m.hdr.type));
  switch (m.hdr.type) {
    case cb::message_type::ping:
    case cb::message_type::pong:
    case cb::message_type::meet:
      if (st.status.node.empty() && !m.hdr.sender.empty())
        st.status.node = m.hdr.sender.substr(0, 40);
      self->send(cluster, bus_ping{link, std::move(m.hdr), std::move(std::get<cb::ping_body>(m.data))});
      break;
    case cb::message_type::fail:
      self->send(cluster, bus_fail{link, std::move(m.hdr), std::move(std::get<cb::fail_body>(m.data))});
      break;
    case cb::message_type::publish:
    case cb::message_type::publishshard:
      self->send(cluster, bus_publish{link, std::move(m.hdr), std::move(std::get<cb::publish_body>(m.data))});
      break;
    case cb::message_type::update:
      self->send(cluster, bus_update{link, std::move(m.hdr), std::move(std::get<cb::update_body>(m.data))});
      break;
    default:
      self->send(cluster, bus_control{link, std::move(m.hdr)});
      break;
  }
}

peer_broker::behavior_type peer(self_ptr self, caf::io::connection_handle hdl, server* srv, uint64_t link,
                                std::string node, bool inbound) {
  auto& st = self->state;
  st.srv = srv;
  st.hdl = hdl;
  st.status.link = link;
  st.status.node = node;
  st.status.inbound = inbound;
  int fd = static_cast<int>(hdl.id());
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  st.status.address = address_of(fd, false);
  st.actor_name = std::string("gossip_peer:") + (inbound ? "in:" : "out:") + std::to_string(link);
  srv->directory.add(st.actor_name, "gossip_peer", caf::actor_cast<status_handle>(self));
  self->attach_functor([srv, name = st.actor_name] { srv->directory.remove(name); });
  self->configure_read(hdl, caf::io::receive_policy::at_most(64 * 1024));
  if (inbound)
    self->send(srv->cluster, link_up_atom::value, link, st.status.address, address_of(fd, true),
               caf::actor_cast<gossip_peer_actor>(self));
  else
    self->send(srv->cluster, link_up_atom::value, link, node, caf::actor_cast<gossip_peer_actor>(self));
  return {
    [=](const caf::io::new_data_msg& msg) {
      auto& st = self->state;
      ++st.handled;
      st.status.bytes_in += msg.buf.size();
      st.status.last_message_ms = now_ms();
      st.decoder.append(msg.buf.data(), msg.buf.size());
      for (;;) {
        cb::message m;
        auto r = st.decoder.next(m);
        if (r == cb::decoder::result::need_more)
          break;
        if (r == cb::decoder::result::error) {
          auto& e = st.decoder.error();
          ++st.status.errors;
          self->send(st.srv->cluster, bus_error{st.status.link, static_cast<uint16_t>(e.type < 0 ? 0xffff : e.type),
                                               e.text, e.fatal});
          if (e.fatal) {
            self->send(st.srv->cluster, link_down_atom::value, st.status.link);
            self->close(st.hdl);
            self->quit();
            return;
          }
          continue;
        }
        dispatch(self, m);
      }
    },
    [=](const caf::io::connection_closed_msg&) {
      ++self->state.handled;
      self->send(self->state.srv->cluster, link_down_atom::value, self->state.status.link);
      self->quit();
    },
    [=](bus_out& out) {
      auto& st = self->state;
      ++st.handled;
      ++st.status.sent;
      st.status.bytes_out += out.bytes.size();
      auto& buf = self->wr_buf(st.hdl);
      buf.insert(buf.end(), out.bytes.begin(), out.bytes.end());
      self->flush(st.hdl);
    },
    [=](close_atom) {
      ++self->state.handled;
      self->close(self->state.hdl);
      self->quit();
    },
    [=](status_atom) -> actor_status {
      auto& st = self->state;
      ++st.handled;
      std::string summary = std::string("direction=") + (st.status.inbound ? "from" : "to") + " node="
                            + (st.status.node.empty() ? "?" : st.status.node) + " address=" + st.status.address
                            + " received=" + std::to_string(st.status.received)
                            + " sent=" + std::to_string(st.status.sent) + " last=" + st.status.last_type
                            + " last_message_ms=" + std::to_string(st.status.last_message_ms);
      return make_status(self, st.actor_name, "gossip_peer", st.handled, summary, st.status);
    },
  };
}

// Outbound: the broker adopts a socket connected elsewhere.
peer_broker::behavior_type outbound_peer(self_ptr self, server* srv, int fd, uint64_t link, std::string node) {
  auto hdl = self->add_scribe(fd);
  return peer(self, hdl, srv, link, std::move(node), false);
}

} // namespace

// bus_listener's fork target.
peer_broker::behavior_type inbound_peer(self_ptr self, caf::io::connection_handle hdl, server* srv, uint64_t link) {
  return peer(self, hdl, srv, link, "", true);
}

gossip_peer_actor spawn_gossip_peer(caf::io::middleman& mm, server& srv, int fd, uint64_t link, std::string node) {
  return mm.spawn_broker(outbound_peer, &srv, fd, link, std::move(node));
}

// ---- bus_listener ----------------------------------------------------------------------------

namespace {

using listener_broker = broker_for<bus_listener_actor>;

struct bus_listener_state {
  static inline const char* name = "bus_listener";
  server* srv = nullptr;
  uint16_t port = 0;
  uint64_t accepted = 0, handled = 0;
};

using listener_ptr = caf::stateful_actor<bus_listener_state, listener_broker>*;

listener_broker::behavior_type bus_listener(listener_ptr self, server* srv, uint16_t port,
                                            std::vector<caf::io::doorman_ptr> doormen) {
  self->state.srv = srv;
  self->state.port = port;
  for (auto& d : doormen)
    self->add_doorman(std::move(d));
  std::string name = "bus_listener:" + std::to_string(port);
  srv->directory.add(name, "bus_listener", caf::actor_cast<status_handle>(self));
  self->attach_functor([srv, name] { srv->directory.remove(name); });
  return {
    [=](const caf::io::new_connection_msg& msg) {
      auto& st = self->state;
      ++st.handled;
      ++st.accepted;
      uint64_t link = st.srv->next_link_id.fetch_add(1);
      auto p = self->fork(inbound_peer, msg.handle, st.srv, link);
      self->link_to(p);
    },
    [=](const caf::io::acceptor_closed_msg&) { ++self->state.handled; },
    [=](status_atom) -> actor_status {
      auto& st = self->state;
      ++st.handled;
      listener_status s;
      s.port = st.port;
      s.accepted = st.accepted;
      return make_status(self, "bus_listener:" + std::to_string(st.port), "bus_listener", st.handled,
                         "port=" + std::to_string(st.port) + " accepted=" + std::to_string(st.accepted), s);
    },
  };
}

} // namespace

caf::expected<bus_listener_actor> spawn_bus_listener(caf::io::middleman& mm, server& srv, const std::string& bind,
                                                     uint16_t port) {
  auto doormen = bind_all(mm, bind, port, "the cluster bus");
  if (!doormen)
    return doormen.error();
  return mm.spawn_broker(bus_listener, &srv, port, std::move(*doormen));
}

} // namespace troupe::actors
