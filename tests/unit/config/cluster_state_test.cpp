// The cluster model and its Redis 7.0 text formats. Expected texts are real redis-server 7.0.15
// output (nodes.conf files, CLUSTER NODES, CLUSTER INFO, CLUSTER SLOTS and SHARDS replies) from a
// six-node test cluster: three masters, three replicas, one extra node that joined empty, and a
// lone node with scattered slots.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/cluster_state.hpp"
#include "temp_dir.hpp"

using namespace troupe::config;

namespace {

const std::string id_a = "8852e3a9e78ccb854eff78669f436ad93aaec269";  // 127.0.0.1:27001
const std::string id_b = "d89d560a6110aa8cb81fd81136bea777f5308ec0";  // 127.0.0.1:27002
const std::string id_c = "204accc69b8bb3691868c7896e15e403a3e44761";  // 127.0.0.1:27003
const std::string id_d = "44992a4667d368092703acb1b4077e1ba6350b1f";  // 127.0.0.1:27004
const std::string id_e = "9dc67fc331e9ebd800402bbe514a7e81124989ef";  // 127.0.0.1:27005
const std::string id_f = "c289a4f0a791e1a2553cf268848e603ef71f80ae";  // 127.0.0.1:27006
const std::string id_g = "771f8bc27fd5c6efe9b2680c7decc47e0064367f";  // 127.0.0.1:27007

// nodes.conf of node B (27002) right after `redis-cli --cluster create`.
const char* const conf_created =
    "8852e3a9e78ccb854eff78669f436ad93aaec269 127.0.0.1:27001@37001 master - 0 1795679774422 1 connected 0-5460\n"
    "c289a4f0a791e1a2553cf268848e603ef71f80ae 127.0.0.1:27006@37006 slave d89d560a6110aa8cb81fd81136bea777f5308ec0 0 1795679775036 2 connected\n"
    "9dc67fc331e9ebd800402bbe514a7e81124989ef 127.0.0.1:27005@37005 slave 8852e3a9e78ccb854eff78669f436ad93aaec269 1795679775036 1795679774000 1 connected\n"
    "44992a4667d368092703acb1b4077e1ba6350b1f 127.0.0.1:27004@37004 slave 204accc69b8bb3691868c7896e15e403a3e44761 0 1795679775036 3 connected\n"
    "204accc69b8bb3691868c7896e15e403a3e44761 127.0.0.1:27003@37003 master - 0 1795679774631 3 connected 10923-16383\n"
    "d89d560a6110aa8cb81fd81136bea777f5308ec0 127.0.0.1:27002@47002,node-b.example myself,master - 0 1795679774000 2 connected 5461-10922\n"
    "vars currentEpoch 6 lastVoteEpoch 0\n";

// nodes.conf of 27001 while slot 100 was MIGRATING to B.
const char* const conf_migrating =
    "9dc67fc331e9ebd800402bbe514a7e81124989ef 127.0.0.1:27005@37005 slave 8852e3a9e78ccb854eff78669f436ad93aaec269 0 1795679793164 1 connected\n"
    "8852e3a9e78ccb854eff78669f436ad93aaec269 127.0.0.1:27001@37001 myself,master - 0 1795679793000 1 connected 0-5460 [100->-d89d560a6110aa8cb81fd81136bea777f5308ec0]\n"
    "d89d560a6110aa8cb81fd81136bea777f5308ec0 127.0.0.1:27002@47002,node-b.example master - 0 1795679793059 2 connected 5461-10922\n"
    "204accc69b8bb3691868c7896e15e403a3e44761 127.0.0.1:27003@37003 master - 0 1795679792552 3 connected 10923-16383\n"
    "44992a4667d368092703acb1b4077e1ba6350b1f 127.0.0.1:27004@37004 slave 204accc69b8bb3691868c7896e15e403a3e44761 0 1795679793163 3 connected\n"
    "c289a4f0a791e1a2553cf268848e603ef71f80ae 127.0.0.1:27006@37006 slave d89d560a6110aa8cb81fd81136bea777f5308ec0 0 1795679793163 2 connected\n"
    "vars currentEpoch 6 lastVoteEpoch 0\n";

// CLUSTER NODES on B at the same moment: slots 100 and 5000 IMPORTING from 27001.
const char* const nodes_importing =
    "8852e3a9e78ccb854eff78669f436ad93aaec269 127.0.0.1:27001@37001 master - 1795679793595 1795679793000 1 connected 0-5460\n"
    "c289a4f0a791e1a2553cf268848e603ef71f80ae 127.0.0.1:27006@37006 slave d89d560a6110aa8cb81fd81136bea777f5308ec0 0 1795679793191 2 connected\n"
    "9dc67fc331e9ebd800402bbe514a7e81124989ef 127.0.0.1:27005@37005 slave 8852e3a9e78ccb854eff78669f436ad93aaec269 0 1795679793191 1 connected\n"
    "44992a4667d368092703acb1b4077e1ba6350b1f 127.0.0.1:27004@37004 slave 204accc69b8bb3691868c7896e15e403a3e44761 0 1795679793191 3 connected\n"
    "204accc69b8bb3691868c7896e15e403a3e44761 127.0.0.1:27003@37003 master - 0 1795679793091 3 connected 10923-16383\n"
    "d89d560a6110aa8cb81fd81136bea777f5308ec0 127.0.0.1:27002@47002,node-b.example myself,master - 0 1795679793000 2 connected 5461-10922 [100-<-8852e3a9e78ccb854eff78669f436ad93aaec269] [5000-<-8852e3a9e78ccb854eff78669f436ad93aaec269]\n";

// nodes.conf of B after 27003 failed and its replica 27004 took over (27007 had joined).
const char* const conf_failed =
    "771f8bc27fd5c6efe9b2680c7decc47e0064367f 127.0.0.1:27007@37007 master - 0 1795679819031 0 connected\n"
    "8852e3a9e78ccb854eff78669f436ad93aaec269 127.0.0.1:27001@37001 master - 0 1795679819031 1 connected 0-5460\n"
    "c289a4f0a791e1a2553cf268848e603ef71f80ae 127.0.0.1:27006@37006 slave d89d560a6110aa8cb81fd81136bea777f5308ec0 0 1795679819132 8 connected\n"
    "9dc67fc331e9ebd800402bbe514a7e81124989ef 127.0.0.1:27005@37005 slave 8852e3a9e78ccb854eff78669f436ad93aaec269 0 1795679819132 1 connected\n"
    "44992a4667d368092703acb1b4077e1ba6350b1f 127.0.0.1:27004@37004 master - 0 1795679818824 9 connected 10923-16383\n"
    "204accc69b8bb3691868c7896e15e403a3e44761 127.0.0.1:27003@37003 master,fail - 1795679816090 1795679815075 3 disconnected\n"
    "d89d560a6110aa8cb81fd81136bea777f5308ec0 127.0.0.1:27002@47002,node-b.example myself,master - 0 1795679819000 8 connected 5461-10922\n"
    "vars currentEpoch 9 lastVoteEpoch 9\n";

// CLUSTER INFO on B at that time.
const char* const info_failed =
    "cluster_state:ok\r\n"
    "cluster_slots_assigned:16384\r\n"
    "cluster_slots_ok:16384\r\n"
    "cluster_slots_pfail:0\r\n"
    "cluster_slots_fail:0\r\n"
    "cluster_known_nodes:7\r\n"
    "cluster_size:3\r\n"
    "cluster_current_epoch:9\r\n"
    "cluster_my_epoch:8\r\n"
    "cluster_stats_messages_ping_sent:257\r\n"
    "cluster_stats_messages_pong_sent:261\r\n"
    "cluster_stats_messages_meet_sent:1\r\n"
    "cluster_stats_messages_auth-req_sent:6\r\n"
    "cluster_stats_messages_auth-ack_sent:2\r\n"
    "cluster_stats_messages_mfstart_sent:1\r\n"
    "cluster_stats_messages_publishshard_sent:1\r\n"
    "cluster_stats_messages_sent:529\r\n"
    "cluster_stats_messages_ping_received:254\r\n"
    "cluster_stats_messages_pong_received:259\r\n"
    "cluster_stats_messages_meet_received:1\r\n"
    "cluster_stats_messages_fail_received:1\r\n"
    "cluster_stats_messages_publish_received:1\r\n"
    "cluster_stats_messages_auth-req_received:2\r\n"
    "cluster_stats_messages_auth-ack_received:3\r\n"
    "cluster_stats_messages_mfstart_received:1\r\n"
    "cluster_stats_messages_publishshard_received:1\r\n"
    "cluster_stats_messages_received:523\r\n"
    "total_cluster_links_buffer_limit_exceeded:0\r\n";

// nodes.conf of B restarted after its replica had been promoted: B is now a replica. Note the
// failed node's times: Redis set both to the load time when it read its own file back.
const char* const conf_replica =
    "c289a4f0a791e1a2553cf268848e603ef71f80ae 127.0.0.1:27006@37006 master - 0 1795679832640 10 connected 5461-10922\n"
    "44992a4667d368092703acb1b4077e1ba6350b1f 127.0.0.1:27004@37004 master - 0 1795679832640 9 connected 10923-16383\n"
    "d89d560a6110aa8cb81fd81136bea777f5308ec0 127.0.0.1:27002@47002,node-b.example myself,slave c289a4f0a791e1a2553cf268848e603ef71f80ae 0 1795679832620 10 connected\n"
    "204accc69b8bb3691868c7896e15e403a3e44761 127.0.0.1:27003@37003 master,fail - 1795679832620 1795679832620 3 disconnected\n"
    "771f8bc27fd5c6efe9b2680c7decc47e0064367f 127.0.0.1:27007@37007 master - 0 1795679832640 0 connected\n"
    "9dc67fc331e9ebd800402bbe514a7e81124989ef 127.0.0.1:27005@37005 slave 8852e3a9e78ccb854eff78669f436ad93aaec269 0 1795679832640 1 connected\n"
    "8852e3a9e78ccb854eff78669f436ad93aaec269 127.0.0.1:27001@37001 master - 1795679832638 1795679832620 1 connected 0-5460\n"
    "vars currentEpoch 10 lastVoteEpoch 9\n";

// CLUSTER NODES on 27001 at the end (the source of the SLOTS / SHARDS replies below).
const char* const nodes_final =
    "9dc67fc331e9ebd800402bbe514a7e81124989ef 127.0.0.1:27005@37005 slave 8852e3a9e78ccb854eff78669f436ad93aaec269 0 1795679846151 1 connected\n"
    "8852e3a9e78ccb854eff78669f436ad93aaec269 127.0.0.1:27001@37001 myself,master - 0 1795679846000 1 connected 0-5460\n"
    "d89d560a6110aa8cb81fd81136bea777f5308ec0 127.0.0.1:27002@47002,node-b.example slave c289a4f0a791e1a2553cf268848e603ef71f80ae 0 1795679846151 10 connected\n"
    "204accc69b8bb3691868c7896e15e403a3e44761 127.0.0.1:27003@37003 master,fail - 1795679816076 1795679815059 3 disconnected\n"
    "771f8bc27fd5c6efe9b2680c7decc47e0064367f 127.0.0.1:27007@37007 master - 0 1795679846355 0 connected\n"
    "44992a4667d368092703acb1b4077e1ba6350b1f 127.0.0.1:27004@37004 master - 0 1795679846355 9 connected 10923-16383\n"
    "c289a4f0a791e1a2553cf268848e603ef71f80ae 127.0.0.1:27006@37006 master - 0 1795679846151 10 connected 5461-10922\n";

// A lone node (no address learned yet) after CLUSTER ADDSLOTS 0 2 4 5 6 7 8 9 10 16383.
const char* const nodes_lone =
    "c8b1bffb15ead9b18018c4acc43bae23d7e53c3d :27008@37008 myself,master - 0 0 0 connected 0 2 4-10 16383\n";
const char* const info_lone =
    "cluster_state:fail\r\n"
    "cluster_slots_assigned:10\r\n"
    "cluster_slots_ok:10\r\n"
    "cluster_slots_pfail:0\r\n"
    "cluster_slots_fail:0\r\n"
    "cluster_known_nodes:1\r\n"
    "cluster_size:1\r\n"
    "cluster_current_epoch:0\r\n"
    "cluster_my_epoch:0\r\n"
    "cluster_stats_messages_sent:0\r\n"
    "cluster_stats_messages_received:0\r\n"
    "total_cluster_links_buffer_limit_exceeded:0\r\n";
// The same node after CLUSTER MEET 127.0.0.1 27999 (nobody there): the handshake node is listed by
// CLUSTER NODES but not saved.
const char* const nodes_lone_handshake =
    "c8b1bffb15ead9b18018c4acc43bae23d7e53c3d :27008@37008 myself,master - 0 0 0 connected 0 2 4-10 16383\n"
    "ae67fe13d772d1598eebea98d2620a68791581cc 127.0.0.1:27999@37999 handshake - 0 0 0 disconnected\n";
const char* const conf_lone =
    "c8b1bffb15ead9b18018c4acc43bae23d7e53c3d :27008@37008 myself,master - 0 0 0 connected 0 2 4-10 16383\n"
    "vars currentEpoch 0 lastVoteEpoch 0\n";
// What a brand-new node writes before it knows its port.
const char* const conf_fresh =
    "771f8bc27fd5c6efe9b2680c7decc47e0064367f :0@0 myself,master - 0 0 0 connected\n"
    "vars currentEpoch 0 lastVoteEpoch 0\n";

constexpr int64_t load_time = 1800000000000;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::vector<std::string> words_of(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Loading keeps only whether ping_sent / pong_received were set, and starts with links down.
// Put back what the text says, so the output can be compared byte for byte.
void restore_volatile(cluster_state& st, const std::string& text) {
  for (const auto& line : lines_of(text)) {
    auto w = words_of(line);
    if (w.empty() || w[0] == "vars") continue;
    cluster_node* n = st.find(w[0]);
    BOOST_REQUIRE(n);
    n->ping_sent = std::stoll(w[4]);
    n->pong_received = std::stoll(w[5]);
    n->link = w[7] == "connected";
  }
}

cluster_state load_ok(const std::string& text) {
  cluster_state st;
  auto res = st.load_nodes_conf(text, load_time);
  BOOST_REQUIRE_MESSAGE(res.what == cluster_load_result::status::loaded, res.error);
  return st;
}

// A state as B saw it in `text` with its times and links restored.
cluster_state load_exact(const std::string& text) {
  cluster_state st = load_ok(text);
  restore_volatile(st, text);
  return st;
}

cluster_load_result load_text(const std::string& text) {
  cluster_state st;
  return st.load_nodes_conf(text, load_time);
}

} // namespace

BOOST_AUTO_TEST_SUITE(cluster_state_suite)

BOOST_AUTO_TEST_CASE(node_ids) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto id = random_node_id();
    BOOST_TEST(id.size() == 40u);
    BOOST_TEST(id.find_first_not_of("0123456789abcdef") == std::string::npos);
    BOOST_TEST(valid_node_id(id));
    seen.insert(id);
  }
  BOOST_TEST(seen.size() == 200u);
  BOOST_TEST(valid_node_id(id_a));
  BOOST_TEST(valid_node_id(std::string(40, 'z')));  // Redis accepts [a-z0-9]
  BOOST_TEST(!valid_node_id(std::string(39, 'a')));
  BOOST_TEST(!valid_node_id(std::string(41, 'a')));
  BOOST_TEST(!valid_node_id(std::string(39, 'a') + "A"));
  BOOST_TEST(!valid_node_id(std::string(39, 'a') + "-"));
}

