// RDB files: Redis's RDB version 10 (what Redis 7.0 writes), and loading of every older version
// Redis 7.0 loads (1-10: ziplists, zipmaps, quicklists, string-encoded scores ...).
//
// Troupe's RDB file is the plain RDB body inside an LZ4 frame (lz4_stream.hpp): `lz4 -d` gives a
// file redis-server loads. load_rdb_file() reads both that and a plain Redis dump.rdb.
//
// Writing is incremental, so that slot_range actors can serialize a few keys at a time between
// batches: rdb_writer appends to output(), which the caller drains whenever it likes; the CRC64
// runs over everything as it goes. A slot_range may also encode key records itself
// (rdb_write_key) and hand the bytes to the writer's owner (raw()).
//
// Reading is push-based (rdb_parser::feed), so the same parser serves a file, an LZ4 stream and a
// replication socket: it consumes whole records and keeps an incomplete one until more bytes
// arrive. A record is re-parsed from its start once the bytes buffered for it have doubled (or
// at finish()), so a big key fed in small pieces costs at most about twice its size to parse.
#pragma once

#include <atomic>

#include <cstdint>
#include <ctime>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keyspace/context.hpp"
#include "keyspace/database.hpp"
#include "persistence/rdb_codec.hpp"

namespace troupe::persistence {

// ---- writing --------------------------------------------------------------------------------

struct rdb_writer_options : rdb_save_options {
  std::string redis_ver;                          // "redis-ver" aux field; empty: the Redis version
                                                  // Troupe reproduces (TROUPE_REDIS_VERSION)
  int64_t ctime = -1;                             // "ctime"; -1: now
  uint64_t used_mem = 0;                          // "used-mem"
  bool aof_base = false;                          // "aof-base": the RDB starts an AOF
  // Further aux fields, written after the standard ones (e.g. repl-stream-db, repl-id,
  // repl-offset for a replication snapshot).
  std::vector<std::pair<std::string, std::string>> aux;
};

class rdb_writer {
public:
  explicit rdb_writer(rdb_writer_options opts = {}) : opts_(std::move(opts)) {}

  // "REDIS0010" and the aux fields.
  void begin();
  void aux(std::string_view key, std::string_view value);
  // A function library (FUNCTION2 opcode: its code).
  void function(std::string_view code);
  // SELECTDB. A db may be selected again later: loaders take the keys that follow each SELECTDB
  // into that db, so slot ranges can write their parts of a db one after the other.
  void select_db(int db);
  // RESIZEDB: a sizing hint for the db selected last.
  void resize_db(uint64_t keys, uint64_t expires);
  // One key (its expiry included).
  void key(const keyspace::entry* e);
  // Key records encoded elsewhere with rdb_write_key (same options), appended verbatim.
  void raw(std::string_view records);
  // EOF and the CRC64 (0 when checksums are off).
  void end();

  // Bytes produced and not yet drained: the caller writes them out and clears the string.
  std::string& output() { return out_; }
  std::string take() {
    std::string s;
    s.swap(out_);
    return s;
  }
  uint64_t bytes_written() const { return total_; }
  uint64_t keys_written() const { return keys_; }
  const rdb_writer_options& options() const { return opts_; }

private:
  void commit(size_t from);   // folds out_[from..] into the CRC and the totals
  rdb_writer_options opts_;
  std::string out_;
  uint64_t crc_ = 0;
  uint64_t total_ = 0;
  uint64_t keys_ = 0;
};

// The whole dataset as a plain RDB (every db, in db order). `now_ms` >= 0 leaves out keys that
// have expired by then.
std::string rdb_serialize(const keyspace::dataset& data, const rdb_writer_options& opts = {}, int64_t now_ms = -1);

// ---- reading --------------------------------------------------------------------------------

struct rdb_key_info {
  int db = 0;
  int64_t expire_ms = -1;   // -1: none
  int64_t lru_idle = -1;    // seconds (IDLE opcode), -1: absent
  int lfu_freq = -1;        // LFU counter (FREQ opcode), -1: absent
};

// What the parser reports, in file order. Throwing from a callback aborts the load.
class rdb_sink {
public:
  virtual ~rdb_sink() = default;
  virtual void on_aux(std::string_view key, std::string_view value) {}
  virtual void on_select_db(int db) {}
  virtual void on_resize_db(int db, uint64_t keys, uint64_t expires) {}
  virtual void on_function(std::string_view code) {}
  // A key: the sink takes ownership of `e` (keyspace::destroy_entry when not kept). Returning a
  // non-empty string fails the load with that message (e.g. a duplicate key).
  virtual std::string on_key(keyspace::entry* e, const rdb_key_info& info) = 0;
  // A key that was read and not kept: reason "empty" (an empty collection, skipped as Redis
  // skips it), "stream" or "module" (with skip_unsupported); also module aux data ("module-aux").
  virtual void on_skipped(int db, std::string_view key, std::string_view reason) {}
};

struct rdb_parser_options : rdb_read_options {
  bool verify_checksum = true;   // a stored checksum of 0 is never checked (as Redis)
  int databases = 16;            // SELECTDB beyond this is an error
  uint64_t stream_size = UINT64_MAX;   // total bytes when known: a length past it is corruption
  std::atomic<uint64_t>* file_progress = nullptr;   // load_rdb_file: file bytes read so far
};

class rdb_parser {
public:
  enum class status { more, done, error };

