// The command table: every Redis 7.0 command and subcommand with its arity, flags, key positions,
// key specifications, ACL categories and docs. Used both to route a call (arity check, key
// extraction) and to answer COMMAND. Data comes from command_specs.inc (generated, facts only) and
// command_docs.cpp (Troupe's own summaries). Commands become visible once something implements them.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/resp_writer.hpp"

namespace troupe::protocol {

enum command_flag : uint32_t {
  cmd_write = 1u << 0,
  cmd_readonly = 1u << 1,
  cmd_denyoom = 1u << 2,
  cmd_admin = 1u << 3,
  cmd_pubsub = 1u << 4,
  cmd_noscript = 1u << 5,
  cmd_blocking = 1u << 6,
  cmd_loading = 1u << 7,
  cmd_stale = 1u << 8,
  cmd_fast = 1u << 9,
  cmd_no_auth = 1u << 10,
  cmd_may_replicate = 1u << 11,
  cmd_no_mandatory_keys = 1u << 12,
  cmd_protected = 1u << 13,
  cmd_no_multi = 1u << 14,
  cmd_movablekeys = 1u << 15,
  cmd_asking = 1u << 16,
  cmd_allow_busy = 1u << 17,
};

struct key_spec {
  enum class begin { index, keyword, unknown };
  enum class find { range, keynum, unknown };
  std::vector<std::string> flags;  // as COMMAND shows them: RO, RW, access, update ...
  bool incomplete = false;
  bool not_key = false;
  begin begin_type = begin::unknown;
  int index = 0;                   // begin::index
  std::string keyword;             // begin::keyword
  int startfrom = 0;               // begin::keyword
  find find_type = find::unknown;
  int lastkey = 0, keystep = 1, limit = 0;           // find::range
  int keynumidx = 0, firstkey = 0, keynum_step = 1;  // find::keynum
};

struct command_spec {
  int id = 0;
  std::string name;                // lower case; "config|get" for a subcommand
  std::string display_name;        // what error messages quote: "get", "config|get"
  int arity = 0;
  uint32_t flags = 0;
  std::vector<std::string> flag_words;
  int first_key = 0, last_key = 0, key_step = 0;
  std::vector<std::string> acl_categories;
  std::vector<std::string> tips;
  std::vector<key_spec> key_specs;
  // The one key's position for a command with a single key spec "index i, range 0" (GET, SET,
  // INCR, LPUSH ...), which key_positions then answers without walking the specs; 0 otherwise.
  int single_key = 0;
  std::string group, since, summary;
  int parent = -1;                 // id of the container command
  std::vector<int> subcommands;
  bool implemented = false;

  bool has(command_flag f) const { return (flags & f) != 0; }
  bool is_container() const { return !subcommands.empty(); }
  bool arity_ok(size_t argc) const {
    return arity > 0 ? argc == static_cast<size_t>(arity) : argc >= static_cast<size_t>(-arity);
  }
};

class command_table {
public:
  // Inline, so that the hot path's several look-ups per command cost a guard test, not a call.
  static command_table& instance() {
    static command_table table;
    return table;
  }

  // Top-level command by name, case-insensitive; nullptr if unknown (implemented or not).
  const command_spec* find(std::string_view name) const;
  // A container's subcommand, case-insensitive.
  const command_spec* find_sub(const command_spec& parent, std::string_view sub) const;
  const command_spec& at(int id) const { return specs_[static_cast<size_t>(id)]; }
  size_t size() const { return specs_.size(); }
  const std::vector<command_spec>& all() const { return specs_; }

  // Called once at start by the code that implements a command ("get", "config|get").
  // Returns its id; marks the container implemented too.
  int implement(std::string_view name);
  // The id of a command or subcommand by its table name; -1 if Redis 7.0 has no such command.
  int id_of(std::string_view name) const;

  // The positions of the keys in `args` (args[0] is the command name), as Redis 7.0 derives them
  // from key specifications (with its special cases). Returns false if the arguments make the key
  // specification invalid (a bad numkeys); positions is then empty.
  // With `spec_of`, also the index of the key specification each key came from.
  bool key_positions(const command_spec& cmd, const std::vector<std::string_view>& args,
                     std::vector<int>& positions, std::vector<int>* spec_of = nullptr) const;
  // The keys a blocking command waits on: those it pops from (key specs flagged "delete"), so not
  // BLMOVE's or BRPOPLPUSH's destination.
  void blocking_key_positions(const command_spec& cmd, const std::vector<std::string_view>& args,
                              std::vector<int>& positions) const;
  // The command a full call names ("config get x" -> config|get); nullptr if none is implemented.
  const command_spec* lookup_call(const std::vector<std::string_view>& args) const;

  // COMMAND replies.
  void write_info(resp_writer& w, const command_spec& cmd) const;
  void write_docs(resp_writer& w, const command_spec& cmd) const;
  size_t implemented_count() const;

private:
  command_table();
  std::vector<command_spec> specs_;
  std::vector<std::pair<std::string, int>> index_;  // sorted names of top-level commands
  // Open-addressing hash of index_ (positions, -1 empty) by FNV-1a of the lower-case name: find()
  // runs for every command, and a binary search spent ~8 string comparisons on it.
  std::vector<int32_t> by_hash_;
};

// command_table::find with a memory of the last name found, byte for byte as it was written: a
// connection sends the same few commands over and over, and comparing a name costs less than
// hashing it.
class command_lookup_cache {
public:
  const command_spec* find(std::string_view name) {
    if (name.size() == len_ && std::memcmp(name.data(), name_, len_) == 0)
      return spec_;
    const command_spec* spec = command_table::instance().find(name);
    if (spec != nullptr && name.size() <= sizeof(name_)) {
      std::memcpy(name_, name.data(), name.size());
      len_ = name.size();
      spec_ = spec;
    }
    return spec;
  }

private:
  char name_[24] = {};
  size_t len_ = sizeof(name_) + 1;   // matches no name until one is found
  const command_spec* spec_ = nullptr;
};

// Lower-cases ASCII into `out` (for table look-ups).
void to_lower(std::string_view in, std::string& out);
bool iequals(std::string_view a, std::string_view b);

} // namespace troupe::protocol
