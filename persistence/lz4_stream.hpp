// LZ4 frame streams: the container of Troupe's AOF and RDB files (see ARCHITECTURE.md).
//
// - lz4_frame_compress / lz4_frame_decompress: whole buffers, one shot.
// - lz4_frame_writer: an incremental frame writer. write() hands it bytes; flush() turns everything
//   handed so far into complete LZ4 blocks in output(), so that whatever prefix of blocks reaches
//   the disk is decodable (`lz4 -d` included); end_frame() closes the frame. The next write()
//   after end_frame() opens a new frame: a file may hold several frames back to back (a
//   restarted node appends a new frame), which `lz4 -d` and lz4_frame_reader read as one stream.
// - lz4_frame_reader: an incremental decoder that says exactly where (compressed offset) input
//   stops being good: the start of a torn final unit (frame header, block or end mark), or the
//   start of a corrupt one.
//
// Checksums. Troupe writes BLOCK checksums (XXH32 of each stored block) and the CONTENT checksum.
// A block checksum is verified as each block arrives, so corruption is pinned to one block, and
// a partly written final block (torn: the file ends inside it) is told apart from a damaged one.
// An AOF frame stays open for as long as the node runs, so its content checksum only exists once
// the frame is closed (clean shutdown, or the seal a restarted node appends: the reader keeps
// the running XXH32 of the frame's content, so seal() can write it); it then covers the frame as
// a whole. The content checksum is also needed for interoperability: the lz4 1.9.4 CLI misreads
// a stream in which a frame with block checksums but without a content checksum is followed by
// another frame ("Stream followed by undecodable data"), which is exactly what a restarted
// node's AOF is. The reader verifies both kinds wherever a frame has them.
//
// Blocks are linked (each may refer to the previous 64 KB of the frame), which keeps the ratio
// good when the AOF is flushed in small batches; the 64 KB block size bounds the reader's memory
// and the amount a torn tail can take with it.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "persistence/xxhash32.hpp"

namespace troupe::persistence {

// The magic number that starts an LZ4 frame, as it appears in a file.
inline constexpr std::string_view lz4_magic{"\x04\x22\x4d\x18", 4};
// True if `prefix` (the first bytes of a file) is the start of an LZ4 frame.
inline bool looks_like_lz4(std::string_view prefix) { return prefix.substr(0, 4) == lz4_magic; }

// One complete LZ4 frame holding `data` (content checksum, one shot).
std::string lz4_frame_compress(std::string_view data);
// The contents of one or more concatenated LZ4 frames; nullopt if the input is not valid LZ4.
std::optional<std::string> lz4_frame_decompress(std::string_view frames);

struct lz4_options {
  unsigned block_size_kb = 64;   // 64, 256, 1024 or 4096
  bool block_checksum = true;
  bool content_checksum = true;
  bool linked_blocks = true;
  int level = 0;                 // 0: LZ4's fast default; 3..12: LZ4HC
};

class lz4_frame_writer {
public:
  explicit lz4_frame_writer(const lz4_options& opts = {});
  ~lz4_frame_writer();
  lz4_frame_writer(const lz4_frame_writer&) = delete;
  lz4_frame_writer& operator=(const lz4_frame_writer&) = delete;

  // Hands bytes over (opening a frame first if none is open). Full blocks may appear in output()
  // at once; the rest waits in the compressor until flush().
  void write(std::string_view data);
  // Everything written so far becomes complete blocks in output(). No-op if nothing is pending.
  void flush();
  // flush(), then the end mark (and content checksum). No-op if no frame is open.
  void end_frame();
  // Opens a frame now even without data (its header goes to output()).
  void begin_frame();

  // Compressed bytes produced and not yet taken: the caller writes them to its file and clears
  // the string (or calls take()).
  std::string& output() { return out_; }
  std::string take() {
    std::string s;
    s.swap(out_);
    return s;
  }
  bool frame_open() const { return open_; }
  // Totals since construction: bytes handed over, compressed bytes produced.
  uint64_t bytes_in() const { return in_total_; }
  uint64_t bytes_out() const { return out_total_; }
  const lz4_options& options() const { return opts_; }

private:
  char* scratch(size_t bound);   // a buffer of at least `bound` bytes for LZ4F's output
  void produced(const char* p, size_t n);

