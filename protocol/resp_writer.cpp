#include "protocol/resp_writer.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>

namespace troupe::protocol {

size_t format_int(int64_t v, char* buf) {
  char tmp[24];
  size_t n = 0;
  uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  do {
    tmp[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u != 0);
  size_t len = 0;
  if (v < 0)
    buf[len++] = '-';
  while (n > 0)
    buf[len++] = tmp[--n];
  return len;
}

std::string format_double(double d) {
  if (std::isinf(d))
    return d > 0 ? "inf" : "-inf";
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%.17g", d);
  return std::string(buf, static_cast<size_t>(n));
}

void resp_writer::line(char prefix, std::string_view s) {
  out_->push_back(prefix);
  out_->append(s.data(), s.size());
  out_->append("\r\n", 2);
}

void resp_writer::error(std::string_view msg) {
  size_t start = out_->size();
  line('-', msg);
  // An error reply is one line: CR and LF inside it would break the protocol.
  for (size_t i = start + 1; i + 2 < out_->size(); ++i)
    if ((*out_)[i] == '\r' || (*out_)[i] == '\n')
      (*out_)[i] = ' ';
}

void resp_writer::header(char prefix, size_t n) {
  char buf[32];
  buf[0] = prefix;
  size_t len = 1 + format_int(static_cast<int64_t>(n), buf + 1);
  buf[len++] = '\r';
  buf[len++] = '\n';
  out_->append(buf, len);
}

void resp_writer::integer(int64_t v) {
  char buf[32];
  buf[0] = ':';
  size_t len = 1 + format_int(v, buf + 1);
  buf[len++] = '\r';
  buf[len++] = '\n';
  out_->append(buf, len);
}

void resp_writer::bulk(std::string_view s) {
  // A short value goes out in one append (header, value and CRLF built on the stack).
  char buf[128];
  if (s.size() <= sizeof(buf) - 26) {
    buf[0] = '$';
    size_t len = 1 + format_int(static_cast<int64_t>(s.size()), buf + 1);
    buf[len++] = '\r';
    buf[len++] = '\n';
    std::memcpy(buf + len, s.data(), s.size());
    len += s.size();
    buf[len++] = '\r';
    buf[len++] = '\n';
    out_->append(buf, len);
    return;
  }
  header('$', s.size());
  out_->append(s.data(), s.size());
  out_->append("\r\n", 2);
}

void resp_writer::bulk_int(int64_t v) {
  char buf[24];
  size_t n = format_int(v, buf);
  bulk(std::string_view(buf, n));
}

void resp_writer::null() {
  if (resp_ >= 3)
    out_->append("_\r\n", 3);
  else
    out_->append("$-1\r\n", 5);
}

void resp_writer::null_array() {
  if (resp_ >= 3)
    out_->append("_\r\n", 3);
  else
    out_->append("*-1\r\n", 5);
}

void resp_writer::map(size_t n) {
  if (resp_ >= 3)
    header('%', n);
  else
    header('*', 2 * n);
}

void resp_writer::set(size_t n) { header(resp_ >= 3 ? '~' : '*', n); }

void resp_writer::push(size_t n) { header(resp_ >= 3 ? '>' : '*', n); }

void resp_writer::dbl(double d) {
  if (resp_ >= 3)
    line(',', format_double(d));
  else
    bulk(format_double(d));
}

void resp_writer::boolean(bool b) {
  if (resp_ >= 3)
    out_->append(b ? "#t\r\n" : "#f\r\n", 4);
  else
    out_->append(b ? ":1\r\n" : ":0\r\n", 4);
}

void resp_writer::verbatim(std::string_view s, std::string_view format) {
  if (resp_ < 3) {
    bulk(s);
    return;
  }
  header('=', s.size() + format.size() + 1);
  out_->append(format.data(), format.size());
  out_->push_back(':');
  out_->append(s.data(), s.size());
  out_->append("\r\n", 2);
}

} // namespace troupe::protocol