BOOST_AUTO_TEST_CASE(flags_text) {
  BOOST_TEST(cluster_flags_text(0) == "noflags");
  BOOST_TEST(cluster_flags_text(cluster_flag::myself | cluster_flag::master) == "myself,master");
  BOOST_TEST(cluster_flags_text(cluster_flag::master | cluster_flag::pfail) == "master,fail?");
  BOOST_TEST(cluster_flags_text(cluster_flag::master | cluster_flag::fail | cluster_flag::migrate_to) ==
             "master,fail");
  BOOST_TEST(cluster_flags_text(cluster_flag::handshake | cluster_flag::meet) == "handshake");
  BOOST_TEST(cluster_flags_text(cluster_flag::slave | cluster_flag::noaddr | cluster_flag::nofailover) ==
             "slave,noaddr,nofailover");
  BOOST_TEST(cluster_flags_text(0x3ff) ==
             "myself,master,slave,fail?,fail,handshake,noaddr,nofailover");
}

// --- nodes.conf: Redis's files load, and are written back byte for byte -------------------------

BOOST_AUTO_TEST_CASE(load_created_cluster) {
  cluster_state st = load_ok(conf_created);
  BOOST_TEST(st.size() == 6u);
  BOOST_TEST(st.current_epoch == 6u);
  BOOST_TEST(st.last_vote_epoch == 0u);
  BOOST_REQUIRE(st.myself());
  const cluster_node& me = *st.myself();
  BOOST_TEST(me.id == id_b);
  BOOST_TEST(me.ip == "127.0.0.1");
  BOOST_TEST(me.port == 27002);
  BOOST_TEST(me.cport == 47002);
  BOOST_TEST(me.hostname == "node-b.example");
  BOOST_TEST(me.is_master());
  BOOST_TEST(me.config_epoch == 2u);
  BOOST_TEST(me.pong_received == load_time);  // non-zero in the file: set to the load time
  BOOST_TEST(me.ping_sent == 0);
  const cluster_node* e = st.find(id_e);
  BOOST_REQUIRE(e);
  BOOST_TEST(e->is_slave());
  BOOST_TEST(e->master_id == id_a);
  BOOST_TEST(e->config_epoch == 0u);  // replicas' epochs are not loaded
  BOOST_TEST(e->ping_sent == load_time);
  BOOST_TEST(!e->link);
  BOOST_TEST(st.find(id_a)->has(cluster_flag::migrate_to));  // a master with replicas
  BOOST_TEST(st.slot_count(id_a) == 5461);
  BOOST_TEST(st.slot_count(id_b) == 5462);
  BOOST_TEST(st.slot_count(id_c) == 5461);
  BOOST_TEST(st.slot_owner(0)->id == id_a);
  BOOST_TEST(st.slot_owner(5461)->id == id_b);
  BOOST_TEST(st.slot_owner(16383)->id == id_c);
  BOOST_TEST(st.slot_ranges(id_b) == (std::vector<std::pair<int, int>>{{5461, 10922}}));
  // Shard ids: one per master, shared with its replicas.
  BOOST_TEST(st.find(id_f)->shard_id == me.shard_id);
  BOOST_TEST(st.find(id_e)->shard_id == st.find(id_a)->shard_id);
  BOOST_TEST(st.find(id_a)->shard_id != me.shard_id);
  BOOST_TEST(valid_node_id(me.shard_id));

  // Restoring what loading drops, the file comes back byte for byte.
  restore_volatile(st, conf_created);
  BOOST_TEST(st.nodes_conf() == conf_created);
  // CLUSTER NODES is the same minus the vars line.
  std::string conf = conf_created;
  BOOST_TEST(st.nodes_text() == conf.substr(0, conf.find("vars ")));
}

