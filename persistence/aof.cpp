#include "persistence/aof.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <istream>
#include <ostream>

#include "protocol/resp_writer.hpp"

namespace troupe::persistence {

void encode_command(std::string& out, const std::vector<std::string_view>& args) {
  char buf[24];
  out.push_back('*');
  out.append(buf, protocol::format_int(static_cast<int64_t>(args.size()), buf));
  out.append("\r\n", 2);
  for (std::string_view a : args) {
    out.push_back('$');
    out.append(buf, protocol::format_int(static_cast<int64_t>(a.size()), buf));
    out.append("\r\n", 2);
    out.append(a.data(), a.size());
    out.append("\r\n", 2);
  }
}

// ---- writer ---------------------------------------------------------------------------------

aof_writer::aof_writer(aof_writer_options opts) : opts_(opts) {
  if (opts_.lz4)
    z_ = std::make_unique<lz4_frame_writer>(opts_.frame);
}

void aof_writer::put(std::string_view resp) {
  appended_ += resp.size();
  if (!z_) {
    out_.append(resp.data(), resp.size());
    return;
  }
  z_->write(resp);
  if (!z_->output().empty()) {
    out_ += z_->output();
    z_->output().clear();
  }
}

void aof_writer::select(int db) {
  if (db == db_)
    return;
  char buf[24];
  std::string_view n(buf, protocol::format_int(db, buf));
  scratch_.clear();
  encode_command(scratch_, {"SELECT", n});
  put(scratch_);
  db_ = db;
}

void aof_writer::append(int db, const std::vector<std::string_view>& args) {
  select(db);
  scratch_.clear();
  encode_command(scratch_, args);
  put(scratch_);
}

void aof_writer::append_encoded(int db, std::string_view resp) {
  select(db);
  put(resp);
}

void aof_writer::flush() {
  if (!z_)
    return;
  z_->flush();
  out_ += z_->output();
  z_->output().clear();
}

void aof_writer::close() {
  if (!z_)
    return;
  z_->end_frame();
  out_ += z_->output();
  z_->output().clear();
}

// ---- cut ------------------------------------------------------------------------------------

std::string apply_aof_cut(const std::string& path, const aof_cut& cut) {
  if (!cut.possible)
    return cut.why_not;
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return "Can't open " + path + ": " + std::strerror(errno);
  std::string err;
  if (::ftruncate(fd, static_cast<off_t>(cut.keep)) != 0) {
    err = "Failed to truncate " + path + ": " + std::strerror(errno);
  } else if (::lseek(fd, 0, SEEK_END) < 0) {
    err = "Failed to seek in " + path + ": " + std::strerror(errno);
  } else {
    std::string_view s = cut.append;
    while (!s.empty()) {
      ssize_t n = ::write(fd, s.data(), s.size());
      if (n < 0) {
        if (errno == EINTR)
          continue;
        err = "Failed to write " + path + ": " + std::strerror(errno);
        break;
      }
      s.remove_prefix(static_cast<size_t>(n));
    }
    if (err.empty() && ::fsync(fd) != 0)
      err = "Failed to fsync " + path + ": " + std::strerror(errno);
  }
  ::close(fd);
  return err;
}

// ---- reader ---------------------------------------------------------------------------------

namespace {

constexpr size_t read_chunk = 64 * 1024;
constexpr size_t max_header_line = 64;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string hex2(unsigned char a, unsigned char b) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%02x%02x", a, b);
  return buf;
}

} // namespace

aof_reader::aof_reader() = default;

aof_reader::~aof_reader() {
  if (file_)
    std::fclose(file_);
}

bool aof_reader::open(const std::string& path) {
  file_ = std::fopen(path.c_str(), "rb");
  if (file_ == nullptr) {
    error_ = "Cannot open file " + path + ": " + std::strerror(errno);
    final_ = status::error;
    return false;
  }
  struct stat st {};
  if (fstat(fileno(file_), &st) == 0)
    file_size_ = static_cast<uint64_t>(st.st_size);
  return true;
}

