#include "actors/connection.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include <caf/all.hpp>

#include "actors/status.hpp"
#include "actors/system_info.hpp"
#include "config/log.hpp"
#include "keyspace/commands.hpp"
#include "keyspace/server_info.hpp"
#include "protocol/command_table.hpp"
#include "protocol/numbers.hpp"

namespace troupe::actors {

using protocol::command_spec;
using protocol::command_table;
using protocol::iequals;
using protocol::resp_writer;

namespace {

// Commands the connection serves itself with the help of other actors.
struct service_ids {
  int info, client_list, client_kill, client_info, config_get, config_set, config_resetstat, config_rewrite,
    config_help, actors, shutdown, lastsave, debug;
  service_ids() {
    auto& t = command_table::instance();
    info = t.implement("info");
    client_list = t.implement("client|list");
    client_kill = t.implement("client|kill");
    client_info = t.implement("client|info");
    config_get = t.implement("config|get");
    config_set = t.implement("config|set");
    config_resetstat = t.implement("config|resetstat");
    config_rewrite = t.implement("config|rewrite");
    config_help = t.implement("config|help");
    actors = t.implement("actors");
    shutdown = t.implement("shutdown");
    lastsave = t.implement("lastsave");
    debug = t.id_of("debug");
  }
};

const service_ids& services() {
  static service_ids ids;
  return ids;
}

std::string peer_string(int fd, bool local) {
  sockaddr_storage sa{};
  socklen_t len = sizeof(sa);
  int rc = local ? getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len)
                 : getpeername(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  if (rc != 0)
    return "?:0";
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (sa.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&sa);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    port = ntohs(in->sin_port);
  } else if (sa.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    port = ntohs(in6->sin6_port);
  }
  std::string h = host;
  if (h.rfind("::ffff:", 0) == 0 && h.find('.') != std::string::npos)
    h = h.substr(7); // an IPv4 client on a dual-stack socket
  return h + ":" + std::to_string(port);
}

bool is_loopback(const std::string& addr) {
  return addr.rfind("127.", 0) == 0 || addr.rfind("::1:", 0) == 0 || addr.rfind("unixsocket", 0) == 0;
}

void refresh_settings(connection_ptr self) {
  auto& st = self->state;
  auto v = st.srv->cfg->version();
  if (v == st.sset_version)
    return;
  st.sset_version = v;
  st.sset = st.srv->session_settings();
  st.debug_mode = st.srv->cfg->get_string("enable-debug-command");
  st.timeout_s = st.srv->cfg->get_int("timeout");
  protocol::parser_limits lim;
  lim.max_bulk_len = st.srv->cfg->get_int("proto-max-bulk-len");
  st.parser.set_limits(lim);
}

// ---- writing ---------------------------------------------------------------------------------

void write_out(connection_ptr self, std::string_view bytes) {
  auto& buf = self->wr_buf(self->state.hdl);
  buf.insert(buf.end(), bytes.begin(), bytes.end());
  self->state.srv->net_output.fetch_add(bytes.size(), std::memory_order_relaxed);
}

void close_now(connection_ptr self) {
  auto& st = self->state;
  if (st.closing)
    return;
  st.closing = true;
  self->flush(st.hdl);
  self->close(st.hdl);
  self->quit();
}

// A reply produced here, in sequence with the batched ones.
resp_writer local_writer(connection_ptr self) {
  return resp_writer(self->state.local, self->state.sess.resp());
}

void end_local(connection_ptr self) {
  auto& st = self->state;
  st.parts.push_back({-1, static_cast<uint32_t>(st.local_ends.size())});
  st.local_ends.push_back(static_cast<uint32_t>(st.local.size()));
}

void local_error(connection_ptr self, std::string_view msg) {
  auto w = local_writer(self);
  w.error(msg);
  self->state.srv->error_replies.fetch_add(1, std::memory_order_relaxed);
  end_local(self);
}

void process(connection_ptr self);

// Writes the replies of the finished segment in order and starts a new one.
void finish_segment(connection_ptr self) {
  auto& st = self->state;
  if (st.used.size() == 1 && st.local_ends.empty()) {
    write_out(self, st.replies[st.used[0]].out);
  } else {
    for (auto& p : st.parts) {
      if (p.source < 0) {
        uint32_t start = p.index == 0 ? 0 : st.local_ends[p.index - 1];
        write_out(self, std::string_view(st.local).substr(start, st.local_ends[p.index] - start));
      } else {
        auto& r = st.replies[static_cast<size_t>(p.source)];
        uint32_t start = p.index == 0 ? 0 : r.ends[p.index - 1];
        write_out(self, std::string_view(r.out).substr(start, r.ends[p.index] - start));
      }
    }
  }
  for (auto i : st.used) {
    st.batch_size[i] = 0;
    st.replies[i] = reply_batch{};
  }
  st.used.clear();
  st.srv->total_commands.fetch_add(st.parts.size(), std::memory_order_relaxed);
  st.parts.clear();
  st.local.clear();
  st.local_ends.clear();
  ++st.segment;
  ++st.segments;
  self->flush(st.hdl);
}

// Sends the segment's batches (or, without any, writes its local replies at once).
void dispatch(connection_ptr self) {
  auto& st = self->state;
  if (st.used.empty()) {
    if (!st.parts.empty())
      finish_segment(self);
    return;
  }
  st.outstanding = st.used.size();
  st.busy = true;
  for (auto i : st.used) {
    ++st.batches_sent;
    self->send(st.routing->ranges[i], std::move(st.batches[i]));
    st.batches[i] = command_batch{};
  }
}

void add_to_batch(connection_ptr self, uint16_t range, int cmd) {
  auto& st = self->state;
  auto& b = st.batches[range];
  if (st.batch_size[range] == 0) {
    st.used.push_back(range);
    b.segment = st.segment;
  }
  batch_command c;
  c.first_arg = static_cast<uint32_t>(b.arg_ends.size());
  c.argc = static_cast<uint32_t>(st.args.size());
  c.cmd = static_cast<uint16_t>(cmd);
  c.db = static_cast<uint8_t>(st.sess.db());
  c.resp = static_cast<uint8_t>(st.sess.resp());
  for (auto a : st.args) {
    b.data.append(a.data(), a.size());
    b.arg_ends.push_back(static_cast<uint32_t>(b.data.size()));
  }
  b.cmds.push_back(c);
  st.parts.push_back({range, st.batch_size[range]++});
}

// Defers the current command until the segment before it has completed.
void defer(connection_ptr self, int cmd, std::vector<int> keys = {}) {
  auto& st = self->state;
  st.deferred.assign(st.args.begin(), st.args.end());
  st.deferred_cmd = cmd;
  st.deferred_keys = std::move(keys);
  st.has_deferred = true;
}

// Completes a deferred command: writes its reply and goes on with the input.
void deferred_done(connection_ptr self, std::string_view reply) {
  auto& st = self->state;
  write_out(self, reply);
  self->flush(st.hdl);
  st.srv->total_commands.fetch_add(1, std::memory_order_relaxed);
  st.busy = false;
  process(self);
}

// ---- data commands spanning several slot_ranges -----------------------------------------------

void run_locked(connection_ptr self) {
  auto& st = self->state;
  keyspace::keyspace_stats stats;
  keyspace::keyspace_settings settings = st.srv->keyspace_settings();
  std::mt19937_64 rng{std::random_device{}()};
  keyspace::exec_context ctx(*st.srv->data, stats, settings, rng);
  keyspace::args_t args(st.deferred.begin(), st.deferred.end());
  std::string out;
  resp_writer w(out, st.sess.resp());
  ctx.begin(st.sess.db(), args, w, now_ms());
  try {
    keyspace::execute(ctx, st.deferred_cmd);
  } catch (const std::exception& e) {
    w.error(std::string("ERR internal error: ") + e.what());
  }
  bool first = true;
  for (auto i : st.lock_targets) {
    self->send(st.routing->ranges[i], unlock_atom::value, first ? stats : keyspace::keyspace_stats{});
    first = false;
  }
  st.lock_targets.clear();
  deferred_done(self, out);
}

void start_locked(connection_ptr self, std::vector<uint16_t> targets) {
  auto& st = self->state;
  std::sort(targets.begin(), targets.end());
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  st.lock_targets = std::move(targets);
  st.locks_granted = 0;
  st.busy = true;
  self->send(st.routing->ranges[st.lock_targets[0]], lock_atom::value, st.segment);
}

// ---- commands served here ---------------------------------------------------------------------

void reply_info(connection_ptr self) {
  auto& st = self->state;
  struct gather {
    std::vector<slot_range_report> reports;
    size_t left = 0;
  };
  auto g = std::make_shared<gather>();
  g->left = st.routing->ranges.size();
  for (auto& r : st.routing->ranges) {
    self->request(r, caf::infinite, stats_atom::value).then([=](slot_range_report& rep) {
      g->reports.push_back(std::move(rep));
      if (--g->left > 0)
        return;
      auto& st = self->state;
      keyspace::info_figures f = collect_info(*st.srv, g->reports);
      std::vector<std::string_view> sections(st.deferred.begin() + 1, st.deferred.end());
      std::string text = keyspace::render_info(f, sections);
      std::string out;
      resp_writer(out, st.sess.resp()).verbatim(text);
      deferred_done(self, out);
    });
  }
}

keyspace::client_info& refreshed_info(connection_ptr self) {
  auto& st = self->state;
  auto& i = st.sess.info;
  i.qbuf = st.in.size() - st.pos;
  i.qbuf_free = st.in.capacity() - st.in.size();
  i.omem = st.pending_output;
  i.tot_mem = st.in.capacity() + st.local.capacity() + sizeof(connection_state);
  return i;
}

void reply_client_list(connection_ptr self) {
  auto& st = self->state;
  // CLIENT LIST [TYPE type] [ID id ...]
  std::string type;
  std::vector<int64_t> ids;
  auto& a = st.deferred;
  for (size_t i = 2; i < a.size(); ++i) {
    if (iequals(a[i], "type") && i + 1 < a.size()) {
      protocol::to_lower(a[i + 1], type);
      if (type != "normal" && type != "master" && type != "replica" && type != "slave" && type != "pubsub") {
        std::string out;
        resp_writer(out).error("ERR Unknown client type '" + a[i + 1] + "'");
        deferred_done(self, out);
        return;
      }
      ++i;
    } else if (iequals(a[i], "id") && i + 1 < a.size()) {
      for (++i; i < a.size(); ++i) {
        int64_t v;
        if (!protocol::parse_int64(a[i], v) || v <= 0) {
          std::string out;
          resp_writer(out).error("ERR Invalid client ID");
          deferred_done(self, out);
          return;
        }
        ids.push_back(v);
      }
    } else {
      std::string out;
      resp_writer(out).error("ERR syntax error");
      deferred_done(self, out);
      return;
    }
  }
  self->request(st.srv->listener, caf::infinite, clients_atom::value)
    .then([=](std::vector<keyspace::client_info>& all) {
      auto& st = self->state;
      std::sort(all.begin(), all.end(), [](auto& x, auto& y) { return x.id < y.id; });
      int64_t now = now_ms();
      std::string text;
      for (auto& c : all) {
        if (c.id == st.sess.info.id)
          c = refreshed_info(self);
        bool pubsub = c.sub + c.psub + c.ssub > 0;
        if (!type.empty() && (type == "pubsub" ? !pubsub : (type == "normal" ? pubsub : true)))
          continue;
        if (!ids.empty() && std::find(ids.begin(), ids.end(), c.id) == ids.end())
          continue;
        text += c.format(now);
        text += '\n';
      }
      std::string out;
      resp_writer(out, st.sess.resp()).verbatim(text);
      deferred_done(self, out);
    });
}

void reply_client_kill(connection_ptr self) {
  auto& st = self->state;
  keyspace::args_t args(st.deferred.begin(), st.deferred.end());
  kill_request req;
  std::string out;
  resp_writer w(out);
  if (!keyspace::parse_client_kill(args, req.filter, w)) {
    deferred_done(self, out);
    return;
  }
  req.requester = st.sess.info.id;
  self->request(st.srv->listener, caf::infinite, kill_atom::value, req).then([=](int64_t killed) {
    std::string out;
    resp_writer w(out);
    if (req.filter.old_style) {
      if (killed == 0)
        w.error("ERR No such client");
      else
        w.ok();
    } else {
      w.integer(killed);
    }
    deferred_done(self, out);
  });
}

void reply_actors(connection_ptr self) {
  auto& st = self->state;
  auto& a = st.deferred;
  std::string sub = a.size() > 1 ? a[1] : "list";
  protocol::to_lower(sub, sub);
  if (sub == "help") {
    std::string out;
    resp_writer w(out);
    static const char* lines[] = {
      "ACTORS <subcommand> [<arg> ...]. Subcommands are:",
      "LIST",
      "    One line per actor of this node: name, kind, messages handled, mailbox depth, its own figures.",
      "INFO <name>",
      "    The whole status record of one actor, as CAF renders it.",
      "HELP",
      "    Print this help.",
    };
    w.array(std::size(lines));
    for (auto* l : lines)
      w.simple(l);
    deferred_done(self, out);
    return;
  }
  if (!((sub == "list" && a.size() <= 2) || (sub == "info" && a.size() == 3))) {
    std::string out;
    resp_writer(out).error("ERR unknown subcommand or wrong number of arguments for '" + a[a.size() > 1 ? 1 : 0]
                           + "'. Try ACTORS HELP.");
    deferred_done(self, out);
    return;
  }
  self->request(st.srv->inspector, caf::infinite, actors_atom::value).then([=](std::vector<actor_status>& all) {
    auto& st = self->state;
    std::string out;
    resp_writer w(out, st.sess.resp());
    if (sub == "list") {
      std::string text;
      for (auto& s : all)
        text += "name=" + s.name + " kind=" + s.kind + " handled=" + std::to_string(s.handled)
                + " mailbox=" + std::to_string(s.mailbox) + (s.summary.empty() ? "" : " " + s.summary) + "\n";
      w.verbatim(text);
    } else {
      auto it = std::find_if(all.begin(), all.end(), [&](auto& s) { return s.name == st.deferred[2]; });
      if (it == all.end())
        w.error("ERR no such actor '" + st.deferred[2] + "'");
      else
        w.verbatim(caf::deep_to_string(*it));
    }
    deferred_done(self, out);
  });
}

void reply_shutdown(connection_ptr self) {
  auto& st = self->state;
  shutdown_request req;
  for (size_t i = 1; i < st.deferred.size(); ++i) {
    auto& o = st.deferred[i];
    if (iequals(o, "nosave"))
      req.nosave = true;
    else if (iequals(o, "save"))
      req.save = true;
    else if (iequals(o, "now"))
      req.now = true;
    else if (iequals(o, "force"))
      req.force = true;
    else if (iequals(o, "abort")) {
      std::string out;
      resp_writer(out).error("ERR No shutdown in progress.");
      deferred_done(self, out);
      return;
    } else {
      std::string out;
      resp_writer(out).error("ERR syntax error");
      deferred_done(self, out);
      return;
    }
  }
  if (req.save && req.nosave) {
    std::string out;
    resp_writer(out).error("ERR syntax error");
    deferred_done(self, out);
    return;
  }
  req.reason = "User requested shutdown...";
  self->send(st.srv->node, shutdown_atom::value, req);
  // The node stops the process; this connection stays busy until then.
}

void run_deferred(connection_ptr self) {
  auto& st = self->state;
  auto& ids = services();
  int cmd = st.deferred_cmd;
  st.busy = true;
  if (cmd == ids.info)
    reply_info(self);
  else if (cmd == ids.client_list)
    reply_client_list(self);
  else if (cmd == ids.client_kill)
    reply_client_kill(self);
  else if (cmd == ids.actors)
    reply_actors(self);
  else if (cmd == ids.shutdown)
    reply_shutdown(self);
  else {
    // A data command: lock the slot_ranges it touches (all of them for a whole-dataset command).
    std::vector<uint16_t> targets;
    if (st.deferred_keys.empty()) {
      for (size_t i = 0; i < st.routing->ranges.size(); ++i)
        targets.push_back(static_cast<uint16_t>(i));
    } else {
      for (int k : st.deferred_keys)
        targets.push_back(st.routing->owner[protocol::key_slot(st.deferred[static_cast<size_t>(k)])]);
    }
    start_locked(self, std::move(targets));
  }
}

void config_command(connection_ptr self, const command_spec& spec) {
  auto& st = self->state;
  auto& ids = services();
  auto w = local_writer(self);
  auto& cfg = *st.srv->cfg;
  if (spec.id == ids.config_get) {
    std::vector<std::string> patterns(st.args.begin() + 2, st.args.end());
    auto pairs = cfg.get(patterns);
    w.map(pairs.size());
    for (auto& [k, v] : pairs) {
      w.bulk(k);
      w.bulk(v);
    }
  } else if (spec.id == ids.config_set) {
    if (st.args.size() % 2 != 0) {
      w.error("ERR syntax error");
    } else {
      std::vector<std::pair<std::string, std::string>> pairs;
      for (size_t i = 2; i + 1 < st.args.size(); i += 2)
        pairs.emplace_back(st.args[i], st.args[i + 1]);
      auto err = cfg.set(pairs, is_loopback(st.sess.info.addr));
      if (err.empty()) {
        for (auto& [k, v] : pairs)
          if (iequals(k, "loglevel"))
            config::logger::instance().set_level(config::parse_log_level(cfg.get_string("loglevel")));
        w.ok();
      } else {
        w.error(err);
      }
    }
  } else if (spec.id == ids.config_resetstat) {
    for (auto& r : st.routing->ranges)
      self->send(r, reset_atom::value);
    st.srv->total_commands = 0;
    st.srv->total_connections = 0;
    st.srv->rejected_connections = 0;
    st.srv->net_input = 0;
    st.srv->net_output = 0;
    st.srv->error_replies = 0;
    w.ok();
  } else if (spec.id == ids.config_rewrite) {
    auto err = cfg.rewrite();
    if (err.empty())
      w.ok();
    else
      w.error(err);
  } else {
    static const char* lines[] = {
      "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GET <pattern>",
      "    Return parameters matching the glob-like <pattern> and their values.",
      "SET <directive> <value>",
      "    Set the configuration <directive> to <value>.",
      "RESETSTAT",
      "    Reset statistics reported by the INFO command.",
      "REWRITE",
      "    Rewrite the configuration file.",
      "HELP",
      "    Print this help.",
    };
    w.array(std::size(lines));
    for (auto* l : lines)
      w.simple(l);
  }
  end_local(self);
}

// DEBUG: the parts served here; the data parts (OBJECT, DIGEST, DIGEST-VALUE) are routed.
// Returns true if the command was fully handled here.
bool debug_command(connection_ptr self, int cmd) {
  auto& st = self->state;
  std::string_view sub = st.args[1];
  auto w = local_writer(self);
  bool allowed = st.debug_mode == "yes" || (st.debug_mode == "local" && is_loopback(st.sess.info.addr));
  if (!allowed) {
    w.error("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run "
            "it from a local connection, otherwise you need to set this option in the configuration file, and "
            "then restart the server.");
  } else if (iequals(sub, "sleep") && st.args.size() == 3) {
    // As in Redis: strtod's reading of the argument (junk is 0), and the server thread (here: this
    // I/O loop) sleeps.
    double secs = std::strtod(std::string(st.args[2]).c_str(), nullptr);
    if (secs > 0)
      std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(secs * 1e6)));
    w.ok();
  } else if (iequals(sub, "jmap")) {
    w.ok();
  } else if (iequals(sub, "set-active-expire") && st.args.size() == 3) {
    st.srv->active_expire = st.args[2] != "0";
    w.ok();
  } else if (iequals(sub, "help")) {
    static const char* lines[] = {
      "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "DIGEST",
      "    Output a hex signature representing the current DB content.",
      "DIGEST-VALUE <key> [<key> ...]",
      "    Output a hex signature of the values of all the specified keys.",
      "JMAP",
      "    Accepted for compatibility; does nothing.",
      "OBJECT <key>",
      "    Show low level info about the internal encoding of <key>.",
      "SET-ACTIVE-EXPIRE <0|1>",
      "    Setting it to 0 disables expiring keys in the background when they are not accessed.",
      "SLEEP <seconds>",
      "    Stop the server for <seconds>. Decimals allowed.",
      "HELP",
      "    Print this help.",
    };
    w.array(std::size(lines));
    for (auto* l : lines)
      w.simple(l);
  } else if ((iequals(sub, "object") && st.args.size() == 3) || (iequals(sub, "digest-value"))) {
    st.keypos.clear();
    for (size_t i = 2; i < st.args.size(); ++i)
      st.keypos.push_back(static_cast<int>(i));
    return false;
  } else if (iequals(sub, "digest") && st.args.size() == 2) {
    st.keypos.clear();
    return false;
  } else {
    w.error("ERR unknown subcommand or wrong number of arguments for '" + std::string(sub) + "'. Try DEBUG HELP.");
  }
  end_local(self);
  return true;
}

