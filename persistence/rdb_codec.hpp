// The building blocks of Redis's RDB format, shared by RDB files and DUMP payloads: constants,
// the length and string encodings, and the value serialization of every type (what follows the
// type byte of a key). Written from the format's facts (Redis 7.0, RDB version 10).
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "keyspace/context.hpp"
#include "keyspace/entry.hpp"

namespace troupe::persistence {

namespace rdb {

constexpr int version = 10;   // what Redis 7.0 writes

// Value types.
constexpr int type_string = 0;
constexpr int type_list = 1;
constexpr int type_set = 2;
constexpr int type_zset = 3;
constexpr int type_hash = 4;
constexpr int type_zset_2 = 5;
constexpr int type_module_pre_ga = 6;
constexpr int type_module_2 = 7;
constexpr int type_hash_zipmap = 9;
constexpr int type_list_ziplist = 10;
constexpr int type_set_intset = 11;
constexpr int type_zset_ziplist = 12;
constexpr int type_hash_ziplist = 13;
constexpr int type_list_quicklist = 14;
constexpr int type_stream_listpacks = 15;
constexpr int type_hash_listpack = 16;
constexpr int type_zset_listpack = 17;
constexpr int type_list_quicklist_2 = 18;
constexpr int type_stream_listpacks_2 = 19;

// Opcodes.
constexpr int op_function2 = 245;
constexpr int op_function_pre_ga = 246;
constexpr int op_module_aux = 247;
constexpr int op_idle = 248;
constexpr int op_freq = 249;
constexpr int op_aux = 250;
constexpr int op_resizedb = 251;
constexpr int op_expiretime_ms = 252;
constexpr int op_expiretime = 253;
constexpr int op_selectdb = 254;
constexpr int op_eof = 255;

// Quicklist node containers (RDB_TYPE_LIST_QUICKLIST_2).
constexpr uint64_t container_plain = 1;
constexpr uint64_t container_packed = 2;

// True for the value types a loader may meet (0-7, 9-19).
bool is_object_type(int t);

} // namespace rdb

struct rdb_save_options {
  bool compression = true;   // rdbcompression: LZF for strings over 20 bytes when it saves room
  bool checksum = true;      // rdbchecksum: CRC64 at the end (0 when off)
};

// ---- writing --------------------------------------------------------------------------------

void rdb_write_length(std::string& out, uint64_t len);
// A string as Redis saves it: small integers as int8/16/32 encodings, strings over 20 bytes
// LZF-compressed when `compress` and it saves at least 4 bytes, raw otherwise.
void rdb_write_string(std::string& out, std::string_view s, bool compress);
void rdb_write_millis(std::string& out, int64_t ms);
void rdb_write_binary_double(std::string& out, double d);

// The RDB type byte Redis 7.0 writes for this entry's value.
int rdb_value_type(const keyspace::entry* e);
// Appends the value of `e` (after its type byte) in the encoding Redis 7.0 writes for it.
void rdb_write_value(std::string& out, const keyspace::entry* e, const rdb_save_options& opts);
// Appends one key record: [EXPIRETIME_MS ms] type key value.
void rdb_write_key(std::string& out, const keyspace::entry* e, const rdb_save_options& opts);

// ---- reading --------------------------------------------------------------------------------

// Thrown by rdb_input when the input ends before the item being read: `need` is the number of
// buffer bytes (from the buffer's start) that would be needed at least.
struct rdb_short_input {
  size_t need;
};

// Thrown for malformed input.
class rdb_format_error : public std::runtime_error {
public:
  rdb_format_error(uint64_t offset, const std::string& msg) : std::runtime_error(msg), offset_(offset) {}
  uint64_t offset() const { return offset_; }

private:
  uint64_t offset_;
};

// A cursor over a buffer of RDB bytes. `base` is the stream offset of data[0] (for messages).
class rdb_input {
public:
  rdb_input(const char* data, size_t size, uint64_t base = 0, uint64_t stream_end = UINT64_MAX)
    : data_(data), size_(size), base_(base), stream_end_(stream_end) {}

  const char* data() const { return data_; }
  size_t pos() const { return pos_; }
  void set_pos(size_t p) { pos_ = p; }
  uint64_t offset() const { return base_ + pos_; }
  size_t remaining() const { return size_ - pos_; }

  unsigned char byte();
  std::string_view bytes(size_t n);
  // A length; with `encoded`, also accepts the special-encoding form (sets *encoded and returns
  // the encoding number 0-3).
  uint64_t length(bool* encoded = nullptr);
  std::string string();
  double binary_double();
  double string_double();   // pre-v8 sorted sets: length byte + text (253 nan, 254 inf, 255 -inf)
  int64_t millis();         // 8 bytes little-endian
  int32_t seconds();        // 4 bytes little-endian

  [[noreturn]] void fail(const std::string& msg, uint64_t at) const { throw rdb_format_error(at, msg); }
  [[noreturn]] void fail(const std::string& msg) const { fail(msg, offset()); }

private:
  void need(size_t n) const;
  const char* data_;
  size_t size_;
  uint64_t base_;
  uint64_t stream_end_;   // total stream size when known: short reads past it are errors
  size_t pos_ = 0;
};

// A value read from RDB bytes.
struct rdb_value {
  keyspace::vtype type = keyspace::vtype::string;
  std::string str;                               // strings
  std::unique_ptr<keyspace::collection> coll;    // everything else
  // Set when the value was read but is not kept: "empty" (an empty collection, which Redis skips
  // too), "stream" or "module" (types Troupe does not hold; read past only when allowed).
  const char* skipped = nullptr;
};

struct rdb_read_options {
  keyspace::keyspace_settings settings;   // encoding thresholds for the collections built
  bool skip_unsupported = false;          // read past streams and module values instead of failing
};

// Reads a value of RDB type `type` (after the key). Throws rdb_short_input / rdb_format_error.
void rdb_read_value(rdb_input& in, int type, const rdb_read_options& opts, rdb_value& out);
// Reads past a module value (RDB_TYPE_MODULE_2 body or a MODULE_AUX payload after its header).
void rdb_skip_module_value(rdb_input& in);
// Builds the entry for a value read (ownership of the collection moves into the entry).
keyspace::entry* rdb_make_entry(std::string_view key, rdb_value&& v, int64_t expire_ms);

} // namespace troupe::persistence
