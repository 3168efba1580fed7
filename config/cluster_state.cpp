// The cluster model and its Redis 7.0 text formats (nodes.conf, CLUSTER NODES / INFO / SLOTS /
// SHARDS data).
#include "config/cluster_state.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/format.h>

namespace troupe::config {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (std::tolower(x) != std::tolower(y)) return false;
  }
  return true;
}

// atoi / strtoll semantics: leading blanks, an optional sign, digits; anything else stops.
int64_t parse_leading_int(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  bool neg = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  int64_t v = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    if (v > (INT64_MAX - 9) / 10) break;  // saturate instead of overflowing
    v = v * 10 + (s[i] - '0');
  }
  return neg ? -v : v;
}

// strtoull semantics for the epochs (a '-' wraps around, as strtoull does).
uint64_t parse_leading_uint(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  bool neg = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  uint64_t v = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    if (v > (UINT64_MAX - 9) / 10) return UINT64_MAX;
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
  }
  return neg ? (~v + 1) : v;
}

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    std::size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

struct flag_name {
  uint16_t flag;
  const char* name;
};
// The order CLUSTER NODES prints flags in.
const flag_name flag_names[] = {
    {cluster_flag::myself, "myself"},       {cluster_flag::master, "master"},
    {cluster_flag::slave, "slave"},         {cluster_flag::pfail, "fail?"},
    {cluster_flag::fail, "fail"},           {cluster_flag::handshake, "handshake"},
    {cluster_flag::noaddr, "noaddr"},       {cluster_flag::nofailover, "nofailover"},
};

const char* const bus_type_names[11] = {"ping",     "pong",    "meet",     "fail",
                                        "publish",  "auth-req", "auth-ack", "update",
                                        "mfstart",  "module",  "publishshard"};

bool valid_slot(int slot) { return slot >= 0 && slot < cluster_slots; }

// Maximal runs of slots in `owner` equal to `who`.
std::vector<std::pair<int, int>> runs_of(const std::vector<int>& owner, int who) {
  std::vector<std::pair<int, int>> out;
  int start = -1;
  for (int s = 0; s <= cluster_slots; ++s) {
    bool on = s < cluster_slots && owner[s] == who;
    if (on && start < 0) start = s;
    if (!on && start >= 0) {
      out.emplace_back(start, s - 1);
      start = -1;
    }
  }
  return out;
}

// Normalizes an IPv4 or IPv6 address text; nullopt if it is neither.
std::optional<std::string> normalize_ip(std::string_view ip) {
  std::string s(ip);
  char buf[INET6_ADDRSTRLEN] = {0};
  unsigned char addr[sizeof(struct in6_addr)];
  if (inet_pton(AF_INET, s.c_str(), addr) == 1) {
    if (!inet_ntop(AF_INET, addr, buf, sizeof buf)) return std::nullopt;
    return std::string(buf);
  }
  if (inet_pton(AF_INET6, s.c_str(), addr) == 1) {
    if (!inet_ntop(AF_INET6, addr, buf, sizeof buf)) return std::nullopt;
    return std::string(buf);
  }
  return std::nullopt;
}

} // namespace

std::string cluster_flags_text(uint16_t flags) {
  std::string out;
  for (const auto& f : flag_names) {
    if (!(flags & f.flag)) continue;
    if (!out.empty()) out += ',';
    out += f.name;
  }
  if (out.empty()) out = "noflags";
  return out;
}

std::string random_node_id() {
  static thread_local std::mt19937_64 rng = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  static const char digits[] = "0123456789abcdef";
  std::string id(cluster_node_id_length, '0');
  for (std::size_t i = 0; i < id.size(); i += 16) {
    uint64_t r = rng();
    for (std::size_t j = i; j < i + 16 && j < id.size(); ++j, r >>= 4) id[j] = digits[r & 15];
  }
  return id;
}

bool valid_node_id(std::string_view id) {
  if (id.size() != cluster_node_id_length) return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// nodes

cluster_state cluster_state::create(std::string ip, int port, int cport, int64_t now) {
  cluster_state st;
  cluster_node me;
  me.id = random_node_id();
  me.ip = std::move(ip);
  me.port = port;
  me.cport = cport;
  me.flags = cluster_flag::myself | cluster_flag::master;
  me.ctime = now;
  me.shard_id = random_node_id();
  st.add_node(std::move(me));
  return st;
}

int cluster_state::index_of(std::string_view id) const {
  auto it = by_id_.find(std::string(id));
  return it == by_id_.end() ? -1 : it->second;
}

const cluster_node* cluster_state::find(std::string_view id) const {
  int i = index_of(id);
  return i < 0 ? nullptr : &nodes_[i];
}

cluster_node* cluster_state::find(std::string_view id) {
  int i = index_of(id);
  return i < 0 ? nullptr : &nodes_[i];
}

const cluster_node* cluster_state::myself() const {
  return myself_ < 0 ? nullptr : &nodes_[myself_];
}

cluster_node* cluster_state::myself() { return myself_ < 0 ? nullptr : &nodes_[myself_]; }

void cluster_state::reindex() {
  by_id_.clear();
  myself_ = -1;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    by_id_[nodes_[i].id] = static_cast<int>(i);
    if (nodes_[i].is_myself()) myself_ = static_cast<int>(i);
  }
}

