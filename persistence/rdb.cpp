#include "persistence/rdb.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "keyspace/table.hpp"
#include "persistence/crc64.hpp"
#include "persistence/lz4_stream.hpp"
#include "protocol/key_slot.hpp"

namespace troupe::persistence {

// ---- writer ---------------------------------------------------------------------------------

void rdb_writer::commit(size_t from) {
  if (opts_.checksum)
    crc_ = crc64(crc_, out_.data() + from, out_.size() - from);
  total_ += out_.size() - from;
}

void rdb_writer::begin() {
  size_t from = out_.size();
  char magic[16];
  std::snprintf(magic, sizeof(magic), "REDIS%04d", rdb::version);
  out_.append(magic, 9);
  commit(from);
  aux("redis-ver", opts_.redis_ver.empty() ? std::string_view(TROUPE_REDIS_VERSION) : std::string_view(opts_.redis_ver));
  aux("redis-bits", sizeof(void*) == 8 ? "64" : "32");
  aux("ctime", std::to_string(opts_.ctime >= 0 ? opts_.ctime : static_cast<int64_t>(std::time(nullptr))));
  aux("used-mem", std::to_string(opts_.used_mem));
  for (auto& [k, v] : opts_.aux)
    aux(k, v);
  aux("aof-base", opts_.aof_base ? "1" : "0");
}

void rdb_writer::aux(std::string_view key, std::string_view value) {
  size_t from = out_.size();
  out_.push_back(static_cast<char>(rdb::op_aux));
  rdb_write_string(out_, key, opts_.compression);
  rdb_write_string(out_, value, opts_.compression);
  commit(from);
}

void rdb_writer::function(std::string_view code) {
  size_t from = out_.size();
  out_.push_back(static_cast<char>(rdb::op_function2));
  rdb_write_string(out_, code, opts_.compression);
  commit(from);
}

void rdb_writer::select_db(int db) {
  size_t from = out_.size();
  out_.push_back(static_cast<char>(rdb::op_selectdb));
  rdb_write_length(out_, static_cast<uint64_t>(db));
  commit(from);
}

void rdb_writer::resize_db(uint64_t keys, uint64_t expires) {
  size_t from = out_.size();
  out_.push_back(static_cast<char>(rdb::op_resizedb));
  rdb_write_length(out_, keys);
  rdb_write_length(out_, expires);
  commit(from);
}

void rdb_writer::key(const keyspace::entry* e) {
  size_t from = out_.size();
  rdb_write_key(out_, e, opts_);
  commit(from);
  ++keys_;
}

void rdb_writer::raw(std::string_view records) {
  size_t from = out_.size();
  out_.append(records.data(), records.size());
  commit(from);
}

void rdb_writer::end() {
  size_t from = out_.size();
  out_.push_back(static_cast<char>(rdb::op_eof));
  commit(from);
  uint64_t sum = opts_.checksum ? crc_ : 0;
  for (int i = 0; i < 8; ++i)
    out_.push_back(static_cast<char>((sum >> (8 * i)) & 0xff));
  total_ += 8;
}

namespace {

// Calls fn(entry*) for every key of db `d` (skipping keys expired at now_ms when >= 0).
template <class F>
void for_each_key(const keyspace::database& d, int64_t now_ms, F&& fn) {
  for (int s = 0; s < protocol::slot_count; ++s) {
    const keyspace::table* t = d.slot(s);
    if (t == nullptr || t->size() == 0)
      continue;
    t->for_each([&](keyspace::entry* e) {
      if (now_ms >= 0 && e->has_expire() && e->expire() <= now_ms)
        return;
      fn(e);
    });
  }
}

} // namespace

std::string rdb_serialize(const keyspace::dataset& data, const rdb_writer_options& opts, int64_t now_ms) {
  rdb_writer w(opts);
  w.begin();
  std::string out;
  for (int i = 0; i < data.count(); ++i) {
    const keyspace::database& d = data.db(i);
    size_t keys = d.size();
    if (keys == 0)
      continue;
    w.select_db(i);
    w.resize_db(keys, d.volatile_count());
    for_each_key(d, now_ms, [&](keyspace::entry* e) {
      w.key(e);
      if (w.output().size() > (1 << 20))
        out += w.take();
    });
  }
  w.end();
  out += w.take();
  return out;
}

// ---- parser ---------------------------------------------------------------------------------

std::string_view rdb_parser::trailing() const {
  if (status_ != status::done)
    return {};
  return std::string_view(buf_).substr(pos_);
}

rdb_parser::status rdb_parser::fail(std::string msg, uint64_t offset) {
  status_ = status::error;
  error_ = std::move(msg);
  error_offset_ = offset;
  return status_;
}

rdb_parser::status rdb_parser::feed(std::string_view bytes, rdb_sink& sink) {
  if (status_ == status::error)
    return status_;
  buf_.append(bytes.data(), bytes.size());
  if (status_ == status::done || buf_.size() - pos_ < retry_at_)
    return status_;
  return parse(sink, false);
}

rdb_parser::status rdb_parser::finish(rdb_sink& sink) {
  if (status_ != status::more)
    return status_;
  return parse(sink, true);
}

void rdb_parser::fold_crc() {
  if (opts_.verify_checksum && pos_ > crc_done_)
    crc_ = crc64(crc_, buf_.data() + crc_done_, pos_ - crc_done_);
  crc_done_ = pos_;
}

rdb_parser::status rdb_parser::parse(rdb_sink& sink, bool final) {
  retry_at_ = 0;
  crc_done_ = pos_;
  for (;;) {
    rdb_input in(buf_.data() + pos_, buf_.size() - pos_, consumed_, opts_.stream_size);
    bool go_on;
    try {
      go_on = record(in, sink);
    } catch (const rdb_short_input& s) {
      if (final || status_ == status::error) {
        if (status_ == status::error)
          return status_;
        return fail("unexpected end of file: the RDB is truncated (a record starting at offset " +
                        std::to_string(consumed_) + " is incomplete)",
                    consumed_);
      }
      size_t have = buf_.size() - pos_;
      retry_at_ = std::max(s.need, have * 2);
      fold_crc();
      buf_.erase(0, pos_);
      pos_ = 0;
      crc_done_ = 0;
      return status_;
    } catch (const rdb_format_error& e) {
      return fail(e.what(), e.offset());
    } catch (const std::exception& e) {
      return fail(e.what(), consumed_);
    }
    if (status_ == status::error)
      return status_;
    size_t len = in.pos();
    if (!go_on) {   // the CRC covered everything up to the EOF opcode (folded by record())
      pos_ += len;
      consumed_ += len;
      crc_done_ = pos_;
      status_ = status::done;
      return status_;
    }
    pos_ += len;
    consumed_ += len;
  }
}

bool rdb_parser::record(rdb_input& in, rdb_sink& sink) {
  uint64_t start = in.offset();
  if (!header_done_) {
    std::string_view magic = in.bytes(9);
    if (magic.substr(0, 5) != "REDIS") {
      fail("Wrong signature trying to load DB from file", start);
      return true;
    }
    int v = 0;
    for (char c : magic.substr(5)) {
      if (c < '0' || c > '9') {
        fail("Wrong signature trying to load DB from file", start);
        return true;
      }
      v = v * 10 + (c - '0');
    }
    if (v < 1 || v > rdb::version) {
      fail("Can't handle RDB format version " + std::to_string(v), start);
      return true;
    }
    version_ = v;
    header_done_ = true;
    return true;
  }
  int type = in.byte();
  switch (type) {
    case rdb::op_expiretime:
      expire_ = int64_t(in.seconds()) * 1000;
      return true;
    case rdb::op_expiretime_ms:
      expire_ = in.millis();
      return true;
    case rdb::op_freq:
      lfu_freq_ = in.byte();
      return true;
    case rdb::op_idle:
      lru_idle_ = static_cast<int64_t>(in.length());
      return true;
    case rdb::op_eof: {
      if (version_ >= 5) {
        fold_crc();   // everything before this record
        uint64_t expected = crc64(crc_, in.data() + in.pos() - 1, 1);
        auto p = reinterpret_cast<const unsigned char*>(in.bytes(8).data());
        uint64_t stored = 0;
        for (int i = 7; i >= 0; --i)
          stored = (stored << 8) | p[i];
        if (opts_.verify_checksum && stored != 0) {
          if (stored != expected) {
            char msg[128];
            std::snprintf(msg, sizeof(msg), "Wrong RDB checksum expected: (%llx) but got (%llx)",
                          static_cast<unsigned long long>(expected), static_cast<unsigned long long>(stored));
            fail(msg, in.offset() - 8);
            return true;
          }
          checksum_verified_ = true;
        }
      }
      return false;
    }
    case rdb::op_selectdb: {
      uint64_t db = in.length();
      if (db >= static_cast<uint64_t>(opts_.databases)) {
        fail("FATAL: Data file was created with a Redis server configured to handle more than " +
                 std::to_string(opts_.databases) + " databases",
             start);
        return true;
      }
      db_ = static_cast<int>(db);
      sink.on_select_db(db_);
      return true;
    }
    case rdb::op_resizedb: {
      uint64_t keys = in.length();
      uint64_t expires = in.length();
      sink.on_resize_db(db_, keys, expires);
      return true;
    }
    case rdb::op_aux: {
      std::string k = in.string();
      std::string v = in.string();
      sink.on_aux(k, v);
      return true;
    }
    case rdb::op_module_aux: {
      in.length();   // module id
      uint64_t when_op = in.length();
      in.length();   // when
      if (when_op != 2) {
        fail("bad when_opcode in module aux data", start);
        return true;
      }
      if (!opts_.skip_unsupported) {
        fail("The RDB file contains AUX module data Troupe can't load", start);
        return true;
      }
      rdb_skip_module_value(in);
      sink.on_skipped(db_, "", "module-aux");
      return true;
    }
    case rdb::op_function2: {
      std::string code = in.string();
      sink.on_function(code);
      return true;
    }
    case rdb::op_function_pre_ga:
      fail("function library in the pre-GA format (Redis 7.0 rc) cannot be loaded", start);
      return true;
  }
  if (!rdb::is_object_type(type)) {
    fail("Unknown RDB value type " + std::to_string(type), start);
    return true;
  }
  std::string key = in.string();
  rdb_value v;
  rdb_read_value(in, type, opts_, v);
  rdb_key_info info;
  info.db = db_;
  info.expire_ms = expire_;
  info.lru_idle = lru_idle_;
  info.lfu_freq = lfu_freq_;
  expire_ = -1;
  lru_idle_ = -1;
  lfu_freq_ = -1;
  if (v.skipped) {
    ++skipped_;
    sink.on_skipped(info.db, key, v.skipped);
    return true;
  }
  keyspace::entry* e = rdb_make_entry(key, std::move(v), info.expire_ms);
  std::string err = sink.on_key(e, info);
  if (!err.empty()) {
    fail(err, start);
    return true;
  }
  ++keys_;
  return true;
}

// ---- files ----------------------------------------------------------------------------------

namespace {

std::string errno_text(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

rdb_load_result finish_result(rdb_parser& parser, rdb_sink& sink, rdb_load_result r) {
  parser.finish(sink);
  r.version = parser.version();
  r.checksum_verified = parser.checksum_verified();
  r.keys = parser.keys_loaded();
  r.skipped = parser.keys_skipped();
  if (parser.current() == rdb_parser::status::error) {
    r.error_offset = parser.error_offset();
    r.error = "Bad RDB at offset " + std::to_string(parser.error_offset()) + ": " + parser.error();
    return r;
  }
  r.trailing_bytes = parser.trailing().size();
  r.ok = true;
  return r;
}

// Reads a byte source chunk by chunk into the parser, through an LZ4 reader when framed.
template <class Next>
rdb_load_result load_from(Next&& next_chunk, uint64_t plain_size, rdb_sink& sink, const rdb_parser_options& base) {
  rdb_load_result r;
  std::string chunk;
  if (!next_chunk(chunk)) {
    r.error = chunk;
    return r;
  }
  r.lz4 = looks_like_lz4(chunk);
  rdb_parser_options opts = base;
  if (!r.lz4)
    opts.stream_size = plain_size;
  rdb_parser parser(opts);
  lz4_frame_reader lz;
  std::string decoded;
  for (;;) {
    if (chunk.empty())
      break;
    if (r.lz4) {
      decoded.clear();
      bool ok = lz.feed(chunk, decoded);
      parser.feed(decoded, sink);
      if (!ok) {
        // Damage after a complete RDB is ignored, as Redis ignores bytes after the checksum.
        if (parser.current() != rdb_parser::status::more)
          return finish_result(parser, sink, r);
        r.lz4_error_offset = lz.error_offset();
        r.error_offset = lz.decoded();
        r.error = "Bad LZ4 frame at compressed offset " + std::to_string(lz.error_offset()) + " (RDB offset " +
                  std::to_string(lz.decoded()) + "): " + lz.error_message();
        return r;
      }
    } else {
      parser.feed(chunk, sink);
    }
    if (parser.current() == rdb_parser::status::error)
      return finish_result(parser, sink, r);
    if (!next_chunk(chunk)) {
      r.error = chunk;
      return r;
    }
  }
  if (r.lz4 && lz.current() == lz4_frame_reader::state::partial && parser.current() != rdb_parser::status::done) {
    r.lz4_error_offset = lz.unit_start();
    r.error_offset = lz.decoded();
    r.error = "Truncated LZ4 frame: the block at compressed offset " + std::to_string(lz.unit_start()) +
              " is incomplete (RDB offset " + std::to_string(lz.decoded()) + ")";
    return r;
  }
  return finish_result(parser, sink, r);
}

} // namespace

rdb_load_result load_rdb_file(const std::string& path, rdb_sink& sink, const rdb_parser_options& opts) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    rdb_load_result r;
    r.error = errno_text("Can't open", path);
    return r;
  }
  struct stat st {};
  uint64_t size = fstat(fileno(f), &st) == 0 ? static_cast<uint64_t>(st.st_size) : UINT64_MAX;
  uint64_t read = 0;
  auto next = [&](std::string& chunk) {
    chunk.resize(64 * 1024);
    size_t n = std::fread(chunk.data(), 1, chunk.size(), f);
    chunk.resize(n);
    read += n;
    if (opts.file_progress)
      opts.file_progress->store(read, std::memory_order_relaxed);
    if (n == 0 && std::ferror(f)) {
      chunk = errno_text("Error reading", path);
      return false;
    }
    return true;
  };
  rdb_load_result r = load_from(next, size, sink, opts);
  std::fclose(f);
  return r;
}

