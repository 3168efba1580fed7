// Redis 7.0 cluster bus messages: encoding, validation and incremental decoding.
#include "protocol/cluster_bus.hpp"

#include <cstring>
#include <limits>
#include <stdexcept>

namespace troupe::protocol::cluster_bus {

namespace {

// Header field offsets (see the table in the header file).
constexpr std::size_t off_totlen = 4;
constexpr std::size_t off_version = 8;
constexpr std::size_t off_port = 10;
constexpr std::size_t off_type = 12;
constexpr std::size_t off_count = 14;
constexpr std::size_t off_current_epoch = 16;
constexpr std::size_t off_config_epoch = 24;
constexpr std::size_t off_offset = 32;
constexpr std::size_t off_sender = 40;
constexpr std::size_t off_slots = 80;
constexpr std::size_t off_slaveof = 2128;
constexpr std::size_t off_myip = 2168;
constexpr std::size_t off_extensions = 2214;
constexpr std::size_t off_pport = 2246;
constexpr std::size_t off_cport = 2248;
constexpr std::size_t off_flags = 2250;
constexpr std::size_t off_state = 2252;
constexpr std::size_t off_mflags = 2253;
static_assert(off_mflags + 3 == header_size, "header layout");
static_assert(off_slots + bitmap_bytes == off_slaveof, "header layout");

// Gossip entry field offsets.
constexpr std::size_t g_ping_sent = 40;
constexpr std::size_t g_pong_received = 44;
constexpr std::size_t g_ip = 48;
constexpr std::size_t g_port = 94;
constexpr std::size_t g_cport = 96;
constexpr std::size_t g_flags = 98;
constexpr std::size_t g_pport = 100;
static_assert(g_pport + 4 == gossip_entry_size, "gossip layout");

uint16_t get16(const unsigned char* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t get32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
uint64_t get64(const unsigned char* p) { return (uint64_t{get32(p)} << 32) | get32(p + 4); }

void put16(unsigned char* p, uint16_t v) {
  p[0] = static_cast<unsigned char>(v >> 8);
  p[1] = static_cast<unsigned char>(v);
}
void put32(unsigned char* p, uint32_t v) {
  put16(p, static_cast<uint16_t>(v >> 16));
  put16(p + 2, static_cast<uint16_t>(v));
}
void put64(unsigned char* p, uint64_t v) {
  put32(p, static_cast<uint32_t>(v >> 32));
  put32(p + 4, static_cast<uint32_t>(v));
}

// Copies `s` into a fixed field of `width` bytes: cut at `max_chars`, the rest stays NUL.
void put_fixed(unsigned char* p, std::string_view s, std::size_t width, std::size_t max_chars) {
  std::size_t n = s.size() < max_chars ? s.size() : max_chars;
  if (n > width) n = width;
  std::memcpy(p, s.data(), n);
}

// A NUL padded text field: the bytes before the first NUL.
std::string get_cstr(const unsigned char* p, std::size_t width) {
  std::size_t n = 0;
  while (n < width && p[n] != 0) ++n;
  return std::string(reinterpret_cast<const char*>(p), n);
}

// A node name field: exactly 40 bytes, or "" when all NUL (no node).
std::string get_name(const unsigned char* p) {
  for (std::size_t i = 0; i < name_length; ++i)
    if (p[i] != 0) return std::string(reinterpret_cast<const char*>(p), name_length);
  return std::string();
}

std::size_t pad8(std::size_t n) { return (n + 7) / 8 * 8; }

const char* const type_names[message_type_count] = {
    "ping", "pong", "meet", "fail", "publish", "auth-req", "auth-ack", "update", "mfstart",
    "module", "publishshard"};

std::string describe_type(uint16_t type) {
  return std::string(message_type_name(type)) + " (type " + std::to_string(type) + ")";
}

} // namespace

std::string_view message_type_name(uint16_t type) {
  if (type < message_type_count) return type_names[type];
  return "unknown";
}

// ---------------------------------------------------------------------------------------------
// slot_bitmap

void slot_bitmap::set_range(int first, int last) {
  for (int s = first; s <= last; ++s) set(s);
}

int slot_bitmap::count() const {
  int n = 0;
  for (uint8_t b : bytes) {
    for (uint8_t v = b; v; v &= static_cast<uint8_t>(v - 1)) ++n;
  }
  return n;
}

bool slot_bitmap::none() const {
  for (uint8_t b : bytes)
    if (b) return false;
  return true;
}

std::vector<std::pair<int, int>> slot_bitmap::ranges() const {
  std::vector<std::pair<int, int>> out;
  int start = -1;
  for (int s = 0; s <= slots; ++s) {
    bool on = s < slots && test(s);
    if (on && start < 0) start = s;
    if (!on && start >= 0) {
      out.emplace_back(start, s - 1);
      start = -1;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// extensions

ping_extension make_hostname_extension(std::string_view hostname) {
  ping_extension ext;
  ext.type = extension_type::hostname;
  ext.payload.assign(hostname.data(), hostname.size());
  ext.payload.resize(pad8(hostname.size() + 1), '\0');  // at least one terminating NUL
  return ext;
}

std::optional<std::string> ping_body::hostname() const {
  for (const auto& ext : extensions) {
    if (ext.type != extension_type::hostname) continue;
    auto end = ext.payload.find('\0');
    return ext.payload.substr(0, end);
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// encoding

std::size_t body_index_for(message_type type) {
  switch (type) {
    case message_type::ping:
    case message_type::pong:
    case message_type::meet: return 0;
    case message_type::fail: return 1;
    case message_type::publish:
    case message_type::publishshard: return 2;
    case message_type::update: return 3;
    case message_type::failover_auth_request:
    case message_type::failover_auth_ack:
    case message_type::mfstart: return 4;
    case message_type::module: return 5;
  }
  return 6;
}

message make_message(message_type type) {
  message m;
  m.hdr.type = type;
  switch (body_index_for(type)) {
    case 0: m.data = ping_body{}; break;
    case 1: m.data = fail_body{}; break;
    case 2: m.data = publish_body{}; break;
    case 3: m.data = update_body{}; break;
    case 4: m.data = empty_body{}; break;
    case 5: m.data = module_body{}; break;
    default: {
      unknown_body u;
      u.type = static_cast<uint16_t>(type);
      m.data = u;
    }
  }
  return m;
}

namespace {

std::size_t body_size(const body& b) {
  struct visitor {
    std::size_t operator()(const ping_body& p) const {
      std::size_t n = p.gossip.size() * gossip_entry_size;
      for (const auto& e : p.extensions) n += extension_header_size + pad8(e.payload.size());
      return n;
    }
    std::size_t operator()(const fail_body&) const { return fail_body_size; }
    std::size_t operator()(const publish_body& p) const {
      return publish_body_min + p.channel.size() + p.message.size();
    }
    std::size_t operator()(const update_body&) const { return update_body_size; }
    std::size_t operator()(const empty_body&) const { return 0; }
    std::size_t operator()(const module_body& m) const {
      return module_body_min + m.payload.size();
    }
    std::size_t operator()(const unknown_body& u) const { return u.data.size(); }
  };
  return std::visit(visitor{}, b);
}

void write_gossip(unsigned char* p, const gossip_entry& g) {
  put_fixed(p, g.name, name_length, name_length);
  put32(p + g_ping_sent, g.ping_sent);
  put32(p + g_pong_received, g.pong_received);
  put_fixed(p + g_ip, g.ip, ip_length, ip_length - 1);
  put16(p + g_port, g.port);
  put16(p + g_cport, g.cport);
  put16(p + g_flags, g.flags);
  put16(p + g_pport, g.pport);
}

} // namespace

void encode_to(std::string& out, const message& msg) {
  const header& h = msg.hdr;
  auto type = static_cast<uint16_t>(h.type);
  std::size_t want = body_index_for(h.type);
  if (msg.data.index() != want)
    throw std::invalid_argument("cluster bus: body does not match message type " +
                                describe_type(type));
  if (auto* u = std::get_if<unknown_body>(&msg.data); u && u->type != type)
    throw std::invalid_argument("cluster bus: unknown_body type differs from header type");

  std::size_t total = header_size + body_size(msg.data);
  if (total > std::numeric_limits<uint32_t>::max())
    throw std::invalid_argument("cluster bus: message longer than 4 GB");

  uint16_t count = 0;
  uint16_t extensions = 0;
  std::array<uint8_t, 3> mflags = h.mflags;
  if (auto* p = std::get_if<ping_body>(&msg.data)) {
    if (p->gossip.size() > 0xffff || p->extensions.size() > 0xffff)
      throw std::invalid_argument("cluster bus: more than 65535 gossip entries or extensions");
    count = static_cast<uint16_t>(p->gossip.size());
    extensions = static_cast<uint16_t>(p->extensions.size());
    if (extensions)
      mflags[0] |= message_flag0::ext_data;
    else
      mflags[0] &= static_cast<uint8_t>(~message_flag0::ext_data);
  } else if (auto* u = std::get_if<unknown_body>(&msg.data)) {
    count = u->count;
    extensions = u->extensions;
  }

  std::size_t base = out.size();
  out.resize(base + total, '\0');
  auto* p = reinterpret_cast<unsigned char*>(&out[base]);

  std::memcpy(p, signature.data(), 4);
  put32(p + off_totlen, static_cast<uint32_t>(total));
  put16(p + off_version, protocol_version);
  put16(p + off_port, h.port);
  put16(p + off_type, type);
  put16(p + off_count, count);
  put64(p + off_current_epoch, h.current_epoch);
  put64(p + off_config_epoch, h.config_epoch);
  put64(p + off_offset, h.offset);
  put_fixed(p + off_sender, h.sender, name_length, name_length);
  std::memcpy(p + off_slots, h.slots.bytes.data(), bitmap_bytes);
  put_fixed(p + off_slaveof, h.slaveof, name_length, name_length);
  put_fixed(p + off_myip, h.myip, ip_length, ip_length - 1);
  put16(p + off_extensions, extensions);
  put16(p + off_pport, h.pport);
  put16(p + off_cport, h.cport);
  put16(p + off_flags, h.flags);
  p[off_state] = h.state;
  std::memcpy(p + off_mflags, mflags.data(), 3);

  unsigned char* b = p + header_size;
  struct writer {
    unsigned char* b;
    void operator()(const ping_body& body) const {
      unsigned char* q = b;
      for (const auto& g : body.gossip) {
        write_gossip(q, g);
        q += gossip_entry_size;
      }
      for (const auto& e : body.extensions) {
        std::size_t len = extension_header_size + pad8(e.payload.size());
        put32(q, static_cast<uint32_t>(len));
        put16(q + 4, e.type);
        std::memcpy(q + extension_header_size, e.payload.data(), e.payload.size());
        q += len;
      }
    }
    void operator()(const fail_body& body) const { put_fixed(b, body.node, name_length, name_length); }
    void operator()(const publish_body& body) const {
      put32(b, static_cast<uint32_t>(body.channel.size()));
      put32(b + 4, static_cast<uint32_t>(body.message.size()));
      std::memcpy(b + 8, body.channel.data(), body.channel.size());
      std::memcpy(b + 8 + body.channel.size(), body.message.data(), body.message.size());
    }
    void operator()(const update_body& body) const {
      put64(b, body.config_epoch);
      put_fixed(b + 8, body.node, name_length, name_length);
      std::memcpy(b + 8 + name_length, body.slots.bytes.data(), bitmap_bytes);
    }
    void operator()(const empty_body&) const {}
    void operator()(const module_body& body) const {
      for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(body.module_id >> (8 * i));
      put32(b + 8, static_cast<uint32_t>(body.payload.size()));
      b[12] = body.type;
      std::memcpy(b + module_body_min, body.payload.data(), body.payload.size());
    }
    void operator()(const unknown_body& body) const {
      std::memcpy(b, body.data.data(), body.data.size());
    }
  };
  std::visit(writer{b}, msg.data);
}

std::string encode(const message& msg) {
  std::string out;
  encode_to(out, msg);
  return out;
}

// ---------------------------------------------------------------------------------------------
// decoding

namespace {

decode_error make_error(decode_errc code, bool fatal, std::string text) {
  decode_error e;
  e.code = code;
  e.fatal = fatal;
  e.text = std::move(text);
  return e;
}

// Checks the first 8 bytes (signature, totlen) against the limits.
std::optional<decode_error> check_prefix(const unsigned char* p, std::size_t max) {
  if (std::memcmp(p, signature.data(), 4) != 0)
    return make_error(decode_errc::bad_signature, true,
                      "bad cluster bus message signature (expected \"RCmb\")");
  uint32_t totlen = get32(p + off_totlen);
  if (totlen < header_size)
    return make_error(decode_errc::length_too_small, true,
                      "cluster bus message length " + std::to_string(totlen) +
                          " is smaller than the " + std::to_string(header_size) +
                          "-byte header");
  if (totlen > max)
    return make_error(decode_errc::length_too_large, true,
                      "cluster bus message length " + std::to_string(totlen) +
                          " exceeds the limit of " + std::to_string(max) + " bytes");
  return std::nullopt;
}

gossip_entry read_gossip(const unsigned char* g) {
  gossip_entry e;
  e.name = std::string(reinterpret_cast<const char*>(g), name_length);
  e.ping_sent = get32(g + g_ping_sent);
  e.pong_received = get32(g + g_pong_received);
  e.ip = get_cstr(g + g_ip, ip_length);
  e.port = get16(g + g_port);
  e.cport = get16(g + g_cport);
  e.flags = get16(g + g_flags);
  e.pport = get16(g + g_pport);
  return e;
}

std::optional<decode_error> mismatch(uint16_t type, uint64_t totlen, uint64_t expected) {
  return make_error(decode_errc::length_mismatch, false,
                    "cluster bus " + describe_type(type) + " message of length " +
                        std::to_string(totlen) + " but expected length " +
                        std::to_string(expected));
}

// Decodes a frame whose prefix is already checked and whose size is exactly totlen.
std::optional<decode_error> decode_frame(const unsigned char* p, std::size_t totlen,
                                         message& out) {
  uint16_t version = get16(p + off_version);
  uint16_t type = get16(p + off_type);
  if (version != protocol_version)
    return make_error(decode_errc::unsupported_version, false,
                      "cluster bus protocol version " + std::to_string(version) +
                          " is not supported (expected " + std::to_string(protocol_version) +
                          ")");
  uint16_t count = get16(p + off_count);
  uint16_t extensions = get16(p + off_extensions);

  header& h = out.hdr;
  h.version = version;
  h.type = static_cast<message_type>(type);
  h.port = get16(p + off_port);
  h.current_epoch = get64(p + off_current_epoch);
  h.config_epoch = get64(p + off_config_epoch);
  h.offset = get64(p + off_offset);
  h.sender = std::string(reinterpret_cast<const char*>(p + off_sender), name_length);
  std::memcpy(h.slots.bytes.data(), p + off_slots, bitmap_bytes);
  h.slaveof = get_name(p + off_slaveof);
  h.myip = get_cstr(p + off_myip, ip_length);
  h.pport = get16(p + off_pport);
  h.cport = get16(p + off_cport);
  h.flags = get16(p + off_flags);
  h.state = p[off_state];
  std::memcpy(h.mflags.data(), p + off_mflags, 3);

  const unsigned char* b = p + header_size;
  const uint64_t avail = totlen - header_size;  // body bytes
  switch (body_index_for(h.type)) {
    case 0: {  // PING, PONG, MEET
      uint64_t gossip_len = uint64_t{count} * gossip_entry_size;
      if (gossip_len > avail) return mismatch(type, totlen, header_size + gossip_len);
      ping_body body;
      body.gossip.reserve(count);
      for (uint16_t i = 0; i < count; ++i) body.gossip.push_back(read_gossip(b + i * gossip_entry_size));
      uint64_t used = gossip_len;
      if (h.mflags[0] & message_flag0::ext_data) {
        body.extensions.reserve(extensions);
        for (uint16_t i = 0; i < extensions; ++i) {
          if (avail - used < extension_header_size)
            return make_error(decode_errc::bad_extension, false,
                              "cluster bus " + describe_type(type) + " extension " +
                                  std::to_string(i) + " starts past the end of the message");
          const unsigned char* e = b + used;
          uint32_t len = get32(e);
          if (len % 8 != 0 || len < extension_header_size)
            return make_error(decode_errc::bad_extension, false,
                              "cluster bus " + describe_type(type) + " extension of length " +
                                  std::to_string(len) + " is not padded to 8 bytes");
          if (len > avail - used)
            return make_error(decode_errc::bad_extension, false,
                              "cluster bus " + describe_type(type) +
                                  " extension data exceeds the message length " +
                                  std::to_string(totlen));
          ping_extension ext;
          ext.type = get16(e + 4);
          ext.payload.assign(reinterpret_cast<const char*>(e + extension_header_size),
                             len - extension_header_size);
          body.extensions.push_back(std::move(ext));
          used += len;
        }
      } else if (extensions != 0) {
        return make_error(decode_errc::bad_extension, false,
                          "cluster bus " + describe_type(type) + " announces " +
                              std::to_string(extensions) +
                              " extensions without the extension-data flag");
      }
      if (used != avail) return mismatch(type, totlen, header_size + used);
      out.data = std::move(body);
      return std::nullopt;
    }
    case 1: {
      if (avail != fail_body_size) return mismatch(type, totlen, header_size + fail_body_size);
      out.data = fail_body{std::string(reinterpret_cast<const char*>(b), name_length)};
      return std::nullopt;
    }
    case 2: {
      if (avail < publish_body_min) return mismatch(type, totlen, header_size + publish_body_min);
      uint64_t clen = get32(b);
      uint64_t mlen = get32(b + 4);
      uint64_t want = publish_body_min + clen + mlen;
      if (avail != want) return mismatch(type, totlen, header_size + want);
      publish_body body;
      body.channel.assign(reinterpret_cast<const char*>(b + 8), clen);
      body.message.assign(reinterpret_cast<const char*>(b + 8 + clen), mlen);
      out.data = std::move(body);
      return std::nullopt;
    }
    case 3: {
      if (avail != update_body_size) return mismatch(type, totlen, header_size + update_body_size);
      update_body body;
      body.config_epoch = get64(b);
      body.node = std::string(reinterpret_cast<const char*>(b + 8), name_length);
      std::memcpy(body.slots.bytes.data(), b + 8 + name_length, bitmap_bytes);
      out.data = std::move(body);
      return std::nullopt;
    }
    case 4: {
      if (avail != 0) return mismatch(type, totlen, header_size);
      out.data = empty_body{};
      return std::nullopt;
    }
    case 5: {
      if (avail < module_body_min) return mismatch(type, totlen, header_size + module_body_min);
      uint64_t len = get32(b + 8);
      if (avail != module_body_min + len)
        return mismatch(type, totlen, header_size + module_body_min + len);
      module_body body;
      for (int i = 0; i < 8; ++i) body.module_id |= uint64_t{b[i]} << (8 * i);
      body.type = b[12];
      body.payload.assign(reinterpret_cast<const char*>(b + module_body_min), len);
      out.data = std::move(body);
      return std::nullopt;
    }
    default: {
      unknown_body body;
      body.type = type;
      body.count = count;
      body.extensions = extensions;
      body.data.assign(reinterpret_cast<const char*>(b), avail);
      out.data = std::move(body);
      return std::nullopt;
    }
  }
}

} // namespace

std::optional<message> decode(std::string_view frame, decode_error& err) {
  if (frame.size() < 8) {
    err = make_error(decode_errc::length_too_small, true,
                     "cluster bus message of " + std::to_string(frame.size()) +
                         " bytes is shorter than the 8-byte prefix");
    return std::nullopt;
  }
  auto* p = reinterpret_cast<const unsigned char*>(frame.data());
  if (auto e = check_prefix(p, std::numeric_limits<uint32_t>::max())) {
    err = std::move(*e);
    return std::nullopt;
  }
  uint32_t totlen = get32(p + off_totlen);
  if (totlen != frame.size()) {
    err = make_error(decode_errc::length_mismatch, true,
                     "cluster bus message length field says " + std::to_string(totlen) +
                         " bytes but the frame has " + std::to_string(frame.size()));
    return std::nullopt;
  }
  message m;
  if (auto e = decode_frame(p, totlen, m)) {
    e->type = get16(p + off_type);
    err = std::move(*e);
    return std::nullopt;
  }
  return m;
}

decoder::decoder(std::size_t max_message_size)
    : max_(max_message_size < header_size ? header_size : max_message_size) {}

void decoder::append(std::string_view bytes) {
  if (failed_) return;
  // Drop what was consumed before growing the buffer.
  if (pos_ > 0 && (pos_ == buf_.size() || pos_ >= buf_.size() / 2)) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes.data(), bytes.size());
}

void decoder::reset() {
  buf_.clear();
  pos_ = 0;
  failed_ = false;
  error_ = decode_error{};
}

decoder::result decoder::next(message& out) {
  if (failed_) return result::error;
  std::size_t have = buf_.size() - pos_;
  if (have < 8) return result::need_more;
  auto* p = reinterpret_cast<const unsigned char*>(buf_.data() + pos_);
  if (auto e = check_prefix(p, max_)) {
    error_ = std::move(*e);
    failed_ = true;
    buf_.clear();
    pos_ = 0;
    return result::error;
  }
  uint32_t totlen = get32(p + off_totlen);
  if (have < totlen) return result::need_more;
  message m;
  auto e = decode_frame(p, totlen, m);
  if (e) e->type = get16(p + off_type);
  pos_ += totlen;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  if (e) {
    error_ = std::move(*e);
    return result::error;
  }
  out = std::move(m);
  return result::message;
}

} // namespace troupe::protocol::cluster_bus