bool cluster_state::add_node(cluster_node node) {
  if (!valid_node_id(node.id) || by_id_.count(node.id)) return false;
  if (node.is_myself() && myself_ >= 0) return false;
  if (!node.master_id.empty() && !find(node.master_id)) return false;
  if (node.shard_id.empty()) {
    const cluster_node* m = node.master_id.empty() ? nullptr : find(node.master_id);
    node.shard_id = m ? m->shard_id : random_node_id();
  }
  int idx = static_cast<int>(nodes_.size());
  bool me = node.is_myself();
  std::string master = node.master_id;
  by_id_[node.id] = idx;
  nodes_.push_back(std::move(node));
  nslots_.push_back(0);
  if (me) myself_ = idx;
  if (!master.empty()) nodes_[index_of(master)].flags |= cluster_flag::migrate_to;
  return true;
}

std::vector<int> cluster_state::replica_indexes(int master) const {
  std::vector<int> out;
  if (master < 0) return out;
  const std::string& id = nodes_[master].id;
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].master_id == id) out.push_back(static_cast<int>(i));
  return out;
}

// Detaches a replica from its master; the master loses migrate_to when left without replicas.
void cluster_state::remove_replica_link(int replica) {
  cluster_node& r = nodes_[replica];
  if (r.master_id.empty()) return;
  int m = index_of(r.master_id);
  r.master_id.clear();
  if (m >= 0 && replica_indexes(m).empty()) nodes_[m].flags &= ~cluster_flag::migrate_to;
}

bool cluster_state::forget_node(std::string_view id) {
  int idx = index_of(id);
  if (idx < 0 || idx == myself_) return false;
  std::string gone = nodes_[idx].id;
  // Replicas of the node lose their master; the node leaves its master's replica set.
  for (auto& n : nodes_)
    if (n.master_id == gone) n.master_id.clear();
  remove_replica_link(idx);
  // Failure reports it made.
  for (auto& n : nodes_) {
    auto& fr = n.failure_reports;
    fr.erase(std::remove_if(fr.begin(), fr.end(),
                            [&](const cluster_failure_report& r) { return r.reporter == gone; }),
             fr.end());
  }
  auto fix = [idx](std::vector<int>& table) {
    for (int& v : table) {
      if (v == idx)
        v = -1;
      else if (v > idx)
        --v;
    }
  };
  fix(owner_);
  fix(migrating_);
  fix(importing_);
  nodes_.erase(nodes_.begin() + idx);
  nslots_.erase(nslots_.begin() + idx);
  reindex();
  return true;
}

bool cluster_state::rename_node(std::string_view from, std::string_view to) {
  int idx = index_of(from);
  if (idx < 0 || !valid_node_id(to) || index_of(to) >= 0) return false;
  std::string old = nodes_[idx].id;
  std::string now(to);
  for (auto& n : nodes_) {
    if (n.master_id == old) n.master_id = now;
    for (auto& r : n.failure_reports)
      if (r.reporter == old) r.reporter = now;
  }
  nodes_[idx].id = now;
  by_id_.erase(old);
  by_id_[now] = idx;
  return true;
}

bool cluster_state::handshake_in_progress(std::string_view ip, int port, int cport) const {
  for (const auto& n : nodes_)
    if (n.in_handshake() && iequals(n.ip, ip) && n.port == port && n.cport == cport) return true;
  return false;
}

std::optional<std::string> cluster_state::start_handshake(std::string_view ip, int port,
                                                          int cport, int64_t now) {
  auto norm = normalize_ip(ip);
  if (!norm) return std::nullopt;
  if (port <= 0 || port > 65535 || cport <= 0 || cport > 65535) return std::nullopt;
  if (handshake_in_progress(*norm, port, cport)) return std::nullopt;
  cluster_node n;
  do {
    n.id = random_node_id();
  } while (by_id_.count(n.id));
  n.ip = *norm;
  n.port = port;
  n.cport = cport;
  n.flags = cluster_flag::handshake | cluster_flag::meet;
  n.ctime = now;
  std::string id = n.id;
  add_node(std::move(n));
  return id;
}