// Routes a data command by its keys (in st.keypos; empty with scope::all means the whole dataset).
void route_data(connection_ptr self, int cmd, keyspace::scope where) {
  auto& st = self->state;
  auto& routing = *st.routing;
  if (routing.ranges.size() == 1) {
    add_to_batch(self, 0, cmd);
    return;
  }
  if (where == keyspace::scope::all && st.keypos.empty()) {
    defer(self, cmd);
    return;
  }
  if (st.keypos.empty()) {
    add_to_batch(self, 0, cmd); // no keys (bad arguments): the command reports its own error
    return;
  }
  uint16_t target = routing.owner[protocol::key_slot(st.args[static_cast<size_t>(st.keypos[0])])];
  for (size_t i = 1; i < st.keypos.size(); ++i) {
    if (routing.owner[protocol::key_slot(st.args[static_cast<size_t>(st.keypos[i])])] != target) {
      defer(self, cmd, st.keypos);
      return;
    }
  }
  add_to_batch(self, target, cmd);
}

void unknown_command(connection_ptr self) {
  auto& st = self->state;
  std::string args;
  for (size_t i = 1; i < st.args.size() && args.size() < 128; ++i) {
    size_t room = 128 - args.size();
    args += "'" + std::string(st.args[i].substr(0, room)) + "' ";
  }
  local_error(self, "ERR unknown command '" + std::string(st.args[0].substr(0, 128))
                      + "', with args beginning with: " + args);
}

