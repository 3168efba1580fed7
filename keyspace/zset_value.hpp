// A sorted set value: members (byte strings) with double scores, ordered by (score, member).
//
// Two encodings, as in Redis 7.0:
// - "listpack" while small (zset-max-listpack-entries / zset-max-listpack-value): one buffer of
//   packed (member, score) entries in order; every operation is a linear walk over at most a few
//   KB, which is what Redis does with its listpack and keeps small sets compact.
// - "skiplist" once too big (converted one way, never back): an order-statistics B+ tree of
//   member records (every inner node keeps the size and the first record of each child, so rank,
//   element-at-rank and range bounds are O(log n); leaves are linked for ordered walks) plus an
//   open-addressing hash index member -> record for O(1) score lookups. The tree replaces Redis's
//   skip list: same complexity, denser (8 bytes per member in a leaf instead of a node of 40+
//   bytes), and deterministic. The name Redis reports is kept.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keyspace/entry.hpp"

namespace troupe::keyspace {

namespace zdetail {
struct item;
struct node;
struct leaf;
class index;
} // namespace zdetail

// Three-way comparison of (score, member) pairs as the set orders them.
int zcompare(double s1, std::string_view m1, double s2, std::string_view m2);

class zset_value final : public collection {
public:
  // A fresh, empty set in the listpack encoding (or skiplist when `skiplist`).
  explicit zset_value(bool skiplist = false);
  zset_value(const zset_value& o);
  zset_value& operator=(const zset_value&) = delete;
  ~zset_value() override;

  // collection
  std::unique_ptr<collection> clone() const override;
  size_t size() const override { return count_; }
  venc encoding() const override { return big_ ? venc::skiplist : venc::listpack; }
  size_t memory(size_t samples = 0) const override;
  void digest(unsigned char out[20]) const override;

  bool empty() const { return count_ == 0; }
  bool is_listpack() const { return !big_; }
  // Converts to the skiplist encoding (no-op if already).
  void convert_to_skiplist();
  // Converts when adding a member of `member_len` bytes (and one more entry if `adding`) would
  // exceed the listpack limits. Returns true if it converted.
  bool convert_if_needed(size_t member_len, bool adding, int64_t max_entries, int64_t max_value);
  // Longest member (for deciding the encoding of a copy).
  size_t max_member_len() const;

  std::optional<double> score(std::string_view member) const;
  // Adds `member` or changes its score; true if it was added. Does not convert encodings: call
  // convert_if_needed first (commands) or let a loader pick the encoding up front.
  bool insert(std::string_view member, double score);
  bool update(std::string_view member, double score) { return insert(member, score); }
  // Fills an empty zset with (member, score) pairs, as the same insert() calls would, in one pass
  // (sorted once, one allocation for a listpack); false if a member repeats. For loaders: insert()
  // searches and shifts the listpack for every member, quadratic in its length.
  bool load_pairs(const std::pair<std::string, double>* pairs, size_t n);
  // Removes `member`; true if it was there.
  bool erase(std::string_view member);
  // 0-based rank in ascending order, if present.
  std::optional<size_t> rank(std::string_view member) const;
  // Member and score at `rank` (< size()).
  std::pair<std::string_view, double> at(size_t rank) const;
  // Removes the `n` elements from rank `start` on.
  void erase_range(size_t start, size_t n);

  // The rank of the first element not below a score bound: elements with score <= s
  // (inclusive) or < s (!inclusive) come before it.
  size_t count_below_score(double s, bool inclusive) const;
  // Generic bounds for a predicate that holds for a prefix of the order (lexicographic bounds
  // hold so only when all scores are equal, as Redis's *BYLEX commands assume). In the listpack
  // encoding these scan linearly, as Redis does: first_false from the head, last_true from the
  // tail; in the tree they descend in O(log n).
  // first_false: the rank of the first element for which less(member, score) is false.
  size_t first_false(const std::function<bool(std::string_view, double)>& less) const;
  // last_true: the rank of the last element for which pred(member, score) holds, or -1.
  int64_t last_true(const std::function<bool(std::string_view, double)>& pred) const;

  // Walks in rank order from `rank`: fn(member, score) -> bool (false stops).
  template <class F>
  void walk_forward(size_t rank, F&& fn) const {
    if (rank >= count_)
      return;
    cursor c = seek(rank);
    std::string_view m;
    double s;
    do {
      get(c, m, s);
      if (!fn(m, s))
        return;
    } while (advance(c));
  }
  // Walks towards rank 0 from `rank`.
  template <class F>
  void walk_backward(size_t rank, F&& fn) const {
    if (rank >= count_)
      return;
    cursor c = seek(rank);
    std::string_view m;
    double s;
    do {
      get(c, m, s);
      if (!fn(m, s))
        return;
    } while (retreat(c));
  }
  // fn(member, score) for every element in rank order.
  template <class F>
  void for_each(F&& fn) const {
    walk_forward(0, [&](std::string_view m, double s) {
      fn(m, s);
      return true;
    });
  }

  // ZSCAN over the skiplist encoding: fn(member, score) for the members of the hash bucket(s)
  // at `cursor`; returns the next cursor (0 when done). Members present for the whole scan are
  // returned at least once, across resizes (reverse-binary cursor, as Redis's dict scan).
  // The listpack encoding is scanned whole in one call (as Redis): use for_each.
  template <class F>
  uint64_t scan(uint64_t cursor, F&& fn) const {
    std::vector<std::pair<std::string_view, double>> found;
    uint64_t next = scan_bucket(cursor, found);
    for (auto& [m, s] : found)
      fn(m, s);
    return next;
  }

  // A random element (the set must not be empty).
  std::pair<std::string_view, double> random(uint64_t r) const { return at(r % count_); }

private:
  struct cursor {
    const void* leaf;
    uint32_t pos; // listpack: byte offset; tree: index in the leaf
  };
  cursor seek(size_t rank) const;
  void get(const cursor& c, std::string_view& m, double& s) const;
  bool advance(cursor& c) const;
  bool retreat(cursor& c) const;
  uint64_t scan_bucket(uint64_t cursor, std::vector<std::pair<std::string_view, double>>& out) const;

  // listpack encoding
  uint32_t lp_find(std::string_view m) const;        // byte offset or UINT32_MAX
  uint32_t lp_offset(size_t rank) const;
  void lp_erase_at(uint32_t off);
  void lp_insert(std::string_view m, double s);
  char* lp_splice(uint32_t off, uint32_t remove, size_t add);

  // tree encoding
  void tree_insert(zdetail::item* it);
  void tree_erase(const zdetail::item* it);
  zdetail::item* tree_erase_at(size_t rank);
  void tree_free();

  bool big_;
  uint32_t lp_used_ = 0, lp_cap_ = 0;
  char* lp_ = nullptr;
  zdetail::node* root_ = nullptr;
  zdetail::index* index_ = nullptr;
  size_t count_ = 0;
  size_t item_bytes_ = 0; // tree encoding: bytes of the member records
};

} // namespace troupe::keyspace
