// slot_range_snapshot: the copy-on-write snapshot a slot_range serializes a step at a time. What it
// produces, written into an RDB and loaded back, is the range's data at the snapshot's start, however
// the data changed between steps; a step stays within its key and byte budget.
#include <boost/test/unit_test.hpp>

#include "persistence/rdb.hpp"
#include "persistence/snapshot.hpp"
#include "test_support.hpp"

using namespace troupe::persistence;
namespace ks = troupe::keyspace;

namespace {

// Writes everything a snapshot produced (after the steps already taken: `records`) into one RDB and
// loads it into a fresh dataset.
ptest::canon reload(std::vector<std::pair<int, std::string>> records) {
  rdb_writer w;
  w.begin();
  for (auto& [db, bytes] : records) {
    w.select_db(db);
    w.raw(bytes);
  }
  w.end();
  ks::dataset out(16);
  dataset_sink sink(out);
  rdb_parser_options opts;
  opts.settings = ptest::redis_defaults();
  auto r = load_rdb_bytes(w.output(), sink, opts);
  BOOST_REQUIRE_MESSAGE(r.ok, r.error);
  return ptest::canon_of(out);
}

void append(std::vector<std::pair<int, std::string>>& all, slot_range_snapshot& s) {
  for (auto& rec : s.take())
    all.push_back(std::move(rec));
}

void fill(ks::dataset& d, int n, size_t value_size = 10) {
  for (int i = 0; i < n; ++i)
    ptest::put_string(d, i % 3, "key:" + std::to_string(i), std::string(value_size, static_cast<char>('a' + i % 26)));
}

} // namespace

BOOST_AUTO_TEST_SUITE(snapshots)

BOOST_AUTO_TEST_CASE(whole_range_round_trips) {
  ks::dataset d(16);
  fill(d, 5000);
  auto before = ptest::canon_of(d);
  slot_range_snapshot s(d, 0, 16383, {});
  BOOST_CHECK_EQUAL(s.total(), 5000u);
  std::vector<std::pair<int, std::string>> all;
  int steps = 0;
  while (s.step(700)) {
    append(all, s);
    ++steps;
  }
  append(all, s);
  BOOST_CHECK_GE(steps, 5);
  BOOST_CHECK_EQUAL(s.keys(), 5000u);
  BOOST_CHECK(reload(all) == before);
}

BOOST_AUTO_TEST_CASE(a_step_keeps_to_its_budgets) {
  ks::dataset d(16);
  fill(d, 20000, 200);
  rdb_save_options plain;
  plain.compression = false;   // 200 repeated bytes would shrink to almost nothing under LZF
  slot_range_snapshot s(d, 0, 16383, plain);
  // Keys: whole slots, so at least the budget and less than the budget plus one slot's keys.
  BOOST_REQUIRE(s.step(1000));
  uint64_t after_keys = s.keys();
  BOOST_CHECK_GE(after_keys, 1000u);
  BOOST_CHECK_LT(after_keys, 1100u);
  // Bytes: a one-byte budget stops after the first slot that brought anything.
  BOOST_REQUIRE(s.step(1000000, 1));
  BOOST_CHECK_GT(s.keys(), after_keys);
  BOOST_CHECK_LT(s.keys() - after_keys, 40u);
  // 64 KB of 200-byte values: a few hundred keys, not the whole key budget.
  uint64_t k = s.keys();
  BOOST_REQUIRE(s.step(1000000, 64 * 1024));
  BOOST_CHECK_GT(s.keys() - k, 200u);
  BOOST_CHECK_LT(s.keys() - k, 500u);
}

BOOST_AUTO_TEST_CASE(a_raised_stop_flag_ends_a_step_after_its_first_slot) {
  ks::dataset d(16);
  fill(d, 20000);
  auto before = ptest::canon_of(d);
  slot_range_snapshot s(d, 0, 16383, {});
  std::atomic<bool> stop{true};
  std::vector<std::pair<int, std::string>> all;
  // Raised: one slot per step (a slot holds about 20000 / 3 / 16384 keys here), however large the
  // budget: 50 steps bring a few dozen keys, not all of them.
  for (int i = 0; i < 50; ++i)
    BOOST_REQUIRE(s.step(1000000, UINT64_MAX, &stop));
  BOOST_CHECK_GE(s.keys(), 1u);
  BOOST_CHECK_LT(s.keys(), 300u);
  append(all, s);
  // Lowered: the budget rules again, and the steps taken one slot at a time lost nothing.
  stop = false;
  BOOST_CHECK(!s.step(1000000, UINT64_MAX, &stop));
  append(all, s);
  BOOST_CHECK_EQUAL(s.keys(), 20000u);
  BOOST_CHECK(reload(all) == before);
}

BOOST_AUTO_TEST_CASE(writes_between_steps_do_not_change_the_snapshot) {
  ks::dataset d(16);
  fill(d, 3000);
  auto before = ptest::canon_of(d);
  slot_range_snapshot s(d, 0, 16383, {});
  std::vector<std::pair<int, std::string>> all;
  s.step(500);
  append(all, s);
  // Overwrite, delete and add keys, visited or not.
  for (int i = 0; i < 3000; i += 7) {
    if (i % 3 != 0)
      continue;
    std::string key = "key:" + std::to_string(i);
    s.before_write(0, key);
    auto& t = d.db(0).slot_for_write(troupe::protocol::key_slot(key));
    ks::destroy_entry(t.detach(key, ks::hash_key(key)));
    if (i % 2 == 0)
      ptest::put_string(d, 0, key, "changed");
  }
  for (int i = 0; i < 100; ++i) {
    std::string key = "new:" + std::to_string(i);
    s.before_write(0, key);
    ptest::put_string(d, 0, key, "new");
  }
  while (s.step(500))
    append(all, s);
  append(all, s);
  BOOST_CHECK(reload(all) == before);
}

BOOST_AUTO_TEST_SUITE_END()