void aof_reader::open_bytes(std::string bytes) {
  mem_ = std::move(bytes);
  file_size_ = mem_.size();
}

void aof_reader::compact() {
  uint64_t keep = good_;
  if (lz4_ && lz_)
    keep = std::min(keep, lz_->mark_at_or_before(good_).decoded);
  keep = std::min(keep, buf_base_ + pos_);
  if (keep <= buf_base_)
    return;
  auto drop = static_cast<size_t>(keep - buf_base_);
  if (drop < read_chunk && drop * 2 < buf_.size())
    return;   // not worth moving the rest yet
  buf_.erase(0, drop);
  buf_base_ += drop;
  pos_ -= drop;
}

bool aof_reader::fill() {
  if (eof_)
    return false;
  compact();
  std::string chunk;
  if (file_) {
    chunk.resize(read_chunk);
    size_t n = std::fread(chunk.data(), 1, chunk.size(), file_);
    chunk.resize(n);
    if (n == 0 && std::ferror(file_))
      read_error_ = std::string("Failed to read from the AOF: ") + std::strerror(errno);
  } else {
    size_t n = std::min(read_chunk, mem_.size() - mem_pos_);
    chunk.assign(mem_, mem_pos_, n);
    mem_pos_ += n;
  }
  if (chunk.empty()) {
    eof_ = true;
    return false;
  }
  if (!started_) {
    started_ = true;
    // A file shorter than the magic number that starts like it is a torn LZ4 file.
    lz4_ = looks_like_lz4(chunk) || (chunk.size() < 4 && lz4_magic.substr(0, chunk.size()) == chunk);
    if (lz4_) {
      lz_ = std::make_unique<lz4_frame_reader>();
      lz_->set_track_marks(true);
    }
  }
  file_read_ += chunk.size();
  if (progress_)
    progress_->store(file_read_, std::memory_order_relaxed);
  if (!lz4_) {
    buf_ += chunk;
    return true;
  }
  if (!lz_->feed(chunk, buf_)) {
    lz4_error_ = true;
    eof_ = true;   // nothing after the bad unit is usable; what came before still is
  }
  return true;
}

aof_reader::parse_result aof_reader::parse(size_t at, size_t& used, std::vector<std::string_view>& args,
                                           uint64_t& lines) {
  const char* p = buf_.data() + at;
  size_t n = buf_.size() - at;
  args.clear();
  lines = 0;
  if (n == 0)
    return parse_result::incomplete;
  auto offset = [&](size_t i) { return buf_base_ + at + i; };
  auto bad = [&](size_t i, std::string msg) {
    error_offset_ = offset(i);
    error_ = std::move(msg);
    return parse_result::bad;
  };
  if (p[0] == '#') {   // an annotation line (Redis 7.0 writes "#TS:..." ones)
    const void* nl = std::memchr(p, '\n', n);
    if (nl == nullptr)
      return parse_result::incomplete;
    used = static_cast<size_t>(static_cast<const char*>(nl) - p) + 1;
    return parse_result::complete;
  }
  // Reads "<prefix><digits>\r\n" at i.
  auto header = [&](size_t& i, char prefix, int64_t& value) -> parse_result {
    if (i >= n)
      return parse_result::incomplete;
    if (p[i] != prefix)
      return bad(i, std::string("Expected prefix '") + prefix + "', got: '" + p[i] + "'");
    size_t j = i + 1;
    int64_t v = 0;
    bool neg = false;
    if (j < n && p[j] == '-') {
      neg = true;
      ++j;
    }
    size_t digits = 0;
    while (j < n && p[j] >= '0' && p[j] <= '9' && digits < 19) {
      v = v * 10 + (p[j] - '0');
      ++j;
      ++digits;
    }
    if (j + 2 > n) {
      if (j - i > max_header_line)
        return bad(i, "Header line is too long");
      return parse_result::incomplete;
    }
    if (p[j] != '\r' || p[j + 1] != '\n')
      return bad(i, "Expected \\r\\n, got: " + hex2(static_cast<unsigned char>(p[j]), static_cast<unsigned char>(p[j + 1])));
    ++lines;
    value = neg ? -v : v;
    i = j + 2;
    return parse_result::complete;
  };
  size_t i = 0;
  int64_t argc;
  if (auto r = header(i, '*', argc); r != parse_result::complete)
    return r;
  if (argc < 1)
    return bad(0, "Invalid argument count " + std::to_string(argc));
  for (int64_t k = 0; k < argc; ++k) {
    size_t bulk_at = i;
    int64_t len;
    if (auto r = header(i, '$', len); r != parse_result::complete)
      return r;
    if (len < 0)
      return bad(bulk_at, "Expected to read string of " + std::to_string(len) +
                              " bytes, which is not in the suitable range");
    auto ulen = static_cast<uint64_t>(len);
    if (ulen + 2 > n - i) {
      error_offset_ = offset(i);
      error_ = "Expected to read " + std::to_string(ulen + 2) + " bytes, got " + std::to_string(n - i) + " bytes";
      return parse_result::incomplete;
    }
    if (p[i + ulen] != '\r' || p[i + ulen + 1] != '\n')
      return bad(i, "Expected \\r\\n, got: " + hex2(static_cast<unsigned char>(p[i + ulen]),
                                                  static_cast<unsigned char>(p[i + ulen + 1])));
    args.emplace_back(p + i, static_cast<size_t>(ulen));
    i += static_cast<size_t>(ulen) + 2;
    ++lines;
  }
  used = i;
  return parse_result::complete;
}

