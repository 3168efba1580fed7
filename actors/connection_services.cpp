// The commands a connection serves with the help of other actors or shared state: INFO, CLIENT
// LIST/KILL/INFO, CONFIG, ACTORS, SHUTDOWN, LASTSAVE, DEBUG's own parts, PUBLISH and PUBSUB.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdlib>
#include <memory>
#include <thread>

#include <unistd.h>

#include <caf/all.hpp>

#include "actors/connection_internal.hpp"
#include "actors/system_info.hpp"
#include "config/log.hpp"
#include "keyspace/server_info.hpp"
#include "protocol/numbers.hpp"

namespace troupe::actors::conn {

using protocol::iequals;

void with_range_reports(connection_ptr self, std::function<void(std::vector<slot_range_report>&)> done) {
  struct gather {
    std::vector<slot_range_report> reports;
    size_t left = 0;
  };
  auto g = std::make_shared<gather>();
  auto& ranges = self->state.routing->ranges;
  g->left = ranges.size();
  auto one_done = [g, done] {
    if (--g->left == 0)
      done(g->reports);
  };
  for (auto& r : ranges)
    self->request(r, caf::infinite, stats_atom::value)
      .then([g, one_done](slot_range_report& rep) {
              g->reports.push_back(std::move(rep));
              one_done();
            },
            [one_done](caf::error&) { one_done(); });
}

namespace {

std::string error_reply(std::string_view msg) {
  std::string out;
  resp_writer(out).error(msg);
  return out;
}

void help(resp_writer& w, std::initializer_list<const char*> lines) {
  w.array(lines.size());
  for (auto* l : lines)
    w.simple(l);
}

// ---- INFO ----
void info(connection_ptr self, const std::vector<std::string>& args) {
  std::vector<std::string> sections(args.begin() + 1, args.end());
  with_range_reports(self, [self, sections](std::vector<slot_range_report>& reports) {
    auto& st = self->state;
    keyspace::info_figures f = collect_info(*st.srv, reports);
    std::vector<std::string_view> views(sections.begin(), sections.end());
    std::string out;
    resp_writer(out, st.sess.resp()).verbatim(keyspace::render_info(f, views));
    deferred_done(self, std::move(out));
  });
}

// ---- MEMORY (USAGE runs in the key's slot_range) ----
void memory_stats(connection_ptr self, const std::vector<std::string>& a) {
  bool doctor = iequals(a[1], "doctor");
  with_range_reports(self, [self, doctor](std::vector<slot_range_report>& reports) {
    auto& st = self->state;
    keyspace::memory_figures f = collect_memory(*st.srv, reports);
    std::string out;
    resp_writer w(out, st.sess.resp());
    if (doctor)
      w.verbatim(keyspace::memory_doctor(f));
    else
      keyspace::render_memory_stats(f, w);
    deferred_done(self, std::move(out));
  });
}

void memory_malloc_stats(connection_ptr, const args_t&, resp_writer& w) { w.verbatim(allocator_report()); }

void memory_purge(connection_ptr, const args_t&, resp_writer& w) {
  purge_allocator();
  w.ok();
}

void memory_help(connection_ptr, const args_t&, resp_writer& w) {
  help(w, {
            "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
            "HELP",
            "    Prints this help.",
          });
}

// ---- CLIENT ----
void client_list(connection_ptr self, const std::vector<std::string>& a) {
  std::string type;
  std::vector<int64_t> ids;
  for (size_t i = 2; i < a.size(); ++i) {
    if (iequals(a[i], "type") && i + 1 < a.size()) {
      protocol::to_lower(a[i + 1], type);
      if (type != "normal" && type != "master" && type != "replica" && type != "slave" && type != "pubsub") {
        deferred_done(self, error_reply("ERR Unknown client type '" + a[i + 1] + "'"));
        return;
      }
      ++i;
    } else if (iequals(a[i], "id") && i + 1 < a.size()) {
      for (++i; i < a.size(); ++i) {
        int64_t v;
        if (!protocol::parse_int64(a[i], v) || v <= 0) {
          deferred_done(self, error_reply("ERR Invalid client ID"));
          return;
        }
        ids.push_back(v);
      }
    } else {
      deferred_done(self, error_reply("ERR syntax error"));
      return;
    }
  }
  self->request(self->state.srv->listener, caf::infinite, clients_atom::value)
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
      deferred_done(self, std::move(out));
    });
}