bool cluster_state::set_replica_of(std::string_view replica, std::string_view master) {
  int r = index_of(replica), m = index_of(master);
  if (r < 0 || m < 0 || r == m) return false;
  cluster_node& rn = nodes_[r];
  rn.flags &= ~(cluster_flag::master | cluster_flag::migrate_to);
  rn.flags |= cluster_flag::slave;
  if (rn.master_id != nodes_[m].id) {
    remove_replica_link(r);
    nodes_[r].master_id = nodes_[m].id;
  }
  nodes_[m].flags |= cluster_flag::migrate_to;
  nodes_[r].shard_id = nodes_[m].shard_id;
  return true;
}

bool cluster_state::set_as_master(std::string_view id) {
  int i = index_of(id);
  if (i < 0) return false;
  cluster_node& n = nodes_[i];
  if (n.is_master()) return true;
  if (!n.master_id.empty()) {
    remove_replica_link(i);
    if (i != myself_) nodes_[i].flags |= cluster_flag::migrate_to;
  }
  nodes_[i].flags &= ~cluster_flag::slave;
  nodes_[i].flags |= cluster_flag::master;
  return true;
}

std::vector<const cluster_node*> cluster_state::replicas_of(std::string_view master) const {
  std::vector<const cluster_node*> out;
  for (int i : replica_indexes(index_of(master))) out.push_back(&nodes_[i]);
  return out;
}

void cluster_state::blacklist_add(std::string_view id, int64_t now) {
  blacklist_[std::string(id)] = now + cluster_blacklist_ttl_ms;
}

bool cluster_state::blacklisted(std::string_view id, int64_t now) {
  for (auto it = blacklist_.begin(); it != blacklist_.end();) {
    if (it->second < now)
      it = blacklist_.erase(it);
    else
      ++it;
  }
  return blacklist_.count(std::string(id)) != 0;
}

// ---------------------------------------------------------------------------------------------
// slots

const cluster_node* cluster_state::slot_owner(int slot) const {
  if (!valid_slot(slot) || owner_[slot] < 0) return nullptr;
  return &nodes_[owner_[slot]];
}

void cluster_state::own(int slot, int idx) {
  int old = owner_[slot];
  if (old == idx) return;
  if (old >= 0) --nslots_[old];
  owner_[slot] = idx;
  if (idx < 0) return;
  // A master getting its first slot becomes a replica-migration target when some master has
  // replicas (clusterNodeSetSlotBit).
  if (++nslots_[idx] == 1) {
    for (const auto& n : nodes_) {
      if (n.master_id.empty()) continue;
      const cluster_node* m = find(n.master_id);
      if (m && !m->is_slave()) {
        nodes_[idx].flags |= cluster_flag::migrate_to;
        break;
      }
    }
  }
}

bool cluster_state::set_slot_owner(int slot, std::string_view id) {
  int i = index_of(id);
  if (!valid_slot(slot) || i < 0) return false;
  own(slot, i);
  return true;
}

bool cluster_state::assign_slot(int slot, std::string_view id) {
  if (!valid_slot(slot) || owner_[slot] >= 0) return false;
  return set_slot_owner(slot, id);
}

bool cluster_state::unassign_slot(int slot) {
  if (!valid_slot(slot) || owner_[slot] < 0) return false;
  own(slot, -1);
  return true;
}

int cluster_state::unassign_all(std::string_view id) {
  int i = index_of(id);
  if (i < 0) return 0;
  int n = nslots_[i];
  for (int& o : owner_)
    if (o == i) o = -1;
  nslots_[i] = 0;
  return n;
}

std::string cluster_state::add_slots(std::string_view id, const std::vector<int>& slots) {
  if (index_of(id) < 0) return "ERR Unknown node " + std::string(id);
  std::vector<unsigned char> seen(cluster_slots, 0);
  for (int s : slots) {
    if (!valid_slot(s)) return "ERR Invalid or out of range slot";
  }
  for (int s : slots) {
    if (owner_[s] >= 0) return fmt::format("ERR Slot {} is already busy", s);
    if (seen[s]++) return fmt::format("ERR Slot {} specified multiple times", s);
  }
  for (int s : slots) {
    importing_[s] = -1;
    assign_slot(s, id);
  }
  return {};
}

std::string cluster_state::del_slots(const std::vector<int>& slots) {
  std::vector<unsigned char> seen(cluster_slots, 0);
  for (int s : slots) {
    if (!valid_slot(s)) return "ERR Invalid or out of range slot";
  }
  for (int s : slots) {
    if (owner_[s] < 0) return fmt::format("ERR Slot {} is already unassigned", s);
    if (seen[s]++) return fmt::format("ERR Slot {} specified multiple times", s);
  }
  for (int s : slots) {
    importing_[s] = -1;
    unassign_slot(s);
  }
  return {};
}

