// Incremental parser for client requests: RESP multibulk and inline commands, with Redis's limits
// and Redis's protocol error strings. Pure, no I/O: the connection feeds it its input buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::protocol {

struct parser_limits {
  int64_t max_bulk_len = 512ll * 1024 * 1024;   // proto-max-bulk-len
  int64_t max_multibulk = 1024 * 1024;          // arguments per command
  size_t max_inline = 64 * 1024;                // inline line / count string length
};

// Splits a line into words as redis-server does for inline commands and config files: whitespace
// separated, "double quoted" with \n \r \t \b \a \\ \" \xHH escapes, 'single quoted' with \'.
// Returns false on unbalanced quotes (or a closing quote not followed by a space).
bool split_args(std::string_view line, std::vector<std::string>& out);

class request_parser {
public:
  enum class status { command, incomplete, error };

  // Parses the next command of `buf` that starts at `pos`. On `command`, `args` holds its arguments
  // (views into `buf`, or into the parser for inline commands, valid until the next call) and `pos`
  // points past it; empty commands (blank lines, "*0") are skipped. On `incomplete`, call again with
  // the same command start once more bytes are appended (the bytes before it may have been dropped
  // and `pos` moved accordingly: progress is kept relative to the command's start). On `error`,
  // `error_message()` holds Redis's reply text ("Protocol error: ...") and the client must be closed.
  status parse(std::string_view buf, size_t& pos, std::vector<std::string_view>& args);

  const std::string& error_message() const { return error_; }
  void set_limits(const parser_limits& l) { limits_ = l; }
  const parser_limits& limits() const { return limits_; }
  // Before AUTH on a server with requirepass, Redis accepts at most 10 arguments and 16 KB bulks.
  void set_unauthenticated(bool v) { unauthenticated_ = v; }
  // Bytes of the current command parsed so far (for CLIENT LIST's qbuf figures).
  bool in_progress() const { return multibulk_left_ >= 0; }
  // The last command parsed was an inline one: its arguments point into the parser, not `buf`.
  bool last_inline() const { return last_inline_; }

private:
  status fail(std::string msg);
  status parse_inline(std::string_view buf, size_t& pos, std::vector<std::string_view>& args);
  // A whole multibulk command whose headers all take the quick form: true and `pos` moved past it,
  // or false with the parser's state untouched.
  bool parse_whole(std::string_view buf, size_t& pos, std::vector<std::string_view>& args);
  // The CR ending the header line at `line` (`avail` bytes in the buffer from there on), searched
  // from where the last call left off, with at least one byte after it; nullptr (the search's
  // progress kept in scanned_) while the line is incomplete.
  const char* header_cr(const char* line, size_t avail);
  void reset();

  parser_limits limits_;
  bool unauthenticated_ = false;
  std::string error_;
  // Progress of the multibulk command in flight, relative to its first byte.
  int64_t multibulk_left_ = -1;   // -1: no command in flight
  int64_t bulk_len_ = -1;         // -1: bulk header not read yet
  size_t offset_ = 0;             // bytes of the command consumed so far
  size_t scanned_ = 0;            // bytes already searched for the end of a header line
  std::vector<std::pair<size_t, size_t>> spans_;   // args: (offset from start, length)
  std::vector<std::string> inline_words_;
  bool last_inline_ = false;
};

} // namespace troupe::protocol
