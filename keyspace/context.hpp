// What a data command runs against: the dataset, the selected database, the arguments, the clock,
// the reply writer and the statistics of whoever executes it (a slot_range actor, or a connection
// holding the locks of several). Commands are plain functions of this context.
#pragma once

#include <functional>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "keyspace/database.hpp"
#include "keyspace/table.hpp"
#include "protocol/key_slot.hpp"
#include "protocol/resp_writer.hpp"

namespace troupe::keyspace {

using args_t = std::vector<std::string_view>;

// Counters a slot_range keeps and INFO sums up.
struct keyspace_stats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t expired = 0;
  uint64_t dirty = 0;          // changes since the last save
  uint64_t expire_cycles = 0;
  uint64_t error_replies = 0;   // commands run here that answered an error
  void add(const keyspace_stats& o) {
    hits += o.hits;
    misses += o.misses;
    expired += o.expired;
    dirty += o.dirty;
    expire_cycles += o.expire_cycles;
    error_replies += o.error_replies;
  }
};

// Server settings commands depend on.
struct keyspace_settings {
  int64_t proto_max_bulk_len = 512ll * 1024 * 1024;
  bool cluster_enabled = false;
  int64_t slot_ranges = 1;   // the node's slot-range actors (slot-actors, raised to one per I/O loop)
  bool active_expire = true;
  // Encoding thresholds (redis.conf names).
  int64_t hash_max_listpack_entries = 512;
  int64_t hash_max_listpack_value = 64;
  int64_t set_max_intset_entries = 512;
  int64_t zset_max_listpack_entries = 128;
  int64_t zset_max_listpack_value = 64;
  int64_t list_max_listpack_size = -2;
  int64_t list_compress_depth = 0;
  // An LFU maxmemory-policy (allkeys-lfu, volatile-lfu): entries keep Redis's LFU figures (the
  // minutes clock and a logarithmic access counter) instead of their last access time, for
  // OBJECT FREQ.
  bool lfu = false;
  int64_t lfu_log_factor = 10;
  int64_t lfu_decay_time = 1;
};

// The write effects of the commands an actor ran, for the AOF (and replication): RESP commands,
// each tagged with its database, in execution order.
struct effects_buffer {
  std::string data;
  std::vector<std::pair<uint32_t, uint32_t>> ends;   // (end offset in data, db) per command
  bool empty() const { return ends.empty(); }
  void clear() {
    data.clear();
    ends.clear();
  }
  void add(int db, const std::vector<std::string_view>& args);
  // Puts MULTI before command `first` and EXEC after the last command.
  void wrap_in_multi(size_t first);
};

// Told about every key a command changes (WATCH) and every list or sorted set that gains
// elements (blocked clients). The executing actor installs one; tests may too.
class key_observer {
public:
  virtual ~key_observer() = default;
  // A key is about to change (written, created or deleted): a point-in-time snapshot in progress
  // saves its old value first.
  virtual void before_write(int db, std::string_view key) {}
  // Every key of a database is about to change (FLUSHDB, FLUSHALL, SWAPDB).
  virtual void before_write_all(int db) {}
  virtual void touched(int db, std::string_view key) = 0;
  virtual void ready(int db, std::string_view key) = 0;
  // Keys of a whole database may have gained data (SWAPDB): those `exists` says are there.
  virtual void ready_all(int, const std::function<bool(std::string_view)>&) {}
  // Every key of a database is about to change (FLUSHDB, FLUSHALL, SWAPDB): a watched key is
  // touched if `existed` says so (as Redis: WATCH of a missing key survives a FLUSHALL).
  virtual void touched_all(int db, const std::function<bool(std::string_view)>& existed) = 0;
  // WATCH key (for `client`); `expired`: the key had already expired when watched.
  virtual void watch(int db, std::string_view key, uint64_t client, bool expired) = 0;
};

