// Databases: each is 16384 slot tables (one per hash slot, empty until the slot gets a key).
// A slot_range actor touches only the tables of its own slots, so no locking is needed here.
#pragma once

#include <memory>
#include <vector>

#include "keyspace/table.hpp"
#include "protocol/key_slot.hpp"

namespace troupe::keyspace {

class database {
public:
  database();
  ~database();
  database(const database&) = delete;
  database& operator=(const database&) = delete;

  // The table of a slot, or nullptr while the slot has no keys.
  table* slot(int s) const { return tables_[s].allocated() ? &tables_[s] : nullptr; }
  const table* slot_address(int s) const { return &tables_[s]; }
  table& slot_for_write(int s) { return tables_[s]; }
  // Totals over the given slots [first, last] (a slot_range's) or over all of them.
  size_t size(int first = 0, int last = protocol::slot_count - 1) const;
  size_t volatile_count(int first = 0, int last = protocol::slot_count - 1) const;
  // Bytes of the slot tables' bucket arrays (MEMORY STATS).
  size_t bucket_bytes(int first = 0, int last = protocol::slot_count - 1) const;
  void clear(int first = 0, int last = protocol::slot_count - 1);
  // Frees the buckets of a slot's table once it is empty.
  void release_slot(int s);

private:
  table* tables_;   // protocol::slot_count of them, zeroed (empty) until used
};

// A key about to be looked up in database `db`; prefetch fills in its slot and hash.
struct key_ref {
  int db = 0;
  std::string_view key;
  int slot = -1;   // -1: prefetch computes it (a caller that knows it already may set it)
  uint32_t hash = 0;
};

class dataset;

// Loads into the cache, ahead of use, what looking these keys up will touch (each one's slot
// table, bucket and first entry), in three passes over up to prefetch_window keys at a time, so
// that their cache misses overlap instead of being waited on one after another. Changes nothing;
// for pipelined batches (which hand it the next prefetch_window commands' keys). Leaves each key's
// slot and hash in it (for exec_context::set_key_hint).
constexpr size_t prefetch_window = 16;
void prefetch(const dataset& data, key_ref* keys, size_t n);

class dataset {
public:
  explicit dataset(int databases);
  int count() const { return static_cast<int>(dbs_.size()); }
  database& db(int i) { return *dbs_[static_cast<size_t>(i)]; }
  const database& db(int i) const { return *dbs_[static_cast<size_t>(i)]; }
  void swap(int a, int b) { std::swap(dbs_[static_cast<size_t>(a)], dbs_[static_cast<size_t>(b)]); }

private:
  std::vector<std::unique_ptr<database>> dbs_;
};

} // namespace troupe::keyspace
