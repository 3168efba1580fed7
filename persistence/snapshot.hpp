// A point-in-time copy of one slot_range's keys (its slots, in every database), taken without
// fork(): it is serialized a few slots at a time between the range's batches (step), and a key about
// to change before its slot's turn is serialized first (before_write: copy on write); keys
// created after the start are left out. The records (RDB key records, per database) go to
// whoever writes the file.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "keyspace/database.hpp"
#include "keyspace/key_events.hpp"
#include "persistence/rdb_codec.hpp"

namespace troupe::persistence {

class slot_range_snapshot : public keyspace::write_listener {
public:
  slot_range_snapshot(keyspace::dataset& data, int first_slot, int last_slot, rdb_save_options opts);

  void before_write(int db, std::string_view key) override;
  void before_write_all(int db) override;

  // Serializes whole slots until at least `min_keys` more keys or `max_bytes` more bytes are out
  // (or all is done), or, after the first slot, until `*stop` is raised (another thread wants the
  // data back). Returns false once everything is serialized.
  bool step(size_t min_keys, uint64_t max_bytes = UINT64_MAX, const std::atomic<bool>* stop = nullptr);
  bool done() const { return done_; }
  // Key records produced since the last call, per database, in order.
  std::vector<std::pair<int, std::string>> take();
  uint64_t keys() const { return keys_; }
  // Keys present at the start (some may be gone before their turn: keys() may end lower).
  uint64_t total() const { return total_; }
  uint64_t bytes() const { return bytes_; }
  // Progress: slots serialized over slots in all databases.
  double progress() const;

private:
  bool visited(int db, int slot) const;
  void write(int db, const keyspace::entry* e);
  void serialize_slot(int db, int slot);
  void advance();

  keyspace::dataset* data_;
  int first_, last_;
  rdb_save_options opts_;
  int cur_db_ = 0;
  int cur_slot_;
  bool done_ = false;
  std::vector<bool> db_done_;
  std::unordered_set<std::string> cow_;   // "db:key" of keys settled ahead of their slot
  std::vector<std::pair<int, std::string>> out_;
  uint64_t keys_ = 0, bytes_ = 0, total_ = 0;
};

} // namespace troupe::persistence