// The seconds clock OBJECT IDLETIME is measured with.
uint32_t lru_clock(int64_t now_ms);
// Redis's LFU figures, kept in entry::lru under an LFU policy: (minutes clock << 8) | counter.
constexpr uint32_t lfu_init_val = 5;
uint32_t lfu_stamp(int64_t now_ms, uint32_t counter);
// The counter of `lru`, decayed by the minutes elapsed since its last access (LFUDecrAndReturn).
uint32_t lfu_decayed_counter(uint32_t lru, int64_t now_ms, int64_t decay_time);

class exec_context {
public:
  exec_context(dataset& data, keyspace_stats& stats, const keyspace_settings& settings, std::mt19937_64& rng)
    : data_(&data), stats_(&stats), settings_(&settings), rng_(&rng) {}

  // Set before each command.
  void begin(int db_index, const args_t& args, protocol::resp_writer& out, int64_t now_ms) {
    db_index_ = db_index;
    db_ = &data_->db(db_index);
    args_ = &args;
    out_ = &out;
    now_ms_ = now_ms;
    blocked_ = false;
    block_timeout_ms_ = 0;
  }

  const args_t& args() const { return *args_; }
  // An argument; past the last one, an empty view (a command that miscounts reads nothing stale).
  std::string_view arg(size_t i) const { return i < args_->size() ? (*args_)[i] : std::string_view(); }
  size_t argc() const { return args_->size(); }
  protocol::resp_writer& out() { return *out_; }
  int64_t now_ms() const { return now_ms_; }
  int db_index() const { return db_index_; }
  database& db() { return *db_; }
  dataset& data() { return *data_; }
  keyspace_stats& stats() { return *stats_; }
  const keyspace_settings& settings() const { return *settings_; }
  std::mt19937_64& rng() { return *rng_; }
  const std::string& command_name() const { return *command_name_; }
  void set_command_name(const std::string& name) { command_name_ = &name; }

  // Key access in the selected database (or in `db` for the *_in variants). Expired keys are
  // deleted on access. Reads count keyspace hits and misses.
  entry* lookup_read(std::string_view key) { return lookup(*db_, key, true); }
  entry* lookup_write(std::string_view key) { return lookup(*db_, key, false); }
  entry* lookup_in(database& db, std::string_view key, bool read) { return lookup(db, key, read); }
  // Finds a key without expiring it or counting it (DEBUG commands).
  entry* peek(database& db, std::string_view key) const;

  // Adds an entry whose key is absent from `db`.
  void add(database& db, entry* e);
  void add(entry* e) { add(*db_, e); }
  // Removes a key; true if it was there.
  bool remove(database& db, std::string_view key);
  bool remove(std::string_view key) { return remove(*db_, key); }
  // Puts `replacement` in place of `old` (same key), frees `old`. `a_change` false: the same value
  // in another form (nothing reported as touched, the access time kept).
  void replace(database& db, entry* old, entry* replacement, bool a_change = true);
  void replace(entry* old, entry* replacement) { replace(*db_, old, replacement); }
  // The same string value as a raw string (what Redis's bit commands do to the value they are
  // given before looking at it): not a change, so nothing is reported as touched. Returns the
  // entry now under the key.
  entry* make_raw(entry* e);
  // Stores a string under `key`, replacing whatever was there; keeps the old expiry if keep_ttl.
  // `not_int`: stored as a string even when it reads as an integer (INCRBYFLOAT's result).
  // `current`: what lookup_write(key) returned just before, if the caller has it (a value of the
  // same size then goes in place without finding the key again).
  void set_string(std::string_view key, std::string_view value, bool keep_ttl = false, int64_t expire = -1,
                  bool not_int = false, entry* current = nullptr);
  // Sets or removes (when < 0) the expiry of an existing key; returns the (possibly moved) entry.
  entry* set_expire(entry* e, int64_t when) { return set_expire(*db_, e, when); }
  entry* set_expire(database& db, entry* e, int64_t when);

  bool is_expired(const entry* e) const { return e->has_expire() && e->expire() < now_ms_; }
  // The access clock of a new value: now (LRU), or the LFU figures of a new object.
  uint32_t fresh_lru() const { return settings_->lfu ? lfu_stamp(now_ms_, lfu_init_val) : lru_clock(now_ms_); }
  // An access to `e`: now (LRU), or a decayed and maybe incremented LFU counter.
  void touch_lru(entry* e);

