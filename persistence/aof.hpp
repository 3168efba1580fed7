// The append-only file: write commands as RESP arrays (a plain Redis AOF), inside LZ4 frames.
// `lz4 -d file.aof > appendonly.aof` gives a file redis-server 7.0 loads: put it in an empty
// `dir` and start `redis-server --appendonly yes --appendfilename appendonly.aof`; Redis 7.0
// migrates such an old-style single-file AOF into its multi-part layout (appendonlydir/ with a
// manifest) and loads it as the base. redis-check-aof accepts it as an "Old-Style AOF".
//
// - aof_writer encodes commands (with SELECT when the db changes) and compresses them; flush()
//   makes everything appended so far complete LZ4 blocks in output(), which the caller writes to
//   the file and fsyncs according to appendfsync.
// - aof_reader parses commands one by one from a file, LZ4-framed or plain, optionally after an
//   RDB preamble. It tells a torn tail (the file ends inside a command or inside an LZ4 block,
//   or inside MULTI without EXEC) from corruption (anything else), and for both says where the
//   good part ends, in the plain stream and in the file, with the exact cut that repairs it.
// - load_aof_file() drives the reader for start-up loading (aof-load-truncated semantics);
//   check_aof() implements `troupe-server --check-aof [--fix] FILE`.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "persistence/lz4_stream.hpp"
#include "persistence/rdb.hpp"

namespace troupe::persistence {

// Appends `args` as a RESP array of bulk strings.
void encode_command(std::string& out, const std::vector<std::string_view>& args);

struct aof_writer_options {
  bool lz4 = true;          // false: plain RESP (a Redis-compatible file as is)
  lz4_options frame;        // block and content checksums (see lz4_stream.hpp)
};

class aof_writer {
public:
  explicit aof_writer(aof_writer_options opts = {});

  // A command run against db `db`: "SELECT db" goes first when the previous command was for
  // another db (and before the first command of a writer).
  void append(int db, const std::vector<std::string_view>& args);
  // Commands already RESP-encoded (a slot_range's effects), all for db `db`.
  void append_encoded(int db, std::string_view resp);
  // Bytes to write before anything else (the seal of the frame a previous run left open, from
  // aof_load_result::cut); passed through uncompressed.
  void prepend_raw(std::string_view bytes) { out_.append(bytes.data(), bytes.size()); }
  // Everything appended so far becomes complete LZ4 blocks in output().
  void flush();
  // flush() and close the frame (clean shutdown); a later append opens a new frame.
  void close();
  // Forgets the selected db, so that the next append selects again (after a rewrite switch).
  void reset_db() { db_ = -1; }

  // Bytes for the file, not yet taken: the caller writes them, then clears the string.
  std::string& output() { return out_; }
  std::string take() {
    std::string s;
    s.swap(out_);
    return s;
  }
  uint64_t bytes_appended() const { return appended_; }   // RESP bytes (before compression)
  bool lz4() const { return opts_.lz4; }

private:
  void put(std::string_view resp);
  void select(int db);
  aof_writer_options opts_;
  std::unique_ptr<lz4_frame_writer> z_;
  std::string out_;
  std::string scratch_;
  int db_ = -1;
  uint64_t appended_ = 0;
};

// How to cut a file so that it ends right after its last good command: truncate it to `keep`
// bytes, then append `append` (for an LZ4 file: the end mark closing the frame that is cut open,
// and if the cut falls inside a block, a fresh frame holding the good start of that block).
struct aof_cut {
  uint64_t keep = 0;
  std::string append;
  bool possible = true;     // false: see why_not (a frame that declares its content size)
  std::string why_not;
  bool changes(uint64_t file_size) const { return keep != file_size || !append.empty(); }
};

// Truncates `path` to cut.keep, appends cut.append and fsyncs. Returns "" or an error.
std::string apply_aof_cut(const std::string& path, const aof_cut& cut);

class aof_reader {
public:
  enum class status {
    command,    // args holds a command
    end,        // the file ended cleanly after a complete command
    truncated,  // the file ends inside a command / LZ4 block / MULTI: a torn tail
    error,      // corrupt: error_message(), error_offset()
  };

  aof_reader();
  ~aof_reader();
  aof_reader(const aof_reader&) = delete;
  aof_reader& operator=(const aof_reader&) = delete;

  // Where to publish how many file bytes have been read (for progress reports); may be null.
  void set_progress(std::atomic<uint64_t>* p) { progress_ = p; }
  // Opens a file (false, with error_message(), if it cannot be read).
  bool open(const std::string& path);
  // Reads from memory instead (tests, or a buffer already read).
  void open_bytes(std::string bytes);

  bool lz4() const { return lz4_; }
  // True if the plain stream starts with "REDIS": call read_rdb_preamble() before next().
  bool has_rdb_preamble();
  // Loads the RDB preamble into `sink`; afterwards next() reads the commands that follow it.
  rdb_load_result read_rdb_preamble(rdb_sink& sink, const rdb_parser_options& opts = {});

