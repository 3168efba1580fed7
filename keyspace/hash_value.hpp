// A hash value, in one of Redis 7.0's two encodings:
// - "listpack": one contiguous buffer of field/value pairs, each string prefixed by its length
//   (a LEB128 varint, one byte below 128), searched linearly; new fields go at the end. Used while
//   the hash has at most hash-max-listpack-entries fields and no field or value is longer than
//   hash-max-listpack-value bytes.
// - "hashtable": a chained hash table of nodes (one allocation per pair), scanned with the
//   reverse-binary cursor so that HSCAN returns every field present throughout a scan even when
//   the table grows or shrinks in between.
// A hash converts from listpack to hashtable when Redis would, and never back.
//
// This header also holds detail::node_table, the chained table shared with set_value.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

#include "keyspace/context.hpp"
#include "keyspace/entry.hpp"
#include "keyspace/table.hpp"
#include "protocol/glob.hpp"

namespace troupe::keyspace {

namespace detail {

// A chained hash table of nodes allocated with std::malloc (the table owns them and frees them
// with std::free). A Node has `Node* next`, `uint32_t hash` and `std::string_view key() const`.
// Buckets are a power of two: the table doubles when it holds as many nodes as buckets and shrinks
// when under 10% full (as Redis's dict), all at once.
template <class Node>
class node_table {
public:
  node_table() = default;
  node_table(const node_table&) = delete;
  node_table& operator=(const node_table&) = delete;
  ~node_table() { clear(); }

  size_t size() const { return size_; }
  size_t bucket_count() const { return buckets_ ? static_cast<size_t>(mask_) + 1 : 0; }

  Node* find(std::string_view key, uint32_t hash) const {
    Node** link = find_link(key, hash);
    return link ? *link : nullptr;
  }
  // The link that points at the node with this key (to replace it in place), or nullptr.
  Node** find_link(std::string_view key, uint32_t hash) const {
    if (buckets_ == nullptr)
      return nullptr;
    for (Node** link = &buckets_[hash & mask_]; *link != nullptr; link = &(*link)->next)
      if ((*link)->hash == hash && (*link)->key() == key)
        return link;
    return nullptr;
  }
  // Adds a node whose key is absent.
  void insert(Node* n) {
    if (buckets_ == nullptr)
      resize(4);
    else if (size_ >= static_cast<size_t>(mask_) + 1)
      resize((static_cast<size_t>(mask_) + 1) * 2);
    Node** b = &buckets_[n->hash & mask_];
    n->next = *b;
    *b = n;
    ++size_;
  }
  // Unlinks the node with this key and returns it (the caller frees it), or nullptr.
  Node* detach(std::string_view key, uint32_t hash) {
    Node** link = find_link(key, hash);
    if (link == nullptr)
      return nullptr;
    Node* n = *link;
    *link = n->next;
    n->next = nullptr;
    --size_;
    shrink_if_sparse();
    return n;
  }
  // Calls fn(const Node*) for the nodes of the bucket at `cursor`; returns the next cursor (0: done).
  template <class F>
  uint64_t scan(uint64_t cursor, F&& fn) const {
    if (buckets_ == nullptr || size_ == 0)
      return 0;
    uint64_t m = mask_;
    for (const Node* n = buckets_[cursor & m]; n != nullptr; n = n->next)
      fn(n);
    cursor |= ~m;
    cursor = table::reverse_bits(cursor);
    ++cursor;
    return table::reverse_bits(cursor);
  }
  template <class F>
  void for_each(F&& fn) const {
    if (buckets_ == nullptr)
      return;
    for (size_t i = 0; i <= mask_; ++i)
      for (const Node* n = buckets_[i]; n != nullptr; n = n->next)
        fn(n);
  }
  // A random node (the table must not be empty): a random non-empty bucket, then a random node
  // of its chain.
  const Node* random(std::mt19937_64& rng) const {
    const Node* n = nullptr;
    while (n == nullptr)
      n = buckets_[rng() & mask_];
    size_t len = 0;
    for (const Node* x = n; x != nullptr; x = x->next)
      ++len;
    for (size_t pick = rng() % len; pick > 0; --pick)
      n = n->next;
    return n;
  }
  // Makes room for `n` nodes without further growth.
  void reserve(size_t n) {
    size_t want = 4;
    while (want < n)
      want *= 2;
    if (want > bucket_count())
      resize(want);
  }
  void clear() {
    if (buckets_ != nullptr) {
      for (size_t i = 0; i <= mask_; ++i)
        for (Node* n = buckets_[i]; n != nullptr;) {
          Node* next = n->next;
          std::free(n);
          n = next;
        }
      std::free(buckets_);
    }
    buckets_ = nullptr;
    mask_ = 0;
    size_ = 0;
  }
  size_t bucket_memory() const { return bucket_count() * sizeof(Node*); }
  // The bytes of its nodes (`bytes(node)` each): summed over all of them, or over the first
  // `samples` and scaled to their number (0: all).
  template <class F>
  size_t node_memory(size_t samples, F&& bytes) const {
    size_t seen = 0, sum = 0;
    for (size_t i = 0; buckets_ != nullptr && i <= mask_; ++i)
      for (const Node* n = buckets_[i]; n != nullptr; n = n->next) {
        sum += bytes(n);
        if (++seen == samples && seen < size_)
          return static_cast<size_t>(static_cast<double>(sum) / static_cast<double>(seen) * static_cast<double>(size_));
      }
    return sum;
  }

private:
  void shrink_if_sparse() {
    if (size_ == 0) {
      std::free(buckets_);
      buckets_ = nullptr;
      mask_ = 0;
    } else if (static_cast<size_t>(mask_) + 1 > 4 && size_ * 10 < static_cast<size_t>(mask_) + 1) {
      size_t n = 4;
      while (n < size_)
        n *= 2;
      resize(n);
    }
  }
  void resize(size_t buckets) {
    auto** fresh = static_cast<Node**>(std::calloc(buckets, sizeof(Node*)));
    if (fresh == nullptr)
      throw std::bad_alloc();
    auto mask = static_cast<uint32_t>(buckets - 1);
    if (buckets_ != nullptr) {
      for (size_t i = 0; i <= mask_; ++i)
        for (Node* n = buckets_[i]; n != nullptr;) {
          Node* next = n->next;
          n->next = fresh[n->hash & mask];
          fresh[n->hash & mask] = n;
          n = next;
        }
      std::free(buckets_);
    }
    buckets_ = fresh;
    mask_ = mask;
  }

