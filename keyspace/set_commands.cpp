// Set commands: SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP SRANDMEMBER SMOVE, the
// algebra (SINTER SINTERCARD SUNION SDIFF and their STORE forms) and SSCAN, with Redis 7.0's
// replies and errors.
#include <algorithm>
#include <climits>

#include "keyspace/commands.hpp"
#include "keyspace/set_value.hpp"
#include "protocol/command_table.hpp"
#include "protocol/numbers.hpp"

namespace troupe::keyspace {

using protocol::iequals;

namespace {

set_value* set_of(entry* e) { return e ? static_cast<set_value*>(e->coll()) : nullptr; }

// The set under `key` for reading: nullptr when absent; `wrong` (after a WRONGTYPE reply) when
// the key holds another type.
set_value* read_set(exec_context& c, std::string_view key, bool& wrong) {
  entry* e = c.lookup_read(key);
  wrong = c.wrong_type(e, vtype::set);
  return wrong ? nullptr : set_of(e);
}

void add_set_key(exec_context& c, std::string_view key, std::unique_ptr<set_value> s) {
  c.add(make_collection_entry(key, hash_key(key), vtype::set, std::move(s), -1));
}

// Replies the members of `s` (a set in RESP3), in its storage order.
void reply_members(exec_context& c, const set_value* s) {
  c.out().set(s ? s->size() : 0);
  if (s)
    s->for_each([&](std::string_view m) { c.out().bulk(m); });
}

// Parses a count argument within [min, LLONG_MAX]; replies `msg` (or Redis's generic messages
// when msg is null) and returns false otherwise.
bool parse_count(exec_context& c, std::string_view arg, int64_t min, const char* msg, int64_t& out) {
  if (!protocol::parse_int64(arg, out)) {
    if (msg)
      c.out().error(msg);
    else
      c.reply_not_integer();
    return false;
  }
  if (out < min) {
    if (msg)
      c.out().error(msg);
    else
      c.out().error("ERR value is out of range, value must between " + std::to_string(min) + " and "
                    + std::to_string(LLONG_MAX));
    return false;
  }
  return true;
}

void cmd_sadd(exec_context& c) {
  std::string_view key = c.arg(1);
  entry* e = c.lookup_write(key);
  if (c.wrong_type(e, vtype::set))
    return;
  set_value* s = set_of(e);
  if (s == nullptr) {
    auto fresh = set_value::create_for(c.arg(2));
    s = fresh.get();
    add_set_key(c, key, std::move(fresh));
  }
  int64_t added = 0;
  for (size_t i = 2; i < c.argc(); ++i)
    added += s->add(c.arg(i), c.settings()) ? 1 : 0;
  if (added > 0)
    c.touched(key);
  c.changed(static_cast<uint64_t>(added));
  c.out().integer(added);
}

void cmd_srem(exec_context& c) {
  std::string_view key = c.arg(1);
  entry* e = c.lookup_write(key);
  if (c.wrong_type(e, vtype::set))
    return;
  int64_t removed = 0;
  if (set_value* s = set_of(e)) {
    for (size_t i = 2; i < c.argc() && !s->empty(); ++i)
      removed += s->remove(c.arg(i)) ? 1 : 0;
    if (s->empty())
      c.remove(key);
    else if (removed > 0)
      c.touched(key);
  }
  c.changed(static_cast<uint64_t>(removed));
  c.out().integer(removed);
}

void cmd_smembers(exec_context& c) {
  bool wrong;
  set_value* s = read_set(c, c.arg(1), wrong);
  if (!wrong)
    reply_members(c, s);
}

void cmd_sismember(exec_context& c) {
  bool wrong;
  set_value* s = read_set(c, c.arg(1), wrong);
  if (!wrong)
    c.out().integer(s && s->contains(c.arg(2)) ? 1 : 0);
}

void cmd_smismember(exec_context& c) {
  bool wrong;
  set_value* s = read_set(c, c.arg(1), wrong);
  if (wrong)
    return;
  c.out().array(c.argc() - 2);
  for (size_t i = 2; i < c.argc(); ++i)
    c.out().integer(s && s->contains(c.arg(i)) ? 1 : 0);
}

void cmd_scard(exec_context& c) {
  bool wrong;
  set_value* s = read_set(c, c.arg(1), wrong);
  if (!wrong)
    c.out().integer(s ? static_cast<int64_t>(s->size()) : 0);
}

// SPOP key count
void spop_with_count(exec_context& c) {
  int64_t count;
  if (!parse_count(c, c.arg(2), 0, "ERR value is out of range, must be positive", count))
    return;
  std::string_view key = c.arg(1);
  entry* e = c.lookup_write(key);
  if (c.wrong_type(e, vtype::set))
    return;
  set_value* s = set_of(e);
  if (s == nullptr || count == 0) {
    c.out().set(0);
    return;
  }
  if (static_cast<uint64_t>(count) >= s->size()) {
    // The whole set, replied as Redis replies it: through a fresh union of the one set.
    set_value all;
    s->for_each([&](std::string_view m) { all.add(m, c.settings()); });
    reply_members(c, &all);
    c.changed(all.size());
    c.remove(key);
    c.propagate({"DEL", key}); // as Redis 7.0 propagates popping the whole set
    return;
  }
  size_t remaining = s->size() - static_cast<size_t>(count);
  std::vector<std::string> popped = s->pop_random(c.rng(), static_cast<size_t>(count));
  if (remaining * 5 <= static_cast<size_t>(count) && s->encoding() != venc::intset) {
    // As Redis when it pops most of a set: what is left goes into a new set, whose encoding
    // starts over (a few integers left of a large set are an intset again).
    auto fresh = std::make_unique<set_value>();
    s->for_each([&](std::string_view m) { fresh->add(m, c.settings()); });
    c.replace(e, make_collection_entry(key, hash_key(key), vtype::set, std::move(fresh),
                                       e->has_expire() ? e->expire() : -1));
  }
  c.out().set(popped.size());
  for (auto& m : popped)
    c.out().bulk(m);
  c.touched(key);
  c.changed(popped.size());
  // One SREM per popped member, as Redis 7.0 propagates it (wrapped in MULTI/EXEC when several).
  for (auto& m : popped)
    c.propagate({"SREM", key, m});
}

void cmd_spop(exec_context& c) {
  if (c.argc() == 3) {
    spop_with_count(c);
    return;
  }
  if (c.argc() > 3) {
    c.reply_syntax_error();
    return;
  }
  std::string_view key = c.arg(1);
  entry* e = c.lookup_write(key);
  if (c.wrong_type(e, vtype::set))
    return;
  set_value* s = set_of(e);
  if (s == nullptr) {
    c.out().null();
    return;
  }
  std::string m = s->random_member(c.rng());
  s->remove(m);
  c.out().bulk(m);
  if (s->empty())
    c.remove(key);
  else
    c.touched(key);
  c.changed();
  c.propagate({"SREM", key, m}); // the member popped, not the random choice
}

void cmd_srandmember(exec_context& c) {
  if (c.argc() > 3) {
    c.reply_syntax_error();
    return;
  }
  if (c.argc() == 2) {
    bool wrong;
    set_value* s = read_set(c, c.arg(1), wrong);
    if (wrong)
      return;
    if (s == nullptr)
      c.out().null();
    else
      c.out().bulk(s->random_member(c.rng()));
    return;
  }
  int64_t count;
  if (!parse_count(c, c.arg(2), -LLONG_MAX, nullptr, count))
    return;
  bool wrong;
  set_value* s = read_set(c, c.arg(1), wrong);
  if (wrong)
    return;
  if (s == nullptr || count == 0) {
    c.out().array(0);
    return;
  }
  bool distinct = count > 0;
  auto n = static_cast<size_t>(distinct ? count : -count);
  if (distinct && n >= s->size()) {
    c.out().array(s->size());
    s->for_each([&](std::string_view m) { c.out().bulk(m); });
    return;
  }
  c.out().array(n);
  s->sample(c.rng(), n, distinct, [&](std::string_view m) { c.out().bulk(m); });
}

void cmd_smove(exec_context& c) {
  std::string_view src = c.arg(1), dst = c.arg(2), member = c.arg(3);
  entry* from = c.lookup_write(src);
  entry* to = c.lookup_write(dst);
  if (from == nullptr) {
    c.out().integer(0);
    return;
  }
  if (c.wrong_type(from, vtype::set) || c.wrong_type(to, vtype::set))
    return;
  if (from == to) {
    c.out().integer(set_of(from)->contains(member) ? 1 : 0);
    return;
  }
  set_value* s = set_of(from);
  if (!s->remove(member)) {
    c.out().integer(0);
    return;
  }
  if (s->empty())
    c.remove(src);
  else
    c.touched(src);
  set_value* d = set_of(to);
  if (d == nullptr) {
    auto fresh = set_value::create_for(member);
    d = fresh.get();
    add_set_key(c, dst, std::move(fresh));
  }
  c.changed();
  if (d->add(member, c.settings()))
    c.changed();
  c.touched(dst);
  c.out().integer(1);
}

// Looks up `n` set keys from argument `first` on (for writing when storing). Missing keys are
// nullptr. False after a WRONGTYPE reply: every key is checked, even after a missing one.
bool lookup_sets(exec_context& c, size_t first, size_t n, bool for_store, std::vector<set_value*>& sets) {
  sets.clear();
  for (size_t i = first; i < first + n; ++i) {
    entry* e = for_store ? c.lookup_write(c.arg(i)) : c.lookup_read(c.arg(i));
    if (c.wrong_type(e, vtype::set))
      return false;
    sets.push_back(set_of(e));
  }
  return true;
}

// Stores `result` under `dst` (replacing whatever was there, without a TTL), or deletes `dst`
// when the result is empty; replies the result's size.
void store_result(exec_context& c, std::string_view dst, std::unique_ptr<set_value> result) {
  auto n = static_cast<int64_t>(result->size());
  if (c.lookup_write(dst) != nullptr)
    c.remove(dst);
  if (n > 0)
    add_set_key(c, dst, std::move(result));
  c.changed();
  c.out().integer(n);
}

// SINTER, SINTERSTORE (dst non-empty) and SINTERCARD (cardinality_only, stopping at limit > 0).
void sinter_generic(exec_context& c, size_t first, size_t n, std::string_view dst, bool store,
                    bool cardinality_only, uint64_t limit) {
  std::vector<set_value*> sets;
  if (!lookup_sets(c, first, n, store, sets))
    return;
  if (std::find(sets.begin(), sets.end(), nullptr) != sets.end()) {
    if (store) {
      if (c.lookup_write(dst) != nullptr) {
        c.remove(dst);
        c.changed();
      }
      c.out().integer(0);
    } else if (cardinality_only) {
      c.out().integer(0);
    } else {
      c.out().set(0);
    }
    return;
  }
  // Walk the smallest set (ties keep the argument order), testing membership in the others.
  std::stable_sort(sets.begin(), sets.end(), [](const set_value* a, const set_value* b) { return a->size() < b->size(); });
  auto in_all_others = [&](std::string_view m) {
    for (size_t j = 1; j < sets.size(); ++j)
      if (sets[j] != sets[0] && !sets[j]->contains(m))
        return false;
    return true;
  };
  if (cardinality_only) {
    uint64_t count = 0;
    sets[0]->for_each([&](std::string_view m) {
      if ((limit == 0 || count < limit) && in_all_others(m))
        ++count;
    });
    c.out().integer(static_cast<int64_t>(count));
    return;
  }
  if (store) {
    auto result = std::make_unique<set_value>();
    sets[0]->for_each([&](std::string_view m) {
      if (in_all_others(m))
        result->add(m, c.settings());
    });
    store_result(c, dst, std::move(result));
    return;
  }
  std::vector<std::string> found;
  sets[0]->for_each([&](std::string_view m) {
    if (in_all_others(m))
      found.emplace_back(m);
  });
  c.out().set(found.size());
  for (auto& m : found)
    c.out().bulk(m);
}

void cmd_sinter(exec_context& c) { sinter_generic(c, 1, c.argc() - 1, {}, false, false, 0); }
void cmd_sinterstore(exec_context& c) { sinter_generic(c, 2, c.argc() - 2, c.arg(1), true, false, 0); }

// SINTERCARD numkeys key [key ...] [LIMIT limit]
void cmd_sintercard(exec_context& c) {
  int64_t numkeys;
  if (!parse_count(c, c.arg(1), 1, "ERR numkeys should be greater than 0", numkeys))
    return;
  if (numkeys > static_cast<int64_t>(c.argc()) - 2) {
    c.out().error("ERR Number of keys can't be greater than number of args");
    return;
  }
  int64_t limit = 0;
  for (auto i = static_cast<size_t>(numkeys) + 2; i < c.argc(); ++i) {
    if (iequals(c.arg(i), "limit") && i + 1 < c.argc()) {
      if (!parse_count(c, c.arg(++i), 0, "ERR LIMIT can't be negative", limit))
        return;
    } else {
      c.reply_syntax_error();
      return;
    }
  }
  sinter_generic(c, 2, static_cast<size_t>(numkeys), {}, false, true, static_cast<uint64_t>(limit));
}

enum class set_op { union_, diff };

// SUNION, SDIFF and their STORE forms. The result is built as a fresh set (an intset while it
// can be) and replied in its order, as Redis does.
void sunion_diff_generic(exec_context& c, size_t first, size_t n, std::string_view dst, bool store, set_op op) {
  std::vector<set_value*> sets;
  if (!lookup_sets(c, first, n, store, sets))
    return;
  auto result = std::make_unique<set_value>();
  const keyspace_settings& cfg = c.settings();
  if (op == set_op::union_) {
    for (set_value* s : sets)
      if (s)
        s->for_each([&](std::string_view m) { result->add(m, cfg); });
  } else if (sets[0] != nullptr) {
    // Either test each member of the first set against the others, or copy the first set and
    // remove the others' members: whichever touches fewer elements (Redis's estimate).
    uint64_t test_work = 0, remove_work = 0;
    for (set_value* s : sets)
      if (s) {
        test_work += sets[0]->size();
        remove_work += s->size();
      }
    if (test_work / 2 <= remove_work) {
      sets[0]->for_each([&](std::string_view m) {
        for (size_t j = 1; j < sets.size(); ++j)
          if (sets[j] && (sets[j] == sets[0] || sets[j]->contains(m)))
            return;
        result->add(m, cfg);
      });
    } else {
      sets[0]->for_each([&](std::string_view m) { result->add(m, cfg); });
      for (size_t j = 1; j < sets.size() && !result->empty(); ++j)
        if (sets[j])
          sets[j]->for_each([&](std::string_view m) { result->remove(m); });
    }
  }
  if (store)
    store_result(c, dst, std::move(result));
  else
    reply_members(c, result.get());
}

void cmd_sunion(exec_context& c) { sunion_diff_generic(c, 1, c.argc() - 1, {}, false, set_op::union_); }
void cmd_sdiff(exec_context& c) { sunion_diff_generic(c, 1, c.argc() - 1, {}, false, set_op::diff); }
void cmd_sunionstore(exec_context& c) { sunion_diff_generic(c, 2, c.argc() - 2, c.arg(1), true, set_op::union_); }
void cmd_sdiffstore(exec_context& c) { sunion_diff_generic(c, 2, c.argc() - 2, c.arg(1), true, set_op::diff); }

// SSCAN key cursor [MATCH pattern] [COUNT count]
void cmd_sscan(exec_context& c) {
  uint64_t cursor;
  if (!parse_scan_cursor(c, c.arg(2), cursor))
    return;
  bool wrong;
  set_value* s = read_set(c, c.arg(1), wrong);
  if (wrong)
    return;
  if (s == nullptr) {
    reply_scan(c, 0, {});
    return;
  }
  scan_args opts;
  if (!parse_scan_args(c, 3, opts))
    return;
  std::vector<std::string> found; // owned: intset members are formatted into a reused buffer
  if (s->is_intset()) {
    s->for_each([&](std::string_view m) {
      if (opts.matches(m))
        found.emplace_back(m);
    });
    cursor = 0;
  } else {
    // As Redis: up to COUNT members, visiting at most 10 * COUNT buckets; MATCH filters after.
    uint64_t budget = opts.count > INT64_MAX / 10 ? UINT64_MAX : static_cast<uint64_t>(opts.count) * 10;
    size_t gathered = 0;
    do {
      cursor = s->scan(cursor, [&](std::string_view m) {
        ++gathered;
        if (opts.matches(m))
          found.emplace_back(m);
      });
    } while (cursor != 0 && budget-- > 0 && gathered < static_cast<uint64_t>(opts.count));
  }
  std::vector<std::string_view> views(found.begin(), found.end());
  reply_scan(c, cursor, views);
}

} // namespace

void register_set_commands(command_registry& r) {
  r.add("sadd", cmd_sadd);
  r.add("srem", cmd_srem);
  r.add("smembers", cmd_smembers);
  r.add("sismember", cmd_sismember);
  r.add("smismember", cmd_smismember);
  r.add("scard", cmd_scard);
  r.add("spop", cmd_spop);
  r.add("srandmember", cmd_srandmember);
  r.add("smove", cmd_smove);
  r.add("sinter", cmd_sinter);
  r.add("sinterstore", cmd_sinterstore);
  r.add("sintercard", cmd_sintercard);
  r.add("sunion", cmd_sunion);
  r.add("sunionstore", cmd_sunionstore);
  r.add("sdiff", cmd_sdiff);
  r.add("sdiffstore", cmd_sdiffstore);
  r.add("sscan", cmd_sscan);
}

} // namespace troupe::keyspace
