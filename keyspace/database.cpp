#include "keyspace/database.hpp"

#include <algorithm>
#include <cstdlib>
#include <new>

namespace troupe::keyspace {

database::database() {
  // A zeroed allocation of 384 KiB is served by fresh zero pages: a slot's table uses memory only
  // once it has keys.
  tables_ = static_cast<table*>(std::calloc(protocol::slot_count, sizeof(table)));
  if (tables_ == nullptr)
    throw std::bad_alloc();
}

database::~database() {
  clear();
  std::free(tables_);
}

size_t database::size(int first, int last) const {
  size_t n = 0;
  for (int s = first; s <= last; ++s)
    n += tables_[s].size();
  return n;
}

size_t database::volatile_count(int first, int last) const {
  size_t n = 0;
  for (int s = first; s <= last; ++s)
    n += tables_[s].volatile_count();
  return n;
}

size_t database::bucket_bytes(int first, int last) const {
  size_t n = 0;
  for (int s = first; s <= last; ++s)
    n += tables_[s].memory() - sizeof(table);
  return n;
}

void database::clear(int first, int last) {
  for (int s = first; s <= last; ++s)
    if (tables_[s].allocated())
      tables_[s].clear();
}

void database::release_slot(int s) {
  if (tables_[s].allocated() && tables_[s].size() == 0)
    tables_[s].clear();
}

void prefetch(const dataset& data, key_ref* keys, size_t n) {
  constexpr size_t window = prefetch_window;
  const table* tables[window];
  entry* const* buckets[window];
  for (size_t first = 0; first < n; first += window) {
    size_t m = std::min(window, n - first);
    for (size_t i = 0; i < m; ++i) {
      auto& k = keys[first + i];
      if (k.slot < 0)
        k.slot = protocol::key_slot(k.key);
      tables[i] = data.db(k.db).slot_address(k.slot);
      __builtin_prefetch(tables[i]);
      k.hash = hash_key(k.key);
    }
    for (size_t i = 0; i < m; ++i) {
      buckets[i] = tables[i]->bucket_of(keys[first + i].hash);
      if (buckets[i] != nullptr)
        __builtin_prefetch(buckets[i]);
    }
    for (size_t i = 0; i < m; ++i)
      if (buckets[i] != nullptr && *buckets[i] != nullptr)
        __builtin_prefetch(*buckets[i]);
  }
}

dataset::dataset(int databases) {
  for (int i = 0; i < databases; ++i)
    dbs_.push_back(std::make_unique<database>());
}

} // namespace troupe::keyspace
