// A client connection's state as commands see it (database, protocol, name, authentication) and
// the connection-level commands that only read or change that state: PING ECHO SELECT HELLO AUTH
// RESET QUIT and most of CLIENT. Pure: the connection actor owns a session and calls these.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "keyspace/context.hpp"
#include "protocol/resp_writer.hpp"

namespace troupe::keyspace {

// What CLIENT LIST / CLIENT INFO show about one connection.
struct client_info {
  int64_t id = 0;
  std::string addr, laddr;
  int fd = -1;
  std::string name;
  int64_t created_ms = 0, last_ms = 0;
  int db = 0;
  int sub = 0, psub = 0, ssub = 0;
  int multi = -1;
  uint64_t qbuf = 0, qbuf_free = 0, argv_mem = 0, obl = 0, oll = 0, omem = 0, tot_mem = 0;
  std::string flags = "N";
  std::string last_cmd = "NULL";
  int resp = 2;
  std::string lib_name, lib_ver;

  // One CLIENT LIST line (without the trailing newline), as Redis 7.0 formats it.
  std::string format(int64_t now_ms) const;
};

// Server settings connection-level commands depend on.
struct session_settings {
  std::string requirepass;
  bool cluster_enabled = false;
  int databases = 16;
  std::string version = "7.0.15";
};

struct session {
  client_info info;
  bool authenticated = true;
  bool close_after_reply = false;
  int resp() const { return info.resp; }
  int db() const { return info.db; }
};

using session_handler = void (*)(session&, const args_t&, protocol::resp_writer&, const session_settings&);

// Looks up the session command for a command-table id (nullptr if the command is not one).
session_handler find_session_command(int id);

// CLIENT KILL's filters, parsed; matches(info, self_id) says whether a client is to be killed.
struct client_filter {
  bool old_style = false;        // CLIENT KILL addr:port
  int64_t id = 0;
  std::string addr, laddr, type, user;
  bool skipme = true;
  int64_t maxage = 0;
  bool matches(const client_info& c, int64_t self_id, int64_t now_ms) const;
};
// Parses CLIENT KILL's arguments; on error writes the error reply and returns false.
bool parse_client_kill(const args_t& args, client_filter& f, protocol::resp_writer& w);
// Parses CLIENT UNBLOCK <id> [TIMEOUT|ERROR] (args from CLIENT on): the id and whether the client
// gets the -UNBLOCKED error; on error writes the error reply and returns false.
bool parse_client_unblock(const args_t& args, int64_t& id, bool& with_error, protocol::resp_writer& w);

// Validates a client name (CLIENT SETNAME, HELLO SETNAME): printable, no spaces.
bool valid_client_name(std::string_view name);

} // namespace troupe::keyspace
