#include <climits>

#include "keyspace/session.hpp"
#include "protocol/command_table.hpp"
#include "protocol/numbers.hpp"

namespace troupe::keyspace {

using protocol::iequals;
using protocol::resp_writer;

std::string client_info::format(int64_t now_ms) const {
  std::string s;
  s.reserve(300);
  auto age = (now_ms - created_ms) / 1000, idle = (now_ms - last_ms) / 1000;
  s += "id=" + std::to_string(id) + " addr=" + addr + " laddr=" + laddr + " fd=" + std::to_string(fd)
       + " name=" + name + " age=" + std::to_string(age) + " idle=" + std::to_string(idle) + " flags=" + flags
       + " db=" + std::to_string(db) + " sub=" + std::to_string(sub) + " psub=" + std::to_string(psub)
       + " ssub=" + std::to_string(ssub) + " multi=" + std::to_string(multi) + " qbuf=" + std::to_string(qbuf)
       + " qbuf-free=" + std::to_string(qbuf_free) + " argv-mem=" + std::to_string(argv_mem)
       + " multi-mem=0 rbs=16384 rbp=0 obl=" + std::to_string(obl) + " oll=" + std::to_string(oll)
       + " omem=" + std::to_string(omem) + " tot-mem=" + std::to_string(tot_mem) + " events=r cmd=" + last_cmd
       + " user=default redir=-1 resp=" + std::to_string(resp);
  if (!lib_name.empty() || !lib_ver.empty())
    s += " lib-name=" + lib_name + " lib-ver=" + lib_ver;
  return s;
}

bool valid_client_name(std::string_view name) {
  for (char c : name)
    if (c < '!' || c > '~')
      return false;
  return true;
}

void register_command_commands(std::vector<session_handler>& handlers); // command_commands.cpp

namespace {

void cmd_ping(session& s, const args_t& a, resp_writer& w, const session_settings&) {
  if (a.size() > 2) {
    w.error("ERR wrong number of arguments for 'ping' command");
    return;
  }
  bool subscribed = s.info.sub + s.info.psub + s.info.ssub > 0 && s.resp() == 2;
  if (subscribed) {
    w.array(2);
    w.bulk("pong");
    w.bulk(a.size() == 2 ? a[1] : std::string_view(""));
  } else if (a.size() == 2) {
    w.bulk(a[1]);
  } else {
    w.simple("PONG");
  }
}

void cmd_echo(session&, const args_t& a, resp_writer& w, const session_settings&) { w.bulk(a[1]); }

void cmd_select(session& s, const args_t& a, resp_writer& w, const session_settings& st) {
  int64_t id;
  if (!protocol::parse_int64(a[1], id)) {
    w.error("ERR value is not an integer or out of range");
    return;
  }
  if (id < INT_MIN || id > INT_MAX) {
    w.error("ERR value is out of range, value must between -2147483648 and 2147483647");
    return;
  }
  if (st.cluster_enabled && id != 0) {
    w.error("ERR SELECT is not allowed in cluster mode");
    return;
  }
  if (id < 0 || id >= st.databases) {
    w.error("ERR DB index is out of range");
    return;
  }
  s.info.db = static_cast<int>(id);
  w.ok();
}

// AUTH [user] password against requirepass (only the "default" user exists). True on success.
bool check_auth(session& s, std::string_view user, std::string_view pass, resp_writer& w, const session_settings& st,
                bool reply_ok) {
  if (user != "default" || st.requirepass.empty() || pass != st.requirepass) {
    if (st.requirepass.empty() && user == "default") {
      // With no password every AUTH for "default" succeeds only as "nopass": Redis accepts any password.
      s.authenticated = true;
      if (reply_ok)
        w.ok();
      return true;
    }
    w.error("WRONGPASS invalid username-password pair or user is disabled.");
    return false;
  }
  s.authenticated = true;
  if (reply_ok)
    w.ok();
  return true;
}

void cmd_auth(session& s, const args_t& a, resp_writer& w, const session_settings& st) {
  if (a.size() > 3) {
    w.error("ERR syntax error");
    return;
  }
  if (a.size() == 2) {
    if (st.requirepass.empty()) {
      w.error("ERR AUTH <password> called without any password configured for the default user. Are you sure "
              "your configuration is correct?");
      return;
    }
    check_auth(s, "default", a[1], w, st, true);
    return;
  }
  check_auth(s, a[1], a[2], w, st, true);
}

void cmd_hello(session& s, const args_t& a, resp_writer& w, const session_settings& st) {
  int64_t ver = 0;
  if (a.size() >= 2) {
    if (!protocol::parse_int64(a[1], ver)) {
      w.error("ERR Protocol version is not an integer or out of range");
      return;
    }
    if (ver < 2 || ver > 3) {
      w.error("NOPROTO unsupported protocol version");
      return;
    }
  }
  std::string_view user, pass, name;
  bool has_auth = false, has_name = false;
  for (size_t j = 2; j < a.size(); ++j) {
    size_t more = a.size() - j - 1;
    if (iequals(a[j], "auth") && more >= 2) {
      has_auth = true;
      user = a[j + 1];
      pass = a[j + 2];
      j += 2;
    } else if (iequals(a[j], "setname") && more >= 1) {
      has_name = true;
      name = a[j + 1];
      j += 1;
    } else {
      w.error("ERR Syntax error in HELLO option '" + std::string(a[j]) + "'");
      return;
    }
  }
  if (has_auth && !check_auth(s, user, pass, w, st, false))
    return;
  if (!s.authenticated) {
    w.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH "
            "<user> <pass> option can be used to authenticate the client and select the RESP protocol version at "
            "the same time");
    return;
  }
  if (has_name) {
    if (!valid_client_name(name)) {
      w.error("ERR Client names cannot contain spaces, newlines or special characters.");
      return;
    }
    s.info.name = std::string(name);
  }
  if (ver != 0) {
    s.info.resp = static_cast<int>(ver);
    w.set_resp(s.info.resp);
  }
  w.map(7);
  w.bulk("server");
  w.bulk("redis");
  w.bulk("version");
  w.bulk(st.version);
  w.bulk("proto");
  w.integer(s.info.resp);
  w.bulk("id");
  w.integer(s.info.id);
  w.bulk("mode");
  w.bulk(st.cluster_enabled ? "cluster" : "standalone");
  w.bulk("role");
  w.bulk("master");
  w.bulk("modules");
  w.array(0);
}

void cmd_quit(session& s, const args_t&, resp_writer& w, const session_settings&) {
  s.close_after_reply = true;
  w.ok();
}

void cmd_reset(session& s, const args_t&, resp_writer& w, const session_settings& st) {
  s.info.db = 0;
  s.info.resp = 2;
  w.set_resp(2);
  s.info.name.clear();
  s.info.flags = "N";
  s.info.multi = -1;
  s.authenticated = st.requirepass.empty();
  w.simple("RESET");
}

void cmd_client_id(session& s, const args_t&, resp_writer& w, const session_settings&) { w.integer(s.info.id); }

void cmd_client_getname(session& s, const args_t&, resp_writer& w, const session_settings&) {
  if (s.info.name.empty())
    w.null();
  else
    w.bulk(s.info.name);
}

void cmd_client_setname(session& s, const args_t& a, resp_writer& w, const session_settings&) {
  if (!valid_client_name(a[2])) {
    w.error("ERR Client names cannot contain spaces, newlines or special characters.");
    return;
  }
  s.info.name = std::string(a[2]);
  w.ok();
}

void cmd_client_setinfo(session& s, const args_t& a, resp_writer& w, const session_settings&) {
  if (a.size() != 4) {
    w.error("ERR wrong number of arguments for 'client|setinfo' command");
    return;
  }
  if (!valid_client_name(a[3])) {
    w.error("ERR " + std::string(a[2]) + " cannot contain spaces, newlines or special characters.");
    return;
  }
  if (iequals(a[2], "lib-name"))
    s.info.lib_name = std::string(a[3]);
  else if (iequals(a[2], "lib-ver"))
    s.info.lib_ver = std::string(a[3]);
  else {
    w.error("ERR Unrecognized option '" + std::string(a[2]) + "'");
    return;
  }
  w.ok();
}

void cmd_client_help(session&, const args_t&, resp_writer& w, const session_settings&) {
  static const char* lines[] = {
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are: ID <id>, TYPE (NORMAL|MASTER|REPLICA|PUBSUB), USER <username>,",
    "    ADDR <ip:port>, LADDR <ip:port>, SKIPME (YES|NO), MAXAGE <seconds>.",
    "LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <id> [<id> ...]]",
    "    Return information about client connections.",
    "SETINFO (LIB-NAME|LIB-VER) <value>",
    "    Record the client library's name or version.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "HELP",
    "    Print this help.",
  };
  w.array(std::size(lines));
  for (auto* l : lines)
    w.simple(l);
}

struct session_registry {
  std::vector<session_handler> handlers;
  session_registry() {
    auto& t = protocol::command_table::instance();
    handlers.resize(t.size());
    auto add = [&](std::string_view name, session_handler h) { handlers[static_cast<size_t>(t.implement(name))] = h; };
    add("ping", cmd_ping);
    add("echo", cmd_echo);
    add("select", cmd_select);
    add("auth", cmd_auth);
    add("hello", cmd_hello);
    add("quit", cmd_quit);
    add("reset", cmd_reset);
    add("client|id", cmd_client_id);
    add("client|getname", cmd_client_getname);
    add("client|setname", cmd_client_setname);
    add("client|setinfo", cmd_client_setinfo);
    add("client|help", cmd_client_help);
    register_command_commands(handlers);
  }
};

} // namespace