void route(connection_ptr self) {
  auto& st = self->state;
  auto& table = command_table::instance();
  const command_spec* spec = table.find(st.args[0]);
  if (spec == nullptr || !spec->implemented) {
    unknown_command(self);
    return;
  }
  if (spec->is_container() && st.args.size() > 1) {
    const command_spec* sub = table.find_sub(*spec, st.args[1]);
    if (sub == nullptr || !sub->implemented) {
      std::string upper = spec->name;
      for (auto& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      local_error(self, "ERR unknown subcommand '" + std::string(st.args[1].substr(0, 128)) + "'. Try " + upper
                          + " HELP.");
      return;
    }
    spec = sub;
  }
  if (!spec->arity_ok(st.args.size())) {
    local_error(self, "ERR wrong number of arguments for '" + spec->display_name + "' command");
    return;
  }
  if (!st.sess.authenticated && !spec->has(protocol::cmd_no_auth)) {
    local_error(self, "NOAUTH Authentication required.");
    return;
  }
  st.sess.info.last_cmd = spec->display_name;
  // Connection-level commands.
  if (auto h = keyspace::find_session_command(spec->id)) {
    auto w = local_writer(self);
    h(st.sess, st.args, w, st.sset);
    end_local(self);
    st.parser.set_unauthenticated(!st.sess.authenticated);
    if (st.sess.close_after_reply)
      st.close_after_flush = true;
    return;
  }
  auto& ids = services();
  const int id = spec->id;
  if (id == ids.debug) {
    if (debug_command(self, id))
      return;
    route_data(self, id, keyspace::scope::keys);
    return;
  }
  if (auto* data = keyspace::command_registry::instance().find(id)) {
    st.keypos.clear();
    if (data->where == keyspace::scope::keys && !table.key_positions(*spec, st.args, st.keypos))
      st.keypos.clear();
    route_data(self, id, data->where);
    return;
  }
  if (id == ids.info || id == ids.client_list || id == ids.client_kill || id == ids.actors || id == ids.shutdown) {
    defer(self, id);
    return;
  }
  if (id == ids.client_info) {
    auto w = local_writer(self);
    w.verbatim(refreshed_info(self).format(now_ms()) + "\n");
    end_local(self);
    return;
  }
  if (id == ids.lastsave) {
    auto w = local_writer(self);
    w.integer(st.srv->lastsave.load());
    end_local(self);
    return;
  }
  if (id == ids.config_get || id == ids.config_set || id == ids.config_resetstat || id == ids.config_rewrite
      || id == ids.config_help) {
    config_command(self, *spec);
    refresh_settings(self);
    return;
  }
  unknown_command(self);
}

void compact_input(connection_ptr self) {
  auto& st = self->state;
  if (st.pos == 0)
    return;
  if (st.pos >= st.in.size()) {
    st.in.clear();
    if (st.in.capacity() > 1024 * 1024)
      std::string().swap(st.in); // give back a big buffer once its command is done
  } else {
    st.in.erase(0, st.pos);
  }
  st.pos = 0;
}

void process(connection_ptr self) {
  auto& st = self->state;
  refresh_settings(self);
  while (!st.busy && !st.closing) {
    if (st.has_deferred) {
      st.has_deferred = false;
      run_deferred(self);
      continue;
    }
    if (st.close_after_flush)
      break;
    auto status = st.parser.parse(st.in, st.pos, st.args);
    if (status == protocol::request_parser::status::incomplete)
      break;
    if (status == protocol::request_parser::status::error) {
      local_error(self, "ERR " + st.parser.error_message());
      st.close_after_flush = true;
      break;
    }
    ++st.commands;
    st.sess.info.last_ms = now_ms();
    route(self);
    if (st.has_deferred && !st.parts.empty())
      dispatch(self);
  }
  if (!st.busy && !st.closing) {
    dispatch(self);
    if (!st.busy && st.close_after_flush && !st.has_deferred) {
      close_now(self);
      return;
    }
  }
  compact_input(self);
}

} // namespace

