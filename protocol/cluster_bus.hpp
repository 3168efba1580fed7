// The Redis Cluster bus wire protocol, as redis-server 7.0 speaks it: every message type, encoded
// and decoded byte for byte, so Troupe nodes and redis-server nodes form one cluster.
//
// Wire layout (all integers big-endian, i.e. network byte order; sizes in bytes):
//
//   offset size field
//        0    4 signature "RCmb"
//        4    4 totlen          length of the whole message, header included
//        8    2 version         1
//       10    2 port            the sender's client port (the TLS port when TLS is on)
//       12    2 type            message_type
//       14    2 count           number of gossip entries (PING/PONG/MEET), 0 otherwise
//       16    8 currentEpoch
//       24    8 configEpoch     the sender's, or its master's if the sender is a replica
//       32    8 offset          replication offset
//       40   40 sender          node id (40 hex characters, not NUL terminated)
//       80 2048 myslots         slot bitmap: slot s is bit (s & 7) of byte s / 8
//     2128   40 slaveof         master's node id, all NUL for a master
//     2168   46 myip            announced IP, NUL padded; all NUL = "use the socket's address"
//     2214    2 extensions      number of ping extensions (PING/PONG/MEET)
//     2216   30 (reserved, zero)
//     2246    2 pport           plaintext client port (TLS clusters), else 0
//     2248    2 cport           the sender's cluster bus port
//     2250    2 flags           the sender's node flags (node_flag)
//     2252    1 state           0 = cluster ok, 1 = cluster fail (from the sender's view)
//     2253    3 mflags          message flags; mflags[0] holds message_flag0 bits
//     2256      body, by type:
//   PING/PONG/MEET  count gossip entries of 104 bytes:
//                     name 40, ping_sent 4 (seconds), pong_received 4 (seconds), ip 46,
//                     port 2, cport 2, flags 2, pport 2, (reserved 2)
//                   then, when mflags[0] has ext_data, `extensions` extensions, each:
//                     length 4 (whole extension, header included, a multiple of 8), type 2,
//                     (reserved 2), payload padded with NULs to the 8-byte boundary.
//                   Redis 7.0 knows one extension type: 0 = hostname (NUL terminated).
//   FAIL            node name 40
//   PUBLISH(SHARD)  channel_len 4, message_len 4, channel bytes, message bytes
//   UPDATE          configEpoch 8, node name 40, slot bitmap 2048
//   AUTH_REQUEST, AUTH_ACK, MFSTART: no body
//   MODULE          module_id 8 (in the sending host's byte order), len 4, type 1, payload len
//
// Pure C++17 (std only). Message structs are plain aggregates so the actor layer can give them
// `inspect` overloads; `message::body` is a std::variant (CAF 0.17 has no std::variant inspector,
// so actors pass the header and the concrete body, or convert).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace troupe::protocol::cluster_bus {

constexpr std::size_t name_length = 40;        // CLUSTER_NAMELEN
constexpr std::size_t ip_length = 46;          // NET_IP_STR_LEN
constexpr int slots = 16384;
constexpr std::size_t bitmap_bytes = slots / 8;  // 2048
constexpr std::size_t header_size = 2256;        // CLUSTERMSG_MIN_LEN: the fixed header
constexpr std::size_t gossip_entry_size = 104;
constexpr std::size_t fail_body_size = name_length;                       // 40
constexpr std::size_t publish_body_min = 8;                               // + channel + message
constexpr std::size_t update_body_size = 8 + name_length + bitmap_bytes;  // 2096
constexpr std::size_t module_body_min = 13;                               // + payload
constexpr std::size_t extension_header_size = 8;
constexpr uint16_t protocol_version = 1;
constexpr std::string_view signature = "RCmb";
// The decoder's default bound on totlen (1 GiB). Redis sets none; the largest real messages are
// PUBLISH with a big channel or message (each bounded by proto-max-bulk-len, 512 MB by default).
constexpr std::size_t default_max_message_size = std::size_t{1} << 30;

enum class message_type : uint16_t {
  ping = 0,
  pong = 1,
  meet = 2,
  fail = 3,
  publish = 4,
  failover_auth_request = 5,
  failover_auth_ack = 6,
  update = 7,
  mfstart = 8,
  module = 9,
  publishshard = 10,
};
constexpr uint16_t message_type_count = 11;

