// List commands: pushes and pops at both ends, indexes and ranges, LINSERT LREM LTRIM LPOS,
// LMOVE RPOPLPUSH LMPOP, and the blocking forms (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP), which
// serve at once when they can and otherwise ask the executing actor to block the client.
#include <climits>
#include <cmath>

#include "keyspace/commands.hpp"
#include "keyspace/list_value.hpp"
#include "protocol/command_table.hpp"
#include "protocol/numbers.hpp"

namespace troupe::keyspace {

using protocol::iequals;

bool parse_block_timeout(exec_context& c, std::string_view arg, int64_t& ms) {
  long double secs;
  if (!protocol::parse_long_double(arg, secs)) {
    c.out().error("ERR timeout is not a float or out of range");
    return false;
  }
  long double v = secs * 1000.0L;
  int64_t t;
  if (!(v < 9223372036854775807.0L) || v <= -9223372036854775807.0L)
    t = LLONG_MIN; // what the conversion yields on the machines Redis runs on
  else
    t = static_cast<int64_t>(std::ceil(v));   // as Redis: 0.0001 s waits 1 ms, not forever
  if (t < 0) {
    c.out().error("ERR timeout is negative");
    return false;
  }
  ms = t;
  return true;
}

namespace {

enum class side { head, tail };

list_value* as_list(entry* e) { return static_cast<list_value*>(e->coll()); }

entry* create_list(exec_context& c, std::string_view key) {
  entry* e = make_collection_entry(key, hash_key(key), vtype::list,
                                   std::make_unique<list_value>(c.settings().list_max_listpack_size), -1);
  c.add(e);
  return e;
}

void push(list_value* l, side where, std::string_view v) {
  if (where == side::head)
    l->push_front(v);
  else
    l->push_back(v);
}

std::string pop(list_value* l, side where) { return where == side::head ? l->pop_front() : l->pop_back(); }

// After elements left the list under `key`: delete it when empty, else report the change.
void after_removal(exec_context& c, std::string_view key, list_value* l) {
  if (l->empty())
    c.remove(key);
  else
    c.touched(key);
}

bool parse_end(exec_context& c, std::string_view arg, side& where) {
  if (iequals(arg, "left"))
    where = side::head;
  else if (iequals(arg, "right"))
    where = side::tail;
  else {
    c.reply_syntax_error();
    return false;
  }
  return true;
}

bool parse_long(exec_context& c, std::string_view arg, int64_t& v) {
  if (!protocol::parse_int64(arg, v)) {
    c.reply_not_integer();
    return false;
  }
  return true;
}

// Redis's getRangeLongFromObjectOrReply: an integer in [lo, hi], else `msg` (or the defaults).
bool parse_range(exec_context& c, std::string_view arg, int64_t lo, int64_t hi, int64_t& v, const char* msg) {
  if (!protocol::parse_int64(arg, v)) {
    if (msg)
      c.out().error(std::string("ERR ") + msg);
    else
      c.reply_not_integer();
    return false;
  }
  if (v < lo || v > hi) {
    if (msg)
      c.out().error(std::string("ERR ") + msg);
    else
      c.out().error("ERR value is out of range, must be positive");
    return false;
  }
  return true;
}

void push_generic(exec_context& c, side where, bool only_existing) {
  std::string_view key = c.arg(1);
  entry* e = c.lookup_write(key);
  if (c.wrong_type(e, vtype::list))
    return;
  bool created = false;
  if (e == nullptr) {
    if (only_existing) {
      c.out().integer(0);
      return;
    }
    e = create_list(c, key); // add() reports the new key as ready
    created = true;
  }
  list_value* l = as_list(e);
  for (size_t i = 2; i < c.argc(); ++i)
    push(l, where, c.arg(i));
  if (!created) {
    c.touched(key);
    c.ready(key);
  }
  c.changed(c.argc() - 2);
  c.out().integer(static_cast<int64_t>(l->size()));
}

void cmd_lpush(exec_context& c) { push_generic(c, side::head, false); }
void cmd_rpush(exec_context& c) { push_generic(c, side::tail, false); }
void cmd_lpushx(exec_context& c) { push_generic(c, side::head, true); }
void cmd_rpushx(exec_context& c) { push_generic(c, side::tail, true); }

// Pops up to `count` elements of `key` (a non-empty list) and replies them as an array.
void pop_range_reply(exec_context& c, std::string_view key, list_value* l, side where, int64_t count) {
  size_t n = std::min<size_t>(static_cast<size_t>(count), l->size());
  c.out().array(n);
  for (size_t i = 0; i < n; ++i)
    c.out().bulk(pop(l, where));
  c.changed(n);
  after_removal(c, key, l);
}

void pop_generic(exec_context& c, side where) {
  if (c.argc() > 3) {
    c.reply_arity();
    return;
  }
  bool has_count = c.argc() == 3;
  int64_t count = 0;
  if (has_count && !parse_range(c, c.arg(2), 0, LLONG_MAX, count, "value is out of range, must be positive"))
    return;
  std::string_view key = c.arg(1);
  entry* e = c.lookup_write(key);
  if (e == nullptr) {
    if (has_count)
      c.out().null_array();
    else
      c.out().null();
    return;
  }
  if (c.wrong_type(e, vtype::list))
    return;
  list_value* l = as_list(e);
  if (has_count && count == 0) {
    c.out().array(0);
    return;
  }
  if (!has_count) {
    c.out().bulk(pop(l, where));
    c.changed();
    after_removal(c, key, l);
    return;
  }
  pop_range_reply(c, key, l, where, count);
}

void cmd_lpop(exec_context& c) { pop_generic(c, side::head); }
void cmd_rpop(exec_context& c) { pop_generic(c, side::tail); }

void cmd_llen(exec_context& c) {
  entry* e = c.lookup_read(c.arg(1));
  if (c.wrong_type(e, vtype::list))
    return;
  c.out().integer(e ? static_cast<int64_t>(as_list(e)->size()) : 0);
}

void cmd_lrange(exec_context& c) {
  int64_t start, stop;
  if (!parse_long(c, c.arg(2), start) || !parse_long(c, c.arg(3), stop))
    return;
  entry* e = c.lookup_read(c.arg(1));
  if (e == nullptr) {
    c.out().array(0);
    return;
  }
  if (c.wrong_type(e, vtype::list))
    return;
  list_value* l = as_list(e);
  int64_t len = static_cast<int64_t>(l->size());
  if (!clamp_index_range(start, stop, len)) {
    c.out().array(0);
    return;
  }
  size_t n = static_cast<size_t>(stop - start + 1);
  c.out().array(n);
  l->walk_forward(static_cast<size_t>(start), [&](std::string_view v) {
    c.out().bulk(v);
    return --n > 0;
  });
}

void cmd_lindex(exec_context& c) {
  entry* e = c.lookup_read(c.arg(1));
  if (e == nullptr) {
    c.out().null();
    return;
  }
  if (c.wrong_type(e, vtype::list))
    return;
  int64_t index;
  if (!parse_long(c, c.arg(2), index))
    return;
  list_value* l = as_list(e);
  int64_t len = static_cast<int64_t>(l->size());
  if (index < 0)
    index += len;
  if (index < 0 || index >= len) {
    c.out().null();
    return;
  }
  c.out().bulk(l->at(static_cast<size_t>(index)));
}

void cmd_lset(exec_context& c) {
  std::string_view key = c.arg(1);
  entry* e = c.lookup_write(key);
  if (e == nullptr) {
    c.out().error("ERR no such key");
    return;
  }
  if (c.wrong_type(e, vtype::list))
    return;
  int64_t index;
  if (!parse_long(c, c.arg(2), index))
    return;
  list_value* l = as_list(e);
  int64_t len = static_cast<int64_t>(l->size());
  if (index < 0)
    index += len;
  if (index < 0 || index >= len) {
    c.out().error("ERR index out of range");
    return;
  }
  l->set(static_cast<size_t>(index), c.arg(3));
  c.touched(key);
  c.changed();
  c.out().ok();
}

void cmd_linsert(exec_context& c) {
  bool after;
  if (iequals(c.arg(2), "after"))
    after = true;
  else if (iequals(c.arg(2), "before"))
    after = false;
  else {
    c.reply_syntax_error();
    return;
  }
  std::string_view key = c.arg(1), pivot = c.arg(3);
  entry* e = c.lookup_write(key);
  if (e == nullptr) {
    c.out().integer(0);
    return;
  }
  if (c.wrong_type(e, vtype::list))
    return;
  list_value* l = as_list(e);
  size_t index = 0;
  bool found = false;
  l->walk_forward(0, [&](std::string_view v) {
    if (v == pivot) {
      found = true;
      return false;
    }
    ++index;
    return true;
  });
  if (!found) {
    c.out().integer(-1);
    return;
  }
  l->insert(after ? index + 1 : index, c.arg(4));
  c.touched(key);
  c.ready(key);
  c.changed();
  c.out().integer(static_cast<int64_t>(l->size()));
}

void cmd_lrem(exec_context& c) {
  int64_t count;
  if (!parse_long(c, c.arg(2), count))
    return;
  std::string_view key = c.arg(1);
  entry* e = c.lookup_write(key);
  if (e == nullptr) {
    c.out().integer(0);
    return;
  }
  if (c.wrong_type(e, vtype::list))
    return;
  list_value* l = as_list(e);
  size_t removed = l->remove(c.arg(3), count);
  if (removed > 0) {
    c.changed(removed);
    after_removal(c, key, l);
  }
  c.out().integer(static_cast<int64_t>(removed));
}

void cmd_ltrim(exec_context& c) {
  int64_t start, stop;
  if (!parse_long(c, c.arg(2), start) || !parse_long(c, c.arg(3), stop))
    return;
  std::string_view key = c.arg(1);
  entry* e = c.lookup_write(key);
  if (e == nullptr) {
    c.out().ok();
    return;
  }
  if (c.wrong_type(e, vtype::list))
    return;
  list_value* l = as_list(e);
  int64_t len = static_cast<int64_t>(l->size());
  int64_t ltrim = len, rtrim = 0;   // an empty range empties the list
  if (clamp_index_range(start, stop, len)) {
    ltrim = start;
    rtrim = len - stop - 1;
  }
  l->erase(static_cast<size_t>(len - rtrim), static_cast<size_t>(rtrim));
  l->erase(0, static_cast<size_t>(ltrim));
  c.changed(static_cast<uint64_t>(ltrim + rtrim));
  after_removal(c, key, l);
  c.out().ok();
}

void cmd_lpos(exec_context& c) {
  int64_t rank = 1, count = -1, maxlen = 0;
  for (size_t j = 3; j < c.argc(); ++j) {
    std::string_view opt = c.arg(j);
    bool more = j + 1 < c.argc();
    if (iequals(opt, "rank") && more) {
      if (!parse_long(c, c.arg(++j), rank))
        return;
      if (rank == 0) {
        c.out().error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use "
                      "negative to start from the end of the list");
        return;
      }
    } else if (iequals(opt, "count") && more) {
      if (!parse_range(c, c.arg(++j), 0, LLONG_MAX, count, "COUNT can't be negative"))
        return;
    } else if (iequals(opt, "maxlen") && more) {
      if (!parse_range(c, c.arg(++j), 0, LLONG_MAX, maxlen, "MAXLEN can't be negative"))
        return;
    } else {
      c.reply_syntax_error();
      return;
    }
  }
  entry* e = c.lookup_read(c.arg(1));
  if (e == nullptr) {
    if (count != -1)
      c.out().array(0);
    else
      c.out().null();
    return;
  }
  if (c.wrong_type(e, vtype::list))
    return;
  list_value* l = as_list(e);
  std::string_view element = c.arg(2);
  bool from_tail = rank < 0;
  if (from_tail)
    rank = rank == LLONG_MIN ? 1 : -rank; // Redis negates LLONG_MIN into itself: every match counts
  size_t len = l->size();
  std::vector<int64_t> found;
  int64_t matches = 0, index = 0;
  auto visit = [&](std::string_view v) {
    if (maxlen != 0 && index >= maxlen)
      return false;
    if (v == element) {
      ++matches;
      if (matches >= rank) {
        found.push_back(from_tail ? static_cast<int64_t>(len) - index - 1 : index);
        if (count == -1 || (count != 0 && static_cast<int64_t>(found.size()) >= count))
          return false;
      }
    }
    ++index;
    return true;
  };
  if (from_tail)
    l->walk_backward(len - 1, visit);
  else
    l->walk_forward(0, visit);
  if (count != -1) {
    c.out().array(found.size());
    for (int64_t i : found)
      c.out().integer(i);
  } else if (found.empty()) {
    c.out().null();
  } else {
    c.out().integer(found[0]);
  }
}

// LMOVE's work once `src` is known to hold a non-empty list: checks the destination's type,
// moves one element, replies it.
void move_one(exec_context& c, std::string_view src, entry* se, std::string_view dst, side from, side to) {
  entry* de = c.lookup_write(dst);
  if (c.wrong_type(de, vtype::list))
    return;
  list_value* sl = as_list(se);
  std::string v = pop(sl, from);
  bool created = de == nullptr;
  if (created)
    de = create_list(c, dst); // add() reports the new key as ready
  push(as_list(de), to, v);
  if (!created) {
    c.touched(dst);
    c.ready(dst);
  }
  c.out().bulk(v);
  after_removal(c, src, sl);
  c.changed();
}

void lmove_generic(exec_context& c, side from, side to) {
  std::string_view src = c.arg(1);
  entry* se = c.lookup_write(src);
  if (se == nullptr) {
    c.out().null();
    return;
  }
  if (c.wrong_type(se, vtype::list))
    return;
  move_one(c, src, se, c.arg(2), from, to);
}

void cmd_lmove(exec_context& c) {
  side from, to;
  if (!parse_end(c, c.arg(3), from) || !parse_end(c, c.arg(4), to))
    return;
  lmove_generic(c, from, to);
}

void cmd_rpoplpush(exec_context& c) { lmove_generic(c, side::tail, side::head); }

void blmove_generic(exec_context& c, side from, side to, std::string_view timeout_arg) {
  int64_t timeout;
  if (!parse_block_timeout(c, timeout_arg, timeout))
    return;
  std::string_view src = c.arg(1);
  bool failed;
  entry* se = c.blocking_source(src, vtype::list, failed);
  if (failed)
    return;
  if (se != nullptr) {
    move_one(c, src, se, c.arg(2), from, to);
    // Replicated as the non-blocking form, as Redis does.
    if (c.argc() == 4)
      c.propagate({"RPOPLPUSH", src, c.arg(2)});
    else
      c.propagate({"LMOVE", src, c.arg(2), c.arg(3), c.arg(4)});
    return;
  }
  if (c.blocking_allowed())
    c.block(timeout);
  else
    c.out().null();
}

void cmd_blmove(exec_context& c) {
  side from, to;
  if (!parse_end(c, c.arg(3), from) || !parse_end(c, c.arg(4), to))
    return;
  blmove_generic(c, from, to, c.arg(5));
}

void cmd_brpoplpush(exec_context& c) { blmove_generic(c, side::tail, side::head, c.arg(3)); }

void bpop_generic(exec_context& c, side where) {
  int64_t timeout;
  if (!parse_block_timeout(c, c.arg(c.argc() - 1), timeout))
    return;
  for (size_t j = 1; j + 1 < c.argc(); ++j) {
    std::string_view key = c.arg(j);
    bool failed;
    entry* e = c.blocking_source(key, vtype::list, failed);
    if (failed)
      return;
    if (e != nullptr) {
      list_value* l = as_list(e);
      c.out().array(2);
      c.out().bulk(key);
      c.out().bulk(pop(l, where));
      c.changed();
      after_removal(c, key, l);
      c.propagate({where == side::head ? "LPOP" : "RPOP", key}); // as Redis replicates it
      return;
    }
  }
  if (c.blocking_allowed())
    c.block(timeout);
  else
    c.out().null_array();
}

void cmd_blpop(exec_context& c) { bpop_generic(c, side::head); }
void cmd_brpop(exec_context& c) { bpop_generic(c, side::tail); }

// LMPOP / BLMPOP from the numkeys argument at `numkeys_at` on.
void mpop_generic(exec_context& c, size_t numkeys_at, bool blocking) {
  int64_t numkeys;
  if (!parse_range(c, c.arg(numkeys_at), 1, LLONG_MAX, numkeys, "numkeys should be greater than 0"))
    return;
  // The keys, then the direction: numkeys may not reach past the last argument but one.
  if (static_cast<uint64_t>(numkeys) >= c.argc() - numkeys_at - 1) {
    c.reply_syntax_error();
    return;
  }
  size_t where_at = numkeys_at + static_cast<size_t>(numkeys) + 1;
  side where;
  if (!parse_end(c, c.arg(where_at), where))
    return;
  int64_t count = -1;
  for (size_t j = where_at + 1; j < c.argc(); ++j) {
    bool more = j + 1 < c.argc();
    if (count == -1 && iequals(c.arg(j), "count") && more) {
      if (!parse_range(c, c.arg(++j), 1, LLONG_MAX, count, "count should be greater than 0"))
        return;
    } else {
      c.reply_syntax_error();
      return;
    }
  }
  if (count == -1)
    count = 1;
  int64_t timeout = 0; // BLMPOP reads its timeout last, as Redis does
  if (blocking && !parse_block_timeout(c, c.arg(1), timeout))
    return;
  for (size_t j = numkeys_at + 1; j < where_at; ++j) {
    std::string_view key = c.arg(j);
    bool failed;
    entry* e = c.blocking_source(key, vtype::list, failed);
    if (failed)
      return;
    if (e != nullptr) {
      // LMPOP and BLMPOP are replicated as LPOP/RPOP key n (n: the number popped), as Redis does.
      auto popped = static_cast<int64_t>(std::min<size_t>(static_cast<size_t>(count), as_list(e)->size()));
      c.out().array(2);
      c.out().bulk(key);
      pop_range_reply(c, key, as_list(e), where, count);
      char buf[24];
      c.propagate({where == side::head ? "LPOP" : "RPOP", key, std::string_view(buf, protocol::format_int(popped, buf))});
      return;
    }
  }
  if (blocking && c.blocking_allowed())
    c.block(timeout);
  else
    c.out().null_array();
}

void cmd_lmpop(exec_context& c) { mpop_generic(c, 1, false); }
void cmd_blmpop(exec_context& c) { mpop_generic(c, 2, true); }

} // namespace

void register_list_commands(command_registry& r) {
  r.add("lpush", cmd_lpush);
  r.add("rpush", cmd_rpush);
  r.add("lpushx", cmd_lpushx);
  r.add("rpushx", cmd_rpushx);
  r.add("lpop", cmd_lpop);
  r.add("rpop", cmd_rpop);
  r.add("llen", cmd_llen);
  r.add("lrange", cmd_lrange);
  r.add("lindex", cmd_lindex);
  r.add("lset", cmd_lset);
  r.add("linsert", cmd_linsert);
  r.add("lrem", cmd_lrem);
  r.add("ltrim", cmd_ltrim);
  r.add("lpos", cmd_lpos);
  r.add("lmove", cmd_lmove);
  r.add("rpoplpush", cmd_rpoplpush);
  r.add("lmpop", cmd_lmpop);
  r.add("blpop", cmd_blpop);
  r.add("brpop", cmd_brpop);
  r.add("blmove", cmd_blmove);
  r.add("brpoplpush", cmd_brpoplpush);
  r.add("blmpop", cmd_blmpop);
}

} // namespace troupe::keyspace
