// A key with its value (and optional expiry) in one allocation, chained in a slot table bucket.
// Short strings live inline; longer strings ("raw") and collections live behind a pointer.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace troupe::keyspace {

// Value types, numbered as Redis numbers them (the DEBUG DIGEST and RDB formats use these).
enum class vtype : uint8_t { string = 0, list = 1, set = 2, zset = 3, hash = 4, stream = 6 };

// Encodings, reported by OBJECT ENCODING.
enum class venc : uint8_t {
  raw, integer, embstr, listpack, quicklist, hashtable, intset, skiplist, stream,
};

const char* type_name(vtype t);
const char* encoding_name(venc e);

// Base of every non-string value (hash, list, set, sorted set).
class collection {
public:
  virtual ~collection() = default;
  virtual std::unique_ptr<collection> clone() const = 0;
  virtual size_t size() const = 0;
  virtual venc encoding() const = 0;
  // Bytes it holds: exact, or (for a hash table of nodes) the first `samples` nodes' average times
  // their number, as MEMORY USAGE's SAMPLES (0: all).
  virtual size_t memory(size_t samples = 0) const = 0;
  // Mixes the contents into a 20-byte DEBUG DIGEST accumulator, as Redis does for this type.
  virtual void digest(unsigned char out[20]) const = 0;
};

// Strings up to this length are stored inline in the entry ("embstr"/"int"); longer ones or
// strings changed in place (APPEND, SETRANGE) are "raw" and live in a std::string of their own.
constexpr size_t embstr_limit = 44;

struct entry {
  entry* next;
  uint32_t hash;
  vtype type;
  venc enc;
  uint8_t flags;     // bit 0: has an expiry
  uint8_t reserved;
  uint32_t lru;      // seconds clock of the last access (OBJECT IDLETIME)
  uint32_t keylen;
  // followed by: [int64 expiry if flags & 1] [key bytes] [payload]
  //   inline string: uint32 length + bytes
  //   raw string:    std::string*
  //   collection:    collection*

  static constexpr uint8_t has_expire_flag = 1;

  bool has_expire() const { return flags & has_expire_flag; }
  int64_t expire() const {
    int64_t v;
    std::memcpy(&v, data(), sizeof(v));
    return v;
  }
  void set_expire_in_place(int64_t when) {
    std::memcpy(data(), &when, sizeof(when));
  }
  std::string_view key() const {
    return std::string_view(data() + (has_expire() ? 8 : 0), keylen);
  }
  bool inline_string() const {
    return type == vtype::string && enc != venc::raw;
  }
  std::string_view str() const;  // strings only
  std::string* raw_string() const {
    std::string* p;
    std::memcpy(&p, payload(), sizeof(p));
    return p;
  }
  collection* coll() const {
    collection* p;
    std::memcpy(&p, payload(), sizeof(p));
    return p;
  }
  char* data() const { return const_cast<char*>(reinterpret_cast<const char*>(this + 1)); }
  char* payload() const { return data() + (has_expire() ? 8 : 0) + keylen; }
  size_t allocation_size() const;
};

// Builders. expire < 0 means none.
// `not_int`: never the "int" encoding (a result Redis keeps as a string, as INCRBYFLOAT's).
entry* make_string_entry(std::string_view key, uint32_t hash, std::string_view value, int64_t expire,
                         bool force_raw = false, bool not_int = false);
// Puts `value` in string entry `e` in place of its value, as make_string_entry would encode it,
// if it fits the entry's allocation: an inline string of the same length, or a raw string whose
// buffer it fills at least half of. False (nothing changed) otherwise.
bool overwrite_string(entry* e, std::string_view value, bool not_int = false);
entry* make_collection_entry(std::string_view key, uint32_t hash, vtype t, std::unique_ptr<collection> c,
                             int64_t expire);
// A copy of `e` under the same key with a different expiry. The value moves over: free the old
// shell with free_shell() once it is unlinked.
entry* rebuild_with_expire(const entry* e, int64_t expire);
void free_shell(entry* e);
// The same value under another key (RENAME, MOVE). The value moves over as above.
entry* rekey(const entry* e, std::string_view key, uint32_t hash, int64_t expire);
// A deep copy of `e` with another key (COPY, MOVE across dbs).
entry* clone_entry(const entry* e, std::string_view key, uint32_t hash, int64_t expire);
void destroy_entry(entry* e);

// MEMORY USAGE: the bytes the allocator gave the entry and its raw string, its slot table bucket's
// pointer, and its collection's memory(samples).
size_t entry_memory(const entry* e, size_t samples);

// Picks the encoding Redis would give a fresh string value.
venc string_encoding(std::string_view value);

} // namespace troupe::keyspace
