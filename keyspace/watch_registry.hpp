// WATCH bookkeeping for the keys of one slot_range: which clients watch which keys, and which
// clients saw a watched key change (their EXEC must fail). Pure; the slot_range owns one, and a
// connection holding its lock may use it directly.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace troupe::keyspace {

class watch_registry {
public:
  // `expired_now`: the key existed but had already expired when watched (such a key only makes
  // EXEC fail if it is touched later, as in Redis 7.0).
  void watch(int db, std::string_view key, uint64_t client, bool expired_now);
  void unwatch(uint64_t client);
  void touched(int db, std::string_view key);
  // Every key of `db` changes: the clients watching a key for which `existed` is true.
  void touched_all(int db, const std::function<bool(std::string_view)>& existed);
  bool dirty(uint64_t client) const { return dirty_.count(client) != 0; }
  // The keys `client` watches here, with whether each was already expired when watched.
  struct watched {
    int db;
    std::string key;
    bool expired_at_watch;
  };
  std::vector<watched> keys_of(uint64_t client) const;
  size_t watched_keys() const { return by_key_.size(); }
  size_t watching_clients() const { return by_client_.size(); }

private:
  using key_t = std::pair<int, std::string>;
  std::map<key_t, std::set<uint64_t>> by_key_;
  std::unordered_map<uint64_t, std::vector<watched>> by_client_;
  std::set<uint64_t> dirty_;
};

} // namespace troupe::keyspace