session_handler find_session_command(int id) {
  static session_registry r;
  return id >= 0 && static_cast<size_t>(id) < r.handlers.size() ? r.handlers[static_cast<size_t>(id)] : nullptr;
}

bool client_filter::matches(const client_info& c, int64_t self_id, int64_t now_ms) const {
  if (old_style)
    return c.addr == addr;
  if (id != 0 && c.id != id)
    return false;
  if (!addr.empty() && c.addr != addr)
    return false;
  if (!laddr.empty() && c.laddr != laddr)
    return false;
  if (!user.empty() && user != "default")
    return false;
  if (!type.empty()) {
    bool pubsub = c.sub + c.psub + c.ssub > 0;
    if (type == "pubsub" ? !pubsub : (type == "normal" ? pubsub : true))
      return false;
  }
  if (skipme && c.id == self_id)
    return false;
  if (maxage > 0 && (now_ms - c.created_ms) / 1000 < maxage)
    return false;
  return true;
}

bool parse_client_unblock(const args_t& args, int64_t& id, bool& with_error, protocol::resp_writer& w) {
  if (args.size() > 4) {
    w.error("ERR unknown subcommand or wrong number of arguments for '" + std::string(args[1])
            + "'. Try CLIENT HELP.");
    return false;
  }
  if (!protocol::parse_int64(args[2], id)) {
    w.error("ERR value is not an integer or out of range");
    return false;
  }
  with_error = false;
  if (args.size() > 3) {
    if (protocol::iequals(args[3], "error")) {
      with_error = true;
    } else if (!protocol::iequals(args[3], "timeout")) {
      w.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
      return false;
    }
  }
  return true;
}