void client_kill(connection_ptr self, const std::vector<std::string>& a) {
  auto& st = self->state;
  args_t args(a.begin(), a.end());
  kill_request req;
  std::string out;
  resp_writer w(out);
  if (!keyspace::parse_client_kill(args, req.filter, w)) {
    deferred_done(self, std::move(out));
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
    deferred_done(self, std::move(out));
  });
}

// CLIENT UNBLOCK <id> [TIMEOUT|ERROR]: the client blocked in BLPOP & co. gets its timeout reply
// (or -UNBLOCKED); 1 if there was such a blocked client, else 0.
void client_unblock(connection_ptr self, const std::vector<std::string>& a) {
  auto& st = self->state;
  kill_request req;
  std::string out;
  resp_writer w(out);
  bool with_error = false;
  if (!keyspace::parse_client_unblock(args_t(a.begin(), a.end()), req.filter.id, with_error, w)) {
    deferred_done(self, std::move(out));
    return;
  }
  req.unblock = with_error ? 2 : 1;
  req.filter.skipme = false;
  req.requester = st.sess.info.id;
  self->request(st.srv->listener, caf::infinite, kill_atom::value, req).then([=](int64_t n) {
    std::string out;
    resp_writer(out).integer(n > 0 ? 1 : 0);
    deferred_done(self, std::move(out));
  });
}

void client_info(connection_ptr self, const args_t&, resp_writer& w) {
  w.verbatim(refreshed_info(self).format(now_ms()) + "\n");
}

// ---- ACTORS ----
void actors(connection_ptr self, const std::vector<std::string>& a) {
  std::string sub = a.size() > 1 ? a[1] : "list";
  protocol::to_lower(sub, sub);
  if (sub == "help") {
    std::string out;
    resp_writer w(out);
    help(w, {
              "ACTORS <subcommand> [<arg> ...]. Subcommands are:",
              "LIST",
              "    One line per actor of this node: name, kind, messages handled, mailbox depth, its own figures.",
              "INFO <name>",
              "    The whole status record of one actor, as CAF renders it.",
              "HELP",
              "    Print this help.",
            });
    deferred_done(self, std::move(out));
    return;
  }
  if (!((sub == "list" && a.size() <= 2) || (sub == "info" && a.size() == 3))) {
    deferred_done(self, error_reply("ERR unknown subcommand or wrong number of arguments for '" + a[a.size() > 1 ? 1 : 0]
                                    + "'. Try ACTORS HELP."));
    return;
  }
  std::string name = a.size() == 3 ? a[2] : "";
  self->request(self->state.srv->inspector, caf::infinite, actors_atom::value)
    .then([=](std::vector<actor_status>& all) {
      std::string out;
      resp_writer w(out, self->state.sess.resp());
      if (sub == "list") {
        std::string text;
        for (auto& s : all)
          text += "name=" + s.name + " kind=" + s.kind + " handled=" + std::to_string(s.handled)
                  + " mailbox=" + std::to_string(s.mailbox) + (s.summary.empty() ? "" : " " + s.summary) + "\n";
        w.verbatim(text);
      } else {
        auto it = std::find_if(all.begin(), all.end(), [&](auto& s) { return s.name == name; });
        if (it == all.end())
          w.error("ERR no such actor '" + name + "'");
        else
          w.verbatim(caf::deep_to_string(*it));
      }
      deferred_done(self, std::move(out));
    });
}

// ---- SHUTDOWN ----
void shutdown(connection_ptr self, const std::vector<std::string>& a) {
  shutdown_request req;
  bool abort = false;
  for (size_t i = 1; i < a.size(); ++i) {
    auto& o = a[i];
    if (iequals(o, "nosave"))
      req.nosave = true;
    else if (iequals(o, "save"))
      req.save = true;
    else if (iequals(o, "now"))
      req.now = true;
    else if (iequals(o, "force"))
      req.force = true;
    else if (iequals(o, "abort"))
      abort = true;
    else {
      deferred_done(self, error_reply("ERR syntax error"));
      return;
    }
  }
  // As Redis: ABORT goes alone, SAVE and NOSAVE exclude each other.
  if ((abort && (req.nosave || req.save || req.now || req.force)) || (req.save && req.nosave)) {
    deferred_done(self, error_reply("ERR syntax error"));
    return;
  }
  if (abort) {
    // Troupe's SHUTDOWN never waits for replicas, so there is never one in progress to abort.
    deferred_done(self, error_reply("ERR No shutdown in progress."));
    return;
  }
  req.reason = "User requested shutdown...";
  self->request(self->state.srv->node, caf::infinite, shutdown_atom::value, req).then([=](std::string& err) {
    // "" means the process is exiting: no reply, as Redis gives none.
    if (!err.empty())
      deferred_done(self, error_reply(err));
  });
}

