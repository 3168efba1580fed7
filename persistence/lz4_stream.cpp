#include "persistence/lz4_stream.hpp"

#include <lz4.h>
#include <lz4frame.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace troupe::persistence {

std::string lz4_frame_compress(std::string_view data) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
  std::string out(LZ4F_compressFrameBound(data.size(), &prefs), '\0');
  size_t n = LZ4F_compressFrame(out.data(), out.size(), data.data(), data.size(), &prefs);
  if (LZ4F_isError(n))
    return {};
  out.resize(n);
  return out;
}

std::optional<std::string> lz4_frame_decompress(std::string_view frames) {
  LZ4F_dctx* dctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
    return std::nullopt;
  std::string out;
  char buf[64 * 1024];
  const char* src = frames.data();
  size_t left = frames.size();
  bool ok = true;
  size_t hint = 1;
  while (left > 0) {
    size_t dst_size = sizeof(buf), src_size = left;
    hint = LZ4F_decompress(dctx, buf, &dst_size, src, &src_size, nullptr);
    if (LZ4F_isError(hint)) {
      ok = false;
      break;
    }
    out.append(buf, dst_size);
    src += src_size;
    left -= src_size;
    if (src_size == 0 && dst_size == 0)
      break;
  }
  LZ4F_freeDecompressionContext(dctx);
  if (!ok || hint != 0)
    return std::nullopt;
  return out;
}

// ---- writer ---------------------------------------------------------------------------------

struct lz4_frame_writer::impl {
  LZ4F_cctx* cctx = nullptr;
  LZ4F_preferences_t prefs{};
};

namespace {

LZ4F_blockSizeID_t block_size_id(unsigned kb) {
  switch (kb) {
    case 64: return LZ4F_max64KB;
    case 256: return LZ4F_max256KB;
    case 1024: return LZ4F_max1MB;
    case 4096: return LZ4F_max4MB;
  }
  throw std::invalid_argument("lz4 block size must be 64, 256, 1024 or 4096 KB");
}

void check(size_t code, const char* what) {
  if (LZ4F_isError(code))
    throw std::runtime_error(std::string("lz4 ") + what + ": " + LZ4F_getErrorName(code));
}

} // namespace

lz4_frame_writer::lz4_frame_writer(const lz4_options& opts) : opts_(opts), impl_(new impl) {
  auto& p = impl_->prefs;
  p.frameInfo.blockSizeID = block_size_id(opts.block_size_kb);
  p.frameInfo.blockMode = opts.linked_blocks ? LZ4F_blockLinked : LZ4F_blockIndependent;
  p.frameInfo.contentChecksumFlag = opts.content_checksum ? LZ4F_contentChecksumEnabled : LZ4F_noContentChecksum;
  p.frameInfo.blockChecksumFlag = opts.block_checksum ? LZ4F_blockChecksumEnabled : LZ4F_noBlockChecksum;
  p.frameInfo.frameType = LZ4F_frame;
  p.compressionLevel = opts.level;
  p.autoFlush = 0;
  check(LZ4F_createCompressionContext(&impl_->cctx, LZ4F_VERSION), "context");
}

lz4_frame_writer::~lz4_frame_writer() { LZ4F_freeCompressionContext(impl_->cctx); }

char* lz4_frame_writer::scratch(size_t bound) {
  if (bound > scratch_size_) {
    scratch_.reset(new char[bound]);
    scratch_size_ = bound;
  }
  return scratch_.get();
}

void lz4_frame_writer::produced(const char* p, size_t n) {
  out_.append(p, n);
  out_total_ += n;
}

void lz4_frame_writer::begin_frame() {
  if (open_)
    return;
  char* dst = scratch(LZ4F_HEADER_SIZE_MAX);
  size_t n = LZ4F_compressBegin(impl_->cctx, dst, LZ4F_HEADER_SIZE_MAX, &impl_->prefs);
  check(n, "begin");
  produced(dst, n);
  open_ = true;
  dirty_ = false;
}

void lz4_frame_writer::write(std::string_view data) {
  begin_frame();
  in_total_ += data.size();
  constexpr size_t piece = 1 << 20;  // bounds the scratch buffer
  while (!data.empty()) {
    size_t len = std::min(data.size(), piece);
    size_t bound = LZ4F_compressBound(len, &impl_->prefs);
    char* dst = scratch(bound);
    size_t n = LZ4F_compressUpdate(impl_->cctx, dst, bound, data.data(), len, nullptr);
    check(n, "compress");
    produced(dst, n);
    data.remove_prefix(len);
    dirty_ = true;
  }
}

