#include "persistence/snapshot.hpp"

#include "protocol/key_slot.hpp"

namespace troupe::persistence {

namespace {

std::string cow_key(int db, std::string_view key) {
  std::string s = std::to_string(db);
  s.push_back(':');
  s.append(key.data(), key.size());
  return s;
}

} // namespace

slot_range_snapshot::slot_range_snapshot(keyspace::dataset& data, int first_slot, int last_slot,
                                         rdb_save_options opts)
  : data_(&data), first_(first_slot), last_(last_slot), opts_(opts), cur_slot_(first_slot),
    db_done_(static_cast<size_t>(data.count()), false) {
  for (int db = 0; db < data.count(); ++db)
    for (int slot = first_slot; slot <= last_slot; ++slot)
      if (const keyspace::table* t = data.db(db).slot(slot))
        total_ += t->size();
}

bool slot_range_snapshot::visited(int db, int slot) const {
  if (done_ || db_done_[static_cast<size_t>(db)] || db < cur_db_)
    return true;
  return db == cur_db_ && slot < cur_slot_;
}

void slot_range_snapshot::write(int db, const keyspace::entry* e) {
  if (out_.empty() || out_.back().first != db)
    out_.emplace_back(db, std::string());
  auto& buf = out_.back().second;
  size_t before = buf.size();
  rdb_write_key(buf, e, opts_);
  bytes_ += buf.size() - before;
  ++keys_;
}

void slot_range_snapshot::before_write(int db, std::string_view key) {
  int slot = protocol::key_slot(key);
  if (slot < first_ || slot > last_ || visited(db, slot))
    return;
  if (!cow_.insert(cow_key(db, key)).second)
    return; // settled already (saved, or absent at the start)
  keyspace::table* t = data_->db(db).slot(slot);
  if (t == nullptr)
    return;
  if (const keyspace::entry* e = t->find(key, keyspace::hash_key(key)))
    write(db, e);
}

void slot_range_snapshot::serialize_slot(int db, int slot) {
  keyspace::table* t = data_->db(db).slot(slot);
  if (t == nullptr)
    return;
  t->for_each([&](keyspace::entry* e) {
    if (cow_.empty() || !cow_.count(cow_key(db, e->key())))
      write(db, e);
  });
}

void slot_range_snapshot::before_write_all(int db) {
  if (done_ || db_done_[static_cast<size_t>(db)] || db < cur_db_)
    return;
  for (int s = (db == cur_db_ ? cur_slot_ : first_); s <= last_; ++s)
    serialize_slot(db, s);
  db_done_[static_cast<size_t>(db)] = true;
  if (db == cur_db_)
    advance();
}

void slot_range_snapshot::advance() {
  // Move to the next slot not yet serialized.
  for (;;) {
    if (cur_db_ >= data_->count()) {
      done_ = true;
      cow_.clear();
      return;
    }
    if (db_done_[static_cast<size_t>(cur_db_)] || cur_slot_ > last_) {
      ++cur_db_;
      cur_slot_ = first_;
      continue;
    }
    return;
  }
}

bool slot_range_snapshot::step(size_t min_keys, uint64_t max_bytes, const std::atomic<bool>* stop) {
  uint64_t target = keys_ + min_keys;
  uint64_t byte_target = max_bytes > UINT64_MAX - bytes_ ? UINT64_MAX : bytes_ + max_bytes;
  advance();
  for (bool first = true; !done_ && keys_ < target && bytes_ < byte_target; first = false) {
    if (!first && stop != nullptr && stop->load(std::memory_order_relaxed))
      break;
    serialize_slot(cur_db_, cur_slot_);
    ++cur_slot_;
    advance();
  }
  return !done_;
}

std::vector<std::pair<int, std::string>> slot_range_snapshot::take() {
  std::vector<std::pair<int, std::string>> out;
  out.swap(out_);
  return out;
}

double slot_range_snapshot::progress() const {
  if (done_)
    return 1.0;
  double span = last_ - first_ + 1;
  double total = span * data_->count();
  double seen = cur_db_ * span + (cur_slot_ - first_);
  return total > 0 ? seen / total : 1.0;
}

} // namespace troupe::persistence