rdb_load_result load_rdb_bytes(std::string_view bytes, rdb_sink& sink, const rdb_parser_options& opts) {
  size_t pos = 0;
  auto next = [&](std::string& chunk) {
    size_t n = std::min<size_t>(bytes.size() - pos, 64 * 1024);
    chunk.assign(bytes.data() + pos, n);
    pos += n;
    return true;
  };
  return load_from(next, bytes.size(), sink, opts);
}

std::string dataset_sink::on_key(keyspace::entry* e, const rdb_key_info& info) {
  if (now_ms_ >= 0) {
    if (drop_expired_ && e->has_expire() && e->expire() < now_ms_) {
      keyspace::destroy_entry(e);
      ++expired;
      return {};
    }
    uint32_t clock = keyspace::lru_clock(now_ms_);
    e->lru = info.lru_idle > 0 && static_cast<uint64_t>(info.lru_idle) < clock ? clock - static_cast<uint32_t>(info.lru_idle)
                                                                                : clock;
  }
  if (info.db >= data_->count()) {
    keyspace::destroy_entry(e);
    return "DB index " + std::to_string(info.db) + " is out of range";
  }
  keyspace::database& db = data_->db(info.db);
  keyspace::table& t = db.slot_for_write(protocol::key_slot(e->key()));
  if (keyspace::entry* old = t.find(e->key(), e->hash)) {
    if (!replace_) {
      std::string msg = "RDB has duplicated key '" + std::string(e->key()) + "' in DB " + std::to_string(info.db);
      keyspace::destroy_entry(e);
      return msg;
    }
    keyspace::destroy_entry(t.detach(old->key(), old->hash));
  }
  t.insert(e);
  ++loaded;
  return {};
}

