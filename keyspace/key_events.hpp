// What a slot_range remembers about its keys beyond their values: WATCHers and blocked clients.
// key_observer implementations route the keyspace's touched()/ready() reports here: to one
// slot_range's events, or (for a connection holding several locks) by the key's slot.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "keyspace/blocked_registry.hpp"
#include "keyspace/context.hpp"
#include "keyspace/watch_registry.hpp"
#include "protocol/key_slot.hpp"

namespace troupe::keyspace {

// A point-in-time snapshot in progress in a slot_range (see persistence/): hears about each key
// about to change, to save its old value first.
class write_listener {
public:
  virtual ~write_listener() = default;
  virtual void before_write(int db, std::string_view key) = 0;
  virtual void before_write_all(int db) = 0;
};

struct key_events {
  watch_registry watches;
  blocked_registry blocked;
  write_listener* snapshot = nullptr;   // set while a snapshot of this slot_range is in progress
};

class events_observer : public key_observer {
public:
  // All keys belong to `single`.
  explicit events_observer(key_events* single) : single_(single) {}
  // Keys belong to all[owner[slot(key)]].
  events_observer(const std::array<uint16_t, protocol::slot_count>* owner, std::vector<key_events*> all)
    : owner_(owner), all_(std::move(all)) {}

  void touched(int db, std::string_view key) override { of(key).watches.touched(db, key); }
  void ready(int db, std::string_view key) override { of(key).blocked.ready(db, key); }
  void ready_all(int db, const std::function<bool(std::string_view)>& exists) override {
    if (single_)
      single_->blocked.ready_all(db, exists);
    else
      for (auto* e : all_)
        e->blocked.ready_all(db, exists);
  }
  void touched_all(int db, const std::function<bool(std::string_view)>& existed) override {
    if (single_)
      single_->watches.touched_all(db, existed);
    else
      for (auto* e : all_)
        e->watches.touched_all(db, existed);
  }
  void watch(int db, std::string_view key, uint64_t client, bool expired) override {
    of(key).watches.watch(db, key, client, expired);
  }
  void before_write(int db, std::string_view key) override {
    if (auto* s = of(key).snapshot)
      s->before_write(db, key);
  }
  void before_write_all(int db) override {
    if (single_) {
      if (single_->snapshot)
        single_->snapshot->before_write_all(db);
      return;
    }
    for (auto* e : all_)
      if (e->snapshot)
        e->snapshot->before_write_all(db);
  }

private:
  key_events& of(std::string_view key) {
    return single_ ? *single_ : *all_[(*owner_)[static_cast<size_t>(protocol::key_slot(key))]];
  }
  key_events* single_ = nullptr;
  const std::array<uint16_t, protocol::slot_count>* owner_ = nullptr;
  std::vector<key_events*> all_;
};

} // namespace troupe::keyspace
