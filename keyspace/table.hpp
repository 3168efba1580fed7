// The keys of one hash slot of one database: a chained hash table of entries, resized all at once
// (tables are per slot, so they stay small), scanned with Redis's reverse-binary cursor so that a
// SCAN returns every key present throughout, even across resizes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "keyspace/entry.hpp"

namespace troupe::keyspace {

uint32_t hash_key(std::string_view key);

// True if two of the n strings key(0) .. key(n - 1) are equal: their hashes are sorted and only
// neighbours with equal hashes are compared. For loaders that build a collection in one pass.
template <class KeyOf>
bool has_repeats(size_t n, KeyOf&& key) {
  std::vector<std::pair<uint32_t, uint32_t>> order(n);   // (hash, index)
  for (size_t i = 0; i < n; ++i)
    order[i] = {hash_key(key(i)), static_cast<uint32_t>(i)};
  std::sort(order.begin(), order.end());
  for (size_t i = 1; i < n; ++i)
    for (size_t j = i; j > 0 && order[j - 1].first == order[i].first; --j)
      if (key(order[j - 1].second) == key(order[i].second))
        return true;
  return false;
}

// A table's empty state is all zero bytes, and it has trivial construction and destruction: a
// database holds its 16384 tables in one zeroed allocation (no pointer to chase per lookup, no
// memory used until a slot gets keys) and clears each one itself before freeing them.
class table {
public:
  table() = default;
  table(const table&) = delete;
  table& operator=(const table&) = delete;

  size_t size() const { return size_; }
  size_t volatile_count() const { return volatile_; }
  size_t bucket_count() const { return mask_ + 1; }
  bool allocated() const { return buckets_ != nullptr; }
  // Where the chain for `hash` starts (nullptr while the table has no buckets), for prefetching.
  entry* const* bucket_of(uint32_t hash) const { return buckets_ != nullptr ? &buckets_[hash & mask_] : nullptr; }

  entry* find(std::string_view key, uint32_t hash) const {
    if (buckets_ == nullptr)
      return nullptr;
    for (entry* e = buckets_[hash & mask_]; e != nullptr; e = e->next)
      if (e->hash == hash && e->keylen == key.size() && std::memcmp(e->key().data(), key.data(), key.size()) == 0)
        return e;
    return nullptr;
  }
  // Adds an entry whose key is not present.
  void insert(entry* e);
  // Unlinks the entry with this key and returns it (or nullptr).
  entry* detach(std::string_view key, uint32_t hash);
  // Puts `replacement` (same key) where `old` was; `old` is not freed.
  void replace(entry* old, entry* replacement);
  // Removes and frees every entry.
  void clear();

  // Calls fn(entry*) for the entries of the bucket(s) at `cursor`; returns the next cursor (0: done).
  template <class F>
  uint64_t scan(uint64_t cursor, F&& fn) const {
    if (buckets_ == nullptr || size_ == 0)
      return 0;
    uint64_t m = mask_;
    for (entry* e = buckets_[cursor & m]; e != nullptr;) {
      entry* next = e->next; // fn may not remove, but be safe against reads of freed memory
      fn(e);
      e = next;
    }
    cursor |= ~m;
    cursor = reverse_bits(cursor);
    ++cursor;
    cursor = reverse_bits(cursor);
    return cursor;
  }
  template <class F>
  void for_each(F&& fn) const {
    if (buckets_ == nullptr)
      return;
    for (size_t i = 0; i <= mask_; ++i)
      for (entry* e = buckets_[i]; e != nullptr;) {
        entry* next = e->next;
        fn(e);
        e = next;
      }
  }
  // A random entry (nullptr if empty), close to uniform.
  entry* random_entry(std::mt19937_64& rng) const;

  // Keeps the count of keys with an expiry (callers report changes).
  void add_volatile(int64_t delta) { volatile_ = static_cast<size_t>(static_cast<int64_t>(volatile_) + delta); }

  size_t memory() const { return sizeof(*this) + (buckets_ ? (mask_ + 1) * sizeof(entry*) : 0); }

  static uint64_t reverse_bits(uint64_t v) {
    v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
    v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
    v = ((v >> 4) & 0x0F0F0F0F0F0F0F0Full) | ((v & 0x0F0F0F0F0F0F0F0Full) << 4);
    v = ((v >> 8) & 0x00FF00FF00FF00FFull) | ((v & 0x00FF00FF00FF00FFull) << 8);
    v = ((v >> 16) & 0x0000FFFF0000FFFFull) | ((v & 0x0000FFFF0000FFFFull) << 16);
    return (v >> 32) | (v << 32);
  }

private:
  void resize(size_t buckets);
  entry** buckets_;
  uint32_t mask_;
  uint32_t size_;
  size_t volatile_;
};

// A table on its own, outside a database (tests): starts empty, frees its entries when destroyed.
class owned_table : public table {
public:
  owned_table() : table() {}   // value-initialized: zeroed, i.e. empty
  owned_table(const owned_table&) = delete;
  owned_table& operator=(const owned_table&) = delete;
  ~owned_table() { clear(); }
};

static_assert(std::is_trivially_default_constructible_v<table> && std::is_trivially_destructible_v<table>,
              "databases create their tables as zeroed memory");

} // namespace troupe::keyspace
