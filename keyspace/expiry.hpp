// Active expiry: a slot_range walks its slots a little at a time between batches and deletes the
// keys whose time has passed (lazy expiry on access catches the rest).
#pragma once

#include <cstdint>

#include "keyspace/context.hpp"

namespace troupe::keyspace {

struct expire_cursor {
  int slot = -1;      // -1: start at the first slot
  uint64_t pos = 0;   // bucket cursor inside the slot's table
  int64_t idle_until = 0;   // the slots held no key with an expiry: not looked at before then (ms)
};

// How long slots found without any key with an expiry are left alone: counting them reads every
// slot's table (half a MB per db for all 16384 slots, about 12 us with cold caches), too much for
// every 100 ms tick.
constexpr int64_t expire_idle_recheck_ms = 1000;

// When a db found idle at `now_ms` is counted again: at its own moment of each
// expire_idle_recheck_ms period (db i at i/16 of it), so that the 16 dbs' counts are spread over
// the period's ticks instead of all falling in one (about 0.2 ms with cold caches).
int64_t next_idle_recheck(int64_t now_ms, int db_index);

// Examines at most `max_buckets` buckets of tables holding keys with an expiry, in slots
// [first, last] of `db`, from `cur` on; deletes the expired keys it finds. Returns how many it deleted.
// Slots with no key with an expiry at all are looked at again at next_idle_recheck().
// `observer` (may be null) hears of each deleted key, as touched in database `db_index`.
size_t active_expire_step(database& db, int first, int last, expire_cursor& cur, int64_t now_ms,
                          size_t max_buckets, keyspace_stats& stats, key_observer* observer = nullptr,
                          int db_index = 0, effects_buffer* effects = nullptr);

} // namespace troupe::keyspace