// SAVE, BGSAVE, BGREWRITEAOF: the node runs the snapshot; its answer is the reply.
void snapshot_command(connection_ptr self, const std::vector<std::string>& a) {
  save_request req;
  std::string cmd;
  protocol::to_lower(a[0], cmd);
  req.aof_rewrite = cmd == "bgrewriteaof";
  req.background = cmd != "save";
  if (cmd == "bgsave" && a.size() == 2) {
    if (!iequals(a[1], "schedule")) {
      deferred_done(self, error_reply("ERR syntax error"));
      return;
    }
    req.schedule = true;
  }
  self->request(self->state.srv->node, caf::infinite, req).then([=](std::string& reply) {
    deferred_done(self, reply + "\r\n");
  });
}

// ---- CONFIG ----
void config_get(connection_ptr self, const args_t& a, resp_writer& w) {
  std::vector<std::string> patterns(a.begin() + 2, a.end());
  auto pairs = self->state.srv->cfg->get(patterns);
  w.map(pairs.size());
  for (auto& [k, v] : pairs) {
    w.bulk(k);
    w.bulk(v);
  }
}

void config_set(connection_ptr self, const args_t& a, resp_writer& w) {
  auto& st = self->state;
  if (a.size() % 2 != 0) {
    w.error("ERR syntax error");
    return;
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  for (size_t i = 2; i + 1 < a.size(); i += 2)
    pairs.emplace_back(a[i], a[i + 1]);
  auto err = st.srv->cfg->set(pairs, is_loopback(st.sess.info.addr));
  if (!err.empty()) {
    w.error(err);
    return;
  }
  for (auto& [k, v] : pairs) {
    if (iequals(k, "dir")) {
      // As Redis: the server's working directory is `dir`; files (RDB, AOF, nodes.conf) are named
      // relative to it.
      std::string dir = st.srv->cfg->get_string("dir");
      if (::chdir(dir.c_str()) != 0) {
        w.error(std::string("ERR CONFIG SET failed (possibly related to argument 'dir') - ") + std::strerror(errno));
        return;
      }
    }
    if (iequals(k, "loglevel"))
      config::logger::instance().set_level(config::parse_log_level(st.srv->cfg->get_string("loglevel")));
  }
  w.ok();
}

void config_resetstat(connection_ptr self, const args_t&, resp_writer& w) {
  auto& st = self->state;
  for (auto& r : st.routing->ranges)
    self->send(r, reset_atom::value);
  for (auto& c : st.srv->per_loop) {
    c.total_commands = 0;
    c.net_input = 0;
    c.net_output = 0;
    c.error_replies = 0;
  }
  st.srv->errors.reset();
  st.srv->total_connections = 0;
  st.srv->rejected_connections = 0;
  w.ok();
}

void config_rewrite(connection_ptr self, const args_t&, resp_writer& w) {
  auto err = self->state.srv->cfg->rewrite();
  if (err.empty())
    w.ok();
  else
    w.error(err);
}

void config_help(connection_ptr, const args_t&, resp_writer& w) {
  help(w, {
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
          });
}

void lastsave(connection_ptr self, const args_t&, resp_writer& w) { w.integer(self->state.srv->lastsave.load()); }

// ---- PUBLISH / PUBSUB ----
void publish(connection_ptr self, const std::vector<std::string>& a) {
  bool shard = iequals(a[0], "spublish");
  if (self->state.srv->cluster_enabled)
    self->send(self->state.srv->cluster, publish_atom::value, a[1], a[2], shard); // to the other nodes
  self->request(self->state.srv->pubsub, caf::infinite, publish_atom::value, a[1], a[2], shard)
    .then([=](int64_t receivers) {
      std::string out;
      resp_writer(out).integer(receivers);
      deferred_done(self, std::move(out));
    });
}

void pubsub(connection_ptr self, const std::vector<std::string>& a) {
  pubsub_query q;
  protocol::to_lower(a[1], q.what);
  if (q.what == "help") {
    std::string out;
    resp_writer w(out);
    help(w, {
              "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
              "CHANNELS [<pattern>]",
              "    Return the currently active channels matching a <pattern> (default: '*').",
              "NUMPAT",
              "    Return number of subscriptions to patterns.",
              "NUMSUB [<channel> ...]",
              "    Return the number of subscribers for the specified channels, excluding",
              "    pattern subscriptions(default: no channels).",
              "SHARDCHANNELS [<pattern>]",
              "    Return the currently active shard level channels matching a <pattern> (default: '*').",
              "SHARDNUMSUB [<shardchannel> ...]",
              "    Return the number of subscribers for the specified shard level channel(s)",
              "HELP",
              "    Print this help.",
            });
    deferred_done(self, std::move(out));
    return;
  }
  if ((q.what == "channels" || q.what == "shardchannels") && a.size() > 3) {
    deferred_done(self, error_reply("ERR wrong number of arguments for 'pubsub|" + q.what + "' command"));
    return;
  }
  q.args.assign(a.begin() + 2, a.end());
  self->request(self->state.srv->pubsub, caf::infinite, q).then([=](pubsub_answer& ans) {
    std::string out;
    resp_writer w(out, self->state.sess.resp());
    if (q.what == "numpat") {
      w.integer(ans.number);
    } else if (q.what == "numsub" || q.what == "shardnumsub") {
      w.map(ans.names.size());
      for (size_t i = 0; i < ans.names.size(); ++i) {
        w.bulk(ans.names[i]);
        w.integer(ans.counts[i]);
      }
    } else {
      w.array(ans.names.size());
      for (auto& n : ans.names)
        w.bulk(n);
    }
    deferred_done(self, std::move(out));
  });
}

struct services_table {
  std::vector<service> by_id;
  int debug = -1;
  services_table() {
    auto& t = protocol::command_table::instance();
    by_id.resize(t.size());
    auto sync = [&](const char* name, void (*fn)(connection_ptr, const args_t&, resp_writer&)) {
      by_id[static_cast<size_t>(t.implement(name))].sync = fn;
    };
    auto async = [&](const char* name, void (*fn)(connection_ptr, const std::vector<std::string>&)) {
      by_id[static_cast<size_t>(t.implement(name))].async = fn;
    };
    async("info", info);
    async("client|list", client_list);
    async("client|kill", client_kill);
    async("client|unblock", client_unblock);
    sync("client|info", client_info);
    sync("config|get", config_get);
    sync("config|set", config_set);
    sync("config|resetstat", config_resetstat);
    sync("config|rewrite", config_rewrite);
    sync("config|help", config_help);
    async("actors", actors);
    async("memory|stats", memory_stats);
    async("memory|doctor", memory_stats);
    sync("memory|malloc-stats", memory_malloc_stats);
    sync("memory|purge", memory_purge);
    sync("memory|help", memory_help);
    async("shutdown", shutdown);
    sync("lastsave", lastsave);
    async("publish", publish);
    async("spublish", publish);
    async("pubsub|channels", pubsub);
    async("pubsub|numsub", pubsub);
    async("pubsub|numpat", pubsub);
    async("pubsub|shardchannels", pubsub);
    async("pubsub|shardnumsub", pubsub);
    async("pubsub|help", pubsub);
    async("exec", exec_service);
    async("save", snapshot_command);
    async("bgsave", snapshot_command);
    async("bgrewriteaof", snapshot_command);
    register_cluster_commands(by_id);
    debug = t.id_of("debug");
  }
};

const services_table& table() {
  static services_table t;
  return t;
}

} // namespace

const service* find_service(int id) {
  auto& t = table().by_id;
  if (id < 0 || static_cast<size_t>(id) >= t.size())
    return nullptr;
  auto& s = t[static_cast<size_t>(id)];
  return s.sync || s.async ? &s : nullptr;
}

void register_services() { table(); }

int debug_id() { return table().debug; }

bool debug_command(connection_ptr self, resp_writer& w, std::vector<int>& keys) {
  auto& st = self->state;
  std::string_view sub = st.args[1];
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
    help(w, {
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
            });
  } else if ((iequals(sub, "object") && st.args.size() == 3) || iequals(sub, "digest-value")) {
    keys.clear();
    for (size_t i = 2; i < st.args.size(); ++i)
      keys.push_back(static_cast<int>(i));
    return false;
  } else if (iequals(sub, "digest") && st.args.size() == 2) {
    keys.clear();
    return false;
  } else {
    w.error("ERR unknown subcommand or wrong number of arguments for '" + std::string(sub) + "'. Try DEBUG HELP.");
  }
  return true;
}

} // namespace troupe::actors::conn
