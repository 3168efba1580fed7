// Commands over a whole database or the whole dataset: DBSIZE FLUSHDB FLUSHALL SWAPDB KEYS SCAN
// RANDOMKEY, and the data side of DEBUG (DIGEST, DIGEST-VALUE, OBJECT).
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstdio>
#include <optional>

#include "keyspace/commands.hpp"
#include "keyspace/digest.hpp"
#include "protocol/command_table.hpp"
#include "protocol/glob.hpp"
#include "protocol/numbers.hpp"

namespace troupe::keyspace {

using protocol::iequals;
using protocol::slot_count;

namespace {

void cmd_dbsize(exec_context& c) { c.out().integer(static_cast<int64_t>(c.db().size())); }

bool flush_mode_ok(exec_context& c) {
  if (c.argc() > 2 || (c.argc() == 2 && !iequals(c.arg(1), "sync") && !iequals(c.arg(1), "async"))) {
    c.reply_syntax_error();
    return false;
  }
  return true;
}

void cmd_flushdb(exec_context& c) {
  if (!flush_mode_ok(c))
    return;
  size_t n = c.db().size();
  c.before_write_all(c.db_index());
  c.touched_all(c.db_index(), [&](std::string_view k) { return c.peek(c.db(), k) != nullptr; });
  c.db().clear();
  c.changed(n + 1);
  c.out().ok();
}

void cmd_flushall(exec_context& c) {
  if (!flush_mode_ok(c))
    return;
  size_t n = 0;
  for (int i = 0; i < c.data().count(); ++i) {
    n += c.data().db(i).size();
    c.before_write_all(i);
    c.touched_all(i, [&](std::string_view k) { return c.peek(c.data().db(i), k) != nullptr; });
    c.data().db(i).clear();
  }
  c.changed(n + 1);
  c.out().ok();
}

void cmd_swapdb(exec_context& c) {
  if (c.settings().cluster_enabled) {
    c.out().error("ERR SWAPDB is not allowed in cluster mode");
    return;
  }
  int64_t a, b;
  if (!protocol::parse_int64(c.arg(1), a) || a < INT_MIN || a > INT_MAX) {
    c.out().error("ERR invalid first DB index");
    return;
  }
  if (!protocol::parse_int64(c.arg(2), b) || b < INT_MIN || b > INT_MAX) {
    c.out().error("ERR invalid second DB index");
    return;
  }
  if (a < 0 || a >= c.data().count() || b < 0 || b >= c.data().count()) {
    c.out().error("ERR DB index is out of range");
    return;
  }
  if (a != b) {
    c.before_write_all(static_cast<int>(a));
    c.before_write_all(static_cast<int>(b));
    // A watched key is touched if it is in either database (it vanishes or appears or changes).
    auto in_either = [&](std::string_view k) {
      return c.peek(c.data().db(static_cast<int>(a)), k) != nullptr
             || c.peek(c.data().db(static_cast<int>(b)), k) != nullptr;
    };
    c.touched_all(static_cast<int>(a), in_either);
    c.touched_all(static_cast<int>(b), in_either);
    c.data().swap(static_cast<int>(a), static_cast<int>(b));
    // Clients blocked on a key the swap brought in are served (as Redis's scan for ready keys).
    for (int d : {static_cast<int>(a), static_cast<int>(b)})
      c.ready_all(d, [&](std::string_view k) { return c.peek(c.data().db(d), k) != nullptr; });
  }
  c.changed();
  c.out().ok();
}

void cmd_keys(exec_context& c) {
  protocol::glob pattern(c.arg(1));
  std::vector<std::string_view> found;
  database& db = c.db();
  for (int s = 0; s < slot_count; ++s) {
    table* t = db.slot(s);
    if (t == nullptr)
      continue;
    t->for_each([&](entry* e) {
      if (!c.is_expired(e) && pattern.match(e->key()))
        found.push_back(e->key());
    });
  }
  c.out().array(found.size());
  for (auto k : found)
    c.out().bulk(k);
}

// SCAN's cursor: the slot in the low 14 bits, the position in that slot's table above.
void cmd_scan(exec_context& c) {
  // Redis reads the cursor with strtoul: leading zeros and signs pass, spaces and junk do not.
  uint64_t cursor;
  {
    std::string text(c.arg(1));
    char* end = nullptr;
    errno = 0;
    cursor = std::strtoul(text.c_str(), &end, 10);
    if (text.empty() || std::isspace(static_cast<unsigned char>(text[0])) || *end != '\0' || errno == ERANGE) {
      c.out().error("ERR invalid cursor");
      return;
    }
  }
  int64_t count = 10;
  std::string_view match, type;
  bool has_match = false, has_type = false;
  for (size_t i = 2; i < c.argc(); i += 2) {
    size_t left = c.argc() - i;
    if (iequals(c.arg(i), "count") && left >= 2) {
      if (!protocol::parse_int64(c.arg(i + 1), count)) {
        c.reply_not_integer();
        return;
      }
      if (count < 1) {
        c.reply_syntax_error();
        return;
      }
    } else if (iequals(c.arg(i), "match") && left >= 2) {
      match = c.arg(i + 1);
      has_match = true;
    } else if (iequals(c.arg(i), "type") && left >= 2) {
      type = c.arg(i + 1);
      has_type = true;
    } else {
      c.reply_syntax_error();
      return;
    }
  }
  database& db = c.db();
  int slot = static_cast<int>(cursor & (slot_count - 1));
  uint64_t pos = cursor >> 14;
  std::vector<std::string> keys;
  int64_t visited = 0;
  const int64_t max_visits = count > INT64_MAX / 10 ? INT64_MAX : count * 10;
  while (slot < slot_count && static_cast<int64_t>(keys.size()) < count && visited < max_visits) {
    table* t = db.slot(slot);
    if (t == nullptr || t->size() == 0) {
      ++slot;
      pos = 0;
      continue;
    }
    pos = t->scan(pos, [&](entry* e) { keys.emplace_back(e->key()); });
    ++visited;
    if (pos == 0)
      ++slot;
  }
  uint64_t next = slot >= slot_count ? 0 : (pos << 14) | static_cast<uint64_t>(slot);
  std::optional<protocol::glob> pattern;
  if (has_match)
    pattern.emplace(match);
  std::vector<std::string*> out;
  for (auto& k : keys) {
    if (pattern && !pattern->matches_everything() && !pattern->match(k))
      continue;
    entry* e = c.lookup_in(db, k, false); // deletes it if expired
    if (e == nullptr)
      continue;
    if (has_type && !iequals(type, type_name(e->type)))
      continue;
    out.push_back(&k);
  }
  c.out().array(2);
  c.out().bulk(std::to_string(next));
  c.out().array(out.size());
  for (auto* k : out)
    c.out().bulk(*k);
}

void cmd_randomkey(exec_context& c) {
  database& db = c.db();
  for (;;) {
    size_t total = db.size();
    if (total == 0) {
      c.out().null();
      return;
    }
    size_t pick = c.rng()() % total;
    int s = 0;
    for (; s < slot_count; ++s) {
      table* t = db.slot(s);
      size_t n = t ? t->size() : 0;
      if (pick < n)
        break;
      pick -= n;
    }
    entry* e = db.slot(s)->random_entry(c.rng());
    if (c.is_expired(e)) {
      std::string key(e->key());
      c.lookup_in(db, key, false); // expires it
      continue;
    }
    c.out().bulk(e->key());
    return;
  }
}

size_t string_rdb_length(std::string_view s) {
  int64_t v;
  if (s.size() <= 11 && protocol::parse_int64(s, v)) {
    if (v >= -128 && v <= 127)
      return 2;
    if (v >= -32768 && v <= 32767)
      return 3;
    if (v >= INT32_MIN && v <= INT32_MAX)
      return 5;
  }
  size_t n = s.size();
  return n + (n < 64 ? 1 : n < 16384 ? 2 : 5);
}

void debug_digest(exec_context& c) {
  digest20 final{};
  for (int i = 0; i < c.data().count(); ++i) {
    database& db = c.data().db(i);
    if (db.size() == 0)
      continue;
    unsigned char id[4] = {static_cast<unsigned char>(i >> 24), static_cast<unsigned char>(i >> 16),
                           static_cast<unsigned char>(i >> 8), static_cast<unsigned char>(i)};
    mix_digest(final, id, 4);
    for (int s = 0; s < slot_count; ++s) {
      table* t = db.slot(s);
      if (t == nullptr)
        continue;
      t->for_each([&](entry* e) {
        digest20 d{};
        mix_digest(d, e->key());
        value_digest(d, e);
        xor_digest(final, d.data(), d.size());
      });
    }
  }
  c.out().simple(to_hex(final));
}

void cmd_debug(exec_context& c) {
  std::string_view sub = c.arg(1);
  if (iequals(sub, "digest") && c.argc() == 2) {
    debug_digest(c);
  } else if (iequals(sub, "digest-value") && c.argc() >= 2) {
    c.out().array(c.argc() - 2);
    for (size_t i = 2; i < c.argc(); ++i) {
      digest20 d{};
      if (entry* e = c.peek(c.db(), c.arg(i)))
        value_digest(d, e);
      c.out().simple(to_hex(d));
    }
  } else if (iequals(sub, "object") && c.argc() == 3) {
    entry* e = c.peek(c.db(), c.arg(2));
    if (e == nullptr) {
      c.out().error("ERR no such key");
      return;
    }
    venc enc = e->type == vtype::string ? e->enc : e->coll()->encoding();
    size_t serialized = e->type == vtype::string ? string_rdb_length(e->str()) : e->coll()->memory();
    uint32_t now = lru_clock(c.now_ms());
    char addr[32];
    std::snprintf(addr, sizeof(addr), "%p", static_cast<const void*>(e));
    int64_t iv;
    bool shared = e->type == vtype::string && e->enc == venc::integer && protocol::parse_int64(e->str(), iv)
                  && iv >= 0 && iv < 10000;
    c.out().simple(std::string("Value at:") + addr + " refcount:" + (shared ? "2147483647" : "1")
                   + " encoding:" + encoding_name(enc)
                   + " serializedlength:" + std::to_string(serialized) + " lru:" + std::to_string(e->lru & 0xFFFFFF)
                   + " lru_seconds_idle:" + std::to_string(now >= e->lru ? now - e->lru : 0));
  } else {
    c.out().error("ERR unknown subcommand or wrong number of arguments for '" + std::string(sub)
                  + "'. Try DEBUG HELP.");
  }
}

// CLUSTER COUNTKEYSINSLOT / GETKEYSINSLOT: run by the slot_range owning the slot.
void cmd_countkeysinslot(exec_context& c) {
  int64_t slot;
  if (!protocol::parse_int64(c.arg(2), slot)) {
    c.reply_not_integer();
    return;
  }
  if (slot < 0 || slot >= slot_count) {
    c.out().error("ERR Invalid slot");
    return;
  }
  table* t = c.data().db(0).slot(static_cast<int>(slot));
  c.out().integer(t ? static_cast<int64_t>(t->size()) : 0);
}

void cmd_getkeysinslot(exec_context& c) {
  int64_t slot, count;
  if (!protocol::parse_int64(c.arg(3), count) || !protocol::parse_int64(c.arg(2), slot)) {
    c.reply_not_integer();
    return;
  }
  if (slot < 0 || slot >= slot_count || count < 0) {
    c.out().error("ERR Invalid slot or number of keys");
    return;
  }
  std::vector<std::string_view> keys;
  if (table* t = c.data().db(0).slot(static_cast<int>(slot)))
    t->for_each([&](entry* e) {
      if (static_cast<int64_t>(keys.size()) < count)
        keys.push_back(e->key());
    });
  c.out().array(keys.size());
  for (auto k : keys)
    c.out().bulk(k);
}

} // namespace

void register_server_commands(command_registry& r) {
  r.add("cluster|countkeysinslot", cmd_countkeysinslot);
  r.add("cluster|getkeysinslot", cmd_getkeysinslot);
  r.add("dbsize", cmd_dbsize, scope::all);
  r.add("flushdb", cmd_flushdb, scope::all);
  r.add("flushall", cmd_flushall, scope::all);
  r.add("swapdb", cmd_swapdb, scope::all);
  r.add("keys", cmd_keys, scope::all);
  r.add("scan", cmd_scan, scope::all);
  r.add("randomkey", cmd_randomkey, scope::all);
  r.add("debug", cmd_debug, scope::all);
}

} // namespace troupe::keyspace