  Node** buckets_ = nullptr;
  uint32_t mask_ = 0;
  size_t size_ = 0;
};

// Allocates `size` bytes with std::malloc or throws std::bad_alloc.
void* checked_malloc(size_t size);
void* checked_realloc(void* p, size_t size);

} // namespace detail

class hash_value final : public collection {
public:
  // One field/value pair of the hashtable encoding, in one allocation: the node, then the field
  // bytes, then the value bytes.
  struct node {
    node* next;
    uint32_t hash;
    uint32_t field_len;
    uint32_t value_len;
    const char* data() const { return reinterpret_cast<const char*>(this + 1); }
    char* data() { return reinterpret_cast<char*>(this + 1); }
    std::string_view key() const { return {data(), field_len}; }
    std::string_view value() const { return {data() + field_len, value_len}; }
  };
  using field_value = std::pair<std::string_view, std::string_view>;

  // An empty hash in the listpack encoding.
  hash_value() : lp_(nullptr) {}
  hash_value(const hash_value& o);
  hash_value& operator=(const hash_value&) = delete;
  ~hash_value() override;

  // collection
  std::unique_ptr<collection> clone() const override;
  size_t size() const override;
  venc encoding() const override { return is_listpack() ? venc::listpack : venc::hashtable; }
  size_t memory(size_t samples = 0) const override;
  void digest(unsigned char out[20]) const override;

  bool is_listpack() const { return count_ != hashtable_mark; }
  bool empty() const { return size() == 0; }