  lz4_options opts_;
  struct impl;
  std::unique_ptr<impl> impl_;
  std::string out_;
  std::unique_ptr<char[]> scratch_;
  size_t scratch_size_ = 0;
  bool open_ = false;
  bool dirty_ = false;   // bytes written since the last flush
  uint64_t in_total_ = 0;
  uint64_t out_total_ = 0;
};

class lz4_frame_reader {
public:
  enum class state {
    idle,      // at a frame boundary (or nothing fed yet): a clean end
    open,      // inside a frame, at a block boundary: all blocks so far are decoded; no end mark
    partial,   // in the middle of a unit (header, block, end mark, skippable frame): torn if the
               // input ends here; unit_start() says where the torn unit begins
    error,     // corrupt input at error_offset(); nothing more is decoded
  };

  // A point between two units where decoding could resume or a file could be cut.
  struct mark {
    uint64_t compressed = 0;   // offset in the compressed input
    uint64_t decoded = 0;      // offset in the decoded stream
    bool in_frame = false;     // inside a frame (cutting here needs seal bytes)
    bool content_checksum = false;
    bool content_size = false; // the frame declares its content size (cannot be sealed early)
    xxh32_state content;       // checksum state of the frame's content up to here
  };

  lz4_frame_reader();
  ~lz4_frame_reader();
  lz4_frame_reader(const lz4_frame_reader&) = delete;
  lz4_frame_reader& operator=(const lz4_frame_reader&) = delete;

  // Decodes `in` (the input may be split anywhere), appending decoded bytes to `out`. Returns
  // false once the input is found corrupt (then state() == error; what was appended before is
  // good, and nothing after it is).
  bool feed(std::string_view in, std::string& out);

  state current() const;
  bool failed() const { return failed_; }
  // Compressed bytes fed so far.
  uint64_t fed() const { return fed_; }
  // Decoded bytes produced so far.
  uint64_t decoded() const { return decoded_; }
  // Offset of the first byte that is not part of a complete, verified unit: the end of the good
  // prefix (where a torn tail begins, or the corrupt unit does).
  uint64_t unit_start() const { return unit_start_; }
  uint64_t error_offset() const { return unit_start_; }
  const std::string& error_message() const { return error_; }
  // Frames begun so far.
  uint64_t frames() const { return frames_; }

  // The bytes that close the frame open at unit_start() (end mark, plus the content checksum of
  // what the frame holds so far if the frame has one); empty when no frame is open there. Appending them at unit_start() makes
  // the good prefix a complete stream of frames.
  std::string seal() const { return seal_for(last_mark()); }
  static std::string seal_for(const mark& m);

  // Cut points. By default only the latest mark is kept. With set_track_marks(true) the reader
  // keeps a mark for every unit boundary, and forget_before(d) drops the marks before decoded
  // offset d except the last one (call it as data before d becomes uninteresting).
  void set_track_marks(bool on) { track_marks_ = on; }
  void forget_before(uint64_t decoded_offset);
  // The last mark at or before decoded offset d (the earliest kept mark if none is).
  const mark& mark_at_or_before(uint64_t decoded_offset) const;
  const mark& last_mark() const { return marks_.back(); }
  const std::deque<mark>& marks() const { return marks_; }

private:
  enum class step { magic, descriptor, skip_size, skip_body, block_size, block_body, end_mark };
  bool fail(std::string msg);
  bool unit_size(const unsigned char* u, size_t have, size_t& total);
  bool complete(const unsigned char* u, size_t len, std::string& out);
  void add_mark(bool in_frame);

  step step_ = step::magic;
  bool failed_ = false;
  std::string error_;
  std::string unit_;           // bytes of the unit being assembled
  uint64_t fed_ = 0;
  uint64_t decoded_ = 0;
  uint64_t unit_start_ = 0;
  uint64_t frames_ = 0;
  uint64_t skip_left_ = 0;
  uint64_t skip_total_ = 0;
  bool track_marks_ = false;
  // Current frame.
  bool independent_ = false;
  bool block_checksum_ = false;
  bool content_checksum_ = false;
  bool has_content_size_ = false;
  uint64_t content_size_ = 0;
  uint64_t frame_decoded_ = 0;
  size_t block_max_ = 0;
  uint32_t block_word_ = 0;    // size word of the block being assembled
  xxh32_state content_;
  std::string window_;         // [history (<= 64 KB)][room for one block]
  size_t history_ = 0;
  std::deque<mark> marks_;
};

} // namespace troupe::persistence
