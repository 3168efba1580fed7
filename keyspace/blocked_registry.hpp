// Clients blocked on keys of one slot_range (BLPOP & co.): who waits on which key, in arrival
// order, and which keys gained elements since last asked. Pure; the slot_range serves the
// waiters of ready keys in order by re-running their commands.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
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

} // namespace troupe::keyspace
