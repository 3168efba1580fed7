// A connection in cluster mode: routing checks (CROSSSLOT, CLUSTERDOWN, MOVED) against the
// cluster actor's published slot ownership, CLUSTER commands, READONLY / READWRITE / ASKING.
#include <caf/all.hpp>

#include "actors/connection_internal.hpp"
#include "keyspace/commands.hpp"
#include "protocol/cluster_routing.hpp"
#include "protocol/numbers.hpp"

namespace troupe::actors::conn {

using protocol::command_spec;
using protocol::command_table;

namespace {

struct ids {
  int readonly, readwrite, asking, countkeysinslot, getkeysinslot, cluster, ssubscribe, sunsubscribe, spublish;
  ids() {
    auto& t = command_table::instance();
    readonly = t.implement("readonly");
    readwrite = t.implement("readwrite");
    asking = t.implement("asking");
    countkeysinslot = t.id_of("cluster|countkeysinslot");
    getkeysinslot = t.id_of("cluster|getkeysinslot");
    cluster = t.id_of("cluster");
    ssubscribe = t.id_of("ssubscribe");
    sunsubscribe = t.id_of("sunsubscribe");
    spublish = t.id_of("spublish");
  }
};

const ids& cluster_ids() {
  static ids i;
  return i;
}

const protocol::cluster_routing& snapshot(connection_ptr self) {
  auto& st = self->state;
  auto v = st.srv->cluster_version.load(std::memory_order_acquire);
  if (!st.cluster_routing || v != st.cluster_routing_version) {
    st.cluster_routing = st.srv->routing_snapshot();
    st.cluster_routing_version = v;
  }
  return *st.cluster_routing;
}

// The keys Redis 7.0 routes a command by: its legacy first/last/step range (which counts shard
// channels as keys), or, for commands with movable keys, their key specifications.
void routing_keys(const command_spec& spec, const args_t& args, std::vector<int>& out) {
  out.clear();
  if (spec.has(protocol::cmd_movablekeys)) {
    if (!command_table::instance().key_positions(spec, args, out))
      out.clear();
    return;
  }
  if (spec.first_key <= 0)
    return;
  int argc = static_cast<int>(args.size());
  int last = spec.last_key < 0 ? argc + spec.last_key : spec.last_key;
  int step = spec.key_step > 0 ? spec.key_step : 1;
  for (int i = spec.first_key; i <= last && i < argc; i += step)
    out.push_back(i);
}

void ask_cluster(connection_ptr self, cluster_command c) {
  auto& st = self->state;
  self->request(st.srv->cluster, std::chrono::seconds(10), std::move(c))
    .then([=](std::string& reply) { deferred_done(self, std::move(reply)); },
          [=](caf::error&) {
            std::string out;
            resp_writer(out).error("ERR the cluster actor did not answer");
            deferred_done(self, std::move(out));
          });
}

// Whether the node holds keys is asked of the slot ranges (only they may read their tables: with
// io-threads they can be on other threads, or locked by another connection).
void cluster_service(connection_ptr self, const std::vector<std::string>& a) {
  auto& st = self->state;
  cluster_command c;
  c.args = a;
  c.resp = static_cast<uint8_t>(st.sess.resp());
  with_range_reports(self, [self, c](std::vector<slot_range_report>& reports) mutable {
    for (auto& rep : reports)
      c.has_keys = c.has_keys || (!rep.keys.empty() && rep.keys[0] > 0);
    ask_cluster(self, std::move(c));
  });
}

} // namespace

void register_cluster_commands(std::vector<service>& services) {
  auto& t = command_table::instance();
  cluster_ids();
  for (auto& c : t.all()) {
    if (c.name.rfind("cluster|", 0) != 0 || c.id == cluster_ids().countkeysinslot
        || c.id == cluster_ids().getkeysinslot)
      continue;
    services[static_cast<size_t>(t.implement(c.name))].async = cluster_service;
  }
}

// The commands cluster_connection_command acts on, and (CLUSTER's subcommands) slot_command_target:
// route() sends every other data command past both.
bool cluster_local(const command_spec& spec) {
  auto& id = cluster_ids();
  return spec.id == id.readonly || spec.id == id.readwrite || spec.id == id.asking || spec.parent == id.cluster;
}

bool cluster_connection_command(connection_ptr self, const command_spec& spec) {
  auto& st = self->state;
  auto& id = cluster_ids();
  if (!cluster_local(spec))
    return false;
  if (!st.srv->cluster_enabled) {
    local_error(self, "ERR This instance has cluster support disabled");
    return true;
  }
  if (spec.id == id.readonly || spec.id == id.readwrite || spec.id == id.asking) {
    if (spec.id == id.asking)
      st.asking = true;
    else
      st.readonly = spec.id == id.readonly;
    auto w = local_writer(self);
    w.ok();
    end_local(self);
    return true;
  }
  return false;
}

bool cluster_redirect(connection_ptr self, const command_spec& spec, const args_t& args) {
  auto& st = self->state;
  if (!st.srv->cluster_enabled)
    return false;
  bool asking = st.asking || spec.has(protocol::cmd_asking);
  if (spec.id != cluster_ids().asking)
    st.asking = false;
  auto& keys = st.redirect_keys;
  routing_keys(spec, args, keys);
  if (keys.empty())
    return false;
  auto& slots = st.redirect_slots;
  slots.clear();
  bool multiple = false;
  for (int k : keys) {
    auto key = args[static_cast<size_t>(k)];
    slots.push_back(protocol::key_slot(key));
    multiple = multiple || key != args[static_cast<size_t>(keys[0])];
  }
  protocol::route_request req;
  req.write = spec.has(protocol::cmd_write);
  req.readonly_client = st.readonly;
  req.asking = asking;
  auto& id = cluster_ids();
  int base = spec.parent >= 0 ? spec.parent : spec.id;
  req.pubsubshard = base == id.ssubscribe || base == id.sunsubscribe || base == id.spublish;
  auto& r = snapshot(self);
  auto res = protocol::route(r, slots, multiple, req);
  if (res.kind == protocol::redirect::none)
    return false;
  local_error(self, protocol::redirect_error(r, res));
  if (st.in_multi)
    st.multi_error = true;
  return true;
}

bool cluster_exec_redirect(connection_ptr self, std::string& error) {
  auto& st = self->state;
  if (!st.srv->cluster_enabled)
    return false;
  std::vector<int> slots, keys;
  bool write = false;
  for (auto& q : st.multi_queue) {
    auto& spec = command_table::instance().at(q.cmd);
    args_t args(q.args.begin(), q.args.end());
    routing_keys(spec, args, keys);
    for (int k : keys)
      slots.push_back(protocol::key_slot(args[static_cast<size_t>(k)]));
    write = write || spec.has(protocol::cmd_write);
  }
  protocol::route_request req;
  req.write = write;
  req.readonly_client = st.readonly;
  auto& r = snapshot(self);
  auto res = protocol::route(r, slots, slots.size() > 1, req);
  if (res.kind == protocol::redirect::none)
    return false;
  error = protocol::redirect_error(r, res);
  return true;
}

int slot_command_target(connection_ptr self, const command_spec& spec) {
  auto& st = self->state;
  if (spec.id != cluster_ids().countkeysinslot && spec.id != cluster_ids().getkeysinslot)
    return -1;
  int64_t slot = 0;
  if (!protocol::parse_int64(st.args[2], slot) || slot < 0 || slot >= protocol::slot_count)
    return 0; // the command replies its own error
  return st.routing->owner[static_cast<size_t>(slot)];
}

} // namespace troupe::actors::conn
