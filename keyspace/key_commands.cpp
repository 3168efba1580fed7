// Generic key commands: DEL EXISTS TYPE, expiry, RENAME COPY MOVE TOUCH, OBJECT.
#include <climits>

#include "keyspace/commands.hpp"
#include "protocol/command_table.hpp"
#include "protocol/numbers.hpp"

namespace troupe::keyspace {

using protocol::iequals;

namespace {

void cmd_del(exec_context& c) {
  int64_t n = 0;
  for (size_t i = 1; i < c.argc(); ++i)
    if (c.lookup_write(c.arg(i)) != nullptr && c.remove(c.arg(i)))
      ++n;
  c.changed(static_cast<uint64_t>(n));
  c.out().integer(n);
}

void cmd_exists(exec_context& c) {
  int64_t n = 0;
  for (size_t i = 1; i < c.argc(); ++i)
    if (c.lookup_read(c.arg(i)) != nullptr)
      ++n;
  c.out().integer(n);
}

void cmd_touch(exec_context& c) { cmd_exists(c); }

void cmd_type(exec_context& c) {
  entry* e = c.lookup_read(c.arg(1));
  c.out().simple(e ? type_name(e->type) : "none");
}

void reply_expire_error(exec_context& c) {
  c.out().error("ERR invalid expire time in '" + c.command_name() + "' command");
}

// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with NX XX GT LT, as Redis 7.0.
void expire_generic(exec_context& c, int64_t basetime, bool seconds) {
  bool nx = false, xx = false, gt = false, lt = false;
  for (size_t j = 3; j < c.argc(); ++j) {
    std::string_view opt = c.arg(j);
    if (iequals(opt, "nx"))
      nx = true;
    else if (iequals(opt, "xx"))
      xx = true;
    else if (iequals(opt, "gt"))
      gt = true;
    else if (iequals(opt, "lt"))
      lt = true;
    else {
      c.out().error("ERR Unsupported option " + std::string(opt));
      return;
    }
  }
  if ((nx && xx) || (nx && gt) || (nx && lt)) {
    c.out().error("ERR NX and XX, GT or LT options at the same time are not compatible");
    return;
  }
  if (gt && lt) {
    c.out().error("ERR GT and LT options at the same time are not compatible");
    return;
  }
  int64_t when;
  if (!protocol::parse_int64(c.arg(2), when)) {
    c.reply_not_integer();
    return;
  }
  if (seconds) {
    if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) {
      reply_expire_error(c);
      return;
    }
    when *= 1000;
  }
  if (when > LLONG_MAX - basetime) {
    reply_expire_error(c);
    return;
  }
  when += basetime;
  entry* e = c.lookup_write(c.arg(1));
  if (e == nullptr) {
    c.out().integer(0);
    return;
  }
  int64_t current = e->has_expire() ? e->expire() : -1;
  if ((nx && current != -1) || (xx && current == -1) || (gt && (when <= current || current == -1))
      || (lt && current != -1 && when >= current)) {
    c.out().integer(0);
    return;
  }
  if (when <= c.now_ms()) {
    c.remove(c.arg(1));
    c.propagate({"DEL", c.arg(1)});
  } else {
    c.set_expire(e, when);
    char buf[24];
    size_t n = protocol::format_int(when, buf);
    c.propagate({"PEXPIREAT", c.arg(1), std::string_view(buf, n)});
  }
  c.changed();
  c.out().integer(1);
}

void cmd_expire(exec_context& c) { expire_generic(c, c.now_ms(), true); }
void cmd_pexpire(exec_context& c) { expire_generic(c, c.now_ms(), false); }
void cmd_expireat(exec_context& c) { expire_generic(c, 0, true); }
void cmd_pexpireat(exec_context& c) { expire_generic(c, 0, false); }

void ttl_generic(exec_context& c, bool ms, bool absolute) {
  entry* e = c.lookup_read(c.arg(1));
  if (e == nullptr) {
    c.out().integer(-2);
    return;
  }
  if (!e->has_expire()) {
    c.out().integer(-1);
    return;
  }
  int64_t ttl = absolute ? e->expire() : e->expire() - c.now_ms();
  if (ttl < 0)
    ttl = 0;
  c.out().integer(ms ? ttl : (ttl + 500) / 1000);
}

void cmd_ttl(exec_context& c) { ttl_generic(c, false, false); }
void cmd_pttl(exec_context& c) { ttl_generic(c, true, false); }
void cmd_expiretime(exec_context& c) { ttl_generic(c, false, true); }
void cmd_pexpiretime(exec_context& c) { ttl_generic(c, true, true); }

void cmd_persist(exec_context& c) {
  entry* e = c.lookup_write(c.arg(1));
  if (e == nullptr || !e->has_expire()) {
    c.out().integer(0);
    return;
  }
  c.set_expire(e, -1);
  c.changed();
  c.out().integer(1);
}

// Moves the value of `e` (in `from`) to `key` in `to`, with `expire`. `key` must be absent there.
void move_entry(exec_context& c, database& from, entry* e, database& to, std::string_view key, int64_t expire) {
  int s = protocol::key_slot(e->key());
  table* t = from.slot(s);
  std::string old_key(e->key());
  entry* moved = rekey(e, key, hash_key(key), expire);
  t->detach(old_key, e->hash);
  free_shell(e);
  from.release_slot(s);
  c.touched(c.db_index_of(from), old_key);
  c.add(to, moved);
}

void rename_generic(exec_context& c, bool nx) {
  std::string_view src = c.arg(1), dst = c.arg(2);
  entry* e = c.lookup_write(src);
  if (e == nullptr) {
    c.out().error("ERR no such key");
    return;
  }
  if (src == dst) {
    if (nx)
      c.out().integer(0);
    else
      c.out().ok();
    return;
  }
  int64_t expire = e->has_expire() ? e->expire() : -1;
  if (c.lookup_write(dst) != nullptr) {
    if (nx) {
      c.out().integer(0);
      return;
    }
    c.remove(dst);
  }
  move_entry(c, c.db(), e, c.db(), dst, expire);
  c.changed();
  if (nx)
    c.out().integer(1);
  else
    c.out().ok();
}

void cmd_rename(exec_context& c) { rename_generic(c, false); }
void cmd_renamenx(exec_context& c) { rename_generic(c, true); }

bool parse_db_index(exec_context& c, std::string_view arg, int& id) {
  int64_t v;
  if (!protocol::parse_int64(arg, v)) {
    c.reply_not_integer();
    return false;
  }
  if (v < INT_MIN || v > INT_MAX) {
    c.out().error("ERR value is out of range, value must between -2147483648 and 2147483647");
    return false;
  }
  if (v < 0 || v >= c.data().count()) {
    c.out().error("ERR DB index is out of range");
    return false;
  }
  id = static_cast<int>(v);
  return true;
}

// MEMORY USAGE key [SAMPLES count]: entry_memory, sampling `count` nodes of a hash table (default
// 5, 0: all). As Redis: the options are checked first, and the key is looked up without counting
// as an access.
void cmd_memory_usage(exec_context& c) {
  size_t samples = 5;
  for (size_t j = 3; j < c.argc(); ++j) {
    int64_t v = 0;
    if (!iequals(c.arg(j), "samples") || j + 1 >= c.argc()) {
      c.reply_syntax_error();
      return;
    }
    if (!protocol::parse_int64(c.arg(++j), v)) {
      c.reply_not_integer();
      return;
    }
    if (v < 0) {
      c.reply_syntax_error();
      return;
    }
    samples = static_cast<size_t>(v);
  }
  entry* e = c.peek(c.db(), c.arg(2));
  if (e == nullptr) {
    c.out().null();
    return;
  }
  c.out().integer(static_cast<int64_t>(entry_memory(e, samples)));
}

void cmd_copy(exec_context& c) {
  int dbid = c.db_index();
  bool replace = false;
  for (size_t j = 3; j < c.argc(); ++j) {
    size_t additional = c.argc() - j - 1;
    if (iequals(c.arg(j), "replace")) {
      replace = true;
    } else if (iequals(c.arg(j), "db") && additional) {
      if (!parse_db_index(c, c.arg(j + 1), dbid))
        return;
      ++j;
    } else {
      c.reply_syntax_error();
      return;
    }
  }
  if (c.settings().cluster_enabled && (c.db_index() != 0 || dbid != 0)) {
    c.out().error("ERR Copying to another database is not allowed in cluster mode");
    return;
  }
  std::string_view src = c.arg(1), dst = c.arg(2);
  if (dbid == c.db_index() && src == dst) {
    c.out().error("ERR source and destination objects are the same");
    return;
  }
  entry* e = c.lookup_read(src);
  if (e == nullptr) {
    c.out().integer(0);
    return;
  }
  int64_t expire = e->has_expire() ? e->expire() : -1;
  database& to = c.data().db(dbid);
  if (c.lookup_in(to, dst, false) != nullptr) {
    if (!replace) {
      c.out().integer(0);
      return;
    }
    c.remove(to, dst);
  }
  c.add(to, clone_entry(e, dst, hash_key(dst), expire));
  c.changed();
  c.out().integer(1);
}

void cmd_move(exec_context& c) {
  if (c.settings().cluster_enabled) {
    c.out().error("ERR MOVE is not allowed in cluster mode");
    return;
  }
  int dbid;
  if (!parse_db_index(c, c.arg(2), dbid))
    return;
  if (dbid == c.db_index()) {
    c.out().error("ERR source and destination objects are the same");
    return;
  }
  entry* e = c.lookup_write(c.arg(1));
  if (e == nullptr) {
    c.out().integer(0);
    return;
  }
  int64_t expire = e->has_expire() ? e->expire() : -1;
  database& to = c.data().db(dbid);
  if (c.lookup_in(to, c.arg(1), false) != nullptr) {
    c.out().integer(0);
    return;
  }
  move_entry(c, c.db(), e, to, c.arg(1), expire);
  c.changed();
  c.out().integer(1);
}

void cmd_object(exec_context& c) {
  std::string_view sub = c.arg(1);
  if (iequals(sub, "help")) {
    static const char* lines[] = {  // Redis 7.0's text
      "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "ENCODING <key>",
      "    Return the kind of internal representation used in order to store the value",
      "    associated with a <key>.",
      "FREQ <key>",
      "    Return the access frequency index of the <key>. The returned integer is",
      "    proportional to the logarithm of the recent access frequency of the key.",
      "IDLETIME <key>",
      "    Return the idle time of the <key>, that is the approximated number of",
      "    seconds elapsed since the last access to the key.",
      "REFCOUNT <key>",
      "    Return the number of references of the value associated with the specified",
      "    <key>.",
      "HELP",
      "    Prints this help.",
    };
    c.out().array(std::size(lines));
    for (auto* l : lines)
      c.out().simple(l);
    return;
  }
  // OBJECT must not count as an access: look without touching the access clock.
  entry* e = c.peek(c.db(), c.arg(2));
  if (e != nullptr && c.is_expired(e))
    e = nullptr;
  if (iequals(sub, "freq")) {
    if (e == nullptr) {
      c.out().null();
      return;
    }
    if (c.settings().lfu) {
      c.out().integer(lfu_decayed_counter(e->lru, c.now_ms(), c.settings().lfu_decay_time));
      return;
    }
    c.out().error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that "
                  "when switching between policies at runtime LRU and LFU data will take some time to adjust.");
    return;
  }
  if (e == nullptr) {
    c.out().null();
    return;
  }
  if (iequals(sub, "encoding")) {
    c.out().bulk(encoding_name(e->type == vtype::string ? e->enc : e->coll()->encoding()));
  } else if (iequals(sub, "idletime")) {
    if (c.settings().lfu) {
      c.out().error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
                    "switching between policies at runtime LRU and LFU data will take some time to adjust.");
      return;
    }
    uint32_t now = lru_clock(c.now_ms());
    c.out().integer(now >= e->lru ? now - e->lru : 0);
  } else if (iequals(sub, "refcount")) {
    int64_t v;
    bool shared = e->enc == venc::integer && protocol::parse_int64(e->str(), v) && v >= 0 && v < 10000;
    c.out().integer(shared ? INT_MAX : 1);
  }
}

