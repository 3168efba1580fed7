#include "keyspace/expiry.hpp"

#include <string>
#include <vector>

namespace troupe::keyspace {

int64_t next_idle_recheck(int64_t now_ms, int db_index) {
  const int64_t period = expire_idle_recheck_ms;
  const int64_t phase = (db_index % 16) * period / 16;
  // The first time after now_ms that is phase past a multiple of the period (now_ms >= 0).
  return (now_ms - phase + period) / period * period + phase;
}

size_t active_expire_step(database& db, int first, int last, expire_cursor& cur, int64_t now_ms,
                          size_t max_buckets, keyspace_stats& stats, key_observer* observer, int db_index,
                          effects_buffer* effects) {
  if (now_ms < cur.idle_until)
    return 0;
  if (db.volatile_count(first, last) == 0) {
    cur.idle_until = next_idle_recheck(now_ms, db_index);
    return 0;
  }
  if (cur.slot < first || cur.slot > last) {
    cur.slot = first;
    cur.pos = 0;
  }
  size_t deleted = 0, visited = 0;
  int slots_seen = 0;
  std::vector<std::string> doomed;
  const int span = last - first + 1;
  while (visited < max_buckets && slots_seen <= span) {
    table* t = db.slot(cur.slot);
    if (t == nullptr || t->volatile_count() == 0) {
      if (t != nullptr)
        db.release_slot(cur.slot);
      cur.pos = 0;
      cur.slot = cur.slot == last ? first : cur.slot + 1;
      ++slots_seen;
      continue;
    }
    doomed.clear();
    cur.pos = t->scan(cur.pos, [&](entry* e) {
      if (e->has_expire() && e->expire() < now_ms)
        doomed.emplace_back(e->key());
    });
    ++visited;
    for (auto& k : doomed) {
      if (observer)
        observer->before_write(db_index, k);
      if (effects)
        effects->add(db_index, {"DEL", k}); // expiry is propagated as a deletion
      destroy_entry(t->detach(k, hash_key(k)));
      ++deleted;
      if (observer)
        observer->touched(db_index, k);
    }
    if (cur.pos == 0) {
      int s = cur.slot;
      cur.slot = cur.slot == last ? first : cur.slot + 1;
      ++slots_seen;
      db.release_slot(s);
    }
  }
  stats.expired += deleted;
  ++stats.expire_cycles;
  return deleted;
}

} // namespace troupe::keyspace