int cluster_state::slot_count(std::string_view id) const {
  int i = index_of(id);
  return i < 0 ? 0 : nslots_[i];
}

std::vector<std::pair<int, int>> cluster_state::slot_ranges(std::string_view id) const {
  int i = index_of(id);
  if (i < 0) return {};
  return runs_of(owner_, i);
}

std::array<uint8_t, cluster_slots / 8> cluster_state::slot_bitmap(std::string_view id) const {
  std::array<uint8_t, cluster_slots / 8> bits{};
  int i = index_of(id);
  if (i < 0) return bits;
  for (int s = 0; s < cluster_slots; ++s)
    if (owner_[s] == i) bits[s >> 3] |= static_cast<uint8_t>(1u << (s & 7));
  return bits;
}

bool cluster_state::set_migrating(int slot, std::string_view to) {
  if (!valid_slot(slot)) return false;
  if (to.empty()) {
    migrating_[slot] = -1;
    return true;
  }
  int i = index_of(to);
  if (i < 0) return false;
  migrating_[slot] = i;
  return true;
}

bool cluster_state::set_importing(int slot, std::string_view from) {
  if (!valid_slot(slot)) return false;
  if (from.empty()) {
    importing_[slot] = -1;
    return true;
  }
  int i = index_of(from);
  if (i < 0) return false;
  importing_[slot] = i;
  return true;
}

const cluster_node* cluster_state::migrating_to(int slot) const {
  if (!valid_slot(slot) || migrating_[slot] < 0) return nullptr;
  return &nodes_[migrating_[slot]];
}

const cluster_node* cluster_state::importing_from(int slot) const {
  if (!valid_slot(slot) || importing_[slot] < 0) return nullptr;
  return &nodes_[importing_[slot]];
}

void cluster_state::clear_migrations() {
  std::fill(migrating_.begin(), migrating_.end(), -1);
  std::fill(importing_.begin(), importing_.end(), -1);
}

// ---------------------------------------------------------------------------------------------
// failure reports

bool cluster_state::add_failure_report(std::string_view failing, std::string_view reporter,
                                       int64_t now) {
  cluster_node* n = find(failing);
  if (!n || !find(reporter)) return false;
  for (auto& r : n->failure_reports)
    if (r.reporter == reporter) {
      r.time = now;
      return false;
    }
  n->failure_reports.push_back(cluster_failure_report{std::string(reporter), now});
  return true;
}

namespace {
void expire_reports(cluster_node& n, int64_t now, int64_t node_timeout) {
  int64_t max_age = node_timeout * cluster_fail_report_validity_mult;
  auto& fr = n.failure_reports;
  fr.erase(std::remove_if(fr.begin(), fr.end(),
                          [&](const cluster_failure_report& r) { return now - r.time > max_age; }),
           fr.end());
}
} // namespace

bool cluster_state::remove_failure_report(std::string_view failing, std::string_view reporter,
                                          int64_t now, int64_t node_timeout) {
  cluster_node* n = find(failing);
  if (!n) return false;
  auto& fr = n->failure_reports;
  auto it = std::find_if(fr.begin(), fr.end(),
                         [&](const cluster_failure_report& r) { return r.reporter == reporter; });
  if (it == fr.end()) return false;
  fr.erase(it);
  expire_reports(*n, now, node_timeout);
  return true;
}

int cluster_state::failure_report_count(std::string_view failing, int64_t now,
                                        int64_t node_timeout) {
  cluster_node* n = find(failing);
  if (!n) return 0;
  expire_reports(*n, now, node_timeout);
  return static_cast<int>(n->failure_reports.size());
}

// ---------------------------------------------------------------------------------------------
// state

cluster_state::health cluster_state::evaluate(bool require_full_coverage) const {
  health h;
  h.ok = true;
  if (require_full_coverage) {
    for (int o : owner_)
      if (o < 0 || nodes_[o].failed()) {
        h.ok = false;
        break;
      }
  }
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const auto& n = nodes_[i];
    if (!n.is_master() || nslots_[i] == 0) continue;
    ++h.size;
    if (!(n.flags & (cluster_flag::fail | cluster_flag::pfail))) ++h.reachable_masters;
  }
  if (h.reachable_masters < h.size / 2 + 1) h.ok = false;
  return h;
}

