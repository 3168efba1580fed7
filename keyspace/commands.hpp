// The registry of data commands: each family file registers its commands here by name; the
// connection looks them up by command-table id. A data command runs either where its keys live
// (scope::keys: one slot_range, or several locked together) or over the whole dataset (scope::all).
#pragma once

#include <string_view>

#include "keyspace/context.hpp"

namespace troupe::keyspace {

using data_handler = void (*)(exec_context&);

enum class scope : uint8_t { keys, all };

struct data_command {
  data_handler fn = nullptr;
  scope where = scope::keys;
};

class command_registry {
public:
  static command_registry& instance() {   // inline: a guard test on the hot path, not a call
    static command_registry r;
    return r;
  }
  // nullptr if the command (by command-table id) is not a data command.
  const data_command* find(int id) const {
    return id >= 0 && static_cast<size_t>(id) < commands_.size() && commands_[static_cast<size_t>(id)].fn
             ? &commands_[static_cast<size_t>(id)]
             : nullptr;
  }
  void add(std::string_view name, data_handler fn, scope where = scope::keys);

private:
  command_registry();
  std::vector<data_command> commands_;
};

// Runs command `cmd` (a command-table id) for the arguments already in `ctx`.
void execute(exec_context& ctx, int cmd);

// The timeout argument of a blocking command (BLPOP, BZPOPMIN, ...) in milliseconds (0: forever);
// false after replying the error. Defined in list_commands.cpp.
bool parse_block_timeout(exec_context& c, std::string_view arg, int64_t& ms);

// Redis's index ranges (LRANGE, LTRIM, ZRANGE, ZREMRANGEBYRANK ...): negative indexes count from
// the end, the range is clipped to [0, len). False if nothing is left; else start..stop is valid.
inline bool clamp_index_range(int64_t& start, int64_t& stop, int64_t len) {
  if (start < 0)
    start += len;
  if (stop < 0)
    stop += len;
  if (start < 0)
    start = 0;
  if (start > stop || start >= len)
    return false;
  if (stop >= len)
    stop = len - 1;
  return true;
}

// Puts `value` in string entry `e` as a raw string (APPEND, SETRANGE, the bit commands), in place
// when it is one already; the expiry stays. Defined in string_commands.cpp.
void store_raw(exec_context& c, entry* e, std::string value);

// The ranges of string commands (GETRANGE, BITCOUNT, BITPOS), Redis's other way: negative values
// count from the end, then both ends are clipped into [0, len), an end before the string's start
// becoming 0 (GETRANGE "hello" 0 -100 is "h"). False if nothing is left.
inline bool clamp_string_range(int64_t& start, int64_t& end, int64_t len) {
  if (start < 0)
    start += len;
  if (end < 0)
    end += len;
  if (start < 0)
    start = 0;
  if (end < 0)
    end = 0;
  if (end >= len)
    end = len - 1;
  return len > 0 && start <= end;
}

// Family registration (one file each).
void register_string_commands(command_registry& r);
void register_bitmap_commands(command_registry& r);
void register_sort_commands(command_registry& r);
void register_key_commands(command_registry& r);
void register_server_commands(command_registry& r);
void register_hash_commands(command_registry& r);
void register_set_commands(command_registry& r);
void register_list_commands(command_registry& r);
void register_zset_commands(command_registry& r);

} // namespace troupe::keyspace
