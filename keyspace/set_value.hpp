// A set value, in one of Redis 7.0's two encodings:
// - "intset": a sorted array of integers, all 16, 32 or 64 bits wide (the narrowest width that
//   holds every member that was ever added: the array widens, it never narrows, as Redis's
//   intset). Used while every member is the canonical decimal form of a 64-bit integer and the
//   set holds at most set-max-intset-entries members.
// - "hashtable": a chained hash table of nodes (one allocation per member), scanned with the
//   reverse-binary cursor so that SSCAN returns every member present throughout a scan.
// A set converts from intset to hashtable when Redis would, and never back.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "keyspace/hash_value.hpp"

namespace troupe::keyspace {

class set_value final : public collection {
public:
  struct node {
    node* next;
    uint32_t hash;
    uint32_t len;
    const char* data() const { return reinterpret_cast<const char*>(this + 1); }
    char* data() { return reinterpret_cast<char*>(this + 1); }
    std::string_view key() const { return {data(), len}; }
  };

  // An empty set in the intset encoding (16-bit wide).
  set_value() : is_(nullptr) {}
  set_value(const set_value& o);
  set_value& operator=(const set_value&) = delete;
  ~set_value() override;
  // An empty set encoded as Redis encodes a set created for `first` (SADD, SMOVE): an intset if
  // `first` is an integer, a hashtable otherwise.
  static std::unique_ptr<set_value> create_for(std::string_view first);
  // A set from Redis's intset blob (RDB_TYPE_SET_INTSET: little-endian uint32 width in bytes,
  // uint32 length, then the sorted members); nullptr if the blob is malformed.
  static std::unique_ptr<set_value> from_intset_blob(std::string_view blob);

  // collection
  std::unique_ptr<collection> clone() const override;
  size_t size() const override { return is_intset() ? count_ : ht_->size(); }
  venc encoding() const override { return is_intset() ? venc::intset : venc::hashtable; }
  size_t memory(size_t samples = 0) const override;
  void digest(unsigned char out[20]) const override;

  bool is_intset() const { return width_ != 0; }
  // Bytes per member of an intset (2, 4 or 8); 0 for a hashtable.
  unsigned intset_width() const { return width_; }
  // The intset as Redis lays it out (see from_intset_blob); only for an intset.
  std::string intset_blob() const;
  bool empty() const { return size() == 0; }

  bool contains(std::string_view member) const;
  // Adds `member`; true if it is new. An intset becomes a hashtable when `member` is not an
  // integer, or when it grows past set-max-intset-entries.
  bool add(std::string_view member, const keyspace_settings& s);
  // Removes `member`; true if it was there. (The caller deletes the key when the set is empty.)
  bool remove(std::string_view member);
  // Switches to the hashtable encoding (no-op if already there).
  void convert_to_hashtable(size_t expected = 0);

  // fn(std::string_view member) for every member in storage order: ascending for an intset (the
  // view then points at a buffer that the next call reuses), table order for a hashtable.
  template <class F>
  void for_each(F&& fn) const {
    if (is_intset()) {
      char buf[24];
      for (uint32_t i = 0; i < count_; ++i)
        fn(format(int_at(i), buf));
    } else {
      ht_->for_each([&](const node* n) { fn(n->key()); });
    }
  }
  // fn(int64_t) for every member of an intset, ascending.
  template <class F>
  void for_each_int(F&& fn) const {
    for (uint32_t i = 0; is_intset() && i < count_; ++i)
      fn(int_at(i));
  }
  // One step of SSCAN: a hashtable emits the members of the bucket at `cursor` and returns the
  // next cursor (0 at the end); an intset emits every member and returns 0.
  template <class F>
  uint64_t scan(uint64_t cursor, F&& fn) const {
    if (is_intset()) {
      for_each(fn);
      return 0;
    }
    return ht_->scan(cursor, [&](const node* n) { fn(n->key()); });
  }

  // A uniformly chosen member (the set must not be empty).
  std::string random_member(std::mt19937_64& rng) const;
  // fn(std::string_view member) `count` times: distinct members when `distinct` (min(count,
  // size()) of them), otherwise independent picks that may repeat.
  void sample(std::mt19937_64& rng, size_t count, bool distinct,
              const std::function<void(std::string_view)>& fn) const;
  // Removes `count` (at most size()) distinct members chosen at random and returns them.
  std::vector<std::string> pop_random(std::mt19937_64& rng, size_t count);

private:
  using table_t = detail::node_table<node>;

  static std::string_view format(int64_t v, char* buf);
  static unsigned width_for(int64_t v);
  int64_t int_at(uint32_t i) const;
  void put_int(uint32_t i, int64_t v);
  // Index of `v` in the intset, or where it would go (found says which).
  uint32_t int_search(int64_t v, bool& found) const;
  bool int_add(int64_t v);
  bool int_remove(int64_t v);
  static node* make_node(std::string_view member, uint32_t hash);

  union {
    char* is_;       // intset: count_ members of width_ bytes, ascending
    table_t* ht_;    // hashtable
  };
  uint32_t count_ = 0;  // intset members
  uint8_t width_ = 2;   // intset width in bytes; 0 for a hashtable
};

} // namespace troupe::keyspace
