// cluster_engine without CAF or sockets: three engines wired to each other through their effects
// (a connect becomes a pair of links, a send is decoded and handed to the other end), driven by
// CLUSTER commands and the 100 ms cron on a simulated clock.
#include <boost/test/unit_test.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/cluster_engine.hpp"

using namespace troupe;
using config::cluster_engine;
namespace cb = protocol::cluster_bus;

namespace {

struct net {
  std::vector<std::unique_ptr<cluster_engine>> nodes;
  struct end {
    size_t node;
    config::link_id link;
  };
  std::map<std::pair<size_t, config::link_id>, end> peer;   // a link's other end
  config::link_id next_link = 1;
  int64_t now = 1'000'000;
  uint64_t delivered = 0, bad = 0;

  explicit net(int n) {
    for (int i = 0; i < n; ++i) {
      config::cluster_settings s;
      s.announce_ip = "127.0.0.1";
      s.port = 7000 + i;
      s.cport = 17000 + i;
      s.node_timeout = 2000;
      nodes.push_back(std::make_unique<cluster_engine>(
          s, config::cluster_state::create("127.0.0.1", s.port, s.cport, now)));
    }
  }

  std::string cmd(size_t node, std::vector<std::string_view> args) {
    std::string out;
    protocol::resp_writer w(out);
    nodes[node]->command(args, w, now, false);
    return out;
  }

  // Carries out every engine's effects until none are left.
  void pump() {
    for (int rounds = 0; rounds < 100; ++rounds) {
      bool any = false;
      for (size_t i = 0; i < nodes.size(); ++i) {
        auto fx = nodes[i]->take_effects();
        for (auto& c : fx.connects) {
          any = true;
          size_t target = static_cast<size_t>(c.cport - 17000);
          if (target >= nodes.size()) {
            nodes[i]->outbound_failed(c.node, now);
            continue;
          }
          auto out = next_link++, in = next_link++;
          peer[{i, out}] = {target, in};
          peer[{target, in}] = {i, out};
          nodes[i]->outbound_up(out, c.node, now);
          nodes[target]->inbound_up(in, "127.0.0.1", "127.0.0.1", now);
        }
        for (auto& s : fx.sends) {
          auto it = peer.find({i, s.link});
          if (it == peer.end())
            continue;
          any = true;
          cb::decode_error err;
          auto msg = cb::decode(s.bytes, err);
          if (!msg) {
            ++bad;
            continue;
          }
          ++delivered;
          nodes[it->second.node]->on_message(it->second.link, *msg, now);
        }
        for (auto l : fx.closes) {
          auto it = peer.find({i, l});
          if (it == peer.end())
            continue;
          any = true;
          auto other = it->second;
          peer.erase(it);
          peer.erase({other.node, other.link});
          nodes[other.node]->link_down(other.link, now);
          nodes[i]->link_down(l, now);
        }
      }
      if (!any)
        return;
    }
  }

  void run_ms(int64_t ms) {
    for (int64_t t = 0; t < ms; t += 100) {
      now += 100;
      for (auto& n : nodes)
        n->cron(now);
      pump();
    }
  }

  // Node 0 meets the others (their replies); gossip does the rest.
  std::vector<std::string> meet_all() {
    std::vector<std::string> replies;
    for (size_t i = 1; i < nodes.size(); ++i) {
      auto port = std::to_string(7000 + i), cport = std::to_string(17000 + i);
      replies.push_back(cmd(0, {"cluster", "meet", "127.0.0.1", port, cport}));
    }
    pump();
    return replies;
  }

  // Each of three nodes takes a third of the slots, as redis-cli --cluster create deals them
  // (their replies).
  std::vector<std::string> assign_thirds() {
    std::vector<std::string> replies{cmd(0, {"cluster", "addslotsrange", "0", "5460"}),
                                     cmd(1, {"cluster", "addslotsrange", "5461", "10922"}),
                                     cmd(2, {"cluster", "addslotsrange", "10923", "16383"})};
    pump();
    return replies;
  }

  size_t known_nodes(size_t node) const {
    size_t n = 0;
    for (auto& rec : nodes[node]->state().nodes())
      if (!rec.in_handshake())
        ++n;
    return n;
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(cluster_engine_suite)

BOOST_AUTO_TEST_CASE(meet_makes_every_node_know_every_other) {
  net n(3);
  for (auto& reply : n.meet_all())
    BOOST_TEST(reply == "+OK\r\n");
  n.run_ms(3000);
  BOOST_TEST(n.bad == 0u);
  BOOST_TEST(n.delivered > 10u);
  // Node 1 and node 2 never met each other directly: they learn of each other through gossip.
  for (size_t i = 0; i < 3; ++i)
    BOOST_TEST(n.known_nodes(i) == 3u, "node " << i);
}

BOOST_AUTO_TEST_CASE(slots_added_on_one_node_reach_the_others_and_the_cluster_turns_ok) {
  net n(3);
  n.meet_all();
  n.run_ms(2000);
  for (auto& reply : n.assign_thirds())
    BOOST_TEST(reply == "+OK\r\n");
  BOOST_TEST(n.cmd(0, {"cluster", "addslots", "0"}).rfind("-ERR Slot 0 is already busy", 0) == 0);
  n.pump();
  n.run_ms(3000);
  for (size_t i = 0; i < 3; ++i) {
    auto r = n.nodes[i]->routing();
    BOOST_TEST(r->ok, "node " << i);
    // Every node routes slot 12182 ("foo") to the node on port 7002.
    auto owner = r->owner[12182];
    BOOST_REQUIRE(owner >= 0);
    BOOST_TEST(r->nodes[static_cast<size_t>(owner)].port == 7002);
    BOOST_TEST(n.cmd(i, {"cluster", "info"}).find("cluster_state:ok") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(a_silent_node_is_marked_failing_by_the_majority_of_masters) {
  net n(3);
  n.meet_all();
  n.run_ms(2000);
  n.assign_thirds();
  n.run_ms(2000);
  std::string dead = n.nodes[2]->state().myself()->id;
  // Node 2 stops answering: its links go down and every later connect to it fails.
  for (auto it = n.peer.begin(); it != n.peer.end();) {
    if (it->first.first == 2 || it->second.node == 2) {
      if (it->first.first != 2)
        n.nodes[it->first.first]->link_down(it->first.second, n.now);
      it = n.peer.erase(it);
    } else {
      ++it;
    }
  }
  n.nodes.resize(2);   // (a connect to port 17002 now fails)
  n.run_ms(8000);
  for (size_t i = 0; i < 2; ++i) {
    auto* rec = n.nodes[i]->state().find(dead);
    BOOST_REQUIRE(rec != nullptr);
    BOOST_TEST(rec->failed(), "node " << i);
    BOOST_TEST(!n.nodes[i]->routing()->ok);   // its slots are uncovered (require-full-coverage)
  }
}

BOOST_AUTO_TEST_SUITE_END()