  // ---- WATCH and blocking commands -----------------------------------------------------------
  // add / remove / replace / set_string / set_expire report the key as touched themselves; a
  // command that changes a value in place (a collection, an appended string) calls touched() for
  // it. Commands that add elements to a list or sorted set call ready() too.
  void touched(std::string_view key) { touched(db_index_, key); }
  void touched(int db, std::string_view key) {
    if (observer_)
      observer_->touched(db, key);
  }
  void touched_all(int db, const std::function<bool(std::string_view)>& existed) {
    if (observer_)
      observer_->touched_all(db, existed);
  }
  void ready_all(int db, const std::function<bool(std::string_view)>& exists) {
    if (observer_)
      observer_->ready_all(db, exists);
  }
  void before_write_all(int db) {
    if (observer_)
      observer_->before_write_all(db);
  }
  void ready(std::string_view key) {
    if (observer_)
      observer_->ready(db_index_, key);
  }
  void set_observer(key_observer* o) { observer_ = o; }
  // The client running the command (for WATCH).
  void set_client(uint64_t id) { client_ = id; }
  // The slot and hash of `key` (a view into the command's arguments), computed already: a lookup
  // or set_string of that very view (same address and size) uses them. Clear it (nullptr) once the
  // command is done: the next one's arguments may lie at the same address.
  void set_key_hint(const char* key, size_t size, int slot, uint32_t hash) {
    hint_key_ = key;
    hint_size_ = size;
    hint_slot_ = slot;
    hint_hash_ = hash;
  }
  void clear_key_hint() {
    hint_key_ = nullptr;
    hint_size_ = no_hint;   // (so that not even a null view of size 0 matches)
  }
  void watch(std::string_view key, bool expired) {
    if (observer_)
      observer_->watch(db_index_, key, client_, expired);
  }
  // ---- propagation --------------------------------------------------------------------------
  // With effects set, every command that changed something is recorded there as it was called,
  // unless it recorded its own effect with propagate() (a deterministic rewrite, e.g. EXPIRE as
  // PEXPIREAT with the absolute time, SPOP as SREM of what it popped).
  void set_effects(effects_buffer* e) { effects_ = e; }
  effects_buffer* effects() const { return effects_; }
  // A command that propagates several commands (SPOP with a count: one SREM per member) enters
  // the AOF wrapped in MULTI ... EXEC, as Redis 7.0 writes it, unless it runs inside a transaction
  // (EXEC wraps the whole transaction itself).
  void propagate(const std::vector<std::string_view>& args) {
    if (effects_ && propagated_count_ == 0)
      first_propagated_ = effects_->ends.size();
    propagated_ = true;
    ++propagated_count_;
    if (effects_)
      effects_->add(db_index_, args);
  }
  // Set while the commands of a MULTI/EXEC run (their effects are wrapped as one transaction).
  void set_in_transaction(bool v) { in_transaction_ = v; }
  // Called by execute(): records the call itself when the command changed data and did not
  // propagate anything of its own.
  void begin_command() {
    propagated_ = false;
    propagated_count_ = 0;
    dirty_at_start_ = stats_->dirty;
  }
  void end_command() {
    if (effects_ && !propagated_ && stats_->dirty != dirty_at_start_)
      effects_->add(db_index_, *args_);
    else if (effects_ && propagated_count_ > 1 && !in_transaction_)
      effects_->wrap_in_multi(first_propagated_);
  }