bool cluster_state::update_state(int64_t now, int64_t node_timeout, bool require_full_coverage) {
  if (first_update_ == 0) first_update_ = now;
  const cluster_node* me = myself();
  bool me_master = me && me->is_master();
  if (me_master && !state_ok_ && now - first_update_ < cluster_writable_delay_ms) return false;
  health h = evaluate(require_full_coverage);
  size_ = h.size;
  if (h.reachable_masters < h.size / 2 + 1) among_minority_time_ = now;
  if (h.ok == state_ok_) return false;
  int64_t rejoin = std::clamp(node_timeout, cluster_min_rejoin_delay_ms, cluster_max_rejoin_delay_ms);
  if (h.ok && me_master && now - among_minority_time_ < rejoin) return false;
  state_ok_ = h.ok;
  return true;
}

uint64_t cluster_state::my_epoch() const {
  const cluster_node* me = myself();
  if (!me) return 0;
  if (me->is_slave() && !me->master_id.empty())
    if (const cluster_node* m = find(me->master_id)) return m->config_epoch;
  return me->config_epoch;
}

uint64_t cluster_state::max_epoch() const {
  uint64_t max = 0;
  for (const auto& n : nodes_) max = std::max(max, n.config_epoch);
  return std::max(max, current_epoch);
}

// ---------------------------------------------------------------------------------------------
// CLUSTER NODES / nodes.conf

namespace {

void append_ranges(std::string& out, const std::vector<std::pair<int, int>>& ranges) {
  for (auto [a, b] : ranges) {
    if (a == b)
      fmt::format_to(std::back_inserter(out), " {}", a);
    else
      fmt::format_to(std::back_inserter(out), " {}-{}", a, b);
  }
}

} // namespace

std::string cluster_state::node_line(const cluster_node& n, bool use_pport) const {
  std::string out;
  int port = use_pport && n.pport ? n.pport : n.port;
  out += n.id;
  if (!n.hostname.empty())
    fmt::format_to(std::back_inserter(out), " {}:{}@{},{} ", n.ip, port, n.cport, n.hostname);
  else
    fmt::format_to(std::back_inserter(out), " {}:{}@{} ", n.ip, port, n.cport);
  out += cluster_flags_text(n.flags);
  out += ' ';
  const cluster_node* master = n.master_id.empty() ? nullptr : find(n.master_id);
  out += master ? master->id : std::string("-");
  uint64_t epoch = (n.is_slave() && master) ? master->config_epoch : n.config_epoch;
  fmt::format_to(std::back_inserter(out), " {} {} {} {}", n.ping_sent, n.pong_received, epoch,
                 (n.link || n.is_myself()) ? "connected" : "disconnected");
  int idx = index_of(n.id);
  if (idx >= 0) append_ranges(out, runs_of(owner_, idx));
  if (n.is_myself()) {
    for (int s = 0; s < cluster_slots; ++s) {
      if (migrating_[s] >= 0)
        fmt::format_to(std::back_inserter(out), " [{}->-{}]", s, nodes_[migrating_[s]].id);
      else if (importing_[s] >= 0)
        fmt::format_to(std::back_inserter(out), " [{}-<-{}]", s, nodes_[importing_[s]].id);
    }
  }
  return out;
}

std::string cluster_state::nodes_text(bool include_handshake, bool use_pport) const {
  std::string out;
  for (const auto& n : nodes_) {
    if (!include_handshake && n.in_handshake()) continue;
    out += node_line(n, use_pport);
    out += '\n';
  }
  return out;
}

std::string cluster_state::nodes_conf() const {
  std::string out = nodes_text(false, false);
  fmt::format_to(std::back_inserter(out), "vars currentEpoch {} lastVoteEpoch {}\n", current_epoch,
                 last_vote_epoch);
  return out;
}

