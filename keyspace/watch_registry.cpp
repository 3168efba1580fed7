#include "keyspace/watch_registry.hpp"

namespace troupe::keyspace {

void watch_registry::watch(int db, std::string_view key, uint64_t client, bool expired_now) {
  auto& clients = by_key_[{db, std::string(key)}];
  if (!clients.insert(client).second)
    return; // already watched
  by_client_[client].push_back({db, std::string(key), expired_now});
}

void watch_registry::unwatch(uint64_t client) {
  auto it = by_client_.find(client);
  if (it != by_client_.end()) {
    for (auto& w : it->second) {
      auto k = by_key_.find({w.db, w.key});
      if (k != by_key_.end()) {
        k->second.erase(client);
        if (k->second.empty())
          by_key_.erase(k);
      }
    }
    by_client_.erase(it);
  }
  dirty_.erase(client);
}

void watch_registry::touched(int db, std::string_view key) {
  if (by_key_.empty())
    return;
  auto it = by_key_.find({db, std::string(key)});
  if (it != by_key_.end())
    dirty_.insert(it->second.begin(), it->second.end());
}

void watch_registry::touched_all(int db, const std::function<bool(std::string_view)>& existed) {
  for (auto& [k, clients] : by_key_)
    if (k.first == db && existed(k.second))
      dirty_.insert(clients.begin(), clients.end());
}

std::vector<watch_registry::watched> watch_registry::keys_of(uint64_t client) const {
  auto it = by_client_.find(client);
  return it == by_client_.end() ? std::vector<watched>{} : it->second;
}

} // namespace troupe::keyspace