void register_connection_commands() {
  services();
  keyspace::find_session_command(0);
}

connection_broker::behavior_type connection(connection_ptr self, caf::io::connection_handle hdl, server* srv,
                                            int64_t id, bool reject) {
  auto& st = self->state;
  st.srv = srv;
  st.hdl = hdl;
  st.routing = srv->routing;
  st.actor_name = "connection:" + std::to_string(id);
  int fd = static_cast<int>(hdl.id());
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (int idle = static_cast<int>(srv->cfg->get_int("tcp-keepalive")); idle > 0) {
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    int interval = std::max(1, idle / 3), count = 3;
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
  }
  auto& info = st.sess.info;
  info.id = id;
  info.fd = fd;
  info.addr = peer_string(fd, false);
  info.laddr = peer_string(fd, true);
  info.created_ms = info.last_ms = now_ms();
  refresh_settings(self);
  st.sess.authenticated = st.sset.requirepass.empty();
  st.parser.set_unauthenticated(!st.sess.authenticated);
  size_t n = st.routing->ranges.size();
  st.batches.resize(n);
  st.batch_size.assign(n, 0);
  st.replies.resize(n);
  self->configure_read(hdl, caf::io::receive_policy::at_most(64 * 1024));
  self->ack_writes(hdl, true);
  srv->connected_clients.fetch_add(1, std::memory_order_relaxed);
  srv->directory.add(st.actor_name, "connection", caf::actor_cast<status_handle>(self));
  self->attach_functor([srv, name = st.actor_name] {
    srv->directory.remove(name);
    srv->connected_clients.fetch_sub(1, std::memory_order_relaxed);
  });
  // protected-mode: with no password, only clients on this machine are served, as in Redis.
  bool denied = srv->cfg->get_bool("protected-mode") && st.sset.requirepass.empty() && !is_loopback(info.addr)
                && info.addr.rfind("127.", 0) != 0;
  if (reject) {
    write_out(self, "-ERR max number of clients reached\r\n");
    close_now(self);
  } else if (denied) {
    write_out(self, "-DENIED Troupe is running in protected mode: no password is set and the client is not on "
                    "the loopback interface. Set a password with 'requirepass', or start with "
                    "'--protected-mode no' (only where the network is trusted), then reconnect.\r\n");
    close_now(self);
  } else if (st.timeout_s > 0) {
    self->delayed_send(self, std::chrono::seconds(1), timeout_atom::value);
  }
  return {
    [=](const caf::io::new_data_msg& msg) {
      auto& st = self->state;
      ++st.handled;
      st.srv->net_input.fetch_add(msg.buf.size(), std::memory_order_relaxed);
      st.in.append(msg.buf.data(), msg.buf.size());
      if (!st.busy)
        process(self);
    },
    [=](const caf::io::connection_closed_msg&) {
      ++self->state.handled;
      self->state.closing = true;
      self->quit();
    },
    [=](const caf::io::data_transferred_msg& msg) {
      auto& st = self->state;
      st.pending_output = msg.remaining;
      // Backpressure: stop reading while the client does not read its replies.
      if (!st.halted && msg.remaining > 64 * 1024 * 1024) {
        st.halted = true;
        self->halt(st.hdl);
      } else if (st.halted && msg.remaining < 1024 * 1024) {
        st.halted = false;
        self->trigger(st.hdl);
      }
    },
    [=](reply_batch& r) {
      auto& st = self->state;
      ++st.handled;
      if (r.segment != st.segment || st.closing)
        return;
      uint32_t src = r.source;
      st.replies[src] = std::move(r);
      if (--st.outstanding > 0)
        return;
      finish_segment(self);
      st.busy = false;
      process(self);
    },
    [=](locked_atom, uint32_t) {
      auto& st = self->state;
      ++st.handled;
      if (++st.locks_granted < st.lock_targets.size()) {
        self->send(st.routing->ranges[st.lock_targets[st.locks_granted]], lock_atom::value, st.segment);
        return;
      }
      run_locked(self);
    },
    [=](clients_atom) -> keyspace::client_info {
      ++self->state.handled;
      return refreshed_info(self);
    },
    [=](kill_atom, kill_request& req) -> bool {
      auto& st = self->state;
      ++st.handled;
      if (!req.filter.matches(st.sess.info, req.requester, now_ms()))
        return false;
      if (st.sess.info.id == req.requester)
        st.close_after_flush = true;
      else
        close_now(self);
      return true;
    },
    [=](timeout_atom) {
      auto& st = self->state;
      ++st.handled;
      if (st.timeout_s <= 0 || st.closing)
        return;
      if (!st.busy && (now_ms() - st.sess.info.last_ms) / 1000 > st.timeout_s) {
        config::log_verbose("Closing idle client");
        close_now(self);
        return;
      }
      self->delayed_send(self, std::chrono::seconds(1), timeout_atom::value);
    },
    [=](status_atom) -> actor_status {
      auto& st = self->state;
      ++st.handled;
      connection_status s;
      s.client = refreshed_info(self);
      s.commands = st.commands;
      s.segments = st.segments;
      s.batches_sent = st.batches_sent;
      s.input_buffer = st.in.size();
      s.output_pending = st.pending_output;
      s.busy = st.busy;
      std::string summary = "addr=" + st.sess.info.addr + " db=" + std::to_string(st.sess.db()) + " commands="
                            + std::to_string(st.commands) + " segments=" + std::to_string(st.segments)
                            + " batches=" + std::to_string(st.batches_sent) + " busy=" + (st.busy ? "yes" : "no");
      return make_status(self, st.actor_name, "connection", st.handled, summary, s);
    },
  };
}

} // namespace troupe::actors
