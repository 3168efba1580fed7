#include "persistence/dump_commands.hpp"

#include <string>

#include "persistence/dump_payload.hpp"
#include "protocol/numbers.hpp"

namespace troupe::persistence {
namespace {

using keyspace::entry;
using keyspace::exec_context;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if ((a[i] | 0x20) != (b[i] | 0x20))
      return false;
  return true;
}

// DUMP key
void cmd_dump(exec_context& c) {
  entry* e = c.lookup_read(c.arg(1));
  if (e == nullptr) {
    c.out().null();
    return;
  }
  c.out().bulk(dump_payload(e));
}

// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
void cmd_restore(exec_context& c) {
  bool replace = false, absttl = false;
  int64_t idle = -1, freq = -1;
  for (size_t j = 4; j < c.argc(); ++j) {
    size_t additional = c.argc() - j - 1;
    std::string_view a = c.arg(j);
    if (iequals(a, "replace")) {
      replace = true;
    } else if (iequals(a, "absttl")) {
      absttl = true;
    } else if (iequals(a, "idletime") && additional >= 1 && freq == -1) {
      if (!protocol::parse_int64(c.arg(j + 1), idle)) {
        c.reply_not_integer();
        return;
      }
      if (idle < 0) {
        c.out().error("ERR Invalid IDLETIME value, must be >= 0");
        return;
      }
      ++j;
    } else if (iequals(a, "freq") && additional >= 1 && idle == -1) {
      if (!protocol::parse_int64(c.arg(j + 1), freq)) {
        c.reply_not_integer();
        return;
      }
      if (freq < 0 || freq > 255) {
        c.out().error("ERR Invalid FREQ value, must be >= 0 and <= 255");
        return;
      }
      ++j;
    } else {
      c.reply_syntax_error();
      return;
    }
  }
  std::string_view key = c.arg(1);
  if (!replace && c.lookup_write(key) != nullptr) {
    c.out().error("BUSYKEY Target key name already exists.");
    return;
  }
  int64_t ttl;
  if (!protocol::parse_int64(c.arg(2), ttl)) {
    c.reply_not_integer();
    return;
  }
  if (ttl < 0) {
    c.out().error("ERR Invalid TTL value, must be >= 0");
    return;
  }
  if (ttl && !absttl)
    ttl += c.now_ms();
  auto r = restore_payload(c.arg(3), key, ttl ? ttl : -1, c.settings());
  if (!r.ok()) {
    c.out().error(r.error);
    return;
  }
  bool deleted = replace && c.remove(key);
  if (ttl && ttl <= c.now_ms()) {
    // Already expired: nothing is stored; a replaced key is gone, which is what the AOF records.
    keyspace::destroy_entry(r.entry);
    if (deleted) {
      c.changed();
      c.propagate({"DEL", key});
    }
    c.out().ok();
    return;
  }
  if (idle >= 0) {
    uint32_t now = keyspace::lru_clock(c.now_ms());
    uint32_t secs = static_cast<uint32_t>(std::min<int64_t>(idle, 0xFFFFFF));
    r.entry->lru = 0;   // set after add(), which stamps the entry as just used
    c.add(r.entry);
    r.entry->lru = (now >= secs ? now - secs : 0) & 0xFFFFFF;
  } else {
    c.add(r.entry);
  }
  c.changed();
  // The AOF gets the absolute expire time, so a replay later gives the same deadline.
  if (ttl) {
    std::string abs = std::to_string(ttl);
    c.propagate({"RESTORE", key, abs, c.arg(3), "REPLACE", "ABSTTL"});
  } else {
    c.propagate({"RESTORE", key, "0", c.arg(3), "REPLACE"});
  }
  c.out().ok();
}

} // namespace

void register_dump_commands(keyspace::command_registry& r) {
  r.add("dump", cmd_dump);
  r.add("restore", cmd_restore);
}

} // namespace troupe::persistence