aof_reader::status aof_reader::stop(status s) {
  final_ = s;
  return s;
}

bool aof_reader::has_rdb_preamble() {
  if (!preamble_checked_) {
    while (buf_.size() - pos_ < 5 && fill()) {
    }
    preamble_checked_ = true;
    preamble_ = std::string_view(buf_).substr(pos_, 5) == "REDIS";
  }
  return preamble_;
}

rdb_load_result aof_reader::read_rdb_preamble(rdb_sink& sink, const rdb_parser_options& opts) {
  rdb_load_result r;
  r.lz4 = lz4_;
  if (!has_rdb_preamble()) {
    r.error = "the AOF has no RDB preamble";
    return r;
  }
  rdb_parser parser(opts);
  uint64_t start = buf_base_ + pos_;
  for (;;) {
    parser.feed(std::string_view(buf_).substr(pos_), sink);
    buf_base_ += buf_.size();
    buf_.clear();
    pos_ = 0;
    if (parser.current() != rdb_parser::status::more || !fill())
      break;
  }
  parser.finish(sink);
  r.version = parser.version();
  r.checksum_verified = parser.checksum_verified();
  r.keys = parser.keys_loaded();
  r.skipped = parser.keys_skipped();
  if (parser.current() != rdb_parser::status::done) {
    r.error_offset = start + parser.error_offset();
    if (lz4_error_) {
      r.lz4_error_offset = lz_->error_offset();
      r.error = "Bad LZ4 frame at file offset " + std::to_string(lz_->error_offset()) + ": " + lz_->error_message();
    } else {
      r.error = "Bad RDB preamble at offset " + std::to_string(r.error_offset) + ": " + parser.error();
    }
    error_ = r.error;
    error_offset_ = r.error_offset;
    final_ = status::error;
    return r;
  }
  std::string_view tail = parser.trailing();
  buf_.assign(tail.data(), tail.size());
  buf_base_ = start + parser.offset();
  pos_ = 0;
  good_ = buf_base_;
  r.ok = true;
  return r;
}

