#include "persistence/packed_formats.hpp"

#include <cstring>

#include "protocol/numbers.hpp"
#include "protocol/resp_writer.hpp"

namespace troupe::persistence {

void packed_item::append_to(std::string& out) const {
  if (is_int) {
    char buf[24];
    out.append(buf, protocol::format_int(ival, buf));
  } else {
    out.append(sval.data(), sval.size());
  }
}

namespace {

inline uint32_t le16(const unsigned char* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8; }
inline uint32_t le32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
inline uint64_t le64(const unsigned char* p) { return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32; }

// ---- listpack layout ------------------------------------------------------------------------
// header: uint32 total bytes, uint16 element count (65535: unknown); entries; 0xFF.
// entry: encoding [+ data], then "backlen": the size of encoding+data in 1..5 bytes, 7 bits per
// byte, most significant group first, every byte but the first having its high bit set.

constexpr size_t lp_header = 6;
constexpr uint32_t lp_count_unknown = 65535;

size_t backlen_size(uint64_t l) {
  if (l <= 127)
    return 1;
  if (l < 16383)
    return 2;
  if (l < 2097151)
    return 3;
  if (l < 268435455)
    return 4;
  return 5;
}

void put_backlen(unsigned char* buf, uint64_t l) {
  size_t n = backlen_size(l);
  for (size_t i = 0; i < n; ++i) {
    unsigned char b = static_cast<unsigned char>((l >> (7 * (n - 1 - i))) & 127);
    if (i > 0)
      b |= 128;
    buf[i] = b;
  }
}

// Integer encoding of v: the encoding bytes (1..9).
size_t encode_lp_int(int64_t v, unsigned char* enc) {
  if (v >= 0 && v <= 127) {
    enc[0] = static_cast<unsigned char>(v);
    return 1;
  }
  if (v >= -4096 && v <= 4095) {
    uint64_t u = static_cast<uint64_t>(v < 0 ? (int64_t(1) << 13) + v : v);
    enc[0] = static_cast<unsigned char>((u >> 8) | 0xC0);
    enc[1] = static_cast<unsigned char>(u & 0xff);
    return 2;
  }
  int width;
  unsigned char tag;
  if (v >= -32768 && v <= 32767) {
    width = 2;
    tag = 0xF1;
  } else if (v >= -8388608 && v <= 8388607) {
    width = 3;
    tag = 0xF2;
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    width = 4;
    tag = 0xF3;
  } else {
    width = 8;
    tag = 0xF4;
  }
  auto u = static_cast<uint64_t>(v);  // two's complement, truncated to `width` bytes
  enc[0] = tag;
  for (int i = 0; i < width; ++i)
    enc[1 + i] = static_cast<unsigned char>((u >> (8 * i)) & 0xff);
  return static_cast<size_t>(1 + width);
}

// String encoding header for a string of `len` bytes.
size_t encode_lp_str_header(size_t len, unsigned char* enc) {
  if (len < 64) {
    enc[0] = static_cast<unsigned char>(0x80 | len);
    return 1;
  }
  if (len < 4096) {
    enc[0] = static_cast<unsigned char>(0xE0 | (len >> 8));
    enc[1] = static_cast<unsigned char>(len & 0xff);
    return 2;
  }
  enc[0] = 0xF0;
  for (int i = 0; i < 4; ++i)
    enc[1 + i] = static_cast<unsigned char>((len >> (8 * i)) & 0xff);
  return 5;
}

int64_t sign_extend(uint64_t v, int bits) {
  uint64_t m = uint64_t(1) << (bits - 1);
  v &= (bits == 64) ? ~uint64_t(0) : ((uint64_t(1) << bits) - 1);
  return static_cast<int64_t>((v ^ m) - m);
}

} // namespace

void listpack_builder::clear() {
  buf_.assign(lp_header, '\0');
  count_ = 0;
}

size_t listpack_builder::element_size(std::string_view s) {
  int64_t v;
  unsigned char enc[16];
  size_t l = protocol::is_canonical_int(s, &v) ? encode_lp_int(v, enc) : encode_lp_str_header(s.size(), enc) + s.size();
  return l + backlen_size(l);
}

void listpack_builder::add_encoded(const unsigned char* enc, size_t enc_len, std::string_view payload) {
  size_t l = enc_len + payload.size();
  unsigned char back[5];
  put_backlen(back, l);
  buf_.append(reinterpret_cast<const char*>(enc), enc_len);
  buf_.append(payload.data(), payload.size());
  buf_.append(reinterpret_cast<const char*>(back), backlen_size(l));
  ++count_;
}

void listpack_builder::add(std::string_view s) {
  int64_t v;
  if (protocol::is_canonical_int(s, &v)) {
    add_int(v);
    return;
  }
  unsigned char enc[5];
  add_encoded(enc, encode_lp_str_header(s.size(), enc), s);
}

void listpack_builder::add_int(int64_t v) {
  unsigned char enc[9];
  add_encoded(enc, encode_lp_int(v, enc), {});
}

std::string listpack_builder::finish() {
  buf_.push_back(static_cast<char>(0xFF));
  auto total = static_cast<uint32_t>(buf_.size());
  uint32_t n = count_ < lp_count_unknown ? static_cast<uint32_t>(count_) : lp_count_unknown;
  for (int i = 0; i < 4; ++i)
    buf_[static_cast<size_t>(i)] = static_cast<char>((total >> (8 * i)) & 0xff);
  buf_[4] = static_cast<char>(n & 0xff);
  buf_[5] = static_cast<char>(n >> 8);
  std::string out;
  out.swap(buf_);
  clear();
  return out;
}

bool decode_listpack(std::string_view blob, std::vector<packed_item>& out, std::string& error) {
  auto b = reinterpret_cast<const unsigned char*>(blob.data());
  size_t size = blob.size();
  if (size < lp_header + 1 || le32(b) != size || b[size - 1] != 0xFF) {
    error = "listpack header or terminator is wrong";
    return false;
  }
  uint32_t declared = le16(b + 4);
  size_t p = lp_header, count = 0;
  while (p < size - 1) {
    unsigned c = b[p];
    size_t avail = size - 1 - p;
    packed_item it;
    size_t hdr = 1, len = 0;
    if ((c & 0x80) == 0) {
      it.is_int = true;
      it.ival = c & 0x7F;
    } else if ((c & 0xC0) == 0x80) {
      len = c & 0x3F;
    } else if ((c & 0xE0) == 0xC0) {
      if (avail < 2)
        break;
      it.is_int = true;
      it.ival = sign_extend((uint64_t(c & 0x1F) << 8) | b[p + 1], 13);
      hdr = 2;
    } else if ((c & 0xF0) == 0xE0) {
      if (avail < 2)
        break;
      len = (size_t(c & 0x0F) << 8) | b[p + 1];
      hdr = 2;
    } else if (c == 0xF0) {
      if (avail < 5)
        break;
      len = le32(b + p + 1);
      hdr = 5;
    } else if (c >= 0xF1 && c <= 0xF4) {
      int width = c == 0xF1 ? 2 : c == 0xF2 ? 3 : c == 0xF3 ? 4 : 8;
      if (avail < size_t(1 + width))
        break;
      uint64_t u = 0;
      for (int i = width - 1; i >= 0; --i)
        u = (u << 8) | b[p + 1 + static_cast<size_t>(i)];
      it.is_int = true;
      it.ival = sign_extend(u, 8 * width);
      hdr = static_cast<size_t>(1 + width);
    } else {
      error = "listpack entry has an invalid encoding";
      return false;
    }
    if (len > avail - hdr || hdr > avail)
      break;
    if (!it.is_int)
      it.sval = std::string_view(blob.data() + p + hdr, len);
    size_t l = hdr + len;
    size_t bl = backlen_size(l);
    if (bl > avail - l)
      break;
    unsigned char expect[5];
    put_backlen(expect, l);
    if (std::memcmp(expect, b + p + l, bl) != 0) {
      error = "listpack entry back-length is wrong";
      return false;
    }
    out.push_back(it);
    ++count;
    p += l + bl;
  }
  if (p != size - 1) {
    error = "listpack entry runs past the end";
    return false;
  }
  if (declared != lp_count_unknown && declared != count) {
    error = "listpack element count is wrong";
    return false;
  }
  return true;
}

// ---- ziplist --------------------------------------------------------------------------------
// header: uint32 total bytes, uint32 offset of the last entry, uint16 count (65535: unknown);
// entries: prevlen (1 byte < 254, or 254 + uint32), encoding, data; 0xFF.

bool decode_ziplist(std::string_view blob, std::vector<packed_item>& out, std::string& error) {
  auto b = reinterpret_cast<const unsigned char*>(blob.data());
  size_t size = blob.size();
  if (size < 11 || le32(b) != size || b[size - 1] != 0xFF || le32(b + 4) > size - 1) {
    error = "ziplist header or terminator is wrong";
    return false;
  }
  uint32_t declared = le16(b + 8);
  uint32_t tail = le32(b + 4);
  size_t p = 10, count = 0, prev_size = 0, last = 10;
  while (p < size - 1) {
    size_t start = p, avail = size - 1 - p;
    size_t prevlen;
    if (b[p] < 254) {
      prevlen = b[p];
      p += 1;
    } else if (b[p] == 254) {
      if (avail < 5)
        goto bad;
      prevlen = le32(b + p + 1);
      p += 5;
    } else {
      goto bad;
    }
    if (prevlen != prev_size) {
      error = "ziplist entry prevlen is wrong";
      return false;
    }
    {
      if (p >= size - 1)
        goto bad;
      unsigned c = b[p];
      avail = size - 1 - p;
      packed_item it;
      size_t hdr = 1, len = 0;
      switch (c >> 6) {
        case 0:
          len = c & 0x3F;
          break;
        case 1:
          if (avail < 2)
            goto bad;
          len = (size_t(c & 0x3F) << 8) | b[p + 1];
          hdr = 2;
          break;
        case 2:
          if (avail < 5)
            goto bad;
          len = size_t(b[p + 1]) << 24 | size_t(b[p + 2]) << 16 | size_t(b[p + 3]) << 8 | b[p + 4];
          hdr = 5;
          break;
        default: {
          int width = 0;
          it.is_int = true;
          if (c == 0xC0)
            width = 2;
          else if (c == 0xD0)
            width = 4;
          else if (c == 0xE0)
            width = 8;
          else if (c == 0xF0)
            width = 3;
          else if (c == 0xFE)
            width = 1;
          else if (c >= 0xF1 && c <= 0xFD)
            it.ival = static_cast<int64_t>(c & 0x0F) - 1;
          else {
            error = "ziplist entry has an invalid encoding";
            return false;
          }
          if (avail < size_t(1 + width))
            goto bad;
          if (width > 0) {
            uint64_t u = 0;
            for (int i = width - 1; i >= 0; --i)
              u = (u << 8) | b[p + 1 + static_cast<size_t>(i)];
            it.ival = sign_extend(u, 8 * width);
          }
          hdr = static_cast<size_t>(1 + width);
        }
      }
      if (hdr > avail || len > avail - hdr)
        goto bad;
      if (!it.is_int)
        it.sval = std::string_view(blob.data() + p + hdr, len);
      out.push_back(it);
      p += hdr + len;
    }
    last = start;
    prev_size = p - start;
    ++count;
  }
  if (p != size - 1)
    goto bad;
  if (count > 0 && tail != last) {
    error = "ziplist tail offset is wrong";
    return false;
  }
  if (declared != 65535 && declared != count) {
    error = "ziplist element count is wrong";
    return false;
  }
  return true;
bad:
  error = "ziplist entry runs past the end";
  return false;
}

// ---- zipmap ---------------------------------------------------------------------------------
// zmlen (1 byte), then: len field len free value [free bytes] ..., 0xFF. A len is one byte below
// 254, or 254 followed by a uint32.

bool decode_zipmap(std::string_view blob, std::vector<packed_item>& out, std::string& error) {
  auto b = reinterpret_cast<const unsigned char*>(blob.data());
  size_t size = blob.size(), p = 1;
  if (size < 2) {
    error = "zipmap is too short";
    return false;
  }
  auto read_len = [&](size_t& len) -> bool {
    if (p >= size)
      return false;
    if (b[p] < 254) {
      len = b[p++];
      return true;
    }
    if (b[p] == 254 && p + 5 <= size) {
      len = le32(b + p + 1);
      p += 5;
      return true;
    }
    return false;
  };
  size_t pairs = 0;
  while (p < size && b[p] != 0xFF) {
    size_t klen, vlen;
    if (!read_len(klen) || klen > size - p)
      goto bad;
    {
      packed_item k;
      k.sval = std::string_view(blob.data() + p, klen);
      p += klen;
      if (!read_len(vlen) || p >= size)
        goto bad;
      size_t free = b[p++];
      if (vlen > size - p || free > size - p - vlen)
        goto bad;
      packed_item v;
      v.sval = std::string_view(blob.data() + p, vlen);
      p += vlen + free;
      out.push_back(k);
      out.push_back(v);
      ++pairs;
    }
  }
  if (p != size - 1)
    goto bad;
  if (b[0] < 254 && b[0] != pairs) {
    error = "zipmap element count is wrong";
    return false;
  }
  return true;
bad:
  error = "zipmap entry runs past the end";
  return false;
}

// ---- intset ---------------------------------------------------------------------------------
// uint32 width (2, 4, 8), uint32 count, then the members, little-endian, strictly ascending.

bool decode_intset(std::string_view blob, std::vector<int64_t>& out, std::string& error) {
  auto b = reinterpret_cast<const unsigned char*>(blob.data());
  if (blob.size() < 8) {
    error = "intset is too short";
    return false;
  }
  uint32_t width = le32(b), count = le32(b + 4);
  if (width != 2 && width != 4 && width != 8) {
    error = "intset has an invalid encoding";
    return false;
  }
  if (uint64_t(width) * count + 8 != blob.size()) {
    error = "intset size does not match its length";
    return false;
  }
  if (count == 0) {
    error = "intset is empty";
    return false;
  }
  out.reserve(out.size() + count);
  for (uint32_t i = 0; i < count; ++i) {
    const unsigned char* q = b + 8 + size_t(i) * width;
    int64_t v = width == 2 ? sign_extend(le16(q), 16) : width == 4 ? sign_extend(le32(q), 32)
                                                                   : static_cast<int64_t>(le64(q));
    if (i > 0 && v <= out.back()) {
      error = "intset members are not strictly ascending";
      return false;
    }
    out.push_back(v);
  }
  return true;
}

} // namespace troupe::persistence
