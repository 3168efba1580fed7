// Entries, slot tables (insert/find/detach/resize, the SCAN guarantee), databases and active expiry.
#include "harness.hpp"

#include <algorithm>
#include <set>

#include "keyspace/database.hpp"
#include "keyspace/expiry.hpp"

using namespace ut;
using keyspace::entry;
using keyspace::hash_key;
using keyspace::table;
using keyspace::venc;
using keyspace::vtype;

namespace {

entry* make(std::string_view key, std::string_view value = "v", int64_t expire = -1) {
  return keyspace::make_string_entry(key, hash_key(key), value, expire);
}

entry* find(const table& t, std::string_view key) { return t.find(key, hash_key(key)); }

void remove(table& t, std::string_view key) { keyspace::destroy_entry(t.detach(key, hash_key(key))); }

std::string key_of(int i) { return "key:" + std::to_string(i); }

} // namespace

BOOST_AUTO_TEST_SUITE(entries)

BOOST_AUTO_TEST_CASE(string_entries) {
  entry* e = make("k", "hello");
  BOOST_TEST(e->key() == "k");
  BOOST_TEST(e->str() == "hello");
  BOOST_TEST((e->type == vtype::string));
  BOOST_TEST((e->enc == venc::embstr));
  BOOST_TEST(!e->has_expire());
  BOOST_TEST(e->inline_string());
  keyspace::destroy_entry(e);

  e = make("num", "-42", 12345);
  BOOST_TEST((e->enc == venc::integer));
  BOOST_TEST(e->has_expire());
  BOOST_TEST(e->expire() == 12345);
  BOOST_TEST(e->key() == "num");
  BOOST_TEST(e->str() == "-42");
  e->set_expire_in_place(999);
  BOOST_TEST(e->expire() == 999);
  keyspace::destroy_entry(e);

  std::string long_value(1000, 'x');
  e = make("long", long_value);
  BOOST_TEST((e->enc == venc::raw));
  BOOST_TEST(!e->inline_string());
  BOOST_TEST(e->str() == long_value);
  keyspace::destroy_entry(e);

  e = keyspace::make_string_entry("f", hash_key("f"), "12", -1, true);
  BOOST_TEST((e->enc == venc::raw));
  BOOST_TEST(e->str() == "12");
  keyspace::destroy_entry(e);

  BOOST_TEST((keyspace::string_encoding("") == venc::embstr));
  BOOST_TEST((keyspace::string_encoding("0") == venc::integer));
  BOOST_TEST((keyspace::string_encoding(std::string(44, 'a')) == venc::embstr));
  BOOST_TEST((keyspace::string_encoding(std::string(45, 'a')) == venc::raw));
  BOOST_TEST(std::string(keyspace::encoding_name(venc::integer)) == "int");
  BOOST_TEST(std::string(keyspace::type_name(vtype::zset)) == "zset");
}