  explicit rdb_parser(rdb_parser_options opts = {}) : opts_(std::move(opts)) {}

  // Parses what it can of the bytes fed so far (plus `bytes`). `more`: waiting for input;
  // `done`: EOF and checksum read (bytes after them are in trailing()); `error`: see error().
  status feed(std::string_view bytes, rdb_sink& sink);
  // The input has ended: parses what is buffered; `more` becomes an error (truncated file).
  status finish(rdb_sink& sink);

  status current() const { return status_; }
  const std::string& error() const { return error_; }
  // Stream offset of the error (the start of the record, or the bad item inside it).
  uint64_t error_offset() const { return error_offset_; }
  // Bytes of the stream consumed (complete records).
  uint64_t offset() const { return consumed_; }
  int version() const { return version_; }
  bool checksum_verified() const { return checksum_verified_; }
  uint64_t keys_loaded() const { return keys_; }
  uint64_t keys_skipped() const { return skipped_; }
  // Bytes fed after the end of the RDB (an AOF tail after an RDB preamble).
  std::string_view trailing() const;

private:
  status parse(rdb_sink& sink, bool final);
  // Parses one record at in's position; returns false when the RDB has ended.
  bool record(rdb_input& in, rdb_sink& sink);
  status fail(std::string msg, uint64_t offset);
  void fold_crc();   // brings crc_ up to pos_

  rdb_parser_options opts_;
  status status_ = status::more;
  std::string error_;
  uint64_t error_offset_ = 0;
  std::string buf_;
  size_t pos_ = 0;              // start of the first unconsumed record in buf_
  uint64_t consumed_ = 0;       // stream offset of buf_[pos_]
  size_t retry_at_ = 0;         // don't re-parse before buf_ holds this many bytes after pos_
  uint64_t crc_ = 0;
  size_t crc_done_ = 0;         // crc_ covers the stream up to buf_[crc_done_]
  bool header_done_ = false;
  int version_ = 0;
  bool checksum_verified_ = false;
  int db_ = 0;
  int64_t expire_ = -1;
  int64_t lru_idle_ = -1;
  int lfu_freq_ = -1;
  uint64_t keys_ = 0;
  uint64_t skipped_ = 0;
};

// Result of loading a file.
struct rdb_load_result {
  bool ok = false;
  std::string error;            // what went wrong, with the offset in words
  uint64_t error_offset = 0;    // offset in the RDB stream (decompressed when LZ4)
  bool lz4 = false;             // the file was LZ4-framed
  uint64_t lz4_error_offset = 0;  // for an LZ4 error: the compressed offset of the bad unit
  int version = 0;
  bool checksum_verified = false;
  uint64_t keys = 0;
  uint64_t skipped = 0;
  uint64_t trailing_bytes = 0;  // bytes after the RDB's end (ignored, as Redis ignores them)
};

// Loads an RDB file: LZ4-framed (Troupe's) or plain (starting "REDIS").
rdb_load_result load_rdb_file(const std::string& path, rdb_sink& sink, const rdb_parser_options& opts = {});
// Loads RDB bytes held in memory (LZ4-framed or plain).
rdb_load_result load_rdb_bytes(std::string_view bytes, rdb_sink& sink, const rdb_parser_options& opts = {});

// A sink that puts keys into a dataset (slot tables by key slot). With now_ms >= 0, keys that
// expired before now_ms are dropped when `drop_expired` (a master loading at start-up; replicas
// and AOF preambles keep them, as Redis does), and each key's access clock (OBJECT IDLETIME) is
// set from now_ms and the IDLE opcode. A key already present is an error ("duplicated key"),
// unless `replace_existing`.
class dataset_sink : public rdb_sink {
public:
  explicit dataset_sink(keyspace::dataset& data, int64_t now_ms = -1, bool drop_expired = true,
                        bool replace_existing = false)
    : data_(&data), now_ms_(now_ms), drop_expired_(drop_expired), replace_(replace_existing) {}
  std::string on_key(keyspace::entry* e, const rdb_key_info& info) override;
  void on_aux(std::string_view key, std::string_view value) override { aux.emplace_back(key, value); }
  void on_function(std::string_view code) override { functions.emplace_back(code); }
  void on_skipped(int db, std::string_view key, std::string_view reason) override {
    skipped.emplace_back(std::string(key), std::string(reason));
  }

  uint64_t loaded = 0;
  uint64_t expired = 0;
  std::vector<std::pair<std::string, std::string>> aux;
  std::vector<std::string> functions;
  std::vector<std::pair<std::string, std::string>> skipped;   // key, reason

private:
  keyspace::dataset* data_;
  int64_t now_ms_;
  bool drop_expired_;
  bool replace_;
};

// Writes `data` to `path` as Troupe writes RDB files (LZ4-framed when `lz4`): into a temporary
// file in the same directory, fsynced, then renamed over `path`. Returns "" or an error message.
std::string save_rdb_file(const std::string& path, const keyspace::dataset& data, bool lz4 = true,
                          const rdb_writer_options& opts = {}, int64_t now_ms = -1);

} // namespace troupe::persistence
