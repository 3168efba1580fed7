// Hash commands: HSET HSETNX HGET HMGET HMSET HDEL HEXISTS HLEN HSTRLEN HKEYS HVALS HGETALL
// HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN, with Redis 7.0's replies and errors.
#include <climits>
#include <cmath>

#include "keyspace/commands.hpp"
#include "keyspace/hash_value.hpp"
#include "protocol/command_table.hpp"
#include "protocol/numbers.hpp"

namespace troupe::keyspace {

using protocol::iequals;

namespace {

hash_value* hash_of(entry* e) { return e ? static_cast<hash_value*>(e->coll()) : nullptr; }

// The hash under `key` for reading: nullptr when absent; `wrong` (after a WRONGTYPE reply) when
// the key holds another type.
hash_value* read_hash(exec_context& c, std::string_view key, bool& wrong) {
  entry* e = c.lookup_read(key);
  wrong = c.wrong_type(e, vtype::hash);
  return wrong ? nullptr : hash_of(e);
}

// The hash under `key` for writing, created empty when absent; nullptr after a WRONGTYPE reply.
hash_value* write_hash(exec_context& c, std::string_view key) {
  entry* e = c.lookup_write(key);
  if (c.wrong_type(e, vtype::hash))
    return nullptr;
  if (e == nullptr) {
    e = make_collection_entry(key, hash_key(key), vtype::hash, std::make_unique<hash_value>(), -1);
    c.add(e);
  }
  return hash_of(e);
}

// HSET and HMSET: the same, but for the reply.
void hset_generic(exec_context& c, bool hmset) {
  if (c.argc() % 2 == 1) {
    c.reply_arity();
    return;
  }
  std::string_view key = c.arg(1);
  hash_value* h = write_hash(c, key);
  if (h == nullptr)
    return;
  h->prepare_for(c.args().data() + 2, c.argc() - 2, c.settings());
  int64_t created = 0;
  for (size_t i = 2; i + 1 < c.argc(); i += 2)
    created += h->set(c.arg(i), c.arg(i + 1), c.settings()) ? 1 : 0;
  c.touched(key);
  c.changed((c.argc() - 2) / 2);
  if (hmset)
    c.out().ok();
  else
    c.out().integer(created);
}

void cmd_hset(exec_context& c) { hset_generic(c, false); }
void cmd_hmset(exec_context& c) { hset_generic(c, true); }

void cmd_hsetnx(exec_context& c) {
  std::string_view key = c.arg(1);
  hash_value* h = write_hash(c, key);
  if (h == nullptr)
    return;
  if (h->contains(c.arg(2))) {
    c.out().integer(0);
    return;
  }
  h->set(c.arg(2), c.arg(3), c.settings());
  c.touched(key);
  c.changed();
  c.out().integer(1);
}

void cmd_hget(exec_context& c) {
  bool wrong;
  hash_value* h = read_hash(c, c.arg(1), wrong);
  if (wrong)
    return;
  auto v = h ? h->find(c.arg(2)) : std::nullopt;
  if (v)
    c.out().bulk(*v);
  else
    c.out().null();
}

void cmd_hmget(exec_context& c) {
  bool wrong;
  hash_value* h = read_hash(c, c.arg(1), wrong);
  if (wrong)
    return;
  c.out().array(c.argc() - 2);
  for (size_t i = 2; i < c.argc(); ++i) {
    auto v = h ? h->find(c.arg(i)) : std::nullopt;
    if (v)
      c.out().bulk(*v);
    else
      c.out().null();
  }
}

void cmd_hdel(exec_context& c) {
  std::string_view key = c.arg(1);
  entry* e = c.lookup_write(key);
  if (c.wrong_type(e, vtype::hash))
    return;
  int64_t deleted = 0;
  if (hash_value* h = hash_of(e)) {
    for (size_t i = 2; i < c.argc(); ++i) {
      if (h->remove(c.arg(i)))
        ++deleted;
      if (h->empty())
        break;
    }
    if (h->empty())
      c.remove(key);
    else if (deleted > 0)
      c.touched(key);
  }
  c.changed(static_cast<uint64_t>(deleted));
  c.out().integer(deleted);
}

void cmd_hlen(exec_context& c) {
  bool wrong;
  hash_value* h = read_hash(c, c.arg(1), wrong);
  if (!wrong)
    c.out().integer(h ? static_cast<int64_t>(h->size()) : 0);
}

void cmd_hstrlen(exec_context& c) {
  bool wrong;
  hash_value* h = read_hash(c, c.arg(1), wrong);
  if (wrong)
    return;
  auto v = h ? h->find(c.arg(2)) : std::nullopt;
  c.out().integer(v ? static_cast<int64_t>(v->size()) : 0);
}

void cmd_hexists(exec_context& c) {
  bool wrong;
  hash_value* h = read_hash(c, c.arg(1), wrong);
  if (!wrong)
    c.out().integer(h && h->contains(c.arg(2)) ? 1 : 0);
}

enum class parts { keys, values, both };

void hgetall_generic(exec_context& c, parts what) {
  bool wrong;
  hash_value* h = read_hash(c, c.arg(1), wrong);
  if (wrong)
    return;
  size_t n = h ? h->size() : 0;
  if (what == parts::both)
    c.out().map(n);
  else
    c.out().array(n);
  if (h == nullptr)
    return;
  h->for_each([&](std::string_view field, std::string_view value) {
    if (what != parts::values)
      c.out().bulk(field);
    if (what != parts::keys)
      c.out().bulk(value);
  });
}

void cmd_hkeys(exec_context& c) { hgetall_generic(c, parts::keys); }
void cmd_hvals(exec_context& c) { hgetall_generic(c, parts::values); }
void cmd_hgetall(exec_context& c) { hgetall_generic(c, parts::both); }

void cmd_hincrby(exec_context& c) {
  int64_t incr;
  if (!protocol::parse_int64(c.arg(3), incr)) {
    c.reply_not_integer();
    return;
  }
  std::string_view key = c.arg(1), field = c.arg(2);
  hash_value* h = write_hash(c, key);
  if (h == nullptr)
    return;
  int64_t value = 0;
  if (auto old = h->find(field); old && !protocol::parse_int64(*old, value)) {
    c.out().error("ERR hash value is not an integer");
    return;
  }
  if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) || (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
    c.out().error("ERR increment or decrement would overflow");
    return;
  }
  value += incr;
  char buf[24];
  h->set(field, std::string_view(buf, protocol::format_int(value, buf)), c.settings());
  c.touched(key);
  c.changed();
  c.out().integer(value);
}

void cmd_hincrbyfloat(exec_context& c) {
  long double incr;
  if (!protocol::parse_long_double(c.arg(3), incr)) {
    c.reply_not_float();
    return;
  }
  if (std::isnan(incr) || std::isinf(incr)) {
    c.out().error("ERR value is NaN or Infinity");
    return;
  }
  std::string_view key = c.arg(1), field = c.arg(2);
  hash_value* h = write_hash(c, key);
  if (h == nullptr)
    return;
  long double value = 0;
  if (auto old = h->find(field); old && !protocol::parse_long_double(*old, value)) {
    c.out().error("ERR hash value is not a float");
    return;
  }
  value += incr;
  if (std::isnan(value) || std::isinf(value)) {
    c.out().error("ERR increment would produce NaN or Infinity");
    return;
  }
  std::string s = protocol::format_long_double(value);
  h->set(field, s, c.settings());
  c.touched(key);
  c.changed();
  c.out().bulk(s);
  c.propagate({"HSET", key, field, s}); // the result, not the float arithmetic (as Redis does)
}

// HRANDFIELD key [count [WITHVALUES]]
void cmd_hrandfield(exec_context& c) {
  if (c.argc() == 2) {
    bool wrong;
    hash_value* h = read_hash(c, c.arg(1), wrong);
    if (wrong)
      return;
    if (h == nullptr)
      c.out().null();
    else
      c.out().bulk(h->random_pair(c.rng()).first);
    return;
  }
  int64_t count;
  if (!protocol::parse_int64(c.arg(2), count)) {
    c.reply_not_integer();
    return;
  }
  if (count == LLONG_MIN) {
    c.out().error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
    return;
  }
  bool withvalues = false;
  if (c.argc() > 4 || (c.argc() == 4 && !iequals(c.arg(3), "withvalues"))) {
    c.reply_syntax_error();
    return;
  }
  if (c.argc() == 4) {
    withvalues = true;
    if (count < -LLONG_MAX / 2 || count > LLONG_MAX / 2) {
      c.out().error("ERR value is out of range");
      return;
    }
  }
  bool wrong;
  hash_value* h = read_hash(c, c.arg(1), wrong);
  if (wrong)
    return;
  if (h == nullptr || count == 0) {
    c.out().array(0);
    return;
  }
  bool distinct = count > 0;
  auto n = static_cast<size_t>(distinct ? count : -count);
  if (distinct && n >= h->size())
    n = h->size();
  bool pairs = withvalues && c.out().resp() > 2;
  c.out().array(withvalues && !pairs ? n * 2 : n);
  auto emit = [&](std::string_view field, std::string_view value) {
    if (pairs)
      c.out().array(2);
    c.out().bulk(field);
    if (withvalues)
      c.out().bulk(value);
  };
  if (distinct && n == h->size())
    h->for_each(emit); // the whole hash, in storage order
  else
    h->sample(c.rng(), n, distinct, emit);
}

// HSCAN key cursor [MATCH pattern] [COUNT count]
void cmd_hscan(exec_context& c) {
  uint64_t cursor;
  if (!parse_scan_cursor(c, c.arg(2), cursor))
    return;
  bool wrong;
  hash_value* h = read_hash(c, c.arg(1), wrong);
  if (wrong)
    return;
  if (h == nullptr) {
    reply_scan(c, 0, {});
    return;
  }
  scan_args opts;
  if (!parse_scan_args(c, 3, opts))
    return;
  std::vector<std::string_view> found;
  auto add = [&](std::string_view field, std::string_view value) {
    if (opts.matches(field)) {
      found.push_back(field);
      found.push_back(value);
    }
  };
  if (h->is_listpack()) {
    h->for_each(add);
    cursor = 0;
  } else {
    // As Redis: up to COUNT elements (fields and values both count), visiting at most 10 * COUNT
    // buckets. The pattern filters afterwards, so a call may return nothing but a cursor.
    uint64_t budget = opts.count > INT64_MAX / 10 ? UINT64_MAX : static_cast<uint64_t>(opts.count) * 10;
    size_t gathered = 0;
    do {
      cursor = h->scan(cursor, [&](std::string_view field, std::string_view value) {
        gathered += 2;
        add(field, value);
      });
    } while (cursor != 0 && budget-- > 0 && gathered < static_cast<uint64_t>(opts.count));
  }
  reply_scan(c, cursor, found);
}

} // namespace

void register_hash_commands(command_registry& r) {
  r.add("hset", cmd_hset);
  r.add("hmset", cmd_hmset);
  r.add("hsetnx", cmd_hsetnx);
  r.add("hget", cmd_hget);
  r.add("hmget", cmd_hmget);
  r.add("hdel", cmd_hdel);
  r.add("hlen", cmd_hlen);
  r.add("hstrlen", cmd_hstrlen);
  r.add("hexists", cmd_hexists);
  r.add("hkeys", cmd_hkeys);
  r.add("hvals", cmd_hvals);
  r.add("hgetall", cmd_hgetall);
  r.add("hincrby", cmd_hincrby);
  r.add("hincrbyfloat", cmd_hincrbyfloat);
  r.add("hrandfield", cmd_hrandfield);
  r.add("hscan", cmd_hscan);
}

} // namespace troupe::keyspace
