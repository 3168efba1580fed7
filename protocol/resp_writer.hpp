// Encodes replies in RESP2 or RESP3 straight into a byte buffer (no intermediate reply objects).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace troupe::protocol {

// Writes `v` in decimal into `buf` (at least 21 bytes); returns the number of bytes written.
size_t format_int(int64_t v, char* buf);
// Formats a double as Redis 7.0 does in replies: "%.17g", with "inf" / "-inf" for infinities.
std::string format_double(double d);

class resp_writer {
public:
  explicit resp_writer(std::string& out, int resp = 2) : out_(&out), resp_(resp) {}

  int resp() const { return resp_; }
  void set_resp(int v) { resp_ = v; }
  std::string& buffer() { return *out_; }
  void retarget(std::string& out) { out_ = &out; }

  void simple(std::string_view s) { line('+', s); }
  void ok() { out_->append("+OK\r\n", 5); }
  // `msg` without the leading '-'; must not contain CR or LF (they are replaced by spaces).
  void error(std::string_view msg);
  void integer(int64_t v);
  void bulk(std::string_view s);
  void bulk_int(int64_t v);
  // Null bulk string: "$-1" in RESP2, "_" in RESP3.
  void null();
  // Null array: "*-1" in RESP2, "_" in RESP3.
  void null_array();
  void array(size_t n) { header('*', n); }
  // A map of n pairs: "%n" in RESP3, an array of 2n elements in RESP2.
  void map(size_t n);
  // A set: "~n" in RESP3, an array in RESP2.
  void set(size_t n);
  // A push message: ">n" in RESP3, an array in RESP2.
  void push(size_t n);
  // A double: ",d" in RESP3, a bulk string in RESP2.
  void dbl(double d);
  // A boolean: "#t"/"#f" in RESP3, ":1"/":0" in RESP2.
  void boolean(bool b);
  // Verbatim text: "=len\r\ntxt:..." in RESP3, a bulk string in RESP2.
  void verbatim(std::string_view s, std::string_view format = "txt");
  // Appends already encoded bytes.
  void raw(std::string_view s) { out_->append(s.data(), s.size()); }

private:
  void line(char prefix, std::string_view s);
  void header(char prefix, size_t n);
  std::string* out_;
  int resp_;
};

} // namespace troupe::protocol