aof_reader::status aof_reader::next(std::vector<std::string_view>& args) {
  if (final_ != status::command)
    return final_;
  if (!preamble_checked_ && has_rdb_preamble()) {
    error_ = "the AOF starts with an RDB preamble: read it first";
    error_offset_ = buf_base_ + pos_;
    return stop(status::error);
  }
  for (;;) {
    size_t used = 0;
    uint64_t lines = 0;
    parse_result r = parse(pos_, used, args, lines);
    if (r == parse_result::complete) {
      pos_ += used;
      lines_ += lines;
      uint64_t here = buf_base_ + pos_;
      if (args.empty()) {   // annotation
        if (!in_multi_)
          good_ = here;
        continue;
      }
      ++commands_;
      if (iequals(args[0], "multi")) {
        if (in_multi_) {
          error_offset_ = here - used;
          error_ = "Unexpected MULTI in AOF";
          return stop(status::error);
        }
        in_multi_ = true;
      } else if (iequals(args[0], "exec")) {
        if (!in_multi_) {
          error_offset_ = here - used;
          error_ = "Unexpected EXEC in AOF";
          return stop(status::error);
        }
        in_multi_ = false;
        good_ = here;
      } else if (!in_multi_) {
        good_ = here;
      }
      if (lz_)
        lz_->forget_before(good_);
      return status::command;
    }
    if (r == parse_result::bad) {
      lines_ += lines;
      return stop(status::error);
    }
    if (fill())
      continue;
    // The input has ended (or cannot be read further).
    lines_ += lines;
    if (!read_error_.empty()) {
      error_ = read_error_;
      error_offset_ = decoded_size();
      return stop(status::error);
    }
    if (lz4_error_) {
      error_file_offset_ = lz_->error_offset();
      error_offset_ = lz_->decoded();
      error_ = "LZ4 frame corrupt at file offset " + std::to_string(lz_->error_offset()) + ": " + lz_->error_message();
      return stop(status::error);
    }
    bool partial_command = pos_ < buf_.size();
    bool torn_block = lz_ && lz_->current() == lz4_frame_reader::state::partial;
    if (!partial_command && !torn_block && !in_multi_)
      return stop(status::end);
    if (partial_command) {
      if (error_.empty() || error_offset_ < buf_base_ + pos_) {
        error_offset_ = buf_base_ + pos_;
        error_ = "Unexpected end of file inside a command";
      }
    } else if (in_multi_) {
      error_offset_ = good_;
      error_ = "Reached EOF before reading EXEC for MULTI";
    } else {
      error_offset_ = decoded_size();
      error_ = "the LZ4 block at file offset " + std::to_string(lz_->unit_start()) + " is incomplete";
    }
    if (torn_block && partial_command)
      error_ += " (and the LZ4 block at file offset " + std::to_string(lz_->unit_start()) + " is incomplete)";
    error_file_offset_ = torn_block ? lz_->unit_start() : 0;
    return stop(status::truncated);
  }
}

aof_cut aof_reader::cut() const {
  aof_cut c;
  uint64_t p = good_;
  if (!lz4_) {
    c.keep = p;
    return c;
  }
  const lz4_frame_reader::mark* m = nullptr;
  // Among the cut points at exactly p, prefer one between frames (nothing to seal), else the
  // earliest; otherwise the last one before p.
  {
    const lz4_frame_reader::mark* first_at = nullptr;
    const lz4_frame_reader::mark* outside_at = nullptr;
    const lz4_frame_reader::mark* before = nullptr;
    // Marks are in file order; their decoded offsets never decrease.
    for (const auto& mk : lz_->marks()) {
      if (mk.decoded < p)
        before = &mk;
      else if (mk.decoded == p) {
        if (!first_at)
          first_at = &mk;
        if (!outside_at && !mk.in_frame)
          outside_at = &mk;
      }
    }
    m = outside_at ? outside_at : first_at ? first_at : before;
  }
  if (m == nullptr) {
    c.possible = false;
    c.why_not = "no cut point is known for offset " + std::to_string(p);
    return c;
  }
  if (m->in_frame && m->content_size) {
    c.possible = false;
    c.why_not = "the LZ4 frame to cut declares its content size and cannot be cut short";
    return c;
  }
  c.keep = m->compressed;
  c.append = lz4_frame_reader::seal_for(*m);
  if (m->decoded < p) {
    if (m->decoded < buf_base_) {
      c.possible = false;
      c.why_not = "the data to re-encode is no longer held";
      return c;
    }
    lz4_frame_writer w;
    w.write(std::string_view(buf_).substr(static_cast<size_t>(m->decoded - buf_base_), static_cast<size_t>(p - m->decoded)));
    w.end_frame();
    c.append += w.output();
  }
  return c;
}

