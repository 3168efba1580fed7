// Active expiry: a slot_range walks its slots a little at a time between batches and deletes the
// keys whose time has passed (lazy expiry on access catches the rest).
#pragma once

#include <cstdint>

#include "keyspace/context.hpp"

namespace troupe::keyspace {

struct expire_cursor {
  int slot = -1;      // -1: start at the first slot
  uint64_t pos = 0;   // bucket cursor inside the slot's table
};

// Examines at most `max_buckets` buckets of tables holding keys with an expiry, in slots
// [first, last] of `db`, from `cur` on; deletes the expired keys it finds. Returns how many it deleted.
// `observer` (may be null) hears of each deleted key, as touched in database `db_index`.
size_t active_expire_step(database& db, int first, int last, expire_cursor& cur, int64_t now_ms,
                          size_t max_buckets, keyspace_stats& stats, key_observer* observer = nullptr,
                          int db_index = 0, effects_buffer* effects = nullptr);

} // namespace troupe::keyspace
