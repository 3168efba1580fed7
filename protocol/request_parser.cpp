#include "protocol/request_parser.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "protocol/numbers.hpp"

namespace troupe::protocol {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

// The common header line: '*' or '$', then 1-9 and at most 17 more digits, then CR and at least
// one more byte in the buffer. Sets the number and the line's length (up to the CR); anything else
// (a sign, a leading zero, a stray byte, a line not yet complete) is left to the general path.
[[gnu::always_inline]] inline bool quick_header(const char* line, const char* end, int64_t& value,
                                                size_t& line_len) {
  const char* p = line + 1;
  if (end - p < 3)   // a digit, the CR and one more byte at least
    return false;
  auto d = static_cast<unsigned>(static_cast<unsigned char>(*p)) - '1';
  if (d > 8)
    return false;
  auto v = static_cast<int64_t>(d + 1);
  ++p;
  const char* limit = end - p > 18 ? p + 17 : end - 2;   // keeps the CR and one byte after it in bounds
  for (; p < limit; ++p) {
    d = static_cast<unsigned>(static_cast<unsigned char>(*p)) - '0';
    if (d > 9)
      break;
    v = v * 10 + static_cast<int64_t>(d);
  }
  if (*p != '\r')
    return false;
  value = v;
  line_len = static_cast<size_t>(p - line);
  return true;
}

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f';
}

} // namespace

bool split_args(std::string_view line, std::vector<std::string>& out) {
  out.clear();
  // Redis splits C strings: a NUL byte ends the line.
  line = line.substr(0, line.find('\0'));
  size_t i = 0, n = line.size();
  for (;;) {
    while (i < n && is_space(line[i]))
      ++i;
    if (i >= n)
      return true;
    std::string word;
    bool in_dq = false, in_sq = false, done = false;
    while (!done) {
      if (in_dq) {
        if (i >= n)
          return false; // unterminated quotes
        if (line[i] == '\\' && i + 3 < n && line[i + 1] == 'x' && hex_value(line[i + 2]) >= 0
            && hex_value(line[i + 3]) >= 0) {
          word.push_back(static_cast<char>(hex_value(line[i + 2]) * 16 + hex_value(line[i + 3])));
          i += 3;
        } else if (line[i] == '\\' && i + 1 < n) {
          char c;
          switch (line[++i]) {
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'b': c = '\b'; break;
            case 'a': c = '\a'; break;
            default: c = line[i]; break;
          }
          word.push_back(c);
        } else if (line[i] == '"') {
          // A closing quote must be followed by a space or nothing.
          if (i + 1 < n && !is_space(line[i + 1]))
            return false;
          done = true;
        } else {
          word.push_back(line[i]);
        }
      } else if (in_sq) {
        if (i >= n)
          return false;
        if (line[i] == '\\' && i + 1 < n && line[i + 1] == '\'') {
          ++i;
          word.push_back('\'');
        } else if (line[i] == '\'') {
          if (i + 1 < n && !is_space(line[i + 1]))
            return false;
          done = true;
        } else {
          word.push_back(line[i]);
        }
      } else {
        if (i >= n) {
          done = true;
          break;
        }
        switch (line[i]) {
          case ' ': case '\n': case '\r': case '\t':
            done = true;
            break;
          case '"': in_dq = true; break;
          case '\'': in_sq = true; break;
          default: word.push_back(line[i]); break;
        }
        if (done)
          break;
      }
      if (i < n)
        ++i;
    }
    out.push_back(std::move(word));
  }
}

void request_parser::reset() {
  multibulk_left_ = -1;
  bulk_len_ = -1;
  offset_ = 0;
  scanned_ = 0;
  spans_.clear();
}

request_parser::status request_parser::fail(std::string msg) {
  error_ = std::move(msg);
  reset();
  return status::error;
}

request_parser::status request_parser::parse_inline(std::string_view buf, size_t& pos,
                                                    std::vector<std::string_view>& args) {
  const char* start = buf.data() + pos;
  size_t avail = buf.size() - pos;
  const void* nl = std::memchr(start + scanned_, '\n', avail - scanned_);
  if (nl == nullptr) {
    if (avail > limits_.max_inline)
      return fail("Protocol error: too big inline request");
    scanned_ = avail;
    return status::incomplete;
  }
  size_t line_len = static_cast<size_t>(static_cast<const char*>(nl) - start);
  size_t consumed = line_len + 1;
  if (line_len > 0 && start[line_len - 1] == '\r')
    --line_len;
  scanned_ = 0;
  if (!split_args(std::string_view(start, line_len), inline_words_))
    return fail("Protocol error: unbalanced quotes in request");
  pos += consumed;
  args.clear();
  for (auto& w : inline_words_)
    args.emplace_back(w);
  last_inline_ = true;
  return status::command;
}

const char* request_parser::header_cr(const char* line, size_t avail) {
  const void* cr = std::memchr(line + scanned_, '\r', avail - scanned_);
  if (cr == nullptr || static_cast<const char*>(cr) + 1 >= line + avail) {
    scanned_ = cr == nullptr ? avail : avail - 1;
    return nullptr;
  }
  return static_cast<const char*>(cr);
}