BOOST_AUTO_TEST_CASE(written_back_exactly) {
  for (const char* conf : {conf_created, conf_migrating, conf_failed, conf_replica, conf_lone}) {
    cluster_state st = load_exact(conf);
    BOOST_TEST(st.nodes_conf() == conf);
  }
  // CLUSTER NODES texts, made loadable by adding a vars line.
  for (const char* nodes : {nodes_importing, nodes_final, nodes_lone}) {
    cluster_state st = load_exact(std::string(nodes) + "vars currentEpoch 0 lastVoteEpoch 0\n");
    BOOST_TEST(st.nodes_text() == nodes);
  }
}

BOOST_AUTO_TEST_CASE(load_replica_view) {
  cluster_state st = load_ok(conf_replica);
  const cluster_node& me = *st.myself();
  BOOST_TEST(me.id == id_b);
  BOOST_TEST(me.is_slave());
  BOOST_TEST(me.master_id == id_f);
  BOOST_TEST(me.config_epoch == 0u);
  BOOST_TEST(st.my_epoch() == 10u);  // the master's
  BOOST_TEST(st.current_epoch == 10u);
  BOOST_TEST(st.last_vote_epoch == 9u);
  const cluster_node* c = st.find(id_c);
  BOOST_TEST(c->failed());
  BOOST_TEST(c->fail_time == load_time);
  BOOST_TEST(st.slot_count(id_c) == 0);
  BOOST_TEST(st.slot_count(id_g) == 0);
  BOOST_TEST(st.replicas_of(id_f).size() == 1u);
  BOOST_TEST(st.replicas_of(id_f)[0]->id == id_b);
  BOOST_TEST(st.find(id_b)->shard_id == st.find(id_f)->shard_id);
}

