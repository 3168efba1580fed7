// pubsub: who subscribes to which channel, pattern and shard channel; delivers PUBLISH to them.
// A broker without a socket, so that it shares the I/O loop with the connections it serves.
#include <map>
#include <memory>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/actors.hpp"
#include "actors/status.hpp"
#include "protocol/glob.hpp"

namespace troupe::actors {

namespace {

using pubsub_broker = broker_for<pubsub_actor>;

using subscribers = std::map<caf::actor_addr, connection_actor>;

struct pattern_entry {
  protocol::glob glob;
  subscribers subs;
};

struct pubsub_state {
  static inline const char* name = "pubsub";
  server* srv = nullptr;
  std::map<std::string, subscribers> channels, shard_channels;
  std::map<std::string, pattern_entry> patterns;
  std::map<caf::actor_addr, int> known; // monitored subscribers
  uint64_t handled = 0, published = 0, delivered = 0;
};

using self_ptr = caf::stateful_actor<pubsub_state, pubsub_broker>*;

void drop(std::map<std::string, subscribers>& m, const std::string& name, const caf::actor_addr& who) {
  auto it = m.find(name);
  if (it == m.end())
    return;
  it->second.erase(who);
  if (it->second.empty())
    m.erase(it);
}

// What INFO shows of the subscriptions, after every change.
void publish_counts(pubsub_state& st) {
  st.srv->pubsub_channels = st.channels.size();
  st.srv->pubsub_patterns = st.patterns.size();
  st.srv->pubsub_shard_channels = st.shard_channels.size();
}

pubsub_broker::behavior_type pubsub(self_ptr self, server* srv) {
  self->state.srv = srv;
  srv->directory.add("pubsub", "pubsub", caf::actor_cast<status_handle>(self));
  self->attach_functor([srv] { srv->directory.remove("pubsub"); });
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    st.known.erase(dm.source);
    for (auto* m : {&st.channels, &st.shard_channels})
      for (auto it = m->begin(); it != m->end();) {
        it->second.erase(dm.source);
        it = it->second.empty() ? m->erase(it) : std::next(it);
      }
    for (auto it = st.patterns.begin(); it != st.patterns.end();) {
      it->second.subs.erase(dm.source);
      it = it->second.subs.empty() ? st.patterns.erase(it) : std::next(it);
    }
    publish_counts(st);
  });
  return {
    [=](subscribe_atom, subscription& sub) {
      auto& st = self->state;
      ++st.handled;
      auto who = caf::actor_cast<connection_actor>(self->current_sender());
      if (!who)
        return;
      auto addr = who.address();
      if (sub.add && st.known.emplace(addr, 0).second)
        self->monitor(who);
      for (auto& n : sub.names) {
        if (sub.kind == 1) {
          if (sub.add) {
            auto it = st.patterns.find(n);
            if (it == st.patterns.end())
              it = st.patterns.emplace(n, pattern_entry{protocol::glob(n), {}}).first;
            it->second.subs.emplace(addr, who);
          } else if (auto it = st.patterns.find(n); it != st.patterns.end()) {
            it->second.subs.erase(addr);
            if (it->second.subs.empty())
              st.patterns.erase(it);
          }
        } else {
          auto& m = sub.kind == 0 ? st.channels : st.shard_channels;
          if (sub.add)
            m[n].emplace(addr, who);
          else
            drop(m, n, addr);
        }
      }
      publish_counts(st);
    },
    [=](publish_atom, const std::string& channel, const std::string& message, bool shard) -> int64_t {
      auto& st = self->state;
      ++st.handled;
      ++st.published;
      int64_t n = 0;
      auto& m = shard ? st.shard_channels : st.channels;
      if (auto it = m.find(channel); it != m.end()) {
        for (auto& [addr, c] : it->second) {
          self->send(c, pubsub_delivery{static_cast<uint8_t>(shard ? 2 : 0), "", channel, message});
          ++n;
        }
      }
      if (!shard) {
        for (auto& [pattern, entry] : st.patterns) {
          if (!entry.glob.match(channel))
            continue;
          for (auto& [addr, c] : entry.subs) {
            self->send(c, pubsub_delivery{1, pattern, channel, message});
            ++n;
          }
        }
      }
      st.delivered += static_cast<uint64_t>(n);
      return n;
    },
    [=](pubsub_query& q) -> pubsub_answer {
      auto& st = self->state;
      ++st.handled;
      pubsub_answer a;
      if (q.what == "channels" || q.what == "shardchannels") {
        auto& m = q.what == "channels" ? st.channels : st.shard_channels;
        protocol::glob g(q.args.empty() ? "*" : q.args[0]);
        for (auto& [name, subs] : m)
          if (g.match(name))
            a.names.push_back(name);
      } else if (q.what == "numsub" || q.what == "shardnumsub") {
        auto& m = q.what == "numsub" ? st.channels : st.shard_channels;
        for (auto& name : q.args) {
          auto it = m.find(name);
          a.names.push_back(name);
          a.counts.push_back(it == m.end() ? 0 : static_cast<int64_t>(it->second.size()));
        }
      } else if (q.what == "numpat") {
        a.number = static_cast<int64_t>(st.patterns.size());
      }
      return a;
    },
    [=](status_atom) -> actor_status {
      auto& st = self->state;
      ++st.handled;
      pubsub_status s{st.channels.size(), st.patterns.size(), st.shard_channels.size(), st.known.size(),
                      st.published, st.delivered};
      std::string summary = "channels=" + std::to_string(s.channels) + " patterns=" + std::to_string(s.patterns)
                            + " shard_channels=" + std::to_string(s.shard_channels) + " subscribers="
                            + std::to_string(s.subscribers) + " published=" + std::to_string(s.published);
      return make_status(self, "pubsub", "pubsub", st.handled, summary, s);
    },
  };
}

} // namespace

pubsub_actor spawn_pubsub(caf::io::middleman& mm, server& srv) { return mm.spawn_broker(pubsub, &srv); }

} // namespace troupe::actors
