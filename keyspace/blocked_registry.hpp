// Clients blocked on keys of one slot_range (BLPOP & co.): who waits on which key, in arrival
// order, and which keys gained elements since last asked. Pure; the slot_range serves the
// waiters of ready keys in order by re-running their commands.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace troupe::keyspace {

class blocked_registry {
public:
  using key_t = std::pair<int, std::string>;

  void add(uint64_t waiter, int db, const std::vector<std::string>& keys);
  void remove(uint64_t waiter);
  bool empty() const { return by_waiter_.empty(); }
  size_t waiters() const { return by_waiter_.size(); }
  // A key gained elements: remembered only if someone waits on it.
  void ready(int db, std::string_view key);
  // Every key of `db` for which `exists` is true (SWAPDB brought a whole database in).
  void ready_all(int db, const std::function<bool(std::string_view)>& exists);
  // The next ready key (in the order they became ready), or nothing.
  std::optional<key_t> next_ready();
  // The waiters of a key, first come first.
  std::vector<uint64_t> waiters_of(const key_t& key) const;

private:
  std::map<key_t, std::deque<uint64_t>> by_key_;
  std::unordered_map<uint64_t, std::vector<key_t>> by_waiter_;
  std::deque<key_t> ready_;
  std::set<key_t> ready_set_;
};

// Clients blocked on keys of several slot_ranges, which poll instead of waiting in one of them:
// the arrival number of each, by key. A slot_range serves its own waiters of a key only while no
// poller that blocked before them waits on it too (first blocked, first served, as Redis). Shared
// by the slot_ranges and connections of a node, hence the mutex.
class poll_registry {
public:
  void add(uint64_t seq, int db, const std::vector<std::string>& keys);
  void remove(uint64_t seq);
  // The arrival number of the earliest poller waiting on the key; UINT64_MAX if none.
  uint64_t earliest(int db, std::string_view key) const;
  bool empty() const { return count_.load(std::memory_order_acquire) == 0; }

private:
  using key_t = std::pair<int, std::string>;
  mutable std::mutex mutex_;
  std::map<key_t, std::set<uint64_t>> by_key_;
  std::unordered_map<uint64_t, std::vector<key_t>> by_seq_;
  std::atomic<size_t> count_{0};
};

} // namespace troupe::keyspace
