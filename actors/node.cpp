// node: the node's supervisor. It owns the shutdown sequence (SHUTDOWN, signals) and reports
// the node's identity; main spawns the other actors in order and hands them to it.
#include <unistd.h>

#include <caf/all.hpp>

#include "actors/actors.hpp"
#include "actors/status.hpp"
#include "config/log.hpp"

namespace troupe::actors {

namespace {

struct node_state {
  static inline const char* name = "node";
  server* srv = nullptr;
  uint64_t handled = 0;
  bool stopping = false;
};

using self_ptr = node_actor::stateful_pointer<node_state>;

node_actor::behavior_type node(self_ptr self, server* srv) {
  self->state.srv = srv;
  srv->directory.add("node", "node", caf::actor_cast<status_handle>(self));
  self->attach_functor([srv] { srv->directory.remove("node"); });
  return {
    [=](shutdown_atom, shutdown_request& req) {
      auto& st = self->state;
      ++st.handled;
      if (st.stopping)
        return;
      st.stopping = true;
      config::log_warning(req.reason);
      char code = 'S';
      if (write(st.srv->shutdown_pipe, &code, 1) != 1)
        config::log_warning("Could not signal the shutdown to the main thread");
    },
    [=](status_atom) -> actor_status {
      auto& st = self->state;
      ++st.handled;
      node_status s;
      s.pid = getpid();
      s.port = st.srv->port;
      s.mode = st.srv->cluster_enabled ? "cluster" : "standalone";
      s.uptime_s = (now_ms() - st.srv->start_ms) / 1000;
      s.slot_ranges = static_cast<uint32_t>(st.srv->routing->ranges.size());
      s.config_file = st.srv->cfg->config_file();
      std::string summary = "pid=" + std::to_string(s.pid) + " port=" + std::to_string(s.port) + " mode=" + s.mode
                            + " uptime=" + std::to_string(s.uptime_s) + " slot_ranges=" + std::to_string(s.slot_ranges);
      return make_status(self, "node", "node", st.handled, summary, s);
    },
  };
}

} // namespace

node_actor spawn_node(caf::actor_system& sys, server& srv) { return sys.spawn(node, &srv); }

} // namespace troupe::actors
