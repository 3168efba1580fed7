// Redis's packed blob formats, as they appear inside RDB files and DUMP payloads, written from
// their layouts:
// - listpack (7.0's small hashes, sorted sets and quicklist nodes): written and read;
// - ziplist (RDB v7-9 small lists, hashes, sorted sets, quicklist nodes), zipmap (RDB v1-3
//   hashes) and intset (sets of integers): read (intsets written by set_value).
// Readers validate the whole blob (sizes, counts, terminators, back-lengths) and never read
// outside it: a malformed blob is reported, not trusted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::persistence {

// One element of a packed blob: a string or an integer.
struct packed_item {
  bool is_int = false;
  int64_t ival = 0;
  std::string_view sval;   // points into the blob
  // The element as Redis returns it: the string, or the integer in decimal.
  std::string str() const { return is_int ? std::to_string(ival) : std::string(sval); }
  // Appends the text form to `out` (no allocation for integers beyond out's growth).
  void append_to(std::string& out) const;
};

// ---- listpack -------------------------------------------------------------------------------

class listpack_builder {
public:
  listpack_builder() { clear(); }
  void clear();
  // Appends a string element; strings that are canonical 64-bit integers are stored as integers
  // (as Redis's lpAppend does).
  void add(std::string_view s);
  void add_int(int64_t v);
  size_t count() const { return count_; }
  // Size of the finished blob (header, entries, terminator) so far.
  size_t bytes() const { return buf_.size() + 1; }
  bool empty() const { return count_ == 0; }
  // Bytes one more element `s` would add.
  static size_t element_size(std::string_view s);
  // The finished listpack; the builder is cleared.
  std::string finish();

private:
  void add_encoded(const unsigned char* enc, size_t enc_len, std::string_view payload);
  std::string buf_;
  size_t count_ = 0;
};

// Decodes every element of a listpack after validating it. False (with `error`) if malformed.
bool decode_listpack(std::string_view blob, std::vector<packed_item>& out, std::string& error);
// Same for the other formats (intset members come out as integers).
bool decode_ziplist(std::string_view blob, std::vector<packed_item>& out, std::string& error);
// A zipmap: field, value, field, value ...
bool decode_zipmap(std::string_view blob, std::vector<packed_item>& out, std::string& error);
// Checks an intset blob: width 2, 4 or 8, size matching the count, members strictly ascending.
bool decode_intset(std::string_view blob, std::vector<int64_t>& out, std::string& error);

} // namespace troupe::persistence
