#include "config/cluster_engine.hpp"

#include <algorithm>
#include <climits>

#include "protocol/command_table.hpp"
#include "protocol/key_slot.hpp"
#include "protocol/numbers.hpp"

namespace troupe::config {

using protocol::iequals;

namespace {

std::string to_hex_id(const std::string& s) { return s.substr(0, 40); }

bool parse_slot(std::string_view s, int& slot) {
  int64_t v;
  if (!protocol::parse_int64(s, v) || v < 0 || v >= config::cluster_slots)
    return false;
  slot = static_cast<int>(v);
  return true;
}

} // namespace

cluster_engine::cluster_engine(cluster_settings settings, config::cluster_state state)
  : settings_(std::move(settings)), state_(std::move(state)) {
  auto& m = me();
  m.port = settings_.port;
  m.cport = settings_.cport;
  m.hostname = settings_.hostname;
  if (!settings_.announce_ip.empty())
    m.ip = settings_.announce_ip;
  if (settings_.replica_no_failover)
    m.flags |= cluster_flag::nofailover;
}

cluster_effects cluster_engine::take_effects() {
  cluster_effects e = std::move(effects_);
  effects_ = cluster_effects{};
  return e;
}

// ---- messages we send ------------------------------------------------------------------------

cb::header cluster_engine::my_header(cb::message_type type) const {
  const cluster_node& m = *state_.myself();
  cb::header h;
  h.type = type;
  h.port = static_cast<uint16_t>(m.port);
  h.cport = static_cast<uint16_t>(m.cport);
  h.pport = static_cast<uint16_t>(m.pport);
  h.sender = m.id;
  h.flags = m.flags;
  // A replica advertises its master's slots and configEpoch.
  const cluster_node* master = m.is_slave() && !m.master_id.empty() ? state_.find(m.master_id) : &m;
  if (master != nullptr) {
    h.slots.bytes = state_.slot_bitmap(master->id);
    h.config_epoch = master->config_epoch;
  }
  if (m.is_slave())
    h.slaveof = m.master_id;
  h.current_epoch = state_.current_epoch;
  h.offset = static_cast<uint64_t>(m.repl_offset);
  h.myip = settings_.announce_ip;
  h.state = state_.state_ok() ? cb::state_ok : cb::state_fail;
  return h;
}

void cluster_engine::send(link_id link, cb::message msg) {
  auto it = links_.find(link);
  if (it == links_.end())
    return;
  uint16_t type = static_cast<uint16_t>(msg.hdr.type);
  if (type < stats_.sent.size())
    ++stats_.sent[type];
  ++it->second.sent;
  effects_.sends.push_back({link, cb::encode(msg), type});
}

cb::message cluster_engine::build_ping(cb::message_type type, int64_t now) {
  cb::message msg;
  msg.hdr = my_header(type);
  cb::ping_body body;
  // Gossip about a tenth of the nodes (at least 3), not ourselves nor the receiver, plus every
  // node we think is failing.
  auto& nodes = state_.nodes();
  int freshnodes = static_cast<int>(nodes.size()) - 2;
  int wanted = std::max<int>(3, static_cast<int>(nodes.size() / 10));
  wanted = std::min(wanted, freshnodes);
  std::vector<const cluster_node*> picked;
  auto add = [&](const cluster_node& n) {
    if (std::find(picked.begin(), picked.end(), &n) != picked.end())
      return;
    picked.push_back(&n);
    cb::gossip_entry g;
    g.name = n.id;
    g.ping_sent = static_cast<uint32_t>(n.ping_sent / 1000);
    g.pong_received = static_cast<uint32_t>(n.pong_received / 1000);
    g.ip = n.ip;
    g.port = static_cast<uint16_t>(n.port);
    g.cport = static_cast<uint16_t>(n.cport);
    g.pport = static_cast<uint16_t>(n.pport);
    g.flags = n.flags;
    body.gossip.push_back(std::move(g));
  };
  int tries = wanted * 3;
  while (freshnodes > 0 && static_cast<int>(picked.size()) < wanted && tries-- > 0 && !nodes.empty()) {
    const cluster_node& n = nodes[rng_() % nodes.size()];
    if (n.is_myself() || n.timed_out() || n.in_handshake() || n.has(cluster_flag::noaddr)
        || (!n.link && n.is_master() && state_.slot_count(n.id) == 0))
      continue;
    add(n);
  }
  for (auto& n : nodes)
    if (n.timed_out() && !n.in_handshake() && !n.has(cluster_flag::noaddr))
      add(n);
  if (!settings_.hostname.empty())
    body.extensions.push_back(cb::make_hostname_extension(settings_.hostname));
  msg.data = std::move(body);
  (void)now;
  return msg;
}

void cluster_engine::send_ping(link_id link, cb::message_type type, int64_t now) {
  auto it = links_.find(link);
  if (it == links_.end())
    return;
  // The ping timer starts only if none is pending (a reconnection keeps the old one).
  if (type == cb::message_type::ping && !it->second.inbound) {
    if (auto* n = state_.find(it->second.node); n && n->ping_sent == 0)
      n->ping_sent = now;
  }
  send(link, build_ping(type, now));
}

void cluster_engine::broadcast(const cb::message& msg) {
  for (auto& [node, link] : outbound_) {
    auto* n = state_.find(node);
    if (n == nullptr || n->is_myself() || n->in_handshake())
      continue;
    send(link, msg);
  }
}

std::optional<link_id> cluster_engine::link_of(const std::string& node) const {
  auto it = outbound_.find(node);
  if (it == outbound_.end())
    return std::nullopt;
  return it->second;
}

void cluster_engine::send_fail(const std::string& node) {
  cb::message msg;
  msg.hdr = my_header(cb::message_type::fail);
  cb::fail_body body;
  body.node = node;
  msg.data = body;
  broadcast(msg);
}

void cluster_engine::send_update(link_id link, const cluster_node& owner) {
  cb::message msg;
  msg.hdr = my_header(cb::message_type::update);
  cb::update_body body;
  body.config_epoch = owner.config_epoch;
  body.node = owner.id;
  body.slots.bytes = state_.slot_bitmap(owner.id);
  msg.data = body;
  send(link, msg);
}

void cluster_engine::propagate_publish(const std::string& channel, const std::string& message, bool shard,
                                       int64_t) {
  cb::message msg;
  msg.hdr = my_header(shard ? cb::message_type::publishshard : cb::message_type::publish);
  cb::publish_body body;
  body.channel = channel;
  body.message = message;
  msg.data = body;
  if (!shard) {
    broadcast(msg);
    return;
  }
  // A shard message goes to the other nodes of this shard only.
  auto& m = me();
  std::string master = m.is_slave() ? m.master_id : m.id;
  for (auto& n : state_.nodes()) {
    if (n.is_myself())
      continue;
    if (n.id == master || n.master_id == master)
      if (auto l = link_of(n.id))
        send(*l, msg);
  }
}

// ---- links -----------------------------------------------------------------------------------

void cluster_engine::outbound_up(link_id link, const std::string& node, int64_t now) {
  connecting_.erase(node);
  auto* n = state_.find(node);
  if (n == nullptr) {
    effects_.closes.push_back(link);
    return;
  }
  links_[link] = link_state{node, false, "", "", now, 0, 0};
  outbound_[node] = link;
  n->link = true;
  // A MEET for nodes we were told to meet, a PING otherwise; a reconnection keeps the time of a
  // ping still pending so that failure detection is not reset.
  int64_t old_ping_sent = n->ping_sent;
  bool meet = n->has(cluster_flag::meet);
  send_ping(link, meet ? cb::message_type::meet : cb::message_type::ping, now);
  if (old_ping_sent)
    n->ping_sent = old_ping_sent;
  n->flags &= static_cast<uint16_t>(~cluster_flag::meet);
}

void cluster_engine::outbound_failed(const std::string& node, int64_t now) {
  connecting_.erase(node);
  // Failure detection measures from a ping: count the failed connection as one, so that an
  // unreachable node turns PFAIL after the node timeout.
  if (auto* n = state_.find(node); n != nullptr && n->ping_sent == 0)
    n->ping_sent = now;
}

void cluster_engine::inbound_up(link_id link, std::string peer_ip, std::string local_ip, int64_t now) {
  links_[link] = link_state{"", true, std::move(peer_ip), std::move(local_ip), now, 0, 0};
}

void cluster_engine::link_down(link_id link, int64_t) {
  auto it = links_.find(link);
  if (it == links_.end())
    return;
  auto& l = it->second;
  if (!l.inbound) {
    auto o = outbound_.find(l.node);
    if (o != outbound_.end() && o->second == link) {
      outbound_.erase(o);
      if (auto* n = state_.find(l.node))
        n->link = false;
    }
  } else if (!l.node.empty()) {
    if (auto* n = state_.find(l.node))
      n->inbound_link = false;
  }
  links_.erase(it);
}

std::vector<cluster_engine::link_info> cluster_engine::links() const {
  std::vector<link_info> out;
  for (auto& [id, l] : links_)
    out.push_back({id, l.node, l.inbound, l.ctime, l.sent, l.received});
  return out;
}

// ---- incoming messages -----------------------------------------------------------------------

config::cluster_node* cluster_engine::sender_of(const link_state& l, const cb::header& h) {
  if (!l.inbound && !l.node.empty()) {
    auto* n = state_.find(l.node);
    if (n != nullptr && !n->in_handshake())
      return n;
  }
  if (!config::valid_node_id(h.sender))
    return nullptr;
  return state_.find(h.sender);
}

void cluster_engine::on_bad_message(link_id link, uint16_t type, const std::string& why, bool fatal) {
  if (type < stats_.received.size())
    ++stats_.received[type];
  log(3, "Cluster bus: dropped a message" + std::string(fatal ? " and the link" : "") + ": " + why);
  if (fatal)
    effects_.closes.push_back(link);
}

void cluster_engine::on_message(link_id id, const cb::message& msg, int64_t now) {
  auto lit = links_.find(id);
  if (lit == links_.end())
    return;
  link_state& l = lit->second;
  ++l.received;
  uint16_t type = static_cast<uint16_t>(msg.hdr.type);
  if (type < stats_.received.size())
    ++stats_.received[type];
  const cb::header& h = msg.hdr;
  cluster_node* sender = sender_of(l, h);
  if (sender != nullptr) {
    sender->data_received = now;
    if (l.inbound && l.node.empty()) {
      l.node = sender->id;
      sender->inbound_link = true;
    }
  }
  if (sender != nullptr && !sender->in_handshake()) {
    if (h.current_epoch > state_.current_epoch)
      state_.current_epoch = h.current_epoch;
    if (h.config_epoch > sender->config_epoch) {
      sender->config_epoch = h.config_epoch;
      save();
    }
    sender->repl_offset = static_cast<int64_t>(h.offset);
    sender->repl_offset_time = now;
  }
  switch (h.type) {
    case cb::message_type::ping:
    case cb::message_type::pong:
    case cb::message_type::meet:
      process_ping_like(id, l, msg, now);
      break;
    case cb::message_type::fail: {
      auto& body = std::get<cb::fail_body>(msg.data);
      if (sender == nullptr) {
        log(2, "Ignoring FAIL message from unknown node " + to_hex_id(h.sender) + " about " + body.node);
        break;
      }
      auto* failing = config::valid_node_id(body.node) ? state_.find(body.node) : nullptr;
      if (failing != nullptr && !failing->has(cluster_flag::fail) && !failing->is_myself()) {
        log(2, "FAIL message received from " + sender->id + " about " + failing->id);
        failing->flags |= cluster_flag::fail;
        failing->fail_time = now;
        failing->flags &= static_cast<uint16_t>(~cluster_flag::pfail);
        changed();
        state_dirty_ = true;
      }
      break;
    }
    case cb::message_type::publish:
    case cb::message_type::publishshard: {
      if (sender == nullptr)
        break;
      auto& body = std::get<cb::publish_body>(msg.data);
      effects_.publishes.push_back({body.channel, body.message, h.type == cb::message_type::publishshard});
      break;
    }
    case cb::message_type::update: {
      if (sender == nullptr)
        break;
      auto& body = std::get<cb::update_body>(msg.data);
      auto* n = config::valid_node_id(body.node) ? state_.find(body.node) : nullptr;
      if (n == nullptr || n->config_epoch >= body.config_epoch)
        break;
      if (n->is_slave())
        state_.set_as_master(n->id);
      n->config_epoch = body.config_epoch;
      update_slots_config(*n, body.config_epoch, body.slots);
      save();
      break;
    }
    case cb::message_type::failover_auth_request:
      if (sender != nullptr)
        vote_if_needed(id, h, sender, now);
      break;
    default:
      break; // AUTH_ACK, MFSTART, MODULE: Troupe replicas do not fail over yet
  }
  if (state_dirty_) {
    state_dirty_ = false;
    update_state(now);
  }
}

void cluster_engine::process_ping_like(link_id id, link_state& l, const cb::message& msg, int64_t now) {
  const cb::header& h = msg.hdr;
  const auto& body = std::get<cb::ping_body>(msg.data);
  cluster_node* sender = sender_of(l, h);
  if (h.type == cb::message_type::ping || h.type == cb::message_type::meet) {
    // Learn our own address from the first MEET (the address others reach us at).
    if ((h.type == cb::message_type::meet || me().ip.empty()) && settings_.announce_ip.empty() && l.inbound
        && !l.local_ip.empty() && l.local_ip != me().ip) {
      me().ip = l.local_ip;
      log(3, "IP address for this node updated to " + me().ip);
      changed();
    }
    if (sender == nullptr && h.type == cb::message_type::meet) {
      cluster_node n;
      n.id = config::random_node_id();
      n.flags = cluster_flag::handshake;
      n.ip = !h.myip.empty() ? h.myip : l.peer_ip;
      n.port = h.port;
      n.pport = h.pport;
      n.cport = h.cport;
      n.ctime = now;
      state_.add_node(n);
      save();
      // A MEET from an unknown node: trust its gossip anyway.
      process_gossip(nullptr, body, now);
    }
    send_ping(id, cb::message_type::pong, now);
  }
  if (!l.inbound) {
    cluster_node* ln = state_.find(l.node);
    if (ln == nullptr)
      return;
    if (ln->in_handshake()) {
      if (sender != nullptr) {
        // We knew this node already: this was a second address for it.
        std::string gone = ln->id;
        effects_.closes.push_back(id);
        link_down(id, now);
        forget_node(gone);
        changed();
        return;
      }
      if (!config::valid_node_id(h.sender)) {
        effects_.closes.push_back(id);
        return;
      }
      std::string old = ln->id;
      state_.rename_node(old, h.sender);
      outbound_.erase(old);
      outbound_[h.sender] = id;
      l.node = h.sender;
      ln = state_.find(h.sender);
      ln->flags &= static_cast<uint16_t>(~cluster_flag::handshake);
      ln->flags |= h.flags & (cluster_flag::master | cluster_flag::slave);
      log(1, "Handshake with node " + ln->id + " completed.");
      sender = ln;
      changed();
    } else if (ln->id != h.sender) {
      // A different node answers at this address: forget the address, drop the link.
      ln->flags |= cluster_flag::noaddr;
      ln->ip.clear();
      ln->port = ln->pport = ln->cport = 0;
      effects_.closes.push_back(id);
      link_down(id, now);
      changed();
      return;
    }
  }
  if (sender != nullptr) {
    sender->flags = static_cast<uint16_t>((sender->flags & ~cluster_flag::nofailover)
                                          | (h.flags & cluster_flag::nofailover));
  }
  // A PING from a known node on a new address: follow it.
  if (sender != nullptr && h.type == cb::message_type::ping && !sender->in_handshake() && l.inbound) {
    std::string ip = !h.myip.empty() ? h.myip : l.peer_ip;
    if (!ip.empty() && (sender->ip != ip || sender->port != h.port || sender->cport != h.cport)) {
      if (auto old = link_of(sender->id)) {
        effects_.closes.push_back(*old);
        link_down(*old, now);
      }
      sender->ip = ip;
      sender->port = h.port;
      sender->pport = h.pport;
      sender->cport = h.cport;
      sender->flags &= static_cast<uint16_t>(~cluster_flag::noaddr);
      log(3, "Address updated for node " + sender->id + ", now " + ip + ":" + std::to_string(h.port));
      changed();
    }
  }
  if (!l.inbound && h.type == cb::message_type::pong) {
    if (auto* ln = state_.find(l.node)) {
      ln->pong_received = now;
      ln->ping_sent = 0;
      if (ln->timed_out()) {
        ln->flags &= static_cast<uint16_t>(~cluster_flag::pfail);
        changed();
        state_dirty_ = true;
      } else if (ln->failed()) {
        clear_failure_if_needed(*ln, now);
      }
    }
  }
  if (sender == nullptr)
    return;
  // Roles.
  if (h.slaveof.empty()) {
    if (!sender->is_master()) {
      state_.set_as_master(sender->id);
      changed();
    }
  } else {
    if (sender->is_master()) {
      state_.unassign_all(sender->id);
      sender->flags &= static_cast<uint16_t>(~(cluster_flag::master | cluster_flag::migrate_to));
      sender->flags |= cluster_flag::slave;
      changed();
      state_dirty_ = true;
    }
    if (config::valid_node_id(h.slaveof) && state_.find(h.slaveof) && sender->master_id != h.slaveof) {
      state_.set_replica_of(sender->id, h.slaveof);
      changed();
    }
  }
  // Slots.
  cluster_node* sender_master = sender->is_master() ? sender
                                : (!sender->master_id.empty() ? state_.find(sender->master_id) : nullptr);
  bool dirty_slots = false;
  if (sender_master != nullptr)
    dirty_slots = state_.slot_bitmap(sender_master->id) != h.slots.bytes;
  if (sender->is_master() && dirty_slots)
    update_slots_config(*sender, h.config_epoch, h.slots);
  if (dirty_slots) {
    for (int s = 0; s < config::cluster_slots; ++s) {
      if (!h.slots.test(s))
        continue;
      const cluster_node* owner = state_.slot_owner(s);
      if (owner == nullptr || owner == sender)
        continue;
      if (owner->config_epoch > h.config_epoch) {
        log(1, "Node " + sender->id + " has old slots configuration, sending an UPDATE message about " + owner->id);
        if (auto link = link_of(sender->id))
          send_update(*link, *owner);
        break;
      }
    }
  }
  if (me().is_master() && sender->is_master() && h.config_epoch == me().config_epoch)
    handle_epoch_collision(*sender);
  process_gossip(sender, body, now);
  if (auto hn = body.hostname(); hn.has_value()) {
    if (sender->hostname != *hn) {
      sender->hostname = *hn;
      changed();
    }
  } else if (!sender->hostname.empty()) {
    sender->hostname.clear();
    changed();
  }
}

void cluster_engine::process_gossip(cluster_node* sender, const cb::ping_body& body, int64_t now) {
  for (auto& g : body.gossip) {
    if (!config::valid_node_id(g.name))
      continue;
    cluster_node* node = state_.find(g.name);
    if (node != nullptr) {
      if (sender != nullptr && sender->is_master() && !node->is_myself()) {
        if (g.flags & (cluster_flag::fail | cluster_flag::pfail)) {
          if (state_.add_failure_report(node->id, sender->id, now))
            log(1, "Node " + sender->id + " reported node " + node->id + " as not reachable.");
          mark_failing_if_needed(*node, now);
        } else if (state_.remove_failure_report(node->id, sender->id, now, settings_.node_timeout)) {
          log(1, "Node " + sender->id + " reported node " + node->id + " is back online.");
        }
      }
      // Trust the gossiped pong time when we have nothing better.
      if (!(g.flags & (cluster_flag::fail | cluster_flag::pfail)) && node->ping_sent == 0
          && state_.failure_report_count(node->id, now, settings_.node_timeout) == 0) {
        int64_t pongtime = static_cast<int64_t>(g.pong_received) * 1000;
        if (pongtime <= now + 500 && pongtime > node->pong_received)
          node->pong_received = pongtime;
      }
      // A failing node announced at a new address by a healthy gossip: follow it.
      if ((node->flags & (cluster_flag::fail | cluster_flag::pfail)) && !(g.flags & cluster_flag::noaddr)
          && !(g.flags & (cluster_flag::fail | cluster_flag::pfail))
          && (node->ip != g.ip || node->port != g.port || node->cport != g.cport)) {
        if (auto old = link_of(node->id)) {
          effects_.closes.push_back(*old);
          link_down(*old, now);
        }
        node->ip = g.ip;
        node->port = g.port;
        node->pport = g.pport;
        node->cport = g.cport;
        node->flags &= static_cast<uint16_t>(~cluster_flag::noaddr);
      }
    } else if (sender != nullptr && !(g.flags & cluster_flag::noaddr) && !state_.blacklisted(g.name, now)
               && !g.ip.empty()) {
      // An unknown node: meet it (the handshake learns its id).
      if (!state_.handshake_in_progress(g.ip, g.port, g.cport)) {
        state_.start_handshake(g.ip, g.port, g.cport, now);
        save();
      }
    }
  }
}

void cluster_engine::update_slots_config(cluster_node& sender, uint64_t sender_epoch,
                                         const cb::slot_bitmap& slots) {
  auto& m = me();
  const cluster_node* my_master = m.is_master() ? &m : (m.master_id.empty() ? nullptr : state_.find(m.master_id));
  std::string my_master_id = my_master ? my_master->id : "";
  bool lost_my_slots = false;
  int dirty = 0;
  for (int s = 0; s < config::cluster_slots; ++s) {
    if (!slots.test(s))
      continue;
    const cluster_node* owner = state_.slot_owner(s);
    if (owner == &sender)
      continue;
    if (state_.importing_from(s) != nullptr)
      continue; // a slot we are importing is ours to settle
    if (owner == nullptr || owner->config_epoch < sender_epoch) {
      if (owner != nullptr && owner->id == my_master_id)
        lost_my_slots = true;
      state_.set_slot_owner(s, sender.id);
      ++dirty;
    }
  }
  if (dirty > 0) {
    changed();
    state_dirty_ = true;
  }
  // Our master (or we) lost every slot to the sender: follow the sender.
  if (lost_my_slots && my_master != nullptr && state_.slot_count(my_master_id) == 0) {
    if (m.is_master()) {
      log(3, "Configuration change detected. Reconfiguring myself as a replica of " + sender.id);
      state_.set_replica_of(m.id, sender.id);
      changed();
    } else if (m.master_id != sender.id) {
      state_.set_replica_of(m.id, sender.id);
      changed();
    }
  }
}

void cluster_engine::handle_epoch_collision(const cluster_node& sender) {
  // The node with the smaller id bumps its epoch.
  if (sender.config_epoch != me().config_epoch || !sender.is_master() || !me().is_master())
    return;
  if (sender.id <= me().id)
    return;
  ++state_.current_epoch;
  me().config_epoch = state_.current_epoch;
  log(3, "WARNING: configEpoch collision with node " + sender.id + ". configEpoch set to "
           + std::to_string(me().config_epoch));
  changed();
}

void cluster_engine::mark_failing_if_needed(cluster_node& node, int64_t now) {
  int needed = state_.cluster_size() / 2 + 1;
  if (!node.timed_out() || node.failed())
    return;
  int failures = state_.failure_report_count(node.id, now, settings_.node_timeout);
  if (me().is_master())
    ++failures;
  if (failures < needed)
    return;
  log(2, "Marking node " + node.id + " as failing (quorum reached).");
  node.flags &= static_cast<uint16_t>(~cluster_flag::pfail);
  node.flags |= cluster_flag::fail;
  node.fail_time = now;
  send_fail(node.id);
  changed();
  state_dirty_ = true;
}

void cluster_engine::clear_failure_if_needed(cluster_node& node, int64_t now) {
  int64_t delay = settings_.node_timeout * 2;
  if (node.is_slave() || state_.slot_count(node.id) == 0) {
    log(2, "Clear FAIL state for node " + node.id + ": replica is reachable again.");
    node.flags &= static_cast<uint16_t>(~cluster_flag::fail);
    changed();
    state_dirty_ = true;
  } else if (now - node.fail_time > delay) {
    log(2, "Clear FAIL state for node " + node.id + ": is reachable again and nobody is serving its slots after some time.");
    node.flags &= static_cast<uint16_t>(~cluster_flag::fail);
    changed();
    state_dirty_ = true;
  }
}

void cluster_engine::vote_if_needed(link_id link, const cb::header& h, cluster_node* sender, int64_t now) {
  // Only masters serving slots vote, once per epoch, for a replica of a failed master.
  auto& m = me();
  if (!m.is_master() || state_.slot_count(m.id) == 0)
    return;
  if (h.current_epoch < state_.current_epoch)
    return;
  if (state_.last_vote_epoch == state_.current_epoch)
    return;
  if (!sender->is_slave() || sender->master_id.empty())
    return;
  cluster_node* master = state_.find(sender->master_id);
  bool force = (h.mflags[0] & cb::message_flag0::forceack) != 0;
  if (master == nullptr || (!master->failed() && !force))
    return;
  if (now - master->voted_time < settings_.node_timeout * 2)
    return;
  // Every slot it claims must not be served with a greater configEpoch.
  for (int s = 0; s < config::cluster_slots; ++s) {
    if (!h.slots.test(s))
      continue;
    const cluster_node* owner = state_.slot_owner(s);
    if (owner != nullptr && owner->config_epoch > h.config_epoch)
      return;
  }
  state_.last_vote_epoch = state_.current_epoch;
  master->voted_time = now;
  save();
  cb::message ack;
  ack.hdr = my_header(cb::message_type::failover_auth_ack);
  ack.data = cb::empty_body{};
  send(link, ack);
  log(3, "Failover auth granted to " + sender->id + " for epoch " + std::to_string(state_.current_epoch));
}

void cluster_engine::forget_node(const std::string& id) {
  if (auto l = link_of(id)) {
    effects_.closes.push_back(*l);
    links_.erase(*l);
    outbound_.erase(id);
  }
  for (auto& [lid, l] : links_)
    if (l.inbound && l.node == id)
      effects_.closes.push_back(lid);
  connecting_.erase(id);
  state_.forget_node(id);
}

void cluster_engine::update_state(int64_t now) {
  if (state_.update_state(now, settings_.node_timeout, settings_.require_full_coverage))
    effects_.routing_changed = true;
}

// ---- cron ------------------------------------------------------------------------------------

void cluster_engine::cron(int64_t now) {
  ++iteration_;
  int64_t handshake_timeout = std::max<int64_t>(settings_.node_timeout, 1000);
  std::vector<std::string> doomed;
  for (auto& n : state_.nodes()) {
    if (n.is_myself() || n.has(cluster_flag::noaddr))
      continue;
    if (n.in_handshake() && now - n.ctime > handshake_timeout) {
      doomed.push_back(n.id);
      continue;
    }
    if (!link_of(n.id) && !connecting_.count(n.id) && !n.ip.empty() && n.cport > 0) {
      connecting_[n.id] = now;
      effects_.connects.push_back({n.id, n.ip, n.cport});
    }
  }
  for (auto& id : doomed) {
    log(1, "Handshake with node " + id + " timed out.");
    forget_node(id);
    save();
  }
  // Connection attempts that never answered.
  for (auto it = connecting_.begin(); it != connecting_.end();)
    it = now - it->second > handshake_timeout ? connecting_.erase(it) : std::next(it);
  // Ping a node with an old pong about once a second.
  if (iteration_ % 10 == 0 && state_.size() > 1) {
    const cluster_node* oldest = nullptr;
    for (int j = 0; j < 5; ++j) {
      auto& n = state_.nodes()[rng_() % state_.size()];
      if (!link_of(n.id) || n.ping_sent != 0 || n.is_myself() || n.in_handshake())
        continue;
      if (oldest == nullptr || n.pong_received < oldest->pong_received)
        oldest = &n;
    }
    if (oldest != nullptr)
      send_ping(*link_of(oldest->id), cb::message_type::ping, now);
  }
  for (auto& cn : state_.nodes()) {
    auto* n = state_.find(cn.id);
    if (n->is_myself() || n->has(cluster_flag::noaddr) || n->in_handshake())
      continue;
    int64_t ping_delay = now - n->ping_sent, data_delay = now - n->data_received;
    auto link = link_of(n->id);
    if (link && now - links_[*link].ctime > settings_.node_timeout && n->ping_sent
        && ping_delay > settings_.node_timeout / 2 && data_delay > settings_.node_timeout / 2) {
      effects_.closes.push_back(*link); // reconnects on the next cron
      link_down(*link, now);
      link.reset();
    }
    if (link && n->ping_sent == 0 && now - n->pong_received > settings_.node_timeout / 2) {
      send_ping(*link, cb::message_type::ping, now);
      continue;
    }
    if (n->ping_sent == 0)
      continue;
    int64_t delay = std::min(ping_delay, data_delay);
    if (delay > settings_.node_timeout && !(n->flags & (cluster_flag::pfail | cluster_flag::fail))) {
      log(1, "*** NODE " + n->id + " possibly failing");
      n->flags |= cluster_flag::pfail;
      state_dirty_ = true;
      effects_.routing_changed = true;
    }
  }
  // Promote PFAIL to FAIL when the reports add up (also without new gossip).
  for (auto& cn : state_.nodes())
    if (cn.timed_out())
      mark_failing_if_needed(*state_.find(cn.id), now);
  update_state(now);
}

// ---- routing snapshot ------------------------------------------------------------------------

std::shared_ptr<const protocol::cluster_routing> cluster_engine::routing() const {
  auto r = std::make_shared<protocol::cluster_routing>();
  r->ok = state_.state_ok();
  r->allow_reads_when_down = settings_.allow_reads_when_down;
  r->allow_pubsubshard_when_down = settings_.allow_pubsubshard_when_down;
  std::map<std::string, int> index;
  auto& nodes = state_.nodes();
  for (auto& n : nodes) {
    index[n.id] = static_cast<int>(r->nodes.size());
    std::string host = n.ip;
    if (settings_.preferred == config::cluster_endpoint_type::hostname && !n.hostname.empty())
      host = n.hostname;
    else if (settings_.preferred == config::cluster_endpoint_type::unknown_endpoint)
      host = "?";
    r->nodes.push_back({host, n.port});
  }
  const auto* m = state_.myself();
  r->myself = index[m->id];
  if (m->is_slave() && !m->master_id.empty() && index.count(m->master_id))
    r->my_master = index[m->master_id];
  for (int s = 0; s < config::cluster_slots; ++s) {
    if (auto* o = state_.slot_owner(s))
      r->owner[static_cast<size_t>(s)] = static_cast<int16_t>(index[o->id]);
    if (auto* t = state_.migrating_to(s))
      r->migrating_to[static_cast<size_t>(s)] = static_cast<int16_t>(index[t->id]);
    if (auto* f = state_.importing_from(s))
      r->importing_from[static_cast<size_t>(s)] = static_cast<int16_t>(index[f->id]);
  }
  return r;
}

// ---- CLUSTER commands ------------------------------------------------------------------------

namespace {

void write_slots_node(protocol::resp_writer& w, const config::cluster_slots_node& n) {
  w.array(4);
  if (n.endpoint)
    w.bulk(*n.endpoint);
  else
    w.null();
  w.integer(n.port);
  w.bulk(n.id);
  w.map(n.metadata.size());
  for (auto& [k, v] : n.metadata) {
    w.bulk(k);
    w.bulk(v);
  }
}

} // namespace

void cluster_engine::command(const std::vector<std::string_view>& a, protocol::resp_writer& w, int64_t now, bool has_keys) {
  std::string sub;
  protocol::to_lower(a[1], sub);
  auto& m = me();
  auto reply_ok = [&] { w.ok(); };
  // The node named `id`, or nullptr with Redis's error replied.
  auto known_node = [&](std::string_view id) {
    auto* n = state_.find(id);
    if (n == nullptr)
      w.error("ERR Unknown node " + std::string(id));
    return n;
  };
  if (sub == "info") {
    w.verbatim(state_.info_text(stats_));
  } else if (sub == "nodes") {
    w.verbatim(state_.nodes_text());
  } else if (sub == "myid") {
    w.bulk(m.id);
  } else if (sub == "myshardid") {
    w.bulk(m.shard_id);
  } else if (sub == "slots") {
    config::cluster_reply_options opt;
    opt.preferred = settings_.preferred;
    opt.my_repl_offset = m.repl_offset;
    auto ranges = state_.slots_reply(opt);
    w.array(ranges.size());
    for (auto& r : ranges) {
      w.array(2 + r.nodes.size());
      w.integer(r.start);
      w.integer(r.end);
      for (auto& n : r.nodes)
        write_slots_node(w, n);
    }
  } else if (sub == "shards") {
    config::cluster_reply_options opt;
    opt.preferred = settings_.preferred;
    opt.my_repl_offset = m.repl_offset;
    auto shards = state_.shards_reply(opt);
    w.array(shards.size());
    for (auto& s : shards) {
      w.map(2);
      w.bulk("slots");
      w.array(s.slots.size());
      for (int x : s.slots)
        w.integer(x);
      w.bulk("nodes");
      w.array(s.nodes.size());
      for (auto& n : s.nodes) {
        size_t fields = 6 + (n.port ? 1 : 0) + (n.tls_port ? 1 : 0) + (n.hostname.empty() ? 0 : 1);
        w.map(fields);
        w.bulk("id");
        w.bulk(n.id);
        if (n.port) {
          w.bulk("port");
          w.integer(n.port);
        }
        if (n.tls_port) {
          w.bulk("tls-port");
          w.integer(n.tls_port);
        }
        w.bulk("ip");
        w.bulk(n.ip);
        w.bulk("endpoint");
        w.bulk(n.endpoint);
        if (!n.hostname.empty()) {
          w.bulk("hostname");
          w.bulk(n.hostname);
        }
        w.bulk("role");
        w.bulk(n.role);
        w.bulk("replication-offset");
        w.integer(n.replication_offset);
        w.bulk("health");
        w.bulk(n.health);
      }
    }
  } else if (sub == "keyslot") {
    w.integer(protocol::key_slot(a[2]));
  } else if (sub == "addslots" || sub == "delslots" || sub == "addslotsrange" || sub == "delslotsrange") {
    bool range = sub.size() > 8;
    if (range && a.size() % 2 != 0) {
      w.error("ERR wrong number of arguments for 'cluster|" + sub + "' command");
      return;
    }
    std::vector<int> slots;
    for (size_t i = 2; i < a.size(); i += range ? 2 : 1) {
      int first, last;
      if (!parse_slot(a[i], first) || (range && !parse_slot(a[i + 1], last))) {
        w.error("ERR Invalid or out of range slot");
        return;
      }
      if (!range)
        last = first;
      if (first > last) {
        w.error("ERR start slot number " + std::to_string(first) + " is greater than end slot number "
                + std::to_string(last));
        return;
      }
      for (int s = first; s <= last; ++s)
        slots.push_back(s);
    }
    std::string err = sub[0] == 'a' ? state_.add_slots(m.id, slots) : state_.del_slots(slots);
    if (!err.empty()) {
      w.error(err);
      return;
    }
    changed();
    update_state(now);
    reply_ok();
  } else if (sub == "flushslots") {
    if (has_keys) {
      w.error("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.");
      return;
    }
    state_.unassign_all(m.id);
    changed();
    update_state(now);
    reply_ok();
  } else if (sub == "meet") {
    if (a.size() != 4 && a.size() != 5) {
      w.error("ERR wrong number of arguments for 'cluster|meet' command");
      return;
    }
    int64_t port, cport;
    if (!protocol::parse_int64(a[3], port)) {
      w.error("ERR Invalid TCP base port specified: " + std::string(a[3]));
      return;
    }
    if (a.size() == 5) {
      if (!protocol::parse_int64(a[4], cport)) {
        w.error("ERR Invalid TCP bus port specified: " + std::string(a[4]));
        return;
      }
    } else {
      cport = port + config::cluster_port_incr;
    }
    if (port <= 0 || port > 65535 || cport <= 0 || cport > 65535) {
      w.error("ERR Invalid node address specified: " + std::string(a[2]) + ":" + std::string(a[3]));
      return;
    }
    auto id = state_.start_handshake(a[2], static_cast<int>(port), static_cast<int>(cport), now);
    if (!id && !state_.handshake_in_progress(a[2], static_cast<int>(port), static_cast<int>(cport))) {
      w.error("ERR Invalid node address specified: " + std::string(a[2]) + ":" + std::string(a[3]));
      return;
    }
    save();
    reply_ok();
  } else if (sub == "forget") {
    auto* n = known_node(a[2]);
    if (n == nullptr)
      return;
    if (n->is_myself()) {
      w.error("ERR I tried hard but I can't forget myself...");
      return;
    }
    if (m.is_slave() && m.master_id == n->id) {
      w.error("ERR Can't forget my master!");
      return;
    }
    state_.blacklist_add(n->id, now);
    forget_node(n->id);
    changed();
    update_state(now);
    reply_ok();
  } else if (sub == "replicate") {
    auto* n = known_node(a[2]);
    if (n == nullptr)
      return;
    if (n->is_myself()) {
      w.error("ERR Can't replicate myself");
      return;
    }
    if (n->is_slave()) {
      w.error("ERR I can only replicate a master, not a replica.");
      return;
    }
    if (m.is_master() && (state_.slot_count(m.id) != 0 || has_keys)) {
      w.error("ERR To set a master the node must be empty and without assigned slots.");
      return;
    }
    state_.clear_migrations();
    state_.set_replica_of(m.id, n->id);
    changed();
    update_state(now);
    // Tell everyone at once (the next pings would, a little later).
    cb::message pong = build_ping(cb::message_type::pong, now);
    broadcast(pong);
    reply_ok();
  } else if (sub == "replicas" || sub == "slaves") {
    auto* n = known_node(a[2]);
    if (n == nullptr)
      return;
    if (n->is_slave()) {
      w.error("ERR The specified node is not a master");
      return;
    }
    auto replicas = state_.replicas_of(n->id);
    w.array(replicas.size());
    for (auto* r : replicas)
      w.bulk(state_.node_line(*r));
  } else if (sub == "count-failure-reports") {
    auto* n = known_node(a[2]);
    if (n == nullptr)
      return;
    w.integer(state_.failure_report_count(n->id, now, settings_.node_timeout));
  } else if (sub == "set-config-epoch") {
    int64_t epoch;
    if (!protocol::parse_int64(a[2], epoch)) {
      w.error("ERR value is not an integer or out of range");
      return;
    }
    if (epoch < 0) {
      w.error("ERR Invalid config epoch specified: " + std::string(a[2]));
    } else if (state_.size() > 1) {
      w.error("ERR The user can assign a config epoch only when the node does not know any other node.");
    } else if (m.config_epoch != 0) {
      w.error("ERR Node config epoch is already non-zero");
    } else {
      m.config_epoch = static_cast<uint64_t>(epoch);
      log(3, "configEpoch set to " + std::to_string(epoch) + " via CLUSTER SET-CONFIG-EPOCH");
      if (state_.current_epoch < static_cast<uint64_t>(epoch))
        state_.current_epoch = static_cast<uint64_t>(epoch);
      changed();
      reply_ok();
    }
  } else if (sub == "bumpepoch") {
    uint64_t max = state_.max_epoch();
    if (m.config_epoch == 0 || m.config_epoch != max) {
      ++state_.current_epoch;
      m.config_epoch = state_.current_epoch;
      changed();
      w.simple("BUMPED " + std::to_string(m.config_epoch));
    } else {
      w.simple("STILL " + std::to_string(m.config_epoch));
    }
  } else if (sub == "saveconfig") {
    std::string err = config::save_nodes_conf(settings_.config_file, state_.nodes_conf());
    if (!err.empty())
      w.error("ERR error saving the cluster node config: " + err);
    else
      reply_ok();
  } else if (sub == "reset") {
    bool hard = false;
    if (a.size() == 3) {
      if (iequals(a[2], "hard"))
        hard = true;
      else if (!iequals(a[2], "soft")) {
        w.error("ERR syntax error");
        return;
      }
    }
    if (m.is_master() && has_keys) {
      w.error("ERR CLUSTER RESET can't be called with master nodes containing keys");
      return;
    }
    if (m.is_slave())
      state_.set_as_master(m.id);
    state_.clear_migrations();
    state_.unassign_all(m.id);
    std::vector<std::string> others;
    for (auto& n : state_.nodes())
      if (!n.is_myself())
        others.push_back(n.id);
    for (auto& id : others)
      forget_node(id);
    if (hard) {
      state_.current_epoch = 0;
      state_.last_vote_epoch = 0;
      me().config_epoch = 0;
      std::string old = me().id, fresh = config::random_node_id();
      state_.rename_node(old, fresh);
      log(2, "Node hard reset, now I'm " + fresh);
    }
    changed();
    update_state(now);
    reply_ok();
  } else if (sub == "links") {
    w.array(links_.size());
    for (auto& [id, l] : links_) {
      w.map(6);
      w.bulk("direction");
      w.bulk(l.inbound ? "from" : "to");
      w.bulk("node");
      w.bulk(l.node);
      w.bulk("create-time");
      w.integer(l.ctime);
      w.bulk("events");
      w.bulk(l.inbound ? "r" : "rw");
      w.bulk("send-buffer-allocated");
      w.integer(0);
      w.bulk("send-buffer-used");
      w.integer(0);
    }
  } else if (sub == "setslot") {
    int slot;
    if (!parse_slot(a[2], slot)) {
      w.error("ERR Invalid or out of range slot");
      return;
    }
    std::string action;
    protocol::to_lower(a[3], action);
    if (m.is_slave()) {
      w.error("ERR Please use SETSLOT only with masters.");
      return;
    }
    if ((action == "migrating" || action == "importing" || action == "node") && a.size() == 5) {
      auto* n = state_.find(a[4]);
      if (action == "migrating" || action == "importing") {
        bool owner = state_.slot_owner(slot) == &m;
        if (action == "migrating" && !owner) {
          w.error("ERR I'm not the owner of hash slot " + std::to_string(slot));
          return;
        }
        if (action == "importing" && owner) {
          w.error("ERR I'm already the owner of hash slot " + std::to_string(slot));
          return;
        }
        if (n == nullptr) {
          w.error("ERR I don't know about node " + std::string(a[4]));
          return;
        }
        if (n->is_slave()) {
          w.error("ERR Target node is not a master");
          return;
        }
        if (action == "migrating")
          state_.set_migrating(slot, n->id);
        else
          state_.set_importing(slot, n->id);
      } else {
        if (n == nullptr) {
          w.error("ERR Unknown node " + std::string(a[4]));
          return;
        }
        if (n->is_slave()) {
          w.error("ERR Target node is not a master");
          return;
        }
        bool was_importing = state_.importing_from(slot) != nullptr;
        state_.set_migrating(slot, "");
        state_.set_importing(slot, "");
        state_.set_slot_owner(slot, n->id);
        // Taking a slot we were importing: make sure our claim wins everywhere.
        if (was_importing && n == &m && m.config_epoch < state_.max_epoch()) {
          ++state_.current_epoch;
          m.config_epoch = state_.current_epoch;
        }
      }
    } else if (action == "stable" && a.size() == 4) {
      state_.set_migrating(slot, "");
      state_.set_importing(slot, "");
    } else {
      w.error("ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP");
      return;
    }
    changed();
    update_state(now);
    reply_ok();
  } else if (sub == "failover") {
    if (a.size() == 3 && !iequals(a[2], "force") && !iequals(a[2], "takeover")) {
      w.error("ERR syntax error");
      return;
    }
    if (a.size() > 3) {
      w.error("ERR syntax error");
      return;
    }
    if (m.is_master()) {
      w.error("ERR You should send CLUSTER FAILOVER to a replica");
      return;
    }
    if (m.master_id.empty() || state_.find(m.master_id) == nullptr) {
      w.error("ERR I'm a replica but my master is unknown to me");
      return;
    }
    w.error("ERR Troupe replicas do not take over their master yet (replication is not implemented)");
  } else if (sub == "help") {
    static const char* lines[] = {
      "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "ADDSLOTS <slot> [<slot> ...]", "    Assign slots to current node.",
      "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
      "    Assign slots which are between <start-slot> and <end-slot> to current node.",
      "BUMPEPOCH", "    Advance the cluster config epoch.",
      "COUNT-FAILURE-REPORTS <node-id>", "    Return number of failure reports for <node-id>.",
      "COUNTKEYSINSLOT <slot>", "    Return the number of keys in <slot>.",
      "DELSLOTS <slot> [<slot> ...]", "    Delete slots information from current node.",
      "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
      "    Delete slots information which are between <start-slot> and <end-slot> from current node.",
      "FAILOVER [FORCE|TAKEOVER]", "    Promote current replica node to being a master.",
      "FORGET <node-id>", "    Remove a node from the cluster.",
      "GETKEYSINSLOT <slot> <count>", "    Return key names stored by current node in a slot.",
      "FLUSHSLOTS", "    Delete current node own slots information.",
      "INFO", "    Return information about the cluster.",
      "KEYSLOT <key>", "    Return the hash slot for <key>.",
      "LINKS", "    Return information about all network links between this node and its peers.",
      "MEET <ip> <port> [<bus-port>]", "    Connect nodes into a working cluster.",
      "MYID", "    Return the node id.",
      "MYSHARDID", "    Return the node's shard id.",
      "NODES", "    Return cluster configuration seen by node.",
      "REPLICATE <node-id>", "    Configure current node as replica to <node-id>.",
      "RESET [HARD|SOFT]", "    Reset current node (default: soft).",
      "SET-CONFIG-EPOCH <epoch>", "    Set config epoch of current node.",
      "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
      "    Set slot state.",
      "REPLICAS <node-id>", "    Return <node-id> replicas.",
      "SAVECONFIG", "    Force saving cluster configuration on disk.",
      "SLOTS", "    Return information about slots range mappings.",
      "SHARDS", "    Return information about slot range mappings and the nodes associated with them.",
      "HELP", "    Print this help.",
    };
    w.array(std::size(lines));
    for (auto* l : lines)
      w.simple(l);
  } else {
    w.error("ERR unknown subcommand '" + std::string(a[1]) + "'. Try CLUSTER HELP.");
  }
}

} // namespace troupe::config
