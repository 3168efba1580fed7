#include "keyspace/table.hpp"

#include <cstdlib>
#include <new>

namespace troupe::keyspace {

namespace {

// A per-process random seed so that clients cannot pick keys that all collide.
uint64_t seed() {
  static const uint64_t s = std::random_device{}() * 0x9E3779B97F4A7C15ull ^ 0xD6E8FEB86659FD93ull;
  return s;
}

inline uint64_t mix(uint64_t x) {
  x ^= x >> 32;
  x *= 0xD6E8FEB86659FD93ull;
  x ^= x >> 32;
  x *= 0xD6E8FEB86659FD93ull;
  x ^= x >> 32;
  return x;
}

} // namespace

uint32_t hash_key(std::string_view key) {
  uint64_t h = seed() ^ (key.size() * 0x9E3779B97F4A7C15ull);
  const char* p = key.data();
  size_t n = key.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = mix(h ^ w) + 0x9E3779B97F4A7C15ull;
    p += 8;
    n -= 8;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p, n);
  h = mix(h ^ tail ^ (static_cast<uint64_t>(n) << 56));
  return static_cast<uint32_t>(h ^ (h >> 32));
}

void table::resize(size_t buckets) {
  auto** fresh = static_cast<entry**>(std::calloc(buckets, sizeof(entry*)));
  if (fresh == nullptr)
    throw std::bad_alloc();
  uint32_t mask = static_cast<uint32_t>(buckets - 1);
  if (buckets_ != nullptr) {
    for (size_t i = 0; i <= mask_; ++i) {
      for (entry* e = buckets_[i]; e != nullptr;) {
        entry* next = e->next;
        e->next = fresh[e->hash & mask];
        fresh[e->hash & mask] = e;
        e = next;
      }
    }
    std::free(buckets_);
  }
  buckets_ = fresh;
  mask_ = mask;
}

void table::insert(entry* e) {
  if (buckets_ == nullptr)
    resize(4);
  else if (size_ >= mask_ + 1)
    resize(static_cast<size_t>(mask_ + 1) * 2);
  entry** b = &buckets_[e->hash & mask_];
  e->next = *b;
  *b = e;
  ++size_;
  if (e->has_expire())
    ++volatile_;
}

entry* table::detach(std::string_view key, uint32_t hash) {
  if (buckets_ == nullptr)
    return nullptr;
  for (entry** link = &buckets_[hash & mask_]; *link != nullptr; link = &(*link)->next) {
    entry* e = *link;
    if (e->hash == hash && e->keylen == key.size() && std::memcmp(e->key().data(), key.data(), key.size()) == 0) {
      *link = e->next;
      e->next = nullptr;
      --size_;
      if (e->has_expire())
        --volatile_;
      // Shrink when mostly empty, as Redis does below 10% fill.
      if (size_ == 0) {
        std::free(buckets_);
        buckets_ = nullptr;
        mask_ = 0;
      } else if (mask_ + 1 > 4 && size_ * 10 < mask_ + 1) {
        size_t n = 4;
        while (n < size_)
          n *= 2;
        resize(n);
      }
      return e;
    }
  }
  return nullptr;
}

void table::replace(entry* old, entry* replacement) {
  for (entry** link = &buckets_[old->hash & mask_]; *link != nullptr; link = &(*link)->next) {
    if (*link == old) {
      replacement->next = old->next;
      *link = replacement;
      old->next = nullptr;
      if (old->has_expire())
        --volatile_;
      if (replacement->has_expire())
        ++volatile_;
      return;
    }
  }
}

void table::clear() {
  if (buckets_ != nullptr) {
    for (size_t i = 0; i <= mask_; ++i)
      for (entry* e = buckets_[i]; e != nullptr;) {
        entry* next = e->next;
        destroy_entry(e);
        e = next;
      }
    std::free(buckets_);
  }
  buckets_ = nullptr;
  mask_ = 0;
  size_ = 0;
  volatile_ = 0;
}

entry* table::random_entry(std::mt19937_64& rng) const {
  if (size_ == 0)
    return nullptr;
  entry* e = nullptr;
  while (e == nullptr)
    e = buckets_[rng() & mask_];
  size_t len = 0;
  for (entry* x = e; x != nullptr; x = x->next)
    ++len;
  size_t pick = rng() % len;
  while (pick-- > 0)
    e = e->next;
  return e;
}

} // namespace troupe::keyspace