  // A blocking command (BLPOP ...) that finds nothing to serve calls block(timeout_ms) instead of
  // replying, when blocking_allowed(); otherwise (inside MULTI, in a script) it replies as if the
  // timeout had expired (a null array). timeout_ms 0 means forever.
  bool blocking_allowed() const { return blocking_allowed_; }
  void set_blocking_allowed(bool v) { blocking_allowed_ = v; }
  // Write commands get an error instead of running (the node is taking its final snapshot).
  bool writes_refused() const { return writes_refused_; }
  void set_writes_refused(bool v) { writes_refused_ = v; }
  void block(int64_t timeout_ms) {
    blocked_ = true;
    block_timeout_ms_ = timeout_ms;
  }
  bool blocked() const { return blocked_; }
  // Set while a blocked client's command runs again because its keys may have data now. With
  // `ready_key`, the slot_range serves it from that key alone, as Redis serves a blocked client
  // from the key that became ready; without, any of its keys (polling across slot ranges). Either
  // way a key that is empty or holds another type leaves the client blocked (no WRONGTYPE: Redis
  // only hands a ready key of the type the client waits for to it).
  void set_block_retry(bool retry, std::string_view ready_key = {}) {
    block_retry_ = retry;
    ready_key_ = std::string(ready_key);
  }
  bool block_retry() const { return block_retry_; }
  // Keys whose data is kept for a client that blocked earlier (one polling across slot ranges):
  // a blocking command treats them as empty. Empty function: none.
  void set_block_claimed(std::function<bool(std::string_view)> claimed) { claimed_ = std::move(claimed); }
  // For a blocking command looking at `key` (a list or sorted set: `t`): its entry when the
  // command may pop from it now; nullptr when empty or (on a retry) not the ready key or of
  // another type. Replies WRONGTYPE and sets `failed` for another type at the first attempt.
  entry* blocking_source(std::string_view key, vtype t, bool& failed);
  int64_t block_timeout_ms() const { return block_timeout_ms_; }
  database& db_at(int i) { return data_->db(i); }
  int db_index_of(const database& db) const {
    for (int i = 0; i < data_->count(); ++i)
      if (&data_->db(i) == &db)
        return i;
    return db_index_;
  }
  // Replies WRONGTYPE and returns true when `e` exists with another type.
  bool wrong_type(const entry* e, vtype t);
  void changed(uint64_t n = 1) { stats_->dirty += n; }

  // Standard error replies.
  void reply_syntax_error() { out_->error("ERR syntax error"); }
  void reply_not_integer() { out_->error("ERR value is not an integer or out of range"); }
  void reply_not_float() { out_->error("ERR value is not a valid float"); }
  void reply_arity();

private:
  bool hinted(std::string_view key) const { return key.data() == hint_key_ && key.size() == hint_size_; }
  int slot_of(std::string_view key) const { return hinted(key) ? hint_slot_ : protocol::key_slot(key); }
  uint32_t hash_of(std::string_view key) const { return hinted(key) ? hint_hash_ : hash_key(key); }
  static constexpr size_t no_hint = SIZE_MAX;
  const char* hint_key_ = nullptr;
  size_t hint_size_ = no_hint;
  int hint_slot_ = 0;
  uint32_t hint_hash_ = 0;
  bool overwrite_in_place(entry* e, std::string_view value, int64_t expire, bool not_int);
  entry* lookup(database& db, std::string_view key, bool read);

  dataset* data_;
  keyspace_stats* stats_;
  const keyspace_settings* settings_;
  std::mt19937_64* rng_;
  database* db_ = nullptr;
  int db_index_ = 0;
  const args_t* args_ = nullptr;
  protocol::resp_writer* out_ = nullptr;
  int64_t now_ms_ = 0;
  const std::string* command_name_ = nullptr;
  key_observer* observer_ = nullptr;
  uint64_t client_ = 0;
  effects_buffer* effects_ = nullptr;
  bool propagated_ = false;
  size_t propagated_count_ = 0;
  size_t first_propagated_ = 0;
  bool in_transaction_ = false;
  uint64_t dirty_at_start_ = 0;
  bool blocking_allowed_ = true;
  bool writes_refused_ = false;
  bool blocked_ = false;
  bool block_retry_ = false;
  std::function<bool(std::string_view)> claimed_;
  std::string ready_key_;
  int64_t block_timeout_ms_ = 0;
};

} // namespace troupe::keyspace