  // The value of `field`. The view stays valid until the hash changes.
  std::optional<std::string_view> find(std::string_view field) const;
  bool contains(std::string_view field) const { return find(field).has_value(); }
  // Sets `field` to `value`; true if the field is new. A listpack becomes a hashtable first when
  // the field or the value is longer than hash-max-listpack-value (or the listpack would pass
  // 1 GB), and after the insert when it holds more than hash-max-listpack-entries fields.
  bool set(std::string_view field, std::string_view value, const keyspace_settings& s);
  // Fills an empty hash with the pairs strings[0..n) (field, value, field, value ...) in the
  // encoding the same set() calls would leave, with one allocation for a listpack and a table
  // sized once; false if a field repeats (the hash is then left in an unspecified state). For
  // loaders: set() per pair searches the listpack each time, quadratic in its length.
  bool load_pairs(const std::string_view* strings, size_t n, const keyspace_settings& s);
  // Removes `field`; true if it was there. (The caller deletes the key when the hash is empty.)
  bool remove(std::string_view field);
  // HSET's first step (Redis's hashTypeTryConversion): a listpack becomes a hashtable when one of
  // the strings about to be stored is longer than hash-max-listpack-value.
  void prepare_for(const std::string_view* strings, size_t n, const keyspace_settings& s);
  // Switches to the hashtable encoding (no-op if already there). `expected` sizes the table.
  void convert_to_hashtable(size_t expected = 0);

  // fn(std::string_view field, std::string_view value) for every pair, in storage order: insertion
  // order for a listpack, table order for a hashtable.
  template <class F>
  void for_each(F&& fn) const {
    if (is_listpack()) {
      for (uint32_t off = 0; off < lp_bytes_;) {
        field_value p = read_pair(off);
        fn(p.first, p.second);
      }
    } else {
      ht_->for_each([&](const node* n) { fn(n->key(), n->value()); });
    }
  }
  // One step of HSCAN: a hashtable emits the pairs of the bucket at `cursor` and returns the next
  // cursor (0 at the end); a listpack emits every pair and returns 0.
  template <class F>
  uint64_t scan(uint64_t cursor, F&& fn) const {
    if (is_listpack()) {
      for_each(fn);
      return 0;
    }
    return ht_->scan(cursor, [&](const node* n) { fn(n->key(), n->value()); });
  }

  // A uniformly chosen pair (the hash must not be empty).
  field_value random_pair(std::mt19937_64& rng) const;
  // fn(field, value) `count` times: distinct pairs when `distinct` (min(count, size()) of them),
  // otherwise independent picks that may repeat.
  template <class F>
  void sample(std::mt19937_64& rng, size_t count, bool distinct, F&& fn) const {
    sample_impl(rng, count, distinct, [&](const field_value& p) { fn(p.first, p.second); });
  }

private:
  using table_t = detail::node_table<node>;
  static constexpr uint32_t hashtable_mark = 0xFFFFFFFFu;

  // Reads the pair at `off` of the listpack and moves `off` past it.
  field_value read_pair(uint32_t& off) const;
  // Offset of the pair whose field is `field`, or -1.
  int64_t lp_find(std::string_view field) const;
  void lp_append(std::string_view field, std::string_view value);
  void lp_replace_value(uint32_t pair_off, std::string_view value);
  void lp_erase(uint32_t pair_off);
  static node* make_node(std::string_view field, std::string_view value, uint32_t hash);
  void sample_impl(std::mt19937_64& rng, size_t count, bool distinct,
                   const std::function<void(const field_value&)>& fn) const;

  union {
    char* lp_;       // listpack: the pairs
    table_t* ht_;    // hashtable
  };
  uint32_t lp_bytes_ = 0;   // listpack: bytes in use
  uint32_t count_ = 0;      // listpack: pairs; hashtable_mark for a hashtable
};

// ---- HSCAN / SSCAN / ZSCAN arguments (shared by the collection command families) -------------

// Parses a SCAN cursor as Redis does (strtoul: an optional sign, decimal digits, nothing else;
// "" is 0; "-1" wraps around). Replies "ERR invalid cursor" and returns false otherwise.
bool parse_scan_cursor(exec_context& c, std::string_view arg, uint64_t& cursor);

struct scan_args {
  int64_t count = 10;
  std::optional<protocol::glob> pattern; // absent: everything matches
  bool matches(std::string_view s) const { return !pattern || pattern->match(s); }
};
// Parses [MATCH pattern] [COUNT count] from argument `from` on, replying Redis's errors.
bool parse_scan_args(exec_context& c, size_t from, scan_args& out);
// Writes a scan reply: the next cursor, then the elements.
void reply_scan(exec_context& c, uint64_t cursor, const std::vector<std::string_view>& elements);

} // namespace troupe::keyspace
