// inspector: asks every actor in the directory for its status and hands the records to ACTORS.
#include <algorithm>
#include <memory>
#include <set>

#include <caf/all.hpp>

#include "actors/actors.hpp"
#include "actors/fanout.hpp"
#include "actors/status.hpp"

namespace troupe::actors {

namespace {

struct inspector_state {
  static inline const char* name = "inspector";
  server* srv = nullptr;
  uint64_t handled = 0, listings = 0, known = 0;
  fanouts asking;   // ACTORS listings not yet answered by every actor
};

using inspector_ptr = inspector_actor::stateful_pointer<inspector_state>;

actor_status own_status(inspector_ptr self) {
  auto& st = self->state;
  inspector_status s{st.listings, st.known};
  return make_status(self, "inspector", "inspector", st.handled,
                     "listings=" + std::to_string(st.listings) + " known=" + std::to_string(st.known), s);
}

inspector_actor::behavior_type inspector(inspector_ptr self, server* srv) {
  self->state.srv = srv;
  srv->directory.add("inspector", "inspector", caf::actor_cast<status_handle>(self));
  self->attach_functor([srv] { srv->directory.remove("inspector"); });
  self->set_down_handler([=](caf::down_msg& dm) { self->state.asking.down(dm.source); });
  return {
    [=](actors_atom) -> caf::result<std::vector<actor_status>> {
      auto& st = self->state;
      ++st.handled;
      ++st.listings;
      auto peers = st.srv->directory.snapshot();
      st.known = peers.size();
      auto rp = self->make_response_promise<std::vector<actor_status>>();
      auto all = std::make_shared<std::vector<actor_status>>();
      all->push_back(own_status(self));
      // Each peer is monitored while a listing waits on it: one that terminates as it is asked
      // is left out at once instead of after the timeout (see fanout.hpp).
      std::set<caf::actor_addr> who;
      for (auto& [name, handle] : peers)
        if (name != "inspector" && who.insert(handle.address()).second && !st.asking.waiting_on(handle.address()))
          self->monitor(handle);
      auto f = st.asking.open(std::move(who), [rp, all]() mutable {
        std::sort(all->begin(), all->end(), [](auto& a, auto& b) { return a.name < b.name; });
        rp.deliver(std::move(*all));
      });
      auto done = [self, f](const caf::actor_addr& peer) {
        if (self->state.asking.settle(f, peer))
          self->demonitor(peer);
      };
      for (auto& [name, handle] : peers) {
        if (name == "inspector")
          continue;
        self->request(handle, std::chrono::seconds(2), status_atom::value)
          .then(
            [=, peer = handle.address()](actor_status& s) {
              if (f->waiting.count(peer) == 0)
                return;   // it went down first and is left out
              all->push_back(std::move(s));
              done(peer);
            },
            [=, name = name, peer = handle.address()](caf::error&) {
              if (f->waiting.count(peer) == 0)
                return;
              actor_status s;
              s.name = name;
              s.kind = "unknown";
              s.summary = "status=unanswered";
              all->push_back(std::move(s));
              done(peer);
            });
      }
      return rp;
    },
    [=](status_atom) -> actor_status {
      ++self->state.handled;
      return own_status(self);
    },
  };
}

} // namespace

inspector_actor spawn_inspector(caf::actor_system& sys, server& srv) { return sys.spawn(inspector, &srv); }

} // namespace troupe::actors