bool parse_client_kill(const args_t& a, client_filter& f, resp_writer& w) {
  if (a.size() == 3) {
    f.old_style = true;
    f.addr = std::string(a[2]);
    f.skipme = false;
    return true;
  }
  if (a.size() < 3 || (a.size() - 2) % 2 != 0) {
    w.error("ERR syntax error");
    return false;
  }
  for (size_t i = 2; i + 1 < a.size(); i += 2) {
    std::string_view opt = a[i], val = a[i + 1];
    if (iequals(opt, "id")) {
      int64_t v;
      if (!protocol::parse_int64(val, v) || v <= 0) {
        w.error("ERR client-id should be greater than 0");
        return false;
      }
      f.id = v;
    } else if (iequals(opt, "type")) {
      std::string t(val);
      for (auto& ch : t)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (t != "normal" && t != "master" && t != "slave" && t != "replica" && t != "pubsub") {
        w.error("ERR Unknown client type '" + std::string(val) + "'");
        return false;
      }
      f.type = t;
    } else if (iequals(opt, "addr")) {
      f.addr = std::string(val);
    } else if (iequals(opt, "laddr")) {
      f.laddr = std::string(val);
    } else if (iequals(opt, "user")) {
      if (val != "default") {
        w.error("ERR No such user '" + std::string(val) + "'");
        return false;
      }
      f.user = std::string(val);
    } else if (iequals(opt, "skipme")) {
      if (iequals(val, "yes"))
        f.skipme = true;
      else if (iequals(val, "no"))
        f.skipme = false;
      else {
        w.error("ERR syntax error");
        return false;
      }
    } else if (iequals(opt, "maxage")) {
      int64_t v;
      if (!protocol::parse_int64(val, v)) {
        w.error("ERR value is not an integer or out of range");
        return false;
      }
      f.maxage = v;
    } else {
      w.error("ERR syntax error");
      return false;
    }
  }
  return true;
}

} // namespace troupe::keyspace