// ---- loading --------------------------------------------------------------------------------

aof_load_result load_aof_file(const std::string& path, aof_handler& handler, const aof_load_options& opts) {
  aof_load_result res;
  aof_reader r;
  r.set_progress(opts.file_progress);
  if (!r.open(path)) {
    res.message = r.error_message();
    return res;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0)
    res.file_size = static_cast<uint64_t>(st.st_size);
  if (r.has_rdb_preamble()) {
    res.rdb_preamble = true;
    rdb_load_result rr = r.read_rdb_preamble(handler, opts.rdb);
    if (!rr.ok) {
      res.lz4 = r.lz4();
      res.error_offset = rr.error_offset;
      res.error_file_offset = rr.lz4_error_offset;
      res.message = "Error reading the RDB preamble of the AOF file " + path + ", AOF loading aborted: " + rr.error;
      return res;
    }
  }
  res.lz4 = r.lz4();
  std::vector<std::string_view> args;
  std::vector<std::vector<std::string>> txn;
  bool in_txn = false;
  auto run = [&](const std::vector<std::string_view>& a) {
    std::string err = handler.on_command(a);
    if (err.empty())
      ++res.commands;
    return err;
  };
  for (;;) {
    aof_reader::status s = r.next(args);
    if (s == aof_reader::status::command) {
      if (iequals(args[0], "multi")) {
        in_txn = true;
        txn.clear();
        continue;
      }
      std::string err;
      if (iequals(args[0], "exec")) {
        in_txn = false;
        std::vector<std::string_view> views;
        for (auto& cmd : txn) {
          views.assign(cmd.begin(), cmd.end());
          if (!(err = run(views)).empty())
            break;
        }
        txn.clear();
      } else if (in_txn) {
        txn.emplace_back(args.begin(), args.end());
      } else {
        err = run(args);
      }
      if (!err.empty()) {
        res.message = err;
        res.error_offset = r.good_offset();
        return res;
      }
      continue;
    }
    res.decoded_size = r.decoded_size();
    res.good_offset = r.good_offset();
    res.cut = r.cut();
    if (s == aof_reader::status::end) {
      res.result = aof_load_result::outcome::ok;
      return res;
    }
    res.error_offset = r.error_offset();
    res.error_file_offset = r.error_file_offset();
    if (s == aof_reader::status::truncated) {
      std::string where = "!!! Warning: short read while loading the AOF file " + path + " (" + r.error_message() +
                          ")!!! The good part ends at offset " + std::to_string(r.good_offset());
      if (r.lz4())
        where += " of the decoded stream (file offset " + std::to_string(res.cut.keep) + ")";
      if (opts.load_truncated) {
        res.result = aof_load_result::outcome::truncated;
        res.message = where + "; AOF loaded anyway because aof-load-truncated is enabled";
      } else {
        res.message = "Unexpected end of file reading the append only file " + path + " (" + r.error_message() +
                      "). You can: 1) Make a backup of your AOF file, then use troupe-server --check-aof --fix " +
                      path + ". 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes "
                      "and restart the server.";
      }
      return res;
    }
    res.message = "Bad file format reading the append only file " + path + " at offset " +
                  std::to_string(r.error_offset()) + (r.lz4_error() ? " of the decoded stream" : "") + ": " +
                  r.error_message() + ": make a backup of your AOF file, then use troupe-server --check-aof --fix " +
                  path;
    return res;
  }
}