cluster_load_result cluster_state::load_nodes_conf(std::string_view text, int64_t now) {
  cluster_load_result res;
  cluster_state st;
  int line_no = 0;
  bool any = false;
  auto fail = [&](const std::string& why) {
    res.what = cluster_load_result::status::error;
    res.error = fmt::format("corrupted cluster config file at line {}: {}", line_no, why);
    return res;
  };
  // Finds a node, creating an empty one (flags 0, no address) as Redis does for ids it meets
  // first as a master or a migration peer.
  auto node_for = [&](std::string_view id) -> int {
    int i = st.index_of(id);
    if (i >= 0) return i;
    cluster_node n;
    n.id = std::string(id);
    n.ctime = now;
    st.nodes_.push_back(std::move(n));
    st.nslots_.push_back(0);
    i = static_cast<int>(st.nodes_.size() - 1);
    st.by_id_[st.nodes_[i].id] = i;
    return i;
  };

  // Nodes are kept in the order of their lines, also when a line names a node (as a master or a
  // migration peer) before that node's own line.
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    auto argv = split_words(line);
    if (!argv.empty() && !iequals(argv[0], "vars") && valid_node_id(argv[0])) node_for(argv[0]);
  }

  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    auto argv = split_words(line);
    if (argv.empty()) continue;  // blank lines (Redis pads with them when a save is cut short)
    any = true;

    if (iequals(argv[0], "vars")) {
      if (argv.size() % 2 == 0) return fail("'vars' needs name value pairs");
      for (std::size_t j = 1; j < argv.size(); j += 2) {
        if (iequals(argv[j], "currentEpoch"))
          st.current_epoch = parse_leading_uint(argv[j + 1]);
        else if (iequals(argv[j], "lastVoteEpoch"))
          st.last_vote_epoch = parse_leading_uint(argv[j + 1]);
        else
          res.warnings.push_back(
              fmt::format("Skipping unknown cluster config variable '{}'", argv[j]));
      }
      continue;
    }

    if (argv.size() < 8) return fail("a node line needs at least 8 fields");
    if (!valid_node_id(argv[0])) return fail(fmt::format("invalid node id '{}'", argv[0]));
    int ni = node_for(argv[0]);

    // ip:port[@cport][,hostname]
    std::string_view addr = argv[1];
    auto comma = addr.find(',');
    if (comma != std::string_view::npos) {
      st.nodes_[ni].hostname = std::string(addr.substr(comma + 1));
      addr = addr.substr(0, comma);
    } else {
      st.nodes_[ni].hostname.clear();
    }
    auto colon = addr.rfind(':');
    if (colon == std::string_view::npos) return fail(fmt::format("bad address '{}'", argv[1]));
    st.nodes_[ni].ip = std::string(addr.substr(0, colon));
    std::string_view ports = addr.substr(colon + 1);
    auto at = ports.find('@');
    st.nodes_[ni].port = static_cast<int>(parse_leading_int(ports.substr(0, at)));
    st.nodes_[ni].cport = at != std::string_view::npos
                              ? static_cast<int>(parse_leading_int(ports.substr(at + 1)))
                              : st.nodes_[ni].port + cluster_port_incr;

    // Flags.
    std::string_view flags = argv[2];
    for (std::size_t start = 0;;) {
      auto c = flags.find(',', start);
      std::string_view f = flags.substr(start, c == std::string_view::npos ? flags.npos : c - start);
      cluster_node& n = st.nodes_[ni];
      if (iequals(f, "myself")) {
        if (st.myself_ >= 0) return fail("more than one node is flagged myself");
        st.myself_ = ni;
        n.flags |= cluster_flag::myself;
      } else if (iequals(f, "master")) {
        n.flags |= cluster_flag::master;
      } else if (iequals(f, "slave")) {
        n.flags |= cluster_flag::slave;
      } else if (iequals(f, "fail?")) {
        n.flags |= cluster_flag::pfail;
      } else if (iequals(f, "fail")) {
        n.flags |= cluster_flag::fail;
        n.fail_time = now;
      } else if (iequals(f, "handshake")) {
        n.flags |= cluster_flag::handshake;
      } else if (iequals(f, "noaddr")) {
        n.flags |= cluster_flag::noaddr;
      } else if (iequals(f, "nofailover")) {
        n.flags |= cluster_flag::nofailover;
      } else if (iequals(f, "noflags")) {
      } else {
        return fail(fmt::format("unknown flag '{}'", f));
      }
      if (c == std::string_view::npos) break;
      start = c + 1;
    }

    // Master.
    if (argv[3][0] != '-') {
      if (!valid_node_id(argv[3])) return fail(fmt::format("invalid master id '{}'", argv[3]));
      int mi = node_for(argv[3]);
      if (mi == ni) return fail("a node cannot replicate itself");
      st.nodes_[ni].master_id = st.nodes_[mi].id;
      st.nodes_[mi].flags |= cluster_flag::migrate_to;
    }

    // Timestamps: Redis only keeps whether they were set.
    if (parse_leading_int(argv[4]) != 0) st.nodes_[ni].ping_sent = now;
    if (parse_leading_int(argv[5]) != 0) st.nodes_[ni].pong_received = now;
    {
      cluster_node& n = st.nodes_[ni];
      n.config_epoch = (n.is_slave() && !n.master_id.empty()) ? 0 : parse_leading_uint(argv[6]);
    }
    // argv[7], the link state, is not loaded: links start down.

    for (std::size_t j = 8; j < argv.size(); ++j) {
      std::string_view a = argv[j];
      if (a[0] == '[') {
        // [slot->-id] migrating, [slot-<-id] importing
        auto dash = a.find('-');
        if (dash == std::string_view::npos || dash + 3 > a.size())
          return fail(fmt::format("bad migration entry '{}'", a));
        char dir = a[dash + 1];
        int slot = static_cast<int>(parse_leading_int(a.substr(1, dash - 1)));
        if (!valid_slot(slot) || dash == 1) return fail(fmt::format("bad slot in '{}'", a));
        if (dir != '>' && dir != '<') return fail(fmt::format("bad migration entry '{}'", a));
        auto close = a.find(']', dash + 3);
        if (close == std::string_view::npos) return fail(fmt::format("bad migration entry '{}'", a));
        std::string_view peer = a.substr(dash + 3, close - dash - 3);
        if (!valid_node_id(peer)) return fail(fmt::format("invalid node id in '{}'", a));
        int pi = node_for(peer);
        (dir == '>' ? st.migrating_ : st.importing_)[slot] = pi;
        continue;
      }
      int first, last;
      auto dash = a.find('-');
      if (dash != std::string_view::npos) {
        first = static_cast<int>(parse_leading_int(a.substr(0, dash)));
        last = static_cast<int>(parse_leading_int(a.substr(dash + 1)));
      } else {
        first = last = static_cast<int>(parse_leading_int(a));
      }
      if (!valid_slot(first) || !valid_slot(last))
        return fail(fmt::format("slot out of range in '{}'", a));
      for (int s = first; s <= last; ++s)
        if (st.owner_[s] < 0) st.own(s, ni);  // a slot claimed twice keeps its first owner
    }
  }

  if (!any) {
    res.what = cluster_load_result::status::empty;
    return res;
  }
  if (st.myself_ < 0) {
    line_no = 0;
    res.what = cluster_load_result::status::error;
    res.error = "corrupted cluster config file: no node is flagged myself";
    return res;
  }
  if (st.max_epoch() > st.current_epoch) st.current_epoch = st.max_epoch();
  // Shard ids: one per master, shared by its replicas.
  for (auto& n : st.nodes_)
    if (n.master_id.empty()) n.shard_id = random_node_id();
  for (auto& n : st.nodes_)
    if (!n.master_id.empty()) n.shard_id = st.nodes_[st.index_of(n.master_id)].shard_id;

  *this = std::move(st);
  res.what = cluster_load_result::status::loaded;
  return res;
}