std::string save_rdb_file(const std::string& path, const keyspace::dataset& data, bool lz4,
                          const rdb_writer_options& opts, int64_t now_ms) {
  std::string dir = ".";
  if (auto slash = path.rfind('/'); slash != std::string::npos)
    dir = slash == 0 ? "/" : path.substr(0, slash);
  std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return errno_text("Failed opening the temp RDB file", tmp);
  auto write_all = [&](std::string_view s) {
    while (!s.empty()) {
      ssize_t n = ::write(fd, s.data(), s.size());
      if (n < 0) {
        if (errno == EINTR)
          continue;
        return false;
      }
      s.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  };
  rdb_writer w(opts);
  lz4_frame_writer z;
  bool ok = true;
  auto drain = [&](bool last) {
    if (lz4) {
      z.write(w.output());
      w.output().clear();
      if (last)
        z.end_frame();
      ok = ok && write_all(z.output());
      z.output().clear();
    } else {
      ok = ok && write_all(w.output());
      w.output().clear();
    }
  };
  w.begin();
  for (int i = 0; i < data.count() && ok; ++i) {
    const keyspace::database& d = data.db(i);
    if (d.size() == 0)
      continue;
    w.select_db(i);
    w.resize_db(d.size(), d.volatile_count());
    for_each_key(d, now_ms, [&](keyspace::entry* e) {
      w.key(e);
      if (w.output().size() >= (1 << 20))
        drain(false);
    });
  }
  w.end();
  drain(true);
  if (!ok || ::fsync(fd) != 0) {
    std::string err = errno_text("Write error saving DB on disk", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return err;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = errno_text("Error moving temp DB file on the final destination", path);
    ::unlink(tmp.c_str());
    return err;
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

} // namespace troupe::persistence