bool request_parser::parse_whole(std::string_view buf, size_t& pos, std::vector<std::string_view>& args) {
  const char* start = buf.data() + pos;
  const char* end = buf.data() + buf.size();
  int64_t count = 0;
  size_t line_len = 0;
  if (!quick_header(start, end, count, line_len) || count > limits_.max_multibulk
      || (count > 10 && unauthenticated_))
    return false;
  const char* p = start + line_len + 2;
  const int64_t max_len = unauthenticated_ ? std::min<int64_t>(16384, limits_.max_bulk_len) : limits_.max_bulk_len;
  args.clear();
  for (int64_t i = 0; i < count; ++i) {
    int64_t len = 0;
    if (p >= end || *p != '$' || !quick_header(p, end, len, line_len) || len > max_len)
      return false;
    p += line_len + 2;
    if (end - p < len + 2)
      return false;
    args.emplace_back(p, static_cast<size_t>(len));
    p += len + 2;
  }
  pos = static_cast<size_t>(p - buf.data());
  return true;
}

request_parser::status request_parser::parse(std::string_view buf, size_t& pos,
                                             std::vector<std::string_view>& args) {
  for (;;) {
    last_inline_ = false;
    if (pos >= buf.size())
      return status::incomplete;
    const char* start = buf.data() + pos;
    size_t avail = buf.size() - pos;
    if (multibulk_left_ < 0) {
      if (start[0] != '*') {
        auto st = parse_inline(buf, pos, args);
        if (st == status::command && args.empty())
          continue; // blank line
        return st;
      }
      // A command that is all there in the common form is read in one go; any other (incomplete,
      // unusual or wrong) is read step by step below, keeping its progress across calls.
      if (parse_whole(buf, pos, args)) {
        scanned_ = 0;   // (an earlier call may have searched part of this command's count line)
        return status::command;
      }
      // The count line "*<n>\r\n".
      const char* end = buf.data() + buf.size();
      size_t line_len = 0;
      int64_t count = 0;
      if (!quick_header(start, end, count, line_len)) {
        const char* cr = header_cr(start, avail);
        if (cr == nullptr)
          return avail > limits_.max_inline ? fail("Protocol error: too big mbulk count string") : status::incomplete;
        line_len = static_cast<size_t>(cr - start);
        if (!parse_int64(std::string_view(start + 1, line_len - 1), count))
          return fail("Protocol error: invalid multibulk length");
      }
      if (count > limits_.max_multibulk)
        return fail("Protocol error: invalid multibulk length");
      if (count > 10 && unauthenticated_)
        return fail("Protocol error: unauthenticated multibulk length");
      scanned_ = 0;
      if (count <= 0) {
        pos += line_len + 2;
        continue; // empty command
      }
      multibulk_left_ = count;
      offset_ = line_len + 2;
      spans_.clear();
      if (count < 1024)
        spans_.reserve(static_cast<size_t>(count));
    }
    // Bulk strings.
    while (multibulk_left_ > 0) {
      if (bulk_len_ < 0) {
        if (offset_ >= avail)
          return status::incomplete;
        const char* hdr = start + offset_;
        const char* end = buf.data() + buf.size();
        size_t line_len = 0;
        int64_t len = 0;
        if (hdr[0] != '$' || !quick_header(hdr, end, len, line_len)) {
          const char* cr = header_cr(hdr, avail - offset_);
          if (cr == nullptr)
            return avail - offset_ > limits_.max_inline ? fail("Protocol error: too big bulk count string")
                                                        : status::incomplete;
          if (hdr[0] != '$')
            return fail(std::string("Protocol error: expected '$', got '") + hdr[0] + "'");
          line_len = static_cast<size_t>(cr - hdr);
          if (!parse_int64(std::string_view(hdr + 1, line_len - 1), len) || len < 0)
            return fail("Protocol error: invalid bulk length");
        }
        scanned_ = 0;
        if (len > limits_.max_bulk_len)
          return fail("Protocol error: invalid bulk length");
        if (unauthenticated_ && len > 16384)
          return fail("Protocol error: unauthenticated bulk length");
        bulk_len_ = len;
        offset_ += line_len + 2;
      }
      // The payload and its CRLF (not checked, as Redis does not check it either).
      if (avail - offset_ < static_cast<size_t>(bulk_len_) + 2 || offset_ > avail)
        return status::incomplete;
      spans_.emplace_back(offset_, static_cast<size_t>(bulk_len_));
      offset_ += static_cast<size_t>(bulk_len_) + 2;
      bulk_len_ = -1;
      --multibulk_left_;
    }
    args.clear();
    for (auto& [off, len] : spans_)
      args.emplace_back(start + off, len);
    pos += offset_;
    multibulk_left_ = -1;
    offset_ = 0;
    return status::command;
  }
}

} // namespace troupe::protocol
