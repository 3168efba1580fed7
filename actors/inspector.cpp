// inspector: asks every actor in the directory for its status and hands the records to ACTORS.
#include <algorithm>
#include <memory>

#include <caf/all.hpp>

#include "actors/actors.hpp"
#include "actors/status.hpp"

namespace troupe::actors {

namespace {

struct inspector_state {
  static inline const char* name = "inspector";
  server* srv = nullptr;
  uint64_t handled = 0, listings = 0, known = 0;
};

using inspector_ptr = inspector_actor::stateful_pointer<inspector_state>;

inspector_actor::behavior_type inspector(inspector_ptr self, server* srv) {
  self->state.srv = srv;
  srv->directory.add("inspector", "inspector", caf::actor_cast<status_handle>(self));
  self->attach_functor([srv] { srv->directory.remove("inspector"); });
  return {
    [=](actors_atom) -> caf::result<std::vector<actor_status>> {
      auto& st = self->state;
      ++st.handled;
      ++st.listings;
      auto peers = st.srv->directory.snapshot();
      st.known = peers.size();
      auto rp = self->make_response_promise<std::vector<actor_status>>();
      struct gather {
        std::vector<actor_status> all;
        size_t left = 0;
      };
      auto g = std::make_shared<gather>();
      g->left = peers.size();
      auto finish = [=]() mutable {
        std::sort(g->all.begin(), g->all.end(), [](auto& a, auto& b) { return a.name < b.name; });
        rp.deliver(g->all);
      };
      for (auto& [name, handle] : peers) {
        if (name == "inspector") {
          inspector_status s{st.listings, st.known};
          g->all.push_back(make_status(self, "inspector", "inspector", st.handled,
                                       "listings=" + std::to_string(st.listings) + " known=" + std::to_string(st.known),
                                       s));
          if (--g->left == 0)
            finish();
          continue;
        }
        self->request(handle, std::chrono::seconds(2), status_atom::value)
          .then(
            [=](actor_status& s) mutable {
              g->all.push_back(std::move(s));
              if (--g->left == 0)
                finish();
            },
            [=, name = name](caf::error&) mutable {
              actor_status s;
              s.name = name;
              s.kind = "unknown";
              s.summary = "status=unanswered";
              g->all.push_back(std::move(s));
              if (--g->left == 0)
                finish();
            });
      }
      return rp;
    },
    [=](status_atom) -> actor_status {
      auto& st = self->state;
      ++st.handled;
      inspector_status s{st.listings, st.known};
      return make_status(self, "inspector", "inspector", st.handled,
                         "listings=" + std::to_string(st.listings) + " known=" + std::to_string(st.known), s);
    },
  };
}

} // namespace

inspector_actor spawn_inspector(caf::actor_system& sys, server& srv) { return sys.spawn(inspector, &srv); }

} // namespace troupe::actors
