#pragma once
// Puts numbered pieces of the append-only file back into the order of their numbers.
//
// Slot ranges number each batch of write effects when it settles, before its reply leaves, from
// one counter shared by the whole node; then they send the batches when it suits them (gathered
// for a moment, or at once). A client that saw the reply of one write and then issued another
// gets a higher number for the second one, whichever slot range runs it. The aof_writer appends
// a batch only once every lower number is appended, so what the file holds after a crash is
// always a prefix of what ran: never an acknowledged write without the writes it followed.
#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>

namespace troupe::persistence {

template <class T>
class aof_order {
public:
  explicit aof_order(uint64_t first = 1) : next_(first) {}

  // True if `seq` is the next number: the caller appends its piece now, then calls release()
  // for the pieces that waited on it. False: the caller must keep() it.
  bool take(uint64_t seq) {
    if (seq != next_)
      return false;
    ++next_;
    return true;
  }

  // True if `seq` came after its turn had passed: release_all() went over it. The caller appends
  // it at once (it can only come late after a bug, or a stall that outlasted the writer's patience).
  bool late(uint64_t seq) const { return seq < next_; }

  // A piece that came before its turn waits here.
  void keep(uint64_t seq, T item) { waiting_.emplace(seq, std::move(item)); }

  // Emits the waiting pieces whose turn it is, in order.
  template <class Emit>
  void release(Emit&& emit) {
    while (!waiting_.empty() && waiting_.begin()->first == next_) {
      auto node = waiting_.extract(waiting_.begin());
      ++next_;
      emit(node.mapped());
    }
  }

  // Emits every waiting piece in order, over the gaps (the last flush before the process ends).
  // Returns how many numbers were skipped.
  template <class Emit>
  uint64_t release_all(Emit&& emit) {
    uint64_t skipped = 0;
    while (!waiting_.empty()) {
      auto node = waiting_.extract(waiting_.begin());
      skipped += node.key() - next_;
      next_ = node.key() + 1;
      emit(node.mapped());
    }
    return skipped;
  }

  uint64_t next() const { return next_; }
  size_t waiting() const { return waiting_.size(); }

private:
  uint64_t next_;
  std::map<uint64_t, T> waiting_;
};

} // namespace troupe::persistence