// ---- check ----------------------------------------------------------------------------------

namespace {

// rdb_sink that only counts (for checking a preamble).
class counting_sink : public rdb_sink {
public:
  std::string on_key(keyspace::entry* e, const rdb_key_info&) override {
    keyspace::destroy_entry(e);
    return {};
  }
};

std::string hex_offset(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%16llx", static_cast<unsigned long long>(v));
  return buf;
}

} // namespace

int check_aof(const std::string& path, bool fix, std::ostream& out, std::istream* confirm) {
  out << "Start checking Old-Style AOF\n";
  aof_reader r;
  if (!r.open(path)) {
    out << r.error_message() << ", aborting...\n";
    return 1;
  }
  struct stat st {};
  uint64_t size = ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  if (size == 0) {
    out << "AOF " << path << " is empty\n";
    return 0;
  }
  if (r.has_rdb_preamble()) {
    counting_sink sink;
    rdb_parser_options ro;
    ro.skip_unsupported = true;
    ro.databases = INT32_MAX;
    rdb_load_result rr = r.read_rdb_preamble(sink, ro);
    if (!rr.ok) {
      out << rr.error << "\nRDB preamble of AOF file is not sane, aborting.\n";
      return 1;
    }
    out << "RDB preamble is OK, proceeding with AOF tail...\n";
  }
  if (r.lz4())
    out << "LZ4-framed AOF: offsets below are in the decoded stream (what `lz4 -d` prints), sizes in the file\n";
  std::vector<std::string_view> args;
  aof_reader::status s;
  while ((s = r.next(args)) == aof_reader::status::command) {
  }
  if (s != aof_reader::status::end && !r.error_message().empty())
    out << hex_offset(r.error_offset()) << ": " << r.error_message() << "\n";
  aof_cut cut = r.cut();
  uint64_t ok_up_to = r.lz4() ? cut.keep : r.good_offset();
  // A clean LZ4 file whose last frame is still open is valid (a running node's AOF): nothing to cut.
  bool valid = s == aof_reader::status::end;
  uint64_t diff = valid ? 0 : size - std::min(size, ok_up_to);
  out << "AOF analyzed: filename=" << path << ", size=" << size << ", ok_up_to=" << (valid ? size : ok_up_to)
      << ", ok_up_to_line=" << r.lines() << ", diff=" << diff << "\n";
  if (r.lz4())
    out << "Decoded stream: size=" << r.decoded_size() << ", ok_up_to=" << r.good_offset() << "\n";
  if (valid) {
    out << "AOF " << path << " is valid\n";
    return 0;
  }
  if (!fix) {
    out << "AOF " << path << " is not valid. Use the --fix option to try fixing it.\n";
    return 1;
  }
  if (!cut.possible) {
    out << "Failed to truncate AOF " << path << ": " << cut.why_not << "\n";
    return 1;
  }
  out << "This will shrink the AOF " << path << " from " << size << " bytes, with " << diff << " bytes, to "
      << cut.keep << " bytes";
  if (!cut.append.empty())
    out << " (then " << cut.append.size() << " bytes are appended to close the LZ4 frame"
        << (cut.append.size() > 8 ? " and re-encode the good start of the cut block" : "") << ")";
  out << "\n";
  if (confirm != nullptr) {
    out << "Continue? [y/N]: " << std::flush;
    std::string answer;
    if (!std::getline(*confirm, answer) || answer.empty() || (answer[0] != 'y' && answer[0] != 'Y')) {
      out << "Aborting...\n";
      return 1;
    }
  }
  std::string err = apply_aof_cut(path, cut);
  if (!err.empty()) {
    out << "Failed to truncate AOF " << path << ": " << err << "\n";
    return 1;
  }
  out << "Successfully truncated AOF " << path << "\n";
  return 0;
}

} // namespace troupe::persistence