BOOST_AUTO_TEST_CASE(rebuild_rekey_clone) {
  std::string long_value(100, 'r');
  for (std::string value : {std::string("short"), std::string("77"), long_value}) {
    entry* e = make("k", value, -1);
    entry* with = keyspace::rebuild_with_expire(e, 5000);
    keyspace::free_shell(e);
    BOOST_TEST(with->has_expire());
    BOOST_TEST(with->expire() == 5000);
    BOOST_TEST(with->str() == value);
    BOOST_TEST(with->key() == "k");
    entry* renamed = keyspace::rekey(with, "other", hash_key("other"), -1);
    keyspace::free_shell(with);
    BOOST_TEST(renamed->key() == "other");
    BOOST_TEST(!renamed->has_expire());
    BOOST_TEST(renamed->str() == value);
    entry* copy = keyspace::clone_entry(renamed, "copy", hash_key("copy"), 42);
    BOOST_TEST(copy->str() == value);
    BOOST_TEST(copy->expire() == 42);
    BOOST_TEST((copy->enc == renamed->enc));
    keyspace::destroy_entry(renamed);
    BOOST_TEST(copy->str() == value); // independent of the original
    keyspace::destroy_entry(copy);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(tables)

BOOST_AUTO_TEST_CASE(insert_find_detach) {
  keyspace::owned_table t;
  BOOST_TEST(t.size() == 0u);
  BOOST_TEST(find(t, "a") == nullptr);
  BOOST_TEST(t.detach("a", hash_key("a")) == nullptr);
  t.insert(make("a", "1"));
  t.insert(make("b", "2", 100));
  BOOST_TEST(t.size() == 2u);
  BOOST_TEST(t.volatile_count() == 1u);
  BOOST_REQUIRE(find(t, "a") != nullptr);
  BOOST_TEST(find(t, "a")->str() == "1");
  BOOST_TEST(find(t, "b")->str() == "2");
  BOOST_TEST(find(t, "c") == nullptr);
  entry* b = t.detach("b", hash_key("b"));
  BOOST_REQUIRE(b != nullptr);
  BOOST_TEST(b->key() == "b");
  BOOST_TEST(b->next == nullptr);
  keyspace::destroy_entry(b);
  BOOST_TEST(t.size() == 1u);
  BOOST_TEST(t.volatile_count() == 0u);
  BOOST_TEST(find(t, "b") == nullptr);
  // Keys that differ only in length or bytes after a NUL are distinct.
  t.insert(make(std::string("a\0", 2), "nul"));
  BOOST_TEST(find(t, "a")->str() == "1");
  BOOST_TEST(find(t, std::string("a\0", 2))->str() == "nul");
}

BOOST_AUTO_TEST_CASE(replace_keeps_position_and_counts) {
  keyspace::owned_table t;
  t.insert(make("a", "1"));
  entry* old = find(t, "a");
  entry* fresh = make("a", "2", 500);
  t.replace(old, fresh);
  keyspace::destroy_entry(old);
  BOOST_TEST(find(t, "a") == fresh);
  BOOST_TEST(t.size() == 1u);
  BOOST_TEST(t.volatile_count() == 1u);
  entry* plain = make("a", "3");
  t.replace(fresh, plain);
  keyspace::destroy_entry(fresh);
  BOOST_TEST(t.volatile_count() == 0u);
  BOOST_TEST(find(t, "a")->str() == "3");
}

BOOST_AUTO_TEST_CASE(grows_and_shrinks) {
  keyspace::owned_table t;
  const int n = 5000;
  for (int i = 0; i < n; ++i)
    t.insert(make(key_of(i), std::to_string(i)));
  BOOST_TEST(t.size() == static_cast<size_t>(n));
  BOOST_TEST(t.bucket_count() >= static_cast<size_t>(n));
  BOOST_TEST((t.bucket_count() & (t.bucket_count() - 1)) == 0u); // a power of two
  for (int i = 0; i < n; ++i)
    BOOST_TEST_REQUIRE(find(t, key_of(i))->str() == std::to_string(i));
  size_t big = t.bucket_count();
  for (int i = 0; i < n - 10; ++i)
    remove(t, key_of(i));
  BOOST_TEST(t.size() == 10u);
  BOOST_TEST(t.bucket_count() < big);
  BOOST_TEST(t.bucket_count() <= 64u);
  for (int i = n - 10; i < n; ++i)
    BOOST_TEST(find(t, key_of(i))->str() == std::to_string(i));
  for (int i = n - 10; i < n; ++i)
    remove(t, key_of(i));
  BOOST_TEST(t.size() == 0u);
  uint64_t cursor = t.scan(0, [](entry*) { BOOST_FAIL("an empty table has no entries"); });
  BOOST_TEST(cursor == 0u);
  t.insert(make("again"));
  BOOST_TEST(find(t, "again") != nullptr);
}

BOOST_AUTO_TEST_CASE(clear_and_for_each) {
  keyspace::owned_table t;
  for (int i = 0; i < 100; ++i)
    t.insert(make(key_of(i), "v", i % 2 ? 10 : -1));
  BOOST_TEST(t.volatile_count() == 50u);
  std::set<std::string> seen;
  t.for_each([&](entry* e) { seen.insert(std::string(e->key())); });
  BOOST_TEST(seen.size() == 100u);
  t.clear();
  BOOST_TEST(t.size() == 0u);
  BOOST_TEST(t.volatile_count() == 0u);
  BOOST_TEST(find(t, key_of(1)) == nullptr);
}

BOOST_AUTO_TEST_CASE(full_scan_visits_each_key_once) {
  keyspace::owned_table t;
  for (int i = 0; i < 1000; ++i)
    t.insert(make(key_of(i)));
  std::multiset<std::string> seen;
  uint64_t cursor = 0;
  int calls = 0;
  do {
    cursor = t.scan(cursor, [&](entry* e) { seen.insert(std::string(e->key())); });
    ++calls;
  } while (cursor != 0);
  BOOST_TEST(seen.size() == 1000u);
  BOOST_TEST(std::set<std::string>(seen.begin(), seen.end()).size() == 1000u);
  BOOST_TEST(static_cast<size_t>(calls) == t.bucket_count());
}

BOOST_AUTO_TEST_CASE(scan_guarantee_across_resizes) {
  // Keys present for the whole scan are returned at least once while the table grows and shrinks
  // between calls (a few stable keys, many transient ones added and removed in waves); the scan
  // still ends.
  std::mt19937_64 rng(7);
  size_t grows = 0, shrinks = 0;
  for (int trial = 0; trial < 40; ++trial) {
    keyspace::owned_table t;
    std::set<std::string> stable;
    for (int i = 0; i < 20 + trial; ++i) {
      std::string k = "stable:" + std::to_string(trial) + ":" + std::to_string(i);
      t.insert(make(k));
      stable.insert(k);
    }
    std::vector<std::string> transient;
    int next_transient = 0;
    std::set<std::string> seen;
    uint64_t cursor = 0;
    int calls = 0;
    const int period = 10 + trial % 13;
    do {
      cursor = t.scan(cursor, [&](entry* e) { seen.insert(std::string(e->key())); });
      ++calls;
      size_t before = t.bucket_count();
      int phase = (calls + trial) % (2 * period);
      if (phase == 0) {
        // A wave of new keys: the table grows several times over.
        int n = 300 + static_cast<int>(rng() % 700);
        for (int j = 0; j < n; ++j) {
          std::string k = "tmp:" + std::to_string(next_transient++);
          t.insert(make(k));
          transient.push_back(k);
        }
      } else if (phase == period) {
        // They all go again: the table shrinks back.
        for (auto& k : transient)
          remove(t, k);
        transient.clear();
      } else if (!transient.empty() && rng() % 3 == 0) {
        for (int j = 0; j < 20 && !transient.empty(); ++j) {
          size_t pick = rng() % transient.size();
          remove(t, transient[pick]);
          transient.erase(transient.begin() + static_cast<long>(pick));
        }
      }
      grows += t.bucket_count() > before;
      shrinks += t.bucket_count() < before;
    } while (cursor != 0 && calls < 1000000);
    BOOST_TEST(cursor == 0u);
    size_t missing = 0;
    for (auto& k : stable)
      missing += seen.count(k) ? 0 : 1;
    BOOST_TEST(missing == 0u, "trial " << trial << ": " << missing << " stable keys not returned");
  }
  // The scans did run through resizes both ways.
  BOOST_TEST(grows > 20u);
  BOOST_TEST(shrinks > 20u);
}

BOOST_AUTO_TEST_CASE(random_entry_covers_all) {
  keyspace::owned_table t;
  std::mt19937_64 rng(1);
  BOOST_TEST(t.random_entry(rng) == nullptr);
  for (int i = 0; i < 20; ++i)
    t.insert(make(key_of(i)));
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i)
    seen.insert(std::string(t.random_entry(rng)->key()));
  BOOST_TEST(seen.size() == 20u);
}

BOOST_AUTO_TEST_CASE(hash_is_stable_within_process) {
  BOOST_TEST(hash_key("abc") == hash_key(std::string("abc")));
  BOOST_TEST(hash_key("abc") != hash_key("abd"));
  BOOST_TEST(hash_key("") == hash_key(""));
  BOOST_TEST(table::reverse_bits(1) == (1ull << 63));
  BOOST_TEST(table::reverse_bits(table::reverse_bits(0x123456789abcdefull)) == 0x123456789abcdefull);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(databases)

BOOST_AUTO_TEST_CASE(slots_and_totals) {
  keyspace::database db;
  BOOST_TEST(db.size() == 0u);
  BOOST_TEST(db.slot(5) == nullptr);
  db.slot_for_write(5).insert(make("a"));
  db.slot_for_write(5).insert(make("b", "v", 10));
  db.slot_for_write(100).insert(make("c", "v", 10));
  BOOST_TEST(db.size() == 3u);
  BOOST_TEST(db.volatile_count() == 2u);
  BOOST_TEST(db.size(0, 50) == 2u);
  BOOST_TEST(db.size(6, 16383) == 1u);
  BOOST_TEST(db.volatile_count(100, 100) == 1u);
  db.release_slot(5); // not empty: stays
  BOOST_TEST(db.slot(5) != nullptr);
  remove(*db.slot(100), "c");
  db.release_slot(100);
  BOOST_TEST(db.slot(100) == nullptr);
  db.clear(0, 10);
  BOOST_TEST(db.slot(5) == nullptr);
  BOOST_TEST(db.size() == 0u);
}

BOOST_AUTO_TEST_CASE(prefetch_changes_nothing) {
  // Keys present, absent, in slots without a table, in another database, duplicated, and more
  // than one prefetch window of them: afterwards every lookup answers as before.
  keyspace::dataset data(2);
  std::vector<std::string> names;
  for (int i = 0; i < 40; ++i)
    names.push_back(key_of(i));
  for (int i = 0; i < 40; i += 2) {
    auto& t = data.db(i % 4 == 0 ? 0 : 1).slot_for_write(protocol::key_slot(names[static_cast<size_t>(i)]));
    t.insert(make(names[static_cast<size_t>(i)]));
  }
  std::vector<keyspace::key_ref> refs;
  for (int pass = 0; pass < 2; ++pass)
    for (int i = 0; i < 40; ++i)
      refs.push_back({i % 3 == 0 ? 1 : 0, names[static_cast<size_t>(i)]});
  refs.push_back({0, ""});
  refs[5].slot = protocol::key_slot(refs[5].key);   // a slot the caller already knows is kept
  keyspace::prefetch(data, refs.data(), refs.size());
  keyspace::prefetch(data, refs.data(), 0);
  for (auto& r : refs) {
    BOOST_TEST(r.slot == protocol::key_slot(r.key));   // the others are computed
    BOOST_TEST(r.hash == hash_key(r.key));
  }
  for (int i = 0; i < 40; ++i) {
    auto& key = names[static_cast<size_t>(i)];
    for (int d = 0; d < 2; ++d) {
      const table* t = data.db(d).slot(protocol::key_slot(key));
      bool present = i % 2 == 0 && (i % 4 == 0 ? 0 : 1) == d;
      BOOST_TEST((t != nullptr && find(*t, key) != nullptr) == present, key << " in db " << d);
    }
  }
  BOOST_TEST(data.db(0).size() + data.db(1).size() == 20u);
}

BOOST_AUTO_TEST_CASE(dataset_swap) {
  keyspace::dataset data(4);
  BOOST_TEST(data.count() == 4);
  data.db(1).slot_for_write(0).insert(make("x"));
  keyspace::database* one = &data.db(1);
  data.swap(1, 3);
  BOOST_TEST(&data.db(3) == one);
  BOOST_TEST(data.db(3).size() == 1u);
  BOOST_TEST(data.db(1).size() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(active_expiry)

BOOST_FIXTURE_TEST_CASE(deletes_expired_keys_across_slots, server) {
  // 300 keys that have expired, 300 that will expire later and 300 without expiry, over many slots.
  for (int i = 0; i < 300; ++i) {
    BOOST_TEST_REQUIRE(run({"set", "gone:" + std::to_string(i), "v", "pxat", std::to_string(t0 + 100)}) == ok());
    BOOST_TEST_REQUIRE(run({"set", "later:" + std::to_string(i), "v", "pxat", std::to_string(t0 + 100000)}) == ok());
    BOOST_TEST_REQUIRE(run({"set", "plain:" + std::to_string(i), "v"}) == ok());
  }
  std::set<int> slots;
  for (int i = 0; i < 300; ++i)
    slots.insert(protocol::key_slot("gone:" + std::to_string(i)));
  BOOST_TEST(slots.size() > 250u);
  keyspace::database& db = database();
  BOOST_TEST(db.size() == 900u);
  BOOST_TEST(db.volatile_count() == 600u);

  keyspace::expire_cursor cur;
  keyspace::keyspace_stats st;
  // Before the time: nothing goes.
  size_t deleted = 0;
  for (int i = 0; i < 50; ++i)
    deleted += keyspace::active_expire_step(db, 0, protocol::slot_count - 1, cur, t0 + 50, 100, st);
  BOOST_TEST(deleted == 0u);
  BOOST_TEST(db.size() == 900u);
  // After it: a bounded amount of work per step, and eventually every expired key.
  size_t first = keyspace::active_expire_step(db, 0, protocol::slot_count - 1, cur, t0 + 200, 10, st);
  BOOST_TEST(first <= 10u * 4); // at most a few keys per visited bucket
  deleted = first;
  int steps = 1;
  while (db.size() > 600u && steps < 10000) {
    deleted += keyspace::active_expire_step(db, 0, protocol::slot_count - 1, cur, t0 + 200, 10, st);
    ++steps;
  }
  BOOST_TEST(deleted == 300u);
  BOOST_TEST(db.size() == 600u);
  BOOST_TEST(db.volatile_count() == 300u);
  BOOST_TEST(st.expired == 300u);
  BOOST_TEST(st.expire_cycles >= static_cast<uint64_t>(steps));
  BOOST_TEST(steps > 1);
  for (int i = 0; i < 300; ++i) {
    BOOST_TEST_REQUIRE(peek("gone:" + std::to_string(i)) == nullptr);
    BOOST_TEST_REQUIRE(peek("later:" + std::to_string(i)) != nullptr);
    BOOST_TEST_REQUIRE(peek("plain:" + std::to_string(i)) != nullptr);
  }
}

BOOST_FIXTURE_TEST_CASE(slots_without_expiring_keys_are_looked_at_again_within_a_second, server) {
  BOOST_TEST(run({"set", "plain", "v"}) == ok());
  keyspace::database& db = database();
  keyspace::expire_cursor cur;
  keyspace::keyspace_stats st;
  BOOST_TEST(keyspace::active_expire_step(db, 0, protocol::slot_count - 1, cur, t0, 50, st, nullptr, 5) == 0u);
  BOOST_TEST(cur.idle_until == keyspace::next_idle_recheck(t0, 5));
  BOOST_TEST(cur.idle_until > t0);
  BOOST_TEST(cur.idle_until <= t0 + keyspace::expire_idle_recheck_ms);
  BOOST_TEST(run({"set", "soon", "v", "pxat", std::to_string(t0 + 10)}) == ok());
  // Until then: left alone (lazy expiry would still catch it on access).
  BOOST_TEST(keyspace::active_expire_step(db, 0, protocol::slot_count - 1, cur, cur.idle_until - 1, 50, st, nullptr, 5)
             == 0u);
  BOOST_TEST(peek("soon") != nullptr);
  BOOST_TEST(st.expire_cycles == 0u);
  // From then on: found and deleted.
  const int64_t later = std::max(cur.idle_until, t0 + 20);
  size_t n = 0;
  for (int i = 0; i < 100 && n == 0; ++i)
    n += keyspace::active_expire_step(db, 0, protocol::slot_count - 1, cur, later, 50, st, nullptr, 5);
  BOOST_TEST(n == 1u);
  BOOST_TEST(peek("soon") == nullptr);
  BOOST_TEST(peek("plain") != nullptr);
}

// Counting a db's keys with an expiry reads all its slot tables: the 16 dbs are counted at their
// own moments of each second, every one exactly a second after its last count, and no 100 ms tick
// (the slot range's) has more than two of them due.
BOOST_AUTO_TEST_CASE(idle_rechecks_of_the_16_dbs_are_spread_over_the_second) {
  const int64_t period = keyspace::expire_idle_recheck_ms;
  for (int64_t start : {int64_t{0}, int64_t{999}, int64_t{1764200000123}}) {
    std::vector<int64_t> due(16);
    for (int i = 0; i < 16; ++i) {
      due[static_cast<size_t>(i)] = keyspace::next_idle_recheck(start, i);
      BOOST_TEST(due[static_cast<size_t>(i)] > start);
      BOOST_TEST(due[static_cast<size_t>(i)] <= start + period);
    }
    for (int64_t now = start + 100; now < start + 5000; now += 100) {
      int counted = 0;
      for (int i = 0; i < 16; ++i) {
        auto& d = due[static_cast<size_t>(i)];
        if (now < d)
          continue;
        ++counted;
        int64_t next = keyspace::next_idle_recheck(now, i);
        BOOST_TEST(next == d + period, "db " << i << " at " << now);
        d = next;
      }
      BOOST_TEST(counted <= 2, "at " << now);
    }
  }
}

BOOST_FIXTURE_TEST_CASE(stays_within_its_slot_range, server) {
  // Two keys expiring in different slots; steps over one slot range leave the other alone.
  BOOST_TEST(run({"set", "bar", "v", "pxat", std::to_string(t0 + 10)}) == ok());   // slot 5061
  BOOST_TEST(run({"set", "hello", "v", "pxat", std::to_string(t0 + 10)}) == ok()); // slot 866
  keyspace::database& db = database();
  keyspace::expire_cursor cur;
  keyspace::keyspace_stats st;
  size_t n = 0;
  for (int i = 0; i < 100; ++i)
    n += keyspace::active_expire_step(db, 5000, 6000, cur, t0 + 20, 50, st);
  BOOST_TEST(n == 1u);
  BOOST_TEST(peek("bar") == nullptr);
  BOOST_TEST(peek("hello") != nullptr);
  BOOST_TEST(db.slot(protocol::key_slot("bar")) == nullptr); // the emptied slot table is released
}

BOOST_AUTO_TEST_SUITE_END()