BOOST_AUTO_TEST_CASE(load_migrations) {
  cluster_state st = load_ok(conf_migrating);
  BOOST_TEST(st.myself()->id == id_a);
  BOOST_REQUIRE(st.migrating_to(100));
  BOOST_TEST(st.migrating_to(100)->id == id_b);
  BOOST_TEST(!st.importing_from(100));
  BOOST_TEST(!st.migrating_to(101));
  cluster_state imp = load_ok(std::string(nodes_importing) + "vars currentEpoch 6 lastVoteEpoch 0\n");
  BOOST_TEST(imp.importing_from(100)->id == id_a);
  BOOST_TEST(imp.importing_from(5000)->id == id_a);
  BOOST_TEST(!imp.migrating_to(100));
  // Migrations are only written on myself's line; migrating wins over importing for one slot.
  imp.set_migrating(100, id_c);
  std::string text = imp.nodes_text();
  BOOST_TEST(text.find("[100->-" + id_c + "] [5000-<-" + id_a + "]\n") != std::string::npos);
  imp.clear_migrations();
  BOOST_TEST(imp.nodes_text().find('[') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(load_fresh_and_lone_nodes) {
  cluster_state st = load_ok(conf_fresh);
  BOOST_TEST(st.size() == 1u);
  BOOST_TEST(st.myself()->ip == "");
  BOOST_TEST(st.myself()->port == 0);
  BOOST_TEST(st.myself()->cport == 0);
  BOOST_TEST(st.nodes_conf() == conf_fresh);
  // Once the node knows its port, CLUSTER NODES shows it (still without an IP).
  st.myself()->port = 27007;
  st.myself()->cport = 37007;
  BOOST_TEST(st.nodes_text() ==
             "771f8bc27fd5c6efe9b2680c7decc47e0064367f :27007@37007 myself,master - 0 0 0 connected\n");

  cluster_state lone = load_ok(conf_lone);
  BOOST_TEST(lone.slot_ranges(lone.myself()->id) ==
             (std::vector<std::pair<int, int>>{{0, 0}, {2, 2}, {4, 10}, {16383, 16383}}));
}

BOOST_AUTO_TEST_CASE(handshake_nodes_are_listed_not_saved) {
  cluster_state st = load_ok(conf_lone);
  auto id = st.start_handshake("127.0.0.1", 27999, 37999, 5);
  BOOST_REQUIRE(id.has_value());
  BOOST_TEST(valid_node_id(*id));
  const cluster_node* h = st.find(*id);
  BOOST_TEST(h->flags == (cluster_flag::handshake | cluster_flag::meet));
  BOOST_TEST(h->ctime == 5);
  std::string expected = nodes_lone_handshake;
  expected.replace(expected.find("ae67fe13d772d1598eebea98d2620a68791581cc"), 40, *id);
  BOOST_TEST(st.nodes_text() == expected);
  BOOST_TEST(st.nodes_conf() == conf_lone);
  // One handshake per address; bad addresses and ports are refused.
  BOOST_TEST(st.handshake_in_progress("127.0.0.1", 27999, 37999));
  BOOST_TEST(!st.start_handshake("127.0.0.1", 27999, 37999, 6).has_value());
  BOOST_TEST(!st.start_handshake("not-an-ip", 1, 2, 6).has_value());
  BOOST_TEST(!st.start_handshake("127.0.0.1", 0, 2, 6).has_value());
  BOOST_TEST(!st.start_handshake("127.0.0.1", 1, 65536, 6).has_value());
  auto v6 = st.start_handshake("0:0:0:0:0:0:0:1", 7000, 17000, 6);
  BOOST_REQUIRE(v6.has_value());
  BOOST_TEST(st.find(*v6)->ip == "::1");  // normalized
  // The first PONG gives the node its real id.
  std::string real = "0123456789012345678901234567890123456789";
  BOOST_TEST(st.rename_node(*id, real));
  BOOST_TEST(!st.find(*id));
  BOOST_TEST(st.find(real)->port == 27999);
  BOOST_TEST(!st.rename_node(real, st.myself()->id));  // taken
  BOOST_TEST(!st.rename_node(real, "short"));
}

BOOST_AUTO_TEST_CASE(load_accepts_redis_variations) {
  // No @cport (old files): port + 10000. Blank lines and case-insensitive keywords. Unknown vars
  // are skipped with a warning. Nodes first named as a master are created on the spot.
  const std::string text =
      "\n"
      "8852e3a9e78ccb854eff78669f436ad93aaec269 10.0.0.1:7000 MYSELF,Master - 0 0 5 connected 0-10 12 20-19\n"
      "\n"
      "9dc67fc331e9ebd800402bbe514a7e81124989ef 10.0.0.2:7001@17999 slave,nofailover 204accc69b8bb3691868c7896e15e403a3e44761 0 0 9 disconnected\n"
      "VARS currentepoch 3 lastVoteEpoch 2 futureThing 7\n"
      "\n\n\n";
  cluster_state st;
  auto res = st.load_nodes_conf(text, load_time);
  BOOST_REQUIRE_MESSAGE(res.what == cluster_load_result::status::loaded, res.error);
  BOOST_TEST(res.warnings.size() == 1u);
  BOOST_TEST(res.warnings[0] == "Skipping unknown cluster config variable 'futureThing'");
  BOOST_TEST(st.myself()->cport == 17000);
  BOOST_TEST(st.find(id_e)->cport == 17999);
  BOOST_TEST(st.find(id_e)->has(cluster_flag::nofailover));
  BOOST_TEST(st.find(id_e)->config_epoch == 0u);
  BOOST_TEST(st.current_epoch == 5u);  // raised to the greatest configEpoch
  BOOST_TEST(st.last_vote_epoch == 2u);
  const cluster_node* placeholder = st.find(id_c);
  BOOST_REQUIRE(placeholder);
  BOOST_TEST(placeholder->flags == cluster_flag::migrate_to);
  BOOST_TEST(st.slot_count(id_a) == 12);  // 0-10 and 12; 20-19 is empty
  BOOST_TEST(st.node_line(*placeholder) ==
             "204accc69b8bb3691868c7896e15e403a3e44761 :0@0 noflags - 0 0 0 disconnected");
}

BOOST_AUTO_TEST_CASE(load_rejects_corrupt_files) {
  const std::string me = "8852e3a9e78ccb854eff78669f436ad93aaec269 127.0.0.1:7000@17000 myself,master - 0 0 1 connected";
  BOOST_TEST((load_text("").what == cluster_load_result::status::empty));
  BOOST_TEST((load_text("\n\n").what == cluster_load_result::status::empty));
  BOOST_TEST((load_text(me + "\n").what == cluster_load_result::status::loaded));
  const std::vector<std::string> bad = {
      "vars currentEpoch\n" + me + "\n",                        // a name without a value
      "8852e3a9e78ccb854eff78669f436ad93aaec269 127.0.0.1:7000@17000 myself,master - 0 0 1\n",
      "8852e3a9e78ccb854eff78669f436ad93aaec26 127.0.0.1:7000@17000 myself,master - 0 0 1 connected\n",
      "8852e3a9e78ccb854eff78669f436ad93aaec269 127.0.0.1 myself,master - 0 0 1 connected\n",
      "8852e3a9e78ccb854eff78669f436ad93aaec269 127.0.0.1:7000 myself,boss - 0 0 1 connected\n",
      me + " 16384\n",
      me + " 0-16384\n",
      me + " [16384->-d89d560a6110aa8cb81fd81136bea777f5308ec0]\n",
      me + " [5->-d89d560a6110aa8cb81fd81136bea777f5308ec]\n",
      me + " [5]\n",
      me + " [5->-d89d560a6110aa8cb81fd81136bea777f5308ec0\n",
      me + "\n" + me + "\n",                                                    // two myself
      "9dc67fc331e9ebd800402bbe514a7e81124989ef 127.0.0.1:7000@17000 master - 0 0 1 connected\n",  // no myself
      me + "\n9dc67fc331e9ebd800402bbe514a7e81124989ef 1.2.3.4:1@2 slave xyz 0 0 0 connected\n",
  };
  for (const auto& text : bad) {
    cluster_state st = load_ok(conf_created);
    auto res = st.load_nodes_conf(text, load_time);
    BOOST_TEST((res.what == cluster_load_result::status::error), "accepted: " << text);
    BOOST_TEST(res.error.find("corrupted cluster config file") == 0u);
    BOOST_TEST(st.myself()->id == id_b);  // unchanged on failure
  }
}

// --- model operations ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(create_and_add_slots) {
  cluster_state st = cluster_state::create("10.1.1.1", 7000, 17000, 42);
  const std::string me = st.myself()->id;
  BOOST_TEST(valid_node_id(me));
  BOOST_TEST(st.myself()->flags == (cluster_flag::myself | cluster_flag::master));
  BOOST_TEST(st.myself()->ctime == 42);
  BOOST_TEST(st.add_slots(me, {0, 1, 2, 5}) == "");
  BOOST_TEST(st.add_slots(me, {2}) == "ERR Slot 2 is already busy");
  BOOST_TEST(st.add_slots(me, {7, 8, 7}) == "ERR Slot 7 specified multiple times");
  BOOST_TEST(st.add_slots(me, {7, 16384}) == "ERR Invalid or out of range slot");
  BOOST_TEST(st.add_slots(me, {-1}) == "ERR Invalid or out of range slot");
  BOOST_TEST(st.slot_count(me) == 4);  // the failed calls changed nothing
  BOOST_TEST(st.node_line(*st.myself()) ==
             me + " 10.1.1.1:7000@17000 myself,master - 0 0 0 connected 0-2 5");
  BOOST_TEST(st.del_slots({5, 6}) == "ERR Slot 6 is already unassigned");
  BOOST_TEST(st.del_slots({5, 5}) == "ERR Slot 5 specified multiple times");
  BOOST_TEST(st.del_slots({5}) == "");
  BOOST_TEST(st.slot_count(me) == 3);
  // ADDSLOTS clears an IMPORTING state on the slot.
  cluster_node other;
  other.id = id_c;
  other.flags = cluster_flag::master;
  BOOST_TEST(st.add_node(other));
  BOOST_TEST(!st.add_node(other));  // duplicate
  st.set_importing(9, id_c);
  BOOST_TEST(st.add_slots(me, {9}) == "");
  BOOST_TEST(!st.importing_from(9));
  // The bitmap for the bus.
  auto bits = st.slot_bitmap(me);
  BOOST_TEST(bits[0] == 0x07);
  BOOST_TEST(bits[1] == 0x02);
  BOOST_TEST(st.slot_bitmap(id_c)[0] == 0);
}

BOOST_AUTO_TEST_CASE(slot_ownership_moves) {
  cluster_state st = load_ok(conf_created);
  BOOST_TEST(!st.assign_slot(0, id_b));  // busy
  BOOST_TEST(st.set_slot_owner(0, id_b));
  BOOST_TEST(st.slot_owner(0)->id == id_b);
  BOOST_TEST(st.slot_count(id_a) == 5460);
  BOOST_TEST(st.slot_count(id_b) == 5463);
  BOOST_TEST(st.unassign_slot(0));
  BOOST_TEST(!st.unassign_slot(0));
  BOOST_TEST(st.assign_slot(0, id_a));
  BOOST_TEST(st.unassign_all(id_c) == 5461);
  BOOST_TEST(st.slot_count(id_c) == 0);
  BOOST_TEST(!st.slot_owner(16383));
  BOOST_TEST(!st.set_slot_owner(16384, id_a));
  BOOST_TEST(!st.set_slot_owner(1, "0000000000000000000000000000000000000000"));
}

BOOST_AUTO_TEST_CASE(forget_node_cleans_up) {
  cluster_state st = load_ok(conf_created);
  st.set_migrating(100, id_a);
  st.set_importing(200, id_a);
  BOOST_TEST(st.add_failure_report(id_c, id_a, 1000));
  BOOST_TEST(st.forget_node(id_a));
  BOOST_TEST(!st.find(id_a));
  BOOST_TEST(st.size() == 5u);
  BOOST_TEST(!st.slot_owner(0));
  BOOST_TEST(st.slot_owner(5461)->id == id_b);  // other owners survive the reindexing
  BOOST_TEST(st.slot_owner(16383)->id == id_c);
  BOOST_TEST(st.slot_count(id_b) == 5462);
  BOOST_TEST(!st.migrating_to(100));
  BOOST_TEST(!st.importing_from(200));
  BOOST_TEST(st.find(id_e)->master_id == "");  // its replica lost its master
  BOOST_TEST(st.find(id_e)->is_slave());
  BOOST_TEST(st.failure_report_count(id_c, 1000, 15000) == 0);
  BOOST_TEST(st.myself()->id == id_b);
  BOOST_TEST(!st.forget_node(id_b));  // not myself
  BOOST_TEST(!st.forget_node(id_a));
  // CLUSTER NODES still renders: the orphan replica shows "-".
  BOOST_TEST(st.node_line(*st.find(id_e)).find(" slave - ") != std::string::npos);
  st.blacklist_add(id_a, 1000);
  BOOST_TEST(st.blacklisted(id_a, 1000 + 60000));
  BOOST_TEST(!st.blacklisted(id_a, 1000 + 60001));
}

BOOST_AUTO_TEST_CASE(roles_and_migrate_to) {
  cluster_state st = load_ok(conf_created);
  // Failover: F (replica of B) becomes master; B becomes its replica.
  BOOST_TEST(st.set_as_master(id_f));
  BOOST_TEST(st.find(id_f)->is_master());
  BOOST_TEST(!st.find(id_f)->is_slave());
  BOOST_TEST(st.find(id_f)->master_id == "");
  BOOST_TEST(st.find(id_f)->has(cluster_flag::migrate_to));
  BOOST_TEST(!st.find(id_b)->has(cluster_flag::migrate_to));  // B has no replica left
  BOOST_TEST(st.set_replica_of(id_b, id_f));
  BOOST_TEST(st.myself()->is_slave());
  BOOST_TEST(st.myself()->master_id == id_f);
  BOOST_TEST(st.myself()->shard_id == st.find(id_f)->shard_id);
  BOOST_TEST(st.unassign_all(id_b) == 5462);
  for (int s = 5461; s <= 10922; ++s) st.set_slot_owner(s, id_f);
  st.find(id_f)->config_epoch = 7;
  BOOST_TEST(st.my_epoch() == 7u);
  BOOST_TEST(st.node_line(*st.myself()).find(" myself,slave " + id_f + " 0 ") != std::string::npos);
  BOOST_TEST(!st.set_replica_of(id_b, id_b));
  BOOST_TEST(st.max_epoch() == 7u);
  st.current_epoch = 9;
  BOOST_TEST(st.max_epoch() == 9u);
}

BOOST_AUTO_TEST_CASE(failure_reports) {
  cluster_state st = load_ok(conf_created);
  const int64_t timeout = 15000;
  BOOST_TEST(st.add_failure_report(id_c, id_a, 1000));
  BOOST_TEST(!st.add_failure_report(id_c, id_a, 2000));  // refreshed
  BOOST_TEST(st.add_failure_report(id_c, id_b, 3000));
  BOOST_TEST(!st.add_failure_report(id_c, "0000000000000000000000000000000000000000", 3000));
  BOOST_TEST(st.failure_report_count(id_c, 3000, timeout) == 2);
  // Reports expire after 2 * node timeout.
  BOOST_TEST(st.failure_report_count(id_c, 2000 + 30000, timeout) == 2);
  BOOST_TEST(st.failure_report_count(id_c, 2000 + 30001, timeout) == 1);
  BOOST_TEST(st.remove_failure_report(id_c, id_b, 33000, timeout));
  BOOST_TEST(!st.remove_failure_report(id_c, id_b, 33000, timeout));
  BOOST_TEST(st.failure_report_count(id_c, 33000, timeout) == 0);
  // Renaming a reporter carries its reports along.
  BOOST_TEST(st.add_failure_report(id_c, id_e, 40000));
  std::string renamed = "ffffffffffffffffffffffffffffffffffffffff";
  BOOST_TEST(st.rename_node(id_e, renamed));
  BOOST_TEST(st.find(id_c)->failure_reports[0].reporter == renamed);
  BOOST_TEST(st.find(renamed)->master_id == id_a);
}

BOOST_AUTO_TEST_CASE(cluster_state_rule) {
  cluster_state st = load_ok(conf_created);
  auto h = st.evaluate(true);
  BOOST_TEST(h.ok);
  BOOST_TEST(h.size == 3);
  BOOST_TEST(h.reachable_masters == 3);
  // An unassigned slot fails the cluster only under full coverage.
  st.unassign_slot(77);
  BOOST_TEST(!st.evaluate(true).ok);
  BOOST_TEST(st.evaluate(false).ok);
  st.assign_slot(77, id_a);
  // A FAIL master fails it; a PFAIL one does not, while a majority remains reachable.
  st.find(id_c)->flags |= cluster_flag::pfail;
  h = st.evaluate(true);
  BOOST_TEST(h.ok);
  BOOST_TEST(h.reachable_masters == 2);
  st.find(id_a)->flags |= cluster_flag::pfail;  // minority: 1 of 3
  BOOST_TEST(!st.evaluate(false).ok);
  st.find(id_a)->flags &= ~cluster_flag::pfail;
  st.find(id_c)->flags = (st.find(id_c)->flags & ~cluster_flag::pfail) | cluster_flag::fail;
  BOOST_TEST(!st.evaluate(true).ok);
  BOOST_TEST(st.evaluate(false).ok);
}

BOOST_AUTO_TEST_CASE(update_state_delays) {
  cluster_state st = load_ok(conf_created);
  BOOST_TEST(!st.state_ok());  // Redis starts in fail
  const int64_t t0 = 1000000, timeout = 15000;
  // A master waits 2 s from the first evaluation before going ok.
  BOOST_TEST(!st.update_state(t0, timeout, true));
  BOOST_TEST(!st.update_state(t0 + 1999, timeout, true));
  BOOST_TEST(!st.state_ok());
  BOOST_TEST(st.update_state(t0 + 2000, timeout, true));
  BOOST_TEST(st.state_ok());
  BOOST_TEST(st.cluster_size() == 3);
  // Minority: fail at once; back to ok only after the rejoin delay (timeout clamped to 5 s).
  st.find(id_a)->flags |= cluster_flag::pfail;
  st.find(id_c)->flags |= cluster_flag::pfail;
  BOOST_TEST(st.update_state(t0 + 10000, timeout, true));
  BOOST_TEST(!st.state_ok());
  st.find(id_a)->flags &= ~cluster_flag::pfail;
  st.find(id_c)->flags &= ~cluster_flag::pfail;
  BOOST_TEST(!st.update_state(t0 + 14999, timeout, true));
  BOOST_TEST(st.update_state(t0 + 15000, timeout, true));
  BOOST_TEST(st.state_ok());
  // A replica does not wait.
  cluster_state rep = load_ok(conf_replica);
  rep.find(id_c)->flags &= ~cluster_flag::fail;
  for (int s = 0; s < 16384; ++s) BOOST_TEST_REQUIRE(rep.slot_owner(s) != nullptr);
  BOOST_TEST(rep.update_state(t0, timeout, true));
  BOOST_TEST(rep.state_ok());
}

// --- CLUSTER INFO / SLOTS / SHARDS data -------------------------------------------------------

BOOST_AUTO_TEST_CASE(info_matches_redis) {
  cluster_state st = load_ok(conf_failed);
  st.set_state_ok(true);
  st.update_state(0, 2000, true);  // computes cluster_size
  BOOST_TEST(st.state_ok());
  cluster_bus_stats stats;
  stats.sent = {257, 261, 1, 0, 0, 6, 2, 0, 1, 0, 1};
  stats.received = {254, 259, 1, 1, 1, 2, 3, 0, 1, 0, 1};
  BOOST_TEST(st.info_text(stats) == info_failed);

  cluster_state lone = load_ok(conf_lone);
  lone.update_state(1000, 15000, true);
  lone.update_state(4000, 15000, true);
  BOOST_TEST(!lone.state_ok());
  BOOST_TEST(lone.info_text(cluster_bus_stats{}) == info_lone);

  // PFAIL and FAIL owners are counted apart.
  st.find(id_a)->flags |= cluster_flag::pfail;
  st.find(id_d)->flags |= cluster_flag::fail;
  std::string info = st.info_text(stats);
  BOOST_TEST(info.find("cluster_slots_ok:5462\r\ncluster_slots_pfail:5461\r\ncluster_slots_fail:5461\r\n") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(slots_reply_matches_redis) {
  // CLUSTER SLOTS on 27001 (the nodes_final view) answered, in RESP2:
  //  1) 0 5460 [127.0.0.1 27001 <a> {}] [127.0.0.1 27005 <e> {}]
  //  2) 5461 10922 [127.0.0.1 27006 <f> {}] [127.0.0.1 27002 <b> {hostname node-b.example}]
  //  3) 10923 16383 [127.0.0.1 27004 <d> {}]
  cluster_state st = load_exact(std::string(nodes_final) + "vars currentEpoch 10 lastVoteEpoch 0\n");
  for (auto [id, off] : std::vector<std::pair<std::string, int64_t>>{
           {id_e, 98}, {id_c, 56}, {id_g, 0}, {id_d, 56}, {id_f, 84}, {id_b, 84}})
    st.find(id)->repl_offset = off;
  cluster_reply_options opt;
  opt.my_repl_offset = 98;
  auto r = st.slots_reply(opt);
  BOOST_REQUIRE(r.size() == 3u);
  BOOST_TEST(r[0].start == 0);
  BOOST_TEST(r[0].end == 5460);
  BOOST_REQUIRE(r[0].nodes.size() == 2u);
  BOOST_TEST(*r[0].nodes[0].endpoint == "127.0.0.1");
  BOOST_TEST(r[0].nodes[0].port == 27001);
  BOOST_TEST(r[0].nodes[0].id == id_a);
  BOOST_TEST(r[0].nodes[0].metadata.empty());
  BOOST_TEST(r[0].nodes[1].id == id_e);
  BOOST_TEST(r[1].start == 5461);
  BOOST_TEST(r[1].end == 10922);
  BOOST_REQUIRE(r[1].nodes.size() == 2u);
  BOOST_TEST(r[1].nodes[0].id == id_f);
  BOOST_TEST(r[1].nodes[0].port == 27006);
  BOOST_TEST(r[1].nodes[1].id == id_b);
  BOOST_TEST(r[1].nodes[1].port == 27002);
  BOOST_REQUIRE(r[1].nodes[1].metadata.size() == 1u);
  BOOST_TEST(r[1].nodes[1].metadata[0].first == "hostname");
  BOOST_TEST(r[1].nodes[1].metadata[0].second == "node-b.example");
  BOOST_TEST(r[2].start == 10923);
  BOOST_TEST(r[2].end == 16383);
  BOOST_REQUIRE(r[2].nodes.size() == 1u);
  BOOST_TEST(r[2].nodes[0].id == id_d);

  // A replica that has not synced (offset 0) or has failed is left out.
  st.find(id_b)->repl_offset = 0;
  st.find(id_e)->flags |= cluster_flag::fail;
  r = st.slots_reply(opt);
  BOOST_TEST(r[0].nodes.size() == 1u);
  BOOST_TEST(r[1].nodes.size() == 1u);

  // Hostname as the preferred endpoint: "?" without one, and the IP moves to the metadata.
  st.find(id_b)->repl_offset = 84;
  opt.preferred = cluster_endpoint_type::hostname;
  r = st.slots_reply(opt);
  BOOST_TEST(*r[1].nodes[0].endpoint == "?");
  BOOST_TEST(*r[1].nodes[1].endpoint == "node-b.example");
  BOOST_REQUIRE(r[1].nodes[1].metadata.size() == 1u);
  BOOST_TEST(r[1].nodes[1].metadata[0].first == "ip");
  opt.preferred = cluster_endpoint_type::unknown_endpoint;
  r = st.slots_reply(opt);
  BOOST_TEST(!r[1].nodes[1].endpoint.has_value());
  BOOST_REQUIRE(r[1].nodes[1].metadata.size() == 2u);
  BOOST_TEST(r[1].nodes[1].metadata[0].first == "ip");
  BOOST_TEST(r[1].nodes[1].metadata[1].first == "hostname");

  // Scattered slots: one range per run (the lone node's CLUSTER SLOTS had four).
  cluster_state lone = load_ok(conf_lone);
  r = lone.slots_reply();
  BOOST_REQUIRE(r.size() == 4u);
  BOOST_TEST(r[2].start == 4);
  BOOST_TEST(r[2].end == 10);
  BOOST_TEST(*r[2].nodes[0].endpoint == "");
  BOOST_TEST(r[2].nodes[0].port == 27008);
}

BOOST_AUTO_TEST_CASE(shards_reply_matches_redis) {
  // CLUSTER SHARDS on 27001 (nodes_final view), as redis-server answered (shards come in its
  // dict order there; the set is what matters):
  //   slots [0 5460]: a master 27001 offset 98 online; e replica 27005 98 online
  //   slots []: c master 27003 offset 56 fail
  //   slots []: g master 27007 offset 0 online
  //   slots [10923 16383]: d master 27004 offset 56 online
  //   slots [5461 10922]: f master 27006 offset 84 online; b replica 27002 hostname node-b.example 84
  cluster_state st = load_exact(std::string(nodes_final) + "vars currentEpoch 10 lastVoteEpoch 0\n");
  for (auto [id, off] : std::vector<std::pair<std::string, int64_t>>{
           {id_e, 98}, {id_c, 56}, {id_g, 0}, {id_d, 56}, {id_f, 84}, {id_b, 84}})
    st.find(id)->repl_offset = off;
  cluster_reply_options opt;
  opt.my_repl_offset = 98;
  auto shards = st.shards_reply(opt);
  BOOST_REQUIRE(shards.size() == 5u);
  std::map<std::string, const cluster_shard*> by_master;
  for (const auto& s : shards) by_master[s.nodes.at(0).id] = &s;
  BOOST_REQUIRE(by_master.size() == 5u);

  const cluster_shard& a = *by_master.at(id_a);
  BOOST_TEST(a.slots == (std::vector<int>{0, 5460}));
  BOOST_REQUIRE(a.nodes.size() == 2u);
  BOOST_TEST(a.nodes[0].port == 27001);
  BOOST_TEST(a.nodes[0].tls_port == 0);
  BOOST_TEST(a.nodes[0].ip == "127.0.0.1");
  BOOST_TEST(a.nodes[0].endpoint == "127.0.0.1");
  BOOST_TEST(a.nodes[0].hostname == "");
  BOOST_TEST(a.nodes[0].role == "master");
  BOOST_TEST(a.nodes[0].replication_offset == 98);
  BOOST_TEST(a.nodes[0].health == "online");
  BOOST_TEST(a.nodes[1].id == id_e);
  BOOST_TEST(a.nodes[1].role == "replica");
  BOOST_TEST(a.nodes[1].replication_offset == 98);

  const cluster_shard& c = *by_master.at(id_c);
  BOOST_TEST(c.slots.empty());
  BOOST_TEST(c.nodes.size() == 1u);
  BOOST_TEST(c.nodes[0].health == "fail");
  BOOST_TEST(c.nodes[0].replication_offset == 56);

  const cluster_shard& g = *by_master.at(id_g);
  BOOST_TEST(g.slots.empty());
  BOOST_TEST(g.nodes[0].health == "online");  // a master with offset 0 is not "loading"

  BOOST_TEST(by_master.at(id_d)->slots == (std::vector<int>{10923, 16383}));

  const cluster_shard& f = *by_master.at(id_f);
  BOOST_TEST(f.slots == (std::vector<int>{5461, 10922}));
  BOOST_REQUIRE(f.nodes.size() == 2u);
  BOOST_TEST(f.nodes[1].id == id_b);
  BOOST_TEST(f.nodes[1].port == 27002);
  BOOST_TEST(f.nodes[1].hostname == "node-b.example");
  BOOST_TEST(f.nodes[1].endpoint == "127.0.0.1");
  BOOST_TEST(f.nodes[1].role == "replica");
  BOOST_TEST(f.nodes[1].health == "online");

  // A replica at offset 0 is "loading"; TLS swaps the ports.
  st.find(id_b)->repl_offset = 0;
  st.find(id_b)->pport = 26002;
  opt.tls_cluster = true;
  shards = st.shards_reply(opt);
  for (const auto& s : shards)
    for (const auto& n : s.nodes)
      if (n.id == id_b) {
        BOOST_TEST(n.health == "loading");
        BOOST_TEST(n.port == 26002);
        BOOST_TEST(n.tls_port == 27002);
      }

  // The lone node: empty ip and endpoint, scattered slots flattened in pairs.
  cluster_state lone = load_ok(conf_lone);
  shards = lone.shards_reply();
  BOOST_REQUIRE(shards.size() == 1u);
  BOOST_TEST(shards[0].slots == (std::vector<int>{0, 0, 2, 2, 4, 10, 16383, 16383}));
  BOOST_TEST(shards[0].nodes[0].ip == "");
  BOOST_TEST(shards[0].nodes[0].endpoint == "");
  BOOST_TEST(shards[0].nodes[0].replication_offset == 0);
}

BOOST_AUTO_TEST_CASE(redis_loads_what_we_write) {
  // Built with this API and saved, this file was loaded by redis-server 7.0.15, whose CLUSTER
  // NODES then listed the same lines (its own order and load-time pings aside), whose CLUSTER
  // SAVECONFIG wrote the same file back, and whose CLUSTER INFO (after its 2 s start-up delay)
  // began as expected_info.
  const std::string me = "fc6ac0e88629b784b0837e5411db0cd39998b77a";
  const std::string other = "0f2757f48a56df3b123c4db1341f7ba46be15e27";
  const std::string replica = "b3907e1108844960f4c0c0e73e2582f660ff79ad";
  const std::string expected_conf =
      "fc6ac0e88629b784b0837e5411db0cd39998b77a 127.0.0.1:27050@37050,troupe-me.example myself,master - 0 0 4 connected 0-100 200 16383 [50->-0f2757f48a56df3b123c4db1341f7ba46be15e27] [150-<-0f2757f48a56df3b123c4db1341f7ba46be15e27] [300-<-0f2757f48a56df3b123c4db1341f7ba46be15e27]\n"
      "0f2757f48a56df3b123c4db1341f7ba46be15e27 127.0.0.1:27051@37051 master,fail - 5 6 3 disconnected 101-199\n"
      "b3907e1108844960f4c0c0e73e2582f660ff79ad 127.0.0.1:27052@37052 slave,nofailover fc6ac0e88629b784b0837e5411db0cd39998b77a 0 0 4 disconnected\n"
      "vars currentEpoch 7 lastVoteEpoch 5\n";
  const std::string expected_info =
      "cluster_state:fail\r\n"
      "cluster_slots_assigned:202\r\n"
      "cluster_slots_ok:103\r\n"
      "cluster_slots_pfail:0\r\n"
      "cluster_slots_fail:99\r\n"
      "cluster_known_nodes:3\r\n"
      "cluster_size:2\r\n"
      "cluster_current_epoch:7\r\n"
      "cluster_my_epoch:4\r\n";

  cluster_state st;
  cluster_node n;
  n.id = me;
  n.ip = "127.0.0.1";
  n.port = 27050;
  n.cport = 37050;
  n.hostname = "troupe-me.example";
  n.flags = cluster_flag::myself | cluster_flag::master;
  n.config_epoch = 4;
  BOOST_TEST(st.add_node(n));
  n = cluster_node{};
  n.id = other;
  n.ip = "127.0.0.1";
  n.port = 27051;
  n.cport = 37051;
  n.flags = cluster_flag::master | cluster_flag::fail;
  n.config_epoch = 3;
  n.ping_sent = 5;
  n.pong_received = 6;
  BOOST_TEST(st.add_node(n));
  n = cluster_node{};
  n.id = replica;
  n.ip = "127.0.0.1";
  n.port = 27052;
  n.cport = 37052;
  n.flags = cluster_flag::slave | cluster_flag::nofailover;
  BOOST_TEST(st.add_node(n));
  BOOST_TEST(st.set_replica_of(replica, me));
  std::vector<int> mine, theirs;
  for (int s = 0; s <= 100; ++s) mine.push_back(s);
  mine.push_back(200);
  mine.push_back(16383);
  for (int s = 101; s <= 199; ++s) theirs.push_back(s);
  BOOST_TEST(st.add_slots(me, mine) == "");
  BOOST_TEST(st.add_slots(other, theirs) == "");
  st.set_migrating(50, other);
  st.set_importing(150, other);
  st.set_importing(300, other);
  st.current_epoch = 7;
  st.last_vote_epoch = 5;
  BOOST_TEST(st.nodes_conf() == expected_conf);
  st.update_state(1000, 2000, true);
  st.update_state(3000, 2000, true);
  BOOST_TEST(st.info_text({}).substr(0, expected_info.size()) == expected_info);
}

// --- files -----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(save_and_load_file) {
  test::temp_dir dir;
  std::string path = dir.file("nodes.conf");
  cluster_state st;
  BOOST_TEST((load_nodes_conf_file(path, 1, st).what == cluster_load_result::status::missing));
  dir.write("nodes.conf", "");
  BOOST_TEST((load_nodes_conf_file(path, 1, st).what == cluster_load_result::status::empty));

  cluster_state src = load_exact(conf_failed);
  BOOST_TEST(save_nodes_conf(path, src.nodes_conf()) == "");
  BOOST_TEST(dir.read("nodes.conf") == conf_failed);
  // Overwrites a longer file completely (no padding left behind), and leaves no temp file.
  dir.write("nodes.conf", std::string(10000, 'x'));
  BOOST_TEST(save_nodes_conf(path, conf_lone) == "");
  BOOST_TEST(dir.read("nodes.conf") == conf_lone);
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path)) {
    (void)e;
    ++files;
  }
  BOOST_TEST(files == 1);

  auto res = load_nodes_conf_file(path, 7, st);
  BOOST_TEST((res.what == cluster_load_result::status::loaded));
  BOOST_TEST(st.myself()->id == "c8b1bffb15ead9b18018c4acc43bae23d7e53c3d");

  // Errors name the failing step.
  std::string err = save_nodes_conf(dir.file("no/such/dir/nodes.conf"), "x");
  BOOST_TEST(err.find("can't open") == 0u);
  BOOST_TEST(err.find("No such file or directory") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
