// listener: the client port. Accepts sockets and forks a connection broker for each; answers
// CLIENT LIST and CLIENT KILL by asking its connections.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/actors.hpp"
#include "actors/connection.hpp"
#include "actors/fanout.hpp"
#include "actors/status.hpp"
#include "config/log.hpp"

namespace troupe::actors {

// Handing an accepted socket to another I/O loop relies on CAF 0.17's scribes (see below).
static_assert(CAF_VERSION >= 1700 && CAF_VERSION < 1800, "check the socket hand-over in new_connection_msg");

namespace {

using listener_broker = broker_for<listener_actor>;

struct listener_state {
  static inline const char* name = "listener";
  server* srv = nullptr;
  std::string bind;
  uint16_t port = 0;
  std::string actor_name;
  uint64_t accepted = 0, rejected = 0, handled = 0;
  std::map<caf::actor_addr, connection_actor> connections;   // each monitored
  fanouts asking;   // CLIENT LIST / KILL questions not yet answered by every connection
};

using self_ptr = caf::stateful_actor<listener_state, listener_broker>*;

// Asks every connection the same question; `on_reply` takes each answer, `finish` runs once all
// are in; a connection that goes down counts as answered (see fanout.hpp).
template <class Reply, class OnReply, class... Ts>
void ask_every_connection(self_ptr self, OnReply on_reply, std::function<void()> finish, Ts... question) {
  auto& st = self->state;
  std::set<caf::actor_addr> who;
  for (auto& [addr, c] : st.connections)
    who.insert(addr);
  auto f = st.asking.open(std::move(who), std::move(finish));
  for (auto& [addr, c] : st.connections)
    self->request(c, std::chrono::seconds(5), question...)
      .then([=, conn = addr](Reply& r) mutable {
              on_reply(r);
              self->state.asking.settle(f, conn);
            },
            [=, conn = addr](caf::error&) { self->state.asking.settle(f, conn); });
}

listener_broker::behavior_type listener(self_ptr self, server* srv, std::string bind, uint16_t port,
                                        std::vector<caf::io::doorman_ptr> doormen) {
  auto& st = self->state;
  st.srv = srv;
  st.bind = bind;
  st.port = port;
  st.actor_name = "listener:" + std::to_string(port);
  for (auto& d : doormen)
    self->add_doorman(std::move(d));
  srv->directory.add(st.actor_name, "listener", caf::actor_cast<status_handle>(self));
  self->attach_functor([srv, name = st.actor_name] { srv->directory.remove(name); });
  self->set_down_handler([=](caf::down_msg& dm) {
    self->state.connections.erase(dm.source);
    self->state.asking.down(dm.source);
  });
  return {
    [=](const caf::io::new_connection_msg& msg) {
      auto& st = self->state;
      ++st.handled;
      ++st.accepted;
      st.srv->total_connections.fetch_add(1, std::memory_order_relaxed);
      int handle_fd = static_cast<int>(msg.handle.id());
      // Past maxclients (or, despite it, out of descriptors): Redis's reply on the accepted socket,
      // which then closes, without a connection actor.
      auto refuse = [&] {
        ++st.rejected;
        st.srv->rejected_connections.fetch_add(1, std::memory_order_relaxed);
        static constexpr char full[] = "-ERR max number of clients reached\r\n";
        if (::send(handle_fd, full, sizeof(full) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
          config::log_verbose("Could not tell a refused client: " + std::string(std::strerror(errno)));
        self->take(msg.handle).reset();   // closes the socket
      };
      if (st.srv->connected_clients.load() >= static_cast<uint64_t>(st.srv->cfg->get_int("maxclients"))) {
        refuse();
        return;
      }
      // The connection reads through a direct_scribe of its own, on its loop (this one or another):
      // CAF 0.17 has not started reading the accepted socket (a scribe joins its loop's epoll only
      // once configured to read), so a duplicate of the descriptor is handed over and the
      // listener's scribe dropped (which closes the original).
      int fd = fcntl(handle_fd, F_DUPFD_CLOEXEC, 0);
      if (fd < 0) {
        config::log_warning("Error accepting a client connection: dup: " + std::string(std::strerror(errno)));
        refuse();
        return;
      }
      self->take(msg.handle).reset();
      int64_t id = st.srv->next_client_id.fetch_add(1);
      size_t loop = st.srv->loops.size() > 1 ? st.srv->next_loop++ % st.srv->loops.size() : 0;
      auto c = spawn_connection(*st.srv->loops[loop], fd, st.srv, id);
      self->monitor(c);
      st.connections.emplace(c.address(), c);
    },
    [=](const caf::io::acceptor_closed_msg&) { ++self->state.handled; },
    [=](clients_atom) -> caf::result<std::vector<keyspace::client_info>> {
      ++self->state.handled;
      auto rp = self->make_response_promise<std::vector<keyspace::client_info>>();
      auto all = std::make_shared<std::vector<keyspace::client_info>>();
      ask_every_connection<keyspace::client_info>(
        self, [all](keyspace::client_info& info) { all->push_back(std::move(info)); },
        [rp, all]() mutable { rp.deliver(std::move(*all)); }, clients_atom::value);
      return rp;
    },
    [=](kill_atom, kill_request& req) -> caf::result<int64_t> {
      ++self->state.handled;
      auto rp = self->make_response_promise<int64_t>();
      auto killed = std::make_shared<int64_t>(0);
      ask_every_connection<bool>(
        self, [killed](bool yes) { *killed += yes ? 1 : 0; }, [rp, killed]() mutable { rp.deliver(*killed); },
        kill_atom::value, req);
      return rp;
    },
    [=](status_atom) -> actor_status {
      auto& st = self->state;
      ++st.handled;
      listener_status s;
      s.bind = st.bind;
      s.port = st.port;
      s.accepted = st.accepted;
      s.rejected = st.rejected;
      s.connections = st.connections.size();
      std::string summary = "port=" + std::to_string(st.port) + " accepted=" + std::to_string(st.accepted)
                            + " rejected=" + std::to_string(st.rejected)
                            + " connections=" + std::to_string(st.connections.size());
      return make_status(self, st.actor_name, "listener", st.handled, summary, s);
    },
  };
}

} // namespace

caf::expected<std::vector<caf::io::doorman_ptr>> bind_all(caf::io::middleman& mm, const std::string& bind,
                                                         uint16_t port, const std::string& what) {
  std::vector<std::string> addresses;
  std::istringstream in(bind);
  for (std::string a; in >> a;)
    addresses.push_back(a);
  if (addresses.empty())
    addresses.push_back("*");
  // Bound here, synchronously, so that a port in use stops the start with a clear error.
  std::vector<caf::io::doorman_ptr> doormen;
  bool any = false;
  for (auto& a : addresses)
    any = any || a == "*" || a == "-*";
  for (auto& a : addresses) {
    bool optional = !a.empty() && a[0] == '-';
    std::string host = optional ? a.substr(1) : a;
    if (host == "::*" && any)
      continue; // "*" already listens on every address, IPv6 included
    const char* at = (host == "*" || host == "::*") ? nullptr : host.c_str();
    auto d = mm.backend().new_tcp_doorman(port, at, true);
    if (!d) {
      if (optional)
        continue;
      return caf::make_error(caf::sec::cannot_open_port, "Could not create " + what + " listening socket " + host + ":"
                                                           + std::to_string(port) + ": "
                                                           + mm.system().render(d.error()));
    }
    doormen.push_back(std::move(*d));
  }
  if (doormen.empty())
    return caf::make_error(caf::sec::cannot_open_port, "Failed listening on port " + std::to_string(port));
  return doormen;
}

caf::expected<listener_actor> spawn_listener(caf::io::middleman& mm, server& srv, const std::string& bind,
                                             uint16_t port) {
  auto doormen = bind_all(mm, bind, port, "server TCP");
  if (!doormen)
    return doormen.error();
  return mm.spawn_broker(listener, &srv, bind, port, std::move(*doormen));
}

} // namespace troupe::actors