// WATCH (the connection refuses it inside MULTI before it gets here).
void cmd_watch(exec_context& c) {
  for (size_t i = 1; i < c.argc(); ++i) {
    entry* e = c.peek(c.db(), c.arg(i));
    c.watch(c.arg(i), e != nullptr && c.is_expired(e));
  }
  c.out().ok();
}

} // namespace

void register_key_commands(command_registry& r) {
  r.add("watch", cmd_watch);
  r.add("del", cmd_del);
  r.add("unlink", cmd_del);
  r.add("exists", cmd_exists);
  r.add("touch", cmd_touch);
  r.add("type", cmd_type);
  r.add("expire", cmd_expire);
  r.add("pexpire", cmd_pexpire);
  r.add("expireat", cmd_expireat);
  r.add("pexpireat", cmd_pexpireat);
  r.add("ttl", cmd_ttl);
  r.add("pttl", cmd_pttl);
  r.add("expiretime", cmd_expiretime);
  r.add("pexpiretime", cmd_pexpiretime);
  r.add("persist", cmd_persist);
  r.add("rename", cmd_rename);
  r.add("renamenx", cmd_renamenx);
  r.add("copy", cmd_copy);
  r.add("move", cmd_move);
  r.add("object|encoding", cmd_object);
  r.add("object|freq", cmd_object);
  r.add("object|idletime", cmd_object);
  r.add("object|refcount", cmd_object);
  r.add("object|help", cmd_object);
  r.add("memory|usage", cmd_memory_usage);
}

} // namespace troupe::keyspace
