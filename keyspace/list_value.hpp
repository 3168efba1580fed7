// A list value: a sequence of byte strings kept in chunks, each chunk one contiguous buffer of
// packed elements (a length prefix, the bytes, and the entry size once more at the end so that a
// chunk is walked from either end). Chunks are limited the way Redis limits quicklist nodes
// (list-max-listpack-size: a byte budget when negative, an element count when positive), so
// pushes and pops at both ends are O(1) amortized and finding an index walks the chunk counts
// from the nearer end, then one chunk.
//
// Redis 7.0 always reports a list as "quicklist" (the "listpack" list encoding came with 7.2),
// and so does this type.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "keyspace/entry.hpp"

namespace troupe::keyspace {

class list_value final : public collection {
public:
  // `fill` is list-max-listpack-size (negative: -1..-5 for 4..64 KB per chunk; positive: elements).
  explicit list_value(int64_t fill = -2);
  list_value(const list_value& o);
  list_value& operator=(const list_value&) = delete;
  ~list_value() override;

  // collection
  std::unique_ptr<collection> clone() const override;
  size_t size() const override { return count_; }
  venc encoding() const override { return venc::quicklist; }
  size_t memory(size_t samples = 0) const override;
  void digest(unsigned char out[20]) const override;

  bool empty() const { return count_ == 0; }
  void push_back(std::string_view v);
  void push_front(std::string_view v);
  std::string_view front() const;
  std::string_view back() const;
  std::string pop_front();
  std::string pop_back();
  // Element at `index` (0 <= index < size()).
  std::string_view at(size_t index) const;
  // Replaces the element at `index`.
  void set(size_t index, std::string_view v);
  // Inserts `v` before position `index` (index == size() appends).
  void insert(size_t index, std::string_view v);
  // Removes `n` elements from `index` on.
  void erase(size_t index, size_t n);
  // Removes up to |count| elements equal to `v` (all of them when count == 0), from the head
  // when count >= 0, from the tail when count < 0. Returns how many went.
  size_t remove(std::string_view v, int64_t count);
  void clear();

  // fn(std::string_view) for every element from head to tail.
  template <class F>
  void for_each(F&& fn) const {
    for (const chunk* c : chunks_)
      for (uint32_t off = 0; off < c->used;) {
        std::string_view v = read_at(c, off);
        off = next_off(c, off);
        fn(v);
      }
  }
  // fn(std::string_view) -> bool (false stops) from element `start` towards the tail.
  template <class F>
  void walk_forward(size_t start, F&& fn) const {
    if (start >= count_)
      return;
    pos p = locate(start);
    for (size_t ci = p.chunk; ci < chunks_.size(); ++ci) {
      const chunk* c = chunks_[ci];
      for (uint32_t off = ci == p.chunk ? p.off : 0; off < c->used;) {
        std::string_view v = read_at(c, off);
        off = next_off(c, off);
        if (!fn(v))
          return;
      }
    }
  }
  // fn(std::string_view) -> bool (false stops) from element `start` towards the head.
  template <class F>
  void walk_backward(size_t start, F&& fn) const {
    if (start >= count_)
      return;
    pos p = locate(start);
    for (size_t ci = p.chunk + 1; ci-- > 0;) {
      const chunk* c = chunks_[ci];
      uint32_t end = ci == p.chunk ? next_off(c, p.off) : c->used;
      while (end > 0) {
        uint32_t off = prev_off(c, end);
        if (!fn(read_at(c, off)))
          return;
        end = off;
      }
    }
  }

  // Builder for loaders: appends without any conversion logic.
  void append(std::string_view v) { push_back(v); }
  int64_t fill() const { return fill_; }
  size_t chunk_count() const { return chunks_.size(); }

private:
  struct chunk {
    uint32_t used;   // bytes in use
    uint32_t cap;    // bytes allocated after the header
    uint32_t count;  // elements
    uint32_t pad;
    char* data() { return reinterpret_cast<char*>(this + 1); }
    const char* data() const { return reinterpret_cast<const char*>(this + 1); }
  };
  struct pos {
    size_t chunk;
    uint32_t off;
  };

  static chunk* new_chunk(size_t cap);
  static chunk* grow(chunk* c, size_t need);
  static std::string_view read_at(const chunk* c, uint32_t off);
  static uint32_t next_off(const chunk* c, uint32_t off);
  static uint32_t prev_off(const chunk* c, uint32_t end);
  static size_t entry_size(size_t len);
  static void write_entry(char* p, std::string_view v);
  // Offset of element `i` of chunk `c`, walking from the nearer end.
  static uint32_t offset_in(const chunk* c, size_t i);

  bool fits(const chunk* c, size_t entry_bytes) const;
  pos locate(size_t index) const;
  // Opens `entry_bytes` at byte `off` of chunk `ci` (reallocating) and returns where to write.
  char* splice(size_t ci, uint32_t off, uint32_t remove_bytes, size_t entry_bytes);
  // Splits chunk `ci` in two when it holds more than its budget and more than one element.
  void split_if_needed(size_t ci);
  void drop_chunk(size_t ci);

  std::vector<chunk*> chunks_;
  size_t count_ = 0;
  int64_t fill_;
};

} // namespace troupe::keyspace