void lz4_frame_writer::flush() {
  if (!open_ || !dirty_)
    return;
  size_t bound = LZ4F_compressBound(0, &impl_->prefs);
  char* dst = scratch(bound);
  size_t n = LZ4F_flush(impl_->cctx, dst, bound, nullptr);
  check(n, "flush");
  produced(dst, n);
  dirty_ = false;
}

void lz4_frame_writer::end_frame() {
  if (!open_)
    return;
  size_t bound = LZ4F_compressBound(0, &impl_->prefs);
  char* dst = scratch(bound);
  size_t n = LZ4F_compressEnd(impl_->cctx, dst, bound, nullptr);
  check(n, "end");
  produced(dst, n);
  open_ = false;
  dirty_ = false;
}

// ---- reader ---------------------------------------------------------------------------------

namespace {

constexpr uint32_t frame_magic = 0x184D2204u;
constexpr uint32_t legacy_magic = 0x184C2102u;
constexpr size_t history_max = 64 * 1024;

inline uint32_t le32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
inline uint64_t le64(const unsigned char* p) { return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32; }
inline bool skippable(uint32_t magic) { return (magic & 0xFFFFFFF0u) == 0x184D2A50u; }

std::string le32_bytes(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i)
    s[static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

} // namespace

lz4_frame_reader::lz4_frame_reader() { marks_.emplace_back(); }
lz4_frame_reader::~lz4_frame_reader() = default;

lz4_frame_reader::state lz4_frame_reader::current() const {
  if (failed_)
    return state::error;
  if (!unit_.empty() || step_ == step::skip_body)
    return state::partial;
  return step_ == step::block_size ? state::open : state::idle;
}

bool lz4_frame_reader::fail(std::string msg) {
  failed_ = true;
  error_ = std::move(msg);
  return false;
}

std::string lz4_frame_reader::seal_for(const mark& m) {
  if (!m.in_frame)
    return {};
  std::string s(4, '\0');
  if (m.content_checksum)
    s += le32_bytes(m.content.digest());
  return s;
}

void lz4_frame_reader::add_mark(bool in_frame) {
  mark m;
  m.compressed = unit_start_;
  m.decoded = decoded_;
  m.in_frame = in_frame;
  m.content_checksum = in_frame && content_checksum_;
  m.content_size = in_frame && has_content_size_;
  m.content = content_;
  if (!track_marks_)
    marks_.clear();
  marks_.push_back(m);
}

void lz4_frame_reader::forget_before(uint64_t d) {
  while (marks_.size() >= 2 && marks_[1].decoded < d)
    marks_.pop_front();
}

const lz4_frame_reader::mark& lz4_frame_reader::mark_at_or_before(uint64_t d) const {
  for (size_t i = marks_.size(); i-- > 0;)
    if (marks_[i].decoded <= d)
      return marks_[i];
  return marks_.front();
}

// The total size of the unit whose first `have` bytes are at `u`, or a lower bound (> have) when
// those bytes do not tell yet. Fails on a block size the frame does not allow.
bool lz4_frame_reader::unit_size(const unsigned char* u, size_t have, size_t& total) {
  if (step_ == step::magic) {
    if (have < 4) {
      total = 4;
      return true;
    }
    uint32_t magic = le32(u);
    if (skippable(magic)) {
      total = 8;
    } else if (magic == frame_magic) {
      if (have < 6)
        total = 6;
      else
        total = 4 + 2 + ((u[4] & 0x08) ? 8 : 0) + ((u[4] & 0x01) ? 4 : 0) + 1;
    } else {
      total = 4;
    }
    return true;
  }
  // step::block_size: a block or the end mark.
  if (have < 4) {
    total = 4;
    return true;
  }
  uint32_t word = le32(u);
  if (word == 0) {
    total = 4 + (content_checksum_ ? 4 : 0);
    return true;
  }
  size_t size = word & 0x7FFFFFFFu;
  if (size > block_max_)
    return fail("LZ4 block of " + std::to_string(size) + " bytes exceeds the frame's block size of " +
                std::to_string(block_max_));
  total = 4 + size + (block_checksum_ ? 4 : 0);
  return true;
}

bool lz4_frame_reader::feed(std::string_view in, std::string& out) {
  if (failed_)
    return false;
  fed_ += in.size();
  auto p = reinterpret_cast<const unsigned char*>(in.data());
  size_t n = in.size();
  while (n > 0) {
    if (step_ == step::skip_body) {
      size_t take = static_cast<size_t>(std::min<uint64_t>(n, skip_left_));
      skip_left_ -= take;
      p += take;
      n -= take;
      if (skip_left_ == 0) {
        unit_start_ += skip_total_;
        step_ = step::magic;
        add_mark(false);
      }
      continue;
    }
    size_t total;
    if (unit_.empty()) {
      if (!unit_size(p, n, total))
        return false;
      if (total <= n) {   // the whole unit is in this input: decode it in place
        if (!complete(p, total, out))
          return false;
        p += total;
        n -= total;
        continue;
      }
    }
    // Assemble the unit across inputs.
    for (;;) {
      auto u = reinterpret_cast<const unsigned char*>(unit_.data());
      if (!unit_size(u, unit_.size(), total))
        return false;
      if (unit_.size() >= total)
        break;
      if (n == 0)
        return true;
      size_t take = std::min(n, total - unit_.size());
      unit_.append(reinterpret_cast<const char*>(p), take);
      p += take;
      n -= take;
    }
    std::string unit;
    unit.swap(unit_);
    if (!complete(reinterpret_cast<const unsigned char*>(unit.data()), unit.size(), out))
      return false;
  }
  return true;
}

bool lz4_frame_reader::complete(const unsigned char* u, size_t len, std::string& out) {
  if (step_ == step::magic) {
    uint32_t magic = le32(u);
    if (skippable(magic)) {
      skip_left_ = le32(u + 4);
      skip_total_ = 8 + skip_left_;
      step_ = step::skip_body;
      if (skip_left_ == 0) {
        unit_start_ += skip_total_;
        step_ = step::magic;
        add_mark(false);
      }
      return true;
    }
    if (magic == legacy_magic)
      return fail("legacy LZ4 format (not a frame)");
    if (magic != frame_magic)
      return fail("not an LZ4 frame (bad magic number)");
    unsigned flg = u[4], bd = u[5];
    if ((flg >> 6) != 1)
      return fail("unsupported LZ4 frame version");
    if ((flg & 0x02) || (bd & 0x8F))
      return fail("LZ4 frame descriptor has reserved bits set");
    if (flg & 0x01)
      return fail("LZ4 frame needs a dictionary");
    unsigned id = (bd >> 4) & 7;
    if (id < 4)
      return fail("LZ4 frame has an invalid block size");
    size_t desc = len - 4 - 1;
    if (((xxh32(u + 4, desc) >> 8) & 0xff) != u[len - 1])
      return fail("LZ4 frame header checksum mismatch");
    independent_ = flg & 0x20;
    block_checksum_ = flg & 0x10;
    has_content_size_ = flg & 0x08;
    content_checksum_ = flg & 0x04;
    content_size_ = has_content_size_ ? le64(u + 6) : 0;
    block_max_ = size_t(1) << (8 + 2 * id);
    frame_decoded_ = 0;
    content_.reset();
    history_ = 0;
    if (window_.size() < history_max + block_max_)
      window_.resize(history_max + block_max_);
    ++frames_;
    step_ = step::block_size;
    unit_start_ += len;
    add_mark(true);
    return true;
  }
  // A block or the end mark.
  uint32_t word = le32(u);
  if (word == 0) {
    if (has_content_size_ && frame_decoded_ != content_size_)
      return fail("LZ4 frame content size mismatch");
    if (content_checksum_ && le32(u + 4) != content_.digest())
      return fail("LZ4 frame content checksum mismatch");
    step_ = step::magic;
    unit_start_ += len;
    add_mark(false);
    return true;
  }
  size_t size = word & 0x7FFFFFFFu;
  const unsigned char* data = u + 4;
  if (block_checksum_ && xxh32(data, size) != le32(data + size))
    return fail("LZ4 block checksum mismatch");
  char* dst = window_.data() + (independent_ ? 0 : history_);
  int produced;
  if (word & 0x80000000u) {
    std::memcpy(dst, data, size);
    produced = static_cast<int>(size);
  } else if (independent_) {
    produced = LZ4_decompress_safe(reinterpret_cast<const char*>(data), dst, static_cast<int>(size),
                                   static_cast<int>(block_max_));
  } else {
    produced = LZ4_decompress_safe_usingDict(reinterpret_cast<const char*>(data), dst, static_cast<int>(size),
                                             static_cast<int>(block_max_), window_.data(),
                                             static_cast<int>(history_));
  }
  if (produced < 0)
    return fail("LZ4 block does not decode");
  auto plen = static_cast<size_t>(produced);
  if (has_content_size_ && frame_decoded_ + plen > content_size_)
    return fail("LZ4 frame content size mismatch");
  if (content_checksum_)
    content_.update(dst, plen);
  out.append(dst, plen);
  decoded_ += plen;
  frame_decoded_ += plen;
  if (!independent_) {
    size_t total = history_ + plen;
    size_t keep = std::min(total, history_max);
    if (keep < total)
      std::memmove(window_.data(), window_.data() + (total - keep), keep);
    history_ = keep;
  }
  unit_start_ += len;
  add_mark(true);
  return true;
}

} // namespace troupe::persistence
