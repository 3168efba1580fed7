// COMMAND and its subcommands (answered from the command table), and TIME.
#include <sys/time.h>

#include "keyspace/session.hpp"
#include "protocol/command_table.hpp"
#include "protocol/glob.hpp"

namespace troupe::keyspace {

using protocol::command_spec;
using protocol::command_table;
using protocol::iequals;
using protocol::resp_writer;

namespace {

void write_all(resp_writer& w) {
  auto& t = command_table::instance();
  w.array(t.implemented_count());
  for (auto& c : t.all())
    if (c.parent < 0 && c.implemented)
      t.write_info(w, c);
}

void cmd_command(session&, const args_t&, resp_writer& w, const session_settings&) { write_all(w); }

void cmd_command_count(session&, const args_t&, resp_writer& w, const session_settings&) {
  w.integer(static_cast<int64_t>(command_table::instance().implemented_count()));
}

const command_spec* by_name(std::string_view name) {
  auto& t = command_table::instance();
  auto bar = name.find('|');
  const command_spec* c = t.find(name.substr(0, bar));
  if (c != nullptr && bar != std::string_view::npos)
    c = c->is_container() ? t.find_sub(*c, name.substr(bar + 1)) : nullptr;
  return c != nullptr && c->implemented ? c : nullptr;
}

void cmd_command_info(session&, const args_t& a, resp_writer& w, const session_settings&) {
  auto& t = command_table::instance();
  if (a.size() == 2) {
    write_all(w);
    return;
  }
  w.array(a.size() - 2);
  for (size_t i = 2; i < a.size(); ++i) {
    if (auto* c = by_name(a[i]))
      t.write_info(w, *c);
    else
      w.null();
  }
}

void cmd_command_docs(session&, const args_t& a, resp_writer& w, const session_settings&) {
  auto& t = command_table::instance();
  std::vector<const command_spec*> found;
  if (a.size() == 2) {
    for (auto& c : t.all())
      if (c.parent < 0 && c.implemented)
        found.push_back(&c);
  } else {
    for (size_t i = 2; i < a.size(); ++i)
      if (auto* c = by_name(a[i]))
        found.push_back(c);
  }
  w.map(found.size());
  for (auto* c : found) {
    w.bulk(c->name);
    t.write_docs(w, *c);
  }
}

void cmd_command_list(session&, const args_t& a, resp_writer& w, const session_settings&) {
  auto& t = command_table::instance();
  enum { none, module, aclcat, pattern } filter = none;
  std::string_view value;
  if (a.size() == 5 && iequals(a[2], "filterby")) {
    value = a[4];
    if (iequals(a[3], "module"))
      filter = module;
    else if (iequals(a[3], "aclcat"))
      filter = aclcat;
    else if (iequals(a[3], "pattern"))
      filter = pattern;
    else {
      w.error("ERR syntax error");
      return;
    }
  } else if (a.size() != 2) {
    w.error("ERR syntax error");
    return;
  }
  std::vector<const std::string*> names;
  protocol::glob g(value, true);
  for (auto& c : t.all()) {
    if (!c.implemented)
      continue;
    if (filter == module)
      continue;
    if (filter == aclcat) {
      bool in = false;
      for (auto& cat : c.acl_categories)
        in = in || (cat.size() == value.size() + 1 && iequals(std::string_view(cat).substr(1), value));
      if (!in)
        continue;
    }
    if (filter == pattern && !g.match(c.name))
      continue;
    names.push_back(&c.name);
  }
  w.array(names.size());
  for (auto* n : names)
    w.bulk(*n);
}

bool has_keys(const command_spec& c) {
  return !c.key_specs.empty() && !c.key_specs[0].not_key;
}

void getkeys(const args_t& a, resp_writer& w, bool with_flags) {
  auto& t = command_table::instance();
  args_t call(a.begin() + 2, a.end());
  const command_spec* c = t.lookup_call(call);
  if (c == nullptr) {
    w.error("ERR Invalid command specified");
    return;
  }
  if (!has_keys(*c)) {
    w.error("ERR The command has no key arguments");
    return;
  }
  if (!c->arity_ok(call.size())) {
    w.error("ERR Invalid number of arguments specified for command");
    return;
  }
  std::vector<int> pos, spec_of;
  if (!t.key_positions(*c, call, pos, &spec_of) || pos.empty()) {
    if (c->has(protocol::cmd_no_mandatory_keys))
      w.array(0);
    else
      w.error("ERR Invalid arguments specified for command");
    return;
  }
  w.array(pos.size());
  for (size_t i = 0; i < pos.size(); ++i) {
    if (with_flags) {
      w.array(2);
      w.bulk(call[static_cast<size_t>(pos[i])]);
      auto& flags = c->key_specs[static_cast<size_t>(spec_of[i])].flags;
      w.set(flags.size());
      for (auto& f : flags)
        w.simple(f);
    } else {
      w.bulk(call[static_cast<size_t>(pos[i])]);
    }
  }
}

void cmd_command_getkeys(session&, const args_t& a, resp_writer& w, const session_settings&) { getkeys(a, w, false); }
void cmd_command_getkeysandflags(session&, const args_t& a, resp_writer& w, const session_settings&) {
  getkeys(a, w, true);
}

void cmd_command_help(session&, const args_t&, resp_writer& w, const session_settings&) {
  static const char* lines[] = {
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all commands.",
    "COUNT",
    "    Return the total number of commands in this server.",
    "LIST",
    "    Return a list of all commands in this server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full command.",
    "HELP",
    "    Print this help.",
  };
  w.array(std::size(lines));
  for (auto* l : lines)
    w.simple(l);
}

void cmd_time(session&, const args_t&, resp_writer& w, const session_settings&) {
  timeval tv;
  gettimeofday(&tv, nullptr);
  w.array(2);
  w.bulk_int(tv.tv_sec);
  w.bulk_int(tv.tv_usec);
}

// Functions (Lua libraries) are not run by Troupe: the library list is always empty, so that tools
// like redis-cli --cluster add-node can check a node is free of functions and hand it an empty set.
void cmd_function_list(session&, const args_t& a, resp_writer& w, const session_settings&) {
  for (size_t i = 2; i < a.size(); ++i) {
    if (iequals(a[i], "withcode"))
      continue;
    if (iequals(a[i], "libraryname") && i + 1 < a.size()) {
      ++i;
      continue;
    }
    w.error("ERR Unknown argument " + std::string(a[i]));
    return;
  }
  w.array(0);
}

void cmd_function_restore(session&, const args_t& a, resp_writer& w, const session_settings&) {
  if (a.size() > 4 || (a.size() == 4 && !iequals(a[3], "flush") && !iequals(a[3], "append")
                       && !iequals(a[3], "replace"))) {
    w.error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
    return;
  }
  // A payload of no library is just the 2-byte RDB version and the 8-byte checksum.
  if (a[2].size() != 10) {
    w.error("ERR Troupe does not run functions: only an empty function set can be restored");
    return;
  }
  w.ok();
}

void cmd_function_flush(session&, const args_t& a, resp_writer& w, const session_settings&) {
  if (a.size() == 3 && !iequals(a[2], "sync") && !iequals(a[2], "async")) {
    w.error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
    return;
  }
  w.ok();
}

} // namespace

void register_command_commands(std::vector<session_handler>& handlers) {
  auto& t = command_table::instance();
  auto add = [&](std::string_view name, session_handler h) { handlers[static_cast<size_t>(t.implement(name))] = h; };
  add("command", cmd_command);
  add("command|count", cmd_command_count);
  add("command|info", cmd_command_info);
  add("command|docs", cmd_command_docs);
  add("command|list", cmd_command_list);
  add("command|getkeys", cmd_command_getkeys);
  add("command|getkeysandflags", cmd_command_getkeysandflags);
  add("command|help", cmd_command_help);
  add("time", cmd_time);
  add("function|list", cmd_function_list);
  add("function|restore", cmd_function_restore);
  add("function|flush", cmd_function_flush);
}

} // namespace troupe::keyspace
