#include "keyspace/blocked_registry.hpp"

#include <algorithm>

namespace troupe::keyspace {

void blocked_registry::add(uint64_t waiter, int db, const std::vector<std::string>& keys) {
  auto& mine = by_waiter_[waiter];
  for (auto& k : keys) {
    key_t key{db, k};
    if (std::find(mine.begin(), mine.end(), key) != mine.end())
      continue; // BLPOP k k: one place in the queue
    mine.push_back(key);
    by_key_[key].push_back(waiter);
  }
}

void blocked_registry::remove(uint64_t waiter) {
  auto it = by_waiter_.find(waiter);
  if (it == by_waiter_.end())
    return;
  for (auto& key : it->second) {
    auto q = by_key_.find(key);
    if (q == by_key_.end())
      continue;
    q->second.erase(std::remove(q->second.begin(), q->second.end(), waiter), q->second.end());
    if (q->second.empty())
      by_key_.erase(q);
  }
  by_waiter_.erase(it);
}

void blocked_registry::ready(int db, std::string_view key) {
  if (by_key_.empty())
    return;
  key_t k{db, std::string(key)};
  if (by_key_.count(k) && ready_set_.insert(k).second)
    ready_.push_back(std::move(k));
}

void blocked_registry::ready_all(int db, const std::function<bool(std::string_view)>& exists) {
  for (auto& [k, waiters] : by_key_)
    if (k.first == db && exists(k.second) && ready_set_.insert(k).second)
      ready_.push_back(k);
}

std::optional<blocked_registry::key_t> blocked_registry::next_ready() {
  while (!ready_.empty()) {
    key_t k = std::move(ready_.front());
    ready_.pop_front();
    ready_set_.erase(k);
    if (by_key_.count(k))
      return k;
  }
  return std::nullopt;
}

void poll_registry::add(uint64_t seq, int db, const std::vector<std::string>& keys) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& mine = by_seq_[seq];
  for (auto& k : keys) {
    key_t key{db, k};
    if (by_key_[key].insert(seq).second)
      mine.push_back(std::move(key));
  }
  count_.store(by_seq_.size(), std::memory_order_release);
}

void poll_registry::remove(uint64_t seq) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = by_seq_.find(seq);
  if (it == by_seq_.end())
    return;
  for (auto& key : it->second) {
    auto k = by_key_.find(key);
    if (k != by_key_.end() && k->second.erase(seq) && k->second.empty())
      by_key_.erase(k);
  }
  by_seq_.erase(it);
  count_.store(by_seq_.size(), std::memory_order_release);
}

uint64_t poll_registry::earliest(int db, std::string_view key) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = by_key_.find(key_t{db, std::string(key)});
  return it == by_key_.end() || it->second.empty() ? UINT64_MAX : *it->second.begin();
}

std::vector<uint64_t> blocked_registry::waiters_of(const key_t& key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? std::vector<uint64_t>{} : std::vector<uint64_t>(it->second.begin(), it->second.end());
}

} // namespace troupe::keyspace