// The name Redis uses for a type in CLUSTER INFO's cluster_stats_messages_<name>_sent lines and in
// its logs: "ping", "pong", "meet", "fail", "publish", "auth-req", "auth-ack", "update", "mfstart",
// "module", "publishshard"; "unknown" for any other value.
std::string_view message_type_name(uint16_t type);
inline std::string_view message_type_name(message_type t) {
  return message_type_name(static_cast<uint16_t>(t));
}

// PING, PONG and MEET share one layout (gossip + extensions).
constexpr bool is_ping_like(message_type t) {
  return t == message_type::ping || t == message_type::pong || t == message_type::meet;
}

// Node flags as they travel in the header's `flags` and each gossip entry's `flags`.
namespace node_flag {
constexpr uint16_t master = 1;
constexpr uint16_t slave = 2;
constexpr uint16_t pfail = 4;
constexpr uint16_t fail = 8;
constexpr uint16_t myself = 16;
constexpr uint16_t handshake = 32;
constexpr uint16_t noaddr = 64;
constexpr uint16_t meet = 128;
constexpr uint16_t migrate_to = 256;
constexpr uint16_t nofailover = 512;
} // namespace node_flag

// Bits of header::mflags[0].
namespace message_flag0 {
constexpr uint8_t paused = 1;    // master paused for a manual failover
constexpr uint8_t forceack = 2;  // vote even though the master is up (manual failover)
constexpr uint8_t ext_data = 4;  // ping extensions follow the gossip section
} // namespace message_flag0

// Header::state.
constexpr uint8_t state_ok = 0;
constexpr uint8_t state_fail = 1;

// Ping extension types Redis 7.0.15 defines (later versions add others; they decode as raw).
namespace extension_type {
constexpr uint16_t hostname = 0;
} // namespace extension_type

// The 16384-bit slot bitmap, in Redis's bit order.
struct slot_bitmap {
  std::array<uint8_t, bitmap_bytes> bytes{};

  bool test(int slot) const { return (bytes[slot >> 3] >> (slot & 7)) & 1; }
  void set(int slot) { bytes[slot >> 3] |= static_cast<uint8_t>(1u << (slot & 7)); }
  void clear(int slot) { bytes[slot >> 3] &= static_cast<uint8_t>(~(1u << (slot & 7))); }
  // Sets every slot in [first, last].
  void set_range(int first, int last);
  void clear_all() { bytes.fill(0); }
  int count() const;
  bool none() const;
  // Maximal runs of set slots as inclusive (first, last) pairs, ascending.
  std::vector<std::pair<int, int>> ranges() const;

  friend bool operator==(const slot_bitmap& a, const slot_bitmap& b) { return a.bytes == b.bytes; }
  friend bool operator!=(const slot_bitmap& a, const slot_bitmap& b) { return !(a == b); }
};

// The fixed part every message carries. Fields that follow from the body (totlen, count,
// extensions, and mflags[0]'s ext_data bit for PING/PONG/MEET) are computed by encode() and
// checked by the decoder, so they are not stored here.
struct header {
  uint16_t version = protocol_version;  // encode() always writes 1; decoded messages have 1
  message_type type = message_type::ping;
  uint16_t port = 0;
  uint64_t current_epoch = 0;
  uint64_t config_epoch = 0;
  uint64_t offset = 0;
  std::string sender;   // node id; encoded as exactly 40 bytes (NUL padded / cut)
  slot_bitmap slots;
  std::string slaveof;  // master's id; "" for a master (all NUL on the wire)
  std::string myip;     // "" = the receiver uses our socket address; at most 45 characters sent
  uint16_t pport = 0;
  uint16_t cport = 0;
  uint16_t flags = 0;   // node_flag bits
  uint8_t state = state_ok;
  std::array<uint8_t, 3> mflags{};
};

struct gossip_entry {
  std::string name;             // 40 characters
  uint32_t ping_sent = 0;       // SECONDS (Redis sends its millisecond times divided by 1000)
  uint32_t pong_received = 0;   // seconds
  std::string ip;               // NUL padded to 46 bytes on the wire
  uint16_t port = 0;
  uint16_t cport = 0;
  uint16_t flags = 0;
  uint16_t pport = 0;
};