  // The next command: its arguments are views valid until the next call. MULTI and EXEC are
  // returned like any command (the caller queues a transaction until its EXEC, as Redis's loader
  // does; a file that ends inside one is reported as truncated before the MULTI).
  status next(std::vector<std::string_view>& args);

  // Offsets in the plain (decoded) stream: after the last good command (outside a transaction),
  // and the total decoded so far.
  uint64_t good_offset() const { return good_; }
  uint64_t decoded_size() const { return buf_base_ + buf_.size(); }
  // Lines consumed (as redis-check-aof counts them), up to where reading stopped.
  uint64_t lines() const { return lines_; }
  // Bytes of the file read so far.
  uint64_t file_bytes_read() const { return file_read_; }
  uint64_t commands() const { return commands_; }
  bool in_multi() const { return in_multi_; }

  const std::string& error_message() const { return error_; }
  // Decoded-stream offset of the error (the command or line that is wrong, or, for an LZ4
  // error, how far decoding got), and for an LZ4 error the offset of the bad unit in the file.
  uint64_t error_offset() const { return error_offset_; }
  uint64_t error_file_offset() const { return error_file_offset_; }
  bool lz4_error() const { return lz4_error_; }

  // The cut that makes the file end right after good_offset() (valid after any status; after
  // `end` it keeps the whole file, plus the seal of an LZ4 frame left open).
  aof_cut cut() const;

private:
  enum class parse_result { complete, incomplete, bad };
  bool fill();   // reads more of the file into buf_; false at the end of the file (or an error)
  parse_result parse(size_t at, size_t& used, std::vector<std::string_view>& args, uint64_t& lines);
  status stop(status s);
  void compact();

  std::FILE* file_ = nullptr;
  std::string mem_;          // open_bytes source
  size_t mem_pos_ = 0;
  bool started_ = false;
  bool lz4_ = false;
  bool eof_ = false;
  bool preamble_checked_ = false;
  bool preamble_ = false;
  std::unique_ptr<lz4_frame_reader> lz_;
  std::string buf_;          // decoded bytes from buf_base_
  uint64_t buf_base_ = 0;
  size_t pos_ = 0;           // parse position in buf_
  uint64_t good_ = 0;        // decoded offset after the last good command outside MULTI
  bool in_multi_ = false;
  uint64_t lines_ = 1;
  uint64_t commands_ = 0;
  uint64_t file_read_ = 0;
  uint64_t file_size_ = 0;
  std::atomic<uint64_t>* progress_ = nullptr;
  std::string error_;
  uint64_t error_offset_ = 0;
  uint64_t error_file_offset_ = 0;
  bool lz4_error_ = false;
  status final_ = status::command;   // set once reading stopped
  std::string read_error_;
};

// Start-up loading.
struct aof_load_options {
  bool load_truncated = true;        // aof-load-truncated
  rdb_parser_options rdb;            // for an RDB preamble
  std::atomic<uint64_t>* file_progress = nullptr;   // file bytes read so far
};

// Receives what the file holds: commands (transactions are delivered only once their EXEC is
// read, without the MULTI / EXEC themselves) and, for an RDB preamble, the rdb_sink calls.
class aof_handler : public rdb_sink {
public:
  // Runs one command; a non-empty return aborts the load with that message (e.g. an unknown
  // command: "Unknown command 'x' reading the append only file").
  virtual std::string on_command(const std::vector<std::string_view>& args) = 0;
  std::string on_key(keyspace::entry* e, const rdb_key_info&) override {
    keyspace::destroy_entry(e);
    return "unexpected RDB preamble";
  }
};

struct aof_load_result {
  enum class outcome { ok, truncated, error };
  outcome result = outcome::error;
  bool ok() const { return result != outcome::error; }
  std::string message;          // Redis-style warning (truncated) or error text
  uint64_t commands = 0;        // commands delivered
  bool lz4 = false;
  bool rdb_preamble = false;
  uint64_t file_size = 0;
  uint64_t decoded_size = 0;
  uint64_t good_offset = 0;     // in the plain stream
  uint64_t error_offset = 0;    // in the plain stream
  uint64_t error_file_offset = 0;
  // Apply before appending (apply_aof_cut): drops a torn tail, closes an open LZ4 frame.
  aof_cut cut;
};

aof_load_result load_aof_file(const std::string& path, aof_handler& handler, const aof_load_options& opts = {});

// `troupe-server --check-aof [--fix] FILE`: checks the file, reports as redis-check-aof does
// (the error with its offset in the plain stream, then "AOF analyzed: ..."), and with `fix`
// cuts it after the last good command once `confirm` answers y (nullptr: no question asked).
// Returns the process exit status (0 valid or fixed, 1 otherwise).
int check_aof(const std::string& path, bool fix, std::ostream& out, std::istream* confirm = nullptr);

} // namespace troupe::persistence
