#include "keyspace/context.hpp"

namespace troupe::keyspace {

uint32_t lru_clock(int64_t now_ms) { return static_cast<uint32_t>(now_ms / 1000); }

namespace {
uint32_t lfu_minutes(int64_t now_ms) { return static_cast<uint32_t>((now_ms / 60000) & 65535); }
} // namespace

uint32_t lfu_stamp(int64_t now_ms, uint32_t counter) { return (lfu_minutes(now_ms) << 8) | (counter & 255); }

uint32_t lfu_decayed_counter(uint32_t lru, int64_t now_ms, int64_t decay_time) {
  uint32_t ldt = (lru & 0xFFFFFF) >> 8; // Redis keeps 24 bits
  uint32_t counter = lru & 255;
  uint32_t now = lfu_minutes(now_ms);
  uint32_t elapsed = now >= ldt ? now - ldt : 65535 - ldt + now;
  uint64_t periods = decay_time > 0 ? elapsed / static_cast<uint64_t>(decay_time) : 0;
  if (periods > 0)
    counter = periods > counter ? 0 : counter - static_cast<uint32_t>(periods);
  return counter;
}

void exec_context::touch_lru(entry* e) {
  if (!settings_->lfu) {
    e->lru = lru_clock(now_ms_);
    return;
  }
  // Redis's updateLFU: decay, then a logarithmic increment (LFULogIncr).
  uint32_t counter = lfu_decayed_counter(e->lru, now_ms_, settings_->lfu_decay_time);
  if (counter < 255) {
    double r = std::uniform_real_distribution<double>(0.0, 1.0)(*rng_);
    double base = counter > lfu_init_val ? static_cast<double>(counter - lfu_init_val) : 0.0;
    double p = 1.0 / (base * static_cast<double>(settings_->lfu_log_factor) + 1.0);
    if (r < p)
      ++counter;
  }
  e->lru = lfu_stamp(now_ms_, counter);
}

void effects_buffer::add(int db, const std::vector<std::string_view>& args) {
  protocol::resp_writer w(data);
  w.array(args.size());
  for (auto a : args)
    w.bulk(a);
  ends.emplace_back(static_cast<uint32_t>(data.size()), static_cast<uint32_t>(db));
}

void effects_buffer::wrap_in_multi(size_t first) {
  if (first >= ends.size())
    return;
  uint32_t db = ends[first].second;
  std::string multi;
  protocol::resp_writer(multi).array(1);
  protocol::resp_writer(multi).bulk("MULTI");
  uint32_t at = first == 0 ? 0 : ends[first - 1].first;
  data.insert(at, multi);
  auto shift = static_cast<uint32_t>(multi.size());
  for (size_t i = first; i < ends.size(); ++i)
    ends[i].first += shift;
  ends.insert(ends.begin() + static_cast<std::ptrdiff_t>(first), {at + shift, db});
  add(ends.back().second, {"EXEC"});
}

entry* exec_context::lookup(database& db, std::string_view key, bool read) {
  int s = slot_of(key);
  table* t = db.slot(s);
  entry* e = nullptr;
  if (t != nullptr) {
    uint32_t h = hash_of(key);
    e = t->find(key, h);
    if (e != nullptr && is_expired(e)) {
      int index = db_index_of(db);
      if (observer_)
        observer_->before_write(index, key);
      destroy_entry(t->detach(key, h));
      db.release_slot(s);
      ++stats_->expired;
      touched(index, key);
      if (effects_)
        effects_->add(index, {"DEL", key}); // expiry is propagated as a deletion, as Redis does
      e = nullptr;
    }
  }
  if (read) {
    if (e != nullptr)
      ++stats_->hits;
    else
      ++stats_->misses;
  } else if (observer_) {
    observer_->before_write(db_index_of(db), key);
  }
  if (e != nullptr)
    touch_lru(e);
  return e;
}

entry* exec_context::peek(database& db, std::string_view key) const {
  table* t = db.slot(protocol::key_slot(key));
  return t != nullptr ? t->find(key, hash_key(key)) : nullptr;
}

void exec_context::add(database& db, entry* e) {
  if (observer_)
    observer_->before_write(db_index_of(db), e->key());
  if (e->lru == 0)
    e->lru = fresh_lru(); // a new value (a renamed or moved one keeps its access figures)
  db.slot_for_write(protocol::key_slot(e->key())).insert(e);
  int index = db_index_of(db);
  touched(index, e->key());
  // A list or sorted set arriving under a key (created, renamed, moved) may serve blocked clients.
  if (observer_ && (e->type == vtype::list || e->type == vtype::zset))
    observer_->ready(index, e->key());
}

bool exec_context::remove(database& db, std::string_view key) {
  if (observer_)
    observer_->before_write(db_index_of(db), key);
  int s = protocol::key_slot(key);
  table* t = db.slot(s);
  if (t == nullptr)
    return false;
  entry* e = t->detach(key, hash_key(key));
  if (e == nullptr)
    return false;
  destroy_entry(e);
  db.release_slot(s);
  touched(db_index_of(db), key);
  return true;
}

void exec_context::replace(database& db, entry* old, entry* replacement, bool a_change) {
  if (observer_)
    observer_->before_write(db_index_of(db), old->key());   // (a snapshot needs the entry going away)
  // Under LFU an overwritten key keeps its access counter, as Redis's dbOverwrite does; a value
  // only re-encoded keeps its access time too.
  replacement->lru = settings_->lfu || !a_change ? old->lru : lru_clock(now_ms_);
  db.slot(protocol::key_slot(old->key()))->replace(old, replacement);
  destroy_entry(old);
  if (a_change)
    touched(db_index_of(db), replacement->key());
}

entry* exec_context::make_raw(entry* e) {
  if (e->type != vtype::string || e->enc == venc::raw)
    return e;
  int64_t expire = e->has_expire() ? e->expire() : -1;
  entry* fresh = make_string_entry(e->key(), e->hash, e->str(), expire, true);
  replace(*db_, e, fresh, false);
  return fresh;
}

// `value` into `e` without a new allocation, if it fits (overwrite_string) and the expiry stays
// (`expire` >= 0 replaces one in place).
bool exec_context::overwrite_in_place(entry* e, std::string_view value, int64_t expire, bool not_int) {
  if (e->has_expire() != (expire >= 0) || !overwrite_string(e, value, not_int))
    return false;
  if (expire >= 0)
    e->set_expire_in_place(expire);
  if (!settings_->lfu)
    e->lru = fresh_lru();
  return true;
}

void exec_context::set_string(std::string_view key, std::string_view value, bool keep_ttl, int64_t expire,
                              bool not_int, entry* current) {
  if (observer_)
    observer_->before_write(db_index_, key);
  if (current != nullptr) {
    // The entry lookup_write just gave for `key`: overwritten in place, it needs no finding.
    int64_t when = keep_ttl && current->has_expire() && expire < 0 ? current->expire() : expire;
    if (overwrite_in_place(current, value, when, not_int)) {
      touched(key);
      return;
    }
  }
  int s = slot_of(key);
  uint32_t h = hash_of(key);
  table& t = db_->slot_for_write(s);
  entry* old = t.find(key, h);
  if (keep_ttl && old != nullptr && old->has_expire() && expire < 0)
    expire = old->expire();
  if (old != nullptr && old != current && overwrite_in_place(old, value, expire, not_int)) {
    touched(key);
    return;
  }
  entry* e = make_string_entry(key, h, value, expire, false, not_int);
  e->lru = settings_->lfu && old != nullptr ? old->lru : fresh_lru();
  if (old != nullptr) {
    t.replace(old, e);
    destroy_entry(old);
  } else {
    t.insert(e);
  }
  touched(key);
}

entry* exec_context::set_expire(database& db, entry* e, int64_t when) {
  if (observer_)
    observer_->before_write(db_index_of(db), e->key());
  touched(db_index_of(db), e->key());
  if (when >= 0 && e->has_expire()) {
    e->set_expire_in_place(when);
    return e;
  }
  if (when < 0 && !e->has_expire())
    return e;
  table* t = db.slot(protocol::key_slot(e->key()));
  entry* fresh = rebuild_with_expire(e, when);
  t->replace(e, fresh);
  free_shell(e);
  return fresh;
}

bool exec_context::wrong_type(const entry* e, vtype t) {
  if (e != nullptr && e->type != t) {
    out_->error("WRONGTYPE Operation against a key holding the wrong kind of value");
    return true;
  }
  return false;
}

entry* exec_context::blocking_source(std::string_view key, vtype t, bool& failed) {
  failed = false;
  if (block_retry_ && !ready_key_.empty() && key != ready_key_)
    return nullptr;
  if (claimed_ && claimed_(key))
    return nullptr;
  entry* e = lookup_write(key);
  if (e == nullptr)
    return nullptr;
  if (e->type != t) {
    if (block_retry_)
      return nullptr;
    failed = wrong_type(e, t);
    return nullptr;
  }
  return e;
}

void exec_context::reply_arity() {
  out_->error("ERR wrong number of arguments for '" + *command_name_ + "' command");
}

} // namespace troupe::keyspace