// One ping extension: its type and its payload as sent (padding included).
struct ping_extension {
  uint16_t type = 0;
  std::string payload;  // encoded padded with NULs to a multiple of 8
};

// The hostname extension Redis 7.0 sends when cluster-announce-hostname is set.
ping_extension make_hostname_extension(std::string_view hostname);

// PING, PONG, MEET.
struct ping_body {
  std::vector<gossip_entry> gossip;
  std::vector<ping_extension> extensions;

  // The hostname announced by the first hostname extension (text up to the first NUL), or
  // std::nullopt when there is none. Redis clears its record of the sender's hostname when a
  // PING/PONG/MEET comes without one.
  std::optional<std::string> hostname() const;
};

struct fail_body {
  std::string node;  // the failing node's id
};

// PUBLISH and PUBLISHSHARD.
struct publish_body {
  std::string channel;
  std::string message;
};

struct update_body {
  uint64_t config_epoch = 0;
  std::string node;
  slot_bitmap slots;
};

// FAILOVER_AUTH_REQUEST, FAILOVER_AUTH_ACK and MFSTART carry only the header.
struct empty_body {};

struct module_body {
  // Redis copies the module id into the message unconverted (host byte order). It is read and
  // written here as a little-endian integer, which is what x86-64 and arm64 Redis put on the wire.
  uint64_t module_id = 0;
  uint8_t type = 0;
  std::string payload;
};

// A type this code does not know (Redis accepts those with any length, then ignores them).
struct unknown_body {
  uint16_t type = 0;        // the raw type (header::type holds the same value)
  uint16_t count = 0;       // raw header fields, kept for an exact re-encode
  uint16_t extensions = 0;
  std::string data;         // everything after the header
};

using body = std::variant<ping_body, fail_body, publish_body, update_body, empty_body,
                          module_body, unknown_body>;

struct message {
  header hdr;
  body data;
};

// The body alternative a type requires, as variant index (ping_body for PING/PONG/MEET, ...).
std::size_t body_index_for(message_type type);

// Encodes a message. Throws std::invalid_argument when the body does not fit the header's type
// (e.g. a fail_body in a PING) or when a count does not fit 16 bits (gossip, extensions) or 32
// bits (lengths). Extension payloads are NUL padded to 8 bytes.
std::string encode(const message& msg);
// Appends the encoding to `out`.
void encode_to(std::string& out, const message& msg);

// A message of the given type with a default header and the (empty) body that type requires.
message make_message(message_type type);

enum class decode_errc : uint8_t {
  bad_signature,        // fatal: the first 4 bytes are not "RCmb"
  length_too_small,     // fatal: totlen < 2256
  length_too_large,     // fatal: totlen > the decoder's limit
  unsupported_version,  // the message is skipped (Redis ignores it and keeps the link)
  length_mismatch,      // totlen disagrees with type, count, lengths; skipped (Redis: ignored)
  bad_extension,        // malformed extension list; skipped (Redis: ignored)
};

struct decode_error {
  decode_errc code = decode_errc::bad_signature;
  bool fatal = false;   // true: framing is lost, the link must be closed
  int type = -1;        // the message's type field when it was readable (non-fatal errors):
                        // Redis counts a message in its received stats before validating it
  std::string text;     // human readable, names the lengths involved
};

// Decodes exactly one complete message (`frame` must be exactly totlen bytes).
// Returns std::nullopt and fills `err` on error.
std::optional<message> decode(std::string_view frame, decode_error& err);

// Incremental decoder: feed bytes as they arrive, in any split, and take complete messages.
class decoder {
public:
  enum class result { message, need_more, error };

  explicit decoder(std::size_t max_message_size = default_max_message_size);

  void append(std::string_view bytes);
  void append(const char* data, std::size_t n) { append(std::string_view(data, n)); }

  // message: `out` holds the next message. need_more: no complete message buffered.
  // error: see error(); if error().fatal the decoder stays failed (every later call returns
  // error), otherwise the offending message was consumed and the next call continues after it.
  result next(message& out);

  const decode_error& error() const { return error_; }
  bool failed() const { return failed_; }
  // Bytes buffered but not yet returned.
  std::size_t buffered() const { return buf_.size() - pos_; }
  // Forgets buffered bytes and any failure.
  void reset();

private:
  std::size_t max_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool failed_ = false;
  decode_error error_;
};

} // namespace troupe::protocol::cluster_bus