// ---------------------------------------------------------------------------------------------
// CLUSTER INFO / SLOTS / SHARDS

std::string cluster_state::info_text(const cluster_bus_stats& stats) const {
  int assigned = 0, ok = 0, pfail = 0, failed = 0;
  for (int o : owner_) {
    if (o < 0) continue;
    ++assigned;
    if (nodes_[o].failed())
      ++failed;
    else if (nodes_[o].timed_out())
      ++pfail;
    else
      ++ok;
  }
  std::string out;
  auto out_it = std::back_inserter(out);
  fmt::format_to(out_it,
                 "cluster_state:{}\r\n"
                 "cluster_slots_assigned:{}\r\n"
                 "cluster_slots_ok:{}\r\n"
                 "cluster_slots_pfail:{}\r\n"
                 "cluster_slots_fail:{}\r\n"
                 "cluster_known_nodes:{}\r\n"
                 "cluster_size:{}\r\n"
                 "cluster_current_epoch:{}\r\n"
                 "cluster_my_epoch:{}\r\n",
                 state_ok_ ? "ok" : "fail", assigned, ok, pfail, failed, nodes_.size(), size_,
                 current_epoch, my_epoch());
  uint64_t total = 0;
  for (std::size_t i = 0; i < stats.sent.size(); ++i) {
    if (!stats.sent[i]) continue;
    total += stats.sent[i];
    fmt::format_to(out_it, "cluster_stats_messages_{}_sent:{}\r\n", bus_type_names[i],
                   stats.sent[i]);
  }
  fmt::format_to(out_it, "cluster_stats_messages_sent:{}\r\n", total);
  total = 0;
  for (std::size_t i = 0; i < stats.received.size(); ++i) {
    if (!stats.received[i]) continue;
    total += stats.received[i];
    fmt::format_to(out_it, "cluster_stats_messages_{}_received:{}\r\n", bus_type_names[i],
                   stats.received[i]);
  }
  fmt::format_to(out_it, "cluster_stats_messages_received:{}\r\n", total);
  fmt::format_to(out_it, "total_cluster_links_buffer_limit_exceeded:{}\r\n",
                 stats.links_buffer_limit_exceeded);
  return out;
}

std::string cluster_state::endpoint_of(const cluster_node& n, cluster_endpoint_type t) const {
  switch (t) {
    case cluster_endpoint_type::ip: return n.ip;
    case cluster_endpoint_type::hostname: return n.hostname.empty() ? "?" : n.hostname;
    case cluster_endpoint_type::unknown_endpoint: return "";
  }
  return "unknown";
}

std::vector<cluster_slots_range> cluster_state::slots_reply(const cluster_reply_options& opt) const {
  auto entry = [&](const cluster_node& n) {
    cluster_slots_node e;
    if (opt.preferred == cluster_endpoint_type::ip)
      e.endpoint = n.ip;
    else if (opt.preferred == cluster_endpoint_type::hostname)
      e.endpoint = n.hostname.empty() ? std::string("?") : n.hostname;
    e.port = opt.use_pport && n.pport ? n.pport : n.port;
    e.id = n.id;
    if (opt.preferred != cluster_endpoint_type::ip) e.metadata.emplace_back("ip", n.ip);
    if (opt.preferred != cluster_endpoint_type::hostname && !n.hostname.empty())
      e.metadata.emplace_back("hostname", n.hostname);
    return e;
  };
  std::vector<cluster_slots_range> out;
  for (int s = 0; s < cluster_slots;) {
    int o = owner_[s];
    if (o < 0) {
      ++s;
      continue;
    }
    int e = s;
    while (e + 1 < cluster_slots && owner_[e + 1] == o) ++e;
    cluster_slots_range r;
    r.start = s;
    r.end = e;
    r.nodes.push_back(entry(nodes_[o]));
    for (int ri : replica_indexes(o)) {
      const cluster_node& rep = nodes_[ri];
      int64_t off = rep.is_myself() ? opt.my_repl_offset : rep.repl_offset;
      if (rep.failed() || off == 0) continue;  // not available for reads
      r.nodes.push_back(entry(rep));
    }
    out.push_back(std::move(r));
    s = e + 1;
  }
  return out;
}

std::vector<cluster_shard> cluster_state::shards_reply(const cluster_reply_options& opt) const {
  auto details = [&](const cluster_node& n) {
    cluster_shard_node d;
    d.id = n.id;
    d.port = opt.tls_cluster ? n.pport : n.port;
    d.tls_port = opt.tls_cluster ? n.port : 0;
    d.ip = n.ip;
    d.endpoint = endpoint_of(n, opt.preferred);
    d.hostname = n.hostname;
    d.role = n.is_slave() ? "replica" : "master";
    d.replication_offset = n.is_myself() ? opt.my_repl_offset : n.repl_offset;
    if (n.failed())
      d.health = "fail";
    else if (n.is_slave() && d.replication_offset == 0)
      d.health = "loading";
    else
      d.health = "online";
    return d;
  };
  std::vector<cluster_shard> out;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const cluster_node& n = nodes_[i];
    if (!n.is_master()) continue;
    cluster_shard sh;
    for (auto [a, b] : runs_of(owner_, static_cast<int>(i))) {
      sh.slots.push_back(a);
      sh.slots.push_back(b);
    }
    sh.nodes.push_back(details(n));
    for (int ri : replica_indexes(static_cast<int>(i))) sh.nodes.push_back(details(nodes_[ri]));
    out.push_back(std::move(sh));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// files

std::string save_nodes_conf(const std::string& path, std::string_view content) {
  std::string dir = ".";
  auto slash = path.rfind('/');
  if (slash != std::string::npos) dir = slash == 0 ? "/" : path.substr(0, slash);
  std::string tmp = fmt::format("{}.tmp-{}", path, static_cast<long>(::getpid()));
  auto err = [&](const char* step) {
    std::string e = fmt::format("{} {}: {}", step, tmp, std::strerror(errno));
    return e;
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return err("can't open");
  std::size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string e = err("can't write");
      ::close(fd);
      ::unlink(tmp.c_str());
      return e;
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    std::string e = err("can't fsync");
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string e = fmt::format("can't rename {} to {}: {}", tmp, path, std::strerror(errno));
    ::unlink(tmp.c_str());
    return e;
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return fmt::format("can't open directory {}: {}", dir, std::strerror(errno));
  int rc = ::fsync(dfd);
  std::string e = rc != 0 ? fmt::format("can't fsync directory {}: {}", dir, std::strerror(errno))
                          : std::string();
  ::close(dfd);
  return e;
}

cluster_load_result load_nodes_conf_file(const std::string& path, int64_t now,
                                         cluster_state& state) {
  cluster_load_result res;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) {
      res.what = cluster_load_result::status::missing;
    } else {
      res.what = cluster_load_result::status::error;
      res.error = fmt::format("Loading the cluster node config from {}: {}", path,
                              std::strerror(errno));
    }
    return res;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) {
    res.what = cluster_load_result::status::error;
    res.error = fmt::format("Loading the cluster node config from {}: read error", path);
    return res;
  }
  std::string text = buf.str();
  if (text.empty()) {
    res.what = cluster_load_result::status::empty;
    return res;
  }
  return state.load_nodes_conf(text, now);
}

} // namespace troupe::config
