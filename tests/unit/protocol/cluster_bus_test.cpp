// The Redis 7.0 cluster bus codec: real messages captured from redis-server 7.0.15, round trips
// of every message type, incremental decoding in any split, and rejection of bad input.
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "protocol/cluster_bus.hpp"

using namespace troupe::protocol::cluster_bus;

namespace {

// Real cluster bus messages, recorded by a relay placed in front of one node's bus port in a
// six-node redis-server 7.0.15 cluster (3 masters, 3 replicas; node B on client port 27002 runs
// with --cluster-announce-bus-port 47002 and --cluster-announce-hostname node-b.example, so all
// its inbound bus traffic went through the relay). Plain hex, where "[xx*N]" stands for N bytes
// of value 0xxx (runs of 8 or more), to keep the 2 KB slot bitmaps readable.
//
// Node ids of that cluster:
//   8852e3a9e78ccb854eff78669f436ad93aaec269  127.0.0.1:27001  master 0-5460
//   d89d560a6110aa8cb81fd81136bea777f5308ec0  127.0.0.1:27002  master 5461-10922 (node B)
//   204accc69b8bb3691868c7896e15e403a3e44761  127.0.0.1:27003  master 10923-16383
//   44992a4667d368092703acb1b4077e1ba6350b1f  127.0.0.1:27004  replica of 27003
//   9dc67fc331e9ebd800402bbe514a7e81124989ef  127.0.0.1:27005  replica of 27001
//   c289a4f0a791e1a2553cf268848e603ef71f80ae  127.0.0.1:27006  replica of 27002
//   771f8bc27fd5c6efe9b2680c7decc47e0064367f  127.0.0.1:27007  a fresh node that MEETs node B
// meet: 2256 bytes
const char* const fixture_meet =
    "52436d62000008d00001697f0002[00*26]373731663862633237666435633665666539"
    "62323638306337646563633437653030363433363766[00*2168]908f001101000000"
    ;
// pong_hostname: 2592 bytes
const char* const fixture_pong_hostname =
    "52436d6200000a200001697a000100030000000000000006000000000000000200000000"
    "0000002a6438396435363061363131306161386362383166643831313336626561373737"
    "6635333038656330[00*682]e0[ff*682]07[00*769]01[00*32]b79a01110004000063"
    "323839613466306137393165316132353533636632363838343865363033656637316638"
    "306165000000006b07e6383132372e302e302e31[00*37]697e908e0002000000003964"
    "633637666333333165396562643830303430326262653531346137653831313234393839"
    "6566000000006b07e6393132372e302e302e31[00*37]697d908d000200000000383835"
    "326533613965373863636238353465666637383636396634333661643933616165633236"
    "39000000006b07e6393132372e302e302e31[00*37]6979908901010000000000000018"
    "000000006e6f64652d622e6578616d706c650000"
    ;
// ping_gossip: 2568 bytes
const char* const fixture_ping_gossip =
    "52436d6200000a080001697c0000000300000000000000060000000000000004[00*8]34"
    "343939326134363637643336383039323730336163623162343037376531626136333530"
    "623166[00*2168]908c0011010000003964633637666333333165396562643830303430"
    "3262626535313461376538313132343938396566000000006b07e61d3132372e302e302e"
    "31[00*37]697d908d000100000000383835326533613965373863636238353465666637"
    "38363639663433366164393361616563323639000000006b07e61d3132372e302e302e31"
    "[00*37]6979908900010000000063323839613466306137393165316132353533636632"
    "363838343865363033656637316638306165000000006b07e61d3132372e302e302e31"
    "[00*37]697e908e000100000000"
    ;
// publish: 2273 bytes
const char* const fixture_publish =
    "52436d62000008e1000169790004[00*9]060000000000000001000000000000000e3838"
    "353265336139653738636362383534656666373836363966343336616439336161656332"
    "3639[ff*682]1f[00*1485]908901110000000000000004000000056368616e68656c6c"
    "6f"
    ;
// publishshard: 2273 bytes
const char* const fixture_publishshard =
    "52436d62000008e10001697e000a[00*9]060000000000000002000000000000000e6332"
    "383961346630613739316531613235353363663236383834386536303365663731663830"
    "6165[00*682]e0[ff*682]07[00*682]6438396435363061363131306161386362383166"
    "6438313133366265613737376635333038656330[00*80]908e00120000000000000001"
    "000000086373686172646d7367"
    ;
// fail: 2296 bytes
const char* const fixture_fail =
    "52436d62000008f80001697c0003[00*9]08000000000000000300000000000000383434"
    "393932613436363764333638303932373033616362316234303737653162613633353062"
    "3166[00*1365]f8[ff*682]323034616363633639623862623336393138363863373839"
    "36653135653430336133653434373631[00*80]908c0012000000003230346163636336"
    "3962386262333639313836386337383936653135653430336133653434373631"
    ;
// update: 4352 bytes
const char* const fixture_update =
    "52436d62000011000001697d0007[00*9]0a000000000000000100000000000000543964"
    "633637666333333165396562643830303430326262653531346137653831313234393839"
    "6566[ff*682]1f[00*1365]383835326533613965373863636238353465666637383636"
    "39663433366164393361616563323639[00*80]908d0012[00*11]0a6332383961346630"
    "6137393165316132353533636632363838343865363033656637316638306165[00*682]"
    "e0[ff*682]07[00*682]"
    ;
// mfstart: 2256 bytes
const char* const fixture_mfstart =
    "52436d62000008d00001697e0008[00*9]060000000000000002000000000000002a6332"
    "383961346630613739316531613235353363663236383834386536303365663731663830"
    "6165[00*682]e0[ff*682]07[00*682]6438396435363061363131306161386362383166"
    "6438313133366265613737376635333038656330[00*80]908e001200000000"
    ;
// auth_request: 2256 bytes
const char* const fixture_auth_request =
    "52436d62000008d00001697e0005[00*9]070000000000000002000000000000002a6332"
    "383961346630613739316531613235353363663236383834386536303365663731663830"
    "6165[00*682]e0[ff*682]07[00*682]6438396435363061363131306161386362383166"
    "6438313133366265613737376635333038656330[00*80]908e001200020000"
    ;
// auth_ack: 2256 bytes
const char* const fixture_auth_ack =
    "52436d62000008d0000169790006[00*9]080000000000000001000000000000002a3838"
    "353265336139653738636362383534656666373836363966343336616439336161656332"
    "3639[ff*682]1f[00*1485]9089011100000000"
    ;

const std::string id_a = "8852e3a9e78ccb854eff78669f436ad93aaec269";  // 27001
const std::string id_b = "d89d560a6110aa8cb81fd81136bea777f5308ec0";  // 27002
const std::string id_c = "204accc69b8bb3691868c7896e15e403a3e44761";  // 27003
const std::string id_d = "44992a4667d368092703acb1b4077e1ba6350b1f";  // 27004
const std::string id_e = "9dc67fc331e9ebd800402bbe514a7e81124989ef";  // 27005
const std::string id_f = "c289a4f0a791e1a2553cf268848e603ef71f80ae";  // 27006
const std::string id_g = "771f8bc27fd5c6efe9b2680c7decc47e0064367f";  // 27007

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  throw std::invalid_argument("bad hex digit");
}

// Expands the fixture notation: hex pairs, and "[xx*N]" for N bytes of 0xxx.
std::string unhex(const char* s) {
  std::string out;
  std::string in(s);
  for (std::size_t i = 0; i < in.size();) {
    if (in[i] == '[') {
      auto star = in.find('*', i);
      auto close = in.find(']', i);
      int v = hex_digit(in[i + 1]) * 16 + hex_digit(in[i + 2]);
      out.append(std::stoul(in.substr(star + 1, close - star - 1)), static_cast<char>(v));
      i = close + 1;
    } else {
      out.push_back(static_cast<char>(hex_digit(in[i]) * 16 + hex_digit(in[i + 1])));
      i += 2;
    }
  }
  return out;
}

message decode_ok(const std::string& frame) {
  decode_error err;
  auto m = decode(frame, err);
  BOOST_REQUIRE_MESSAGE(m.has_value(), err.text);
  return *m;
}

std::vector<std::pair<int, int>> R(std::initializer_list<std::pair<int, int>> l) { return l; }

// A header with every field set to something distinctive.
header sample_header(message_type type) {
  header h;
  h.type = type;
  h.port = 30001;
  h.current_epoch = 0x0102030405060708ULL;
  h.config_epoch = 42;
  h.offset = 0xfedcba9876543210ULL;
  h.sender = "0123456789abcdef0123456789abcdef01234567";
  h.slots.set_range(0, 99);
  h.slots.set(16383);
  h.slaveof = "89abcdef0123456789abcdef0123456789abcdef";
  h.myip = "2001:db8::1";
  h.pport = 30002;
  h.cport = 40001;
  h.flags = node_flag::myself | node_flag::slave;
  h.state = state_fail;
  h.mflags = {message_flag0::paused, 7, 9};
  return h;
}

void check_same_header(const header& a, const header& b) {
  BOOST_TEST(a.version == b.version);
  BOOST_TEST(static_cast<int>(a.type) == static_cast<int>(b.type));
  BOOST_TEST(a.port == b.port);
  BOOST_TEST(a.current_epoch == b.current_epoch);
  BOOST_TEST(a.config_epoch == b.config_epoch);
  BOOST_TEST(a.offset == b.offset);
  BOOST_TEST(a.sender == b.sender);
  BOOST_TEST((a.slots == b.slots));
  BOOST_TEST(a.slaveof == b.slaveof);
  BOOST_TEST(a.myip == b.myip);
  BOOST_TEST(a.pport == b.pport);
  BOOST_TEST(a.cport == b.cport);
  BOOST_TEST(a.flags == b.flags);
  BOOST_TEST(a.state == b.state);
  BOOST_TEST(a.mflags[1] == b.mflags[1]);
  BOOST_TEST(a.mflags[2] == b.mflags[2]);
}

// Every captured message, in one stream.
std::vector<std::string> all_fixtures() {
  return {unhex(fixture_meet),         unhex(fixture_pong_hostname), unhex(fixture_ping_gossip),
          unhex(fixture_publish),      unhex(fixture_publishshard),  unhex(fixture_fail),
          unhex(fixture_update),       unhex(fixture_mfstart),       unhex(fixture_auth_request),
          unhex(fixture_auth_ack)};
}

// A minimal valid message of the given type.
std::string minimal(message_type t) { return encode(make_message(t)); }

void put32_at(std::string& s, std::size_t off, uint32_t v) {
  s[off] = static_cast<char>(v >> 24);
  s[off + 1] = static_cast<char>(v >> 16);
  s[off + 2] = static_cast<char>(v >> 8);
  s[off + 3] = static_cast<char>(v);
}
void put16_at(std::string& s, std::size_t off, uint16_t v) {
  s[off] = static_cast<char>(v >> 8);
  s[off + 1] = static_cast<char>(v);
}

} // namespace

BOOST_AUTO_TEST_SUITE(cluster_bus_suite)

BOOST_AUTO_TEST_CASE(layout_constants) {
  BOOST_TEST(header_size == 2256u);
  BOOST_TEST(gossip_entry_size == 104u);
  BOOST_TEST(update_body_size == 2096u);
  BOOST_TEST(bitmap_bytes == 2048u);
  BOOST_TEST(message_type_count == 11);
  BOOST_TEST(message_type_name(message_type::ping) == "ping");
  BOOST_TEST(message_type_name(message_type::failover_auth_request) == "auth-req");
  BOOST_TEST(message_type_name(message_type::failover_auth_ack) == "auth-ack");
  BOOST_TEST(message_type_name(message_type::publishshard) == "publishshard");
  BOOST_TEST(message_type_name(11) == "unknown");
  BOOST_TEST(minimal(message_type::ping).size() == header_size);
  BOOST_TEST(minimal(message_type::fail).size() == header_size + 40);
  BOOST_TEST(minimal(message_type::update).size() == header_size + 2096);
  BOOST_TEST(minimal(message_type::publish).size() == header_size + 8);
  BOOST_TEST(minimal(message_type::module).size() == header_size + 13);
  BOOST_TEST(minimal(message_type::mfstart).size() == header_size);
}

BOOST_AUTO_TEST_CASE(slot_bitmap_bits) {
  slot_bitmap b;
  BOOST_TEST(b.none());
  b.set(0);
  BOOST_TEST(b.bytes[0] == 0x01);
  b.set(7);
  BOOST_TEST(b.bytes[0] == 0x81);
  b.set(16383);
  BOOST_TEST(b.bytes[2047] == 0x80);
  BOOST_TEST(b.test(16383));
  BOOST_TEST(!b.test(16382));
  BOOST_TEST(b.count() == 3);
  b.clear(7);
  BOOST_TEST(b.bytes[0] == 0x01);
  b.set_range(5461, 10922);  // as Redis lays out node B's slots: byte 682 = 0xe0
  BOOST_TEST(b.bytes[682] == 0xe0);
  BOOST_TEST(b.bytes[683] == 0xff);
  BOOST_TEST(b.bytes[1365] == 0x07);
  BOOST_TEST(b.count() == 2 + 5462);
  BOOST_TEST(b.ranges() == R({{0, 0}, {5461, 10922}, {16383, 16383}}));
  b.clear_all();
  BOOST_TEST(b.none());
  BOOST_TEST(b.ranges().empty());
  b.set_range(0, 16383);
  BOOST_TEST(b.count() == 16384);
  BOOST_TEST(b.ranges() == R({{0, 16383}}));
}

BOOST_AUTO_TEST_CASE(hostname_extension_padding) {
  // The payload is the name, a NUL, and NULs up to a multiple of 8.
  BOOST_TEST(make_hostname_extension("node-b.example").payload.size() == 16u);  // 14 + 1 -> 16
  BOOST_TEST(make_hostname_extension("0123456").payload.size() == 8u);          // 7 + 1
  BOOST_TEST(make_hostname_extension("01234567").payload.size() == 16u);        // 8 + 1 -> 16
  BOOST_TEST(make_hostname_extension("").payload.size() == 8u);
  ping_body b;
  BOOST_TEST(!b.hostname().has_value());
  b.extensions.push_back(ping_extension{7, std::string(8, 'x')});
  b.extensions.push_back(make_hostname_extension("host.example"));
  BOOST_TEST(*b.hostname() == "host.example");
}

// --- real messages from redis-server 7.0.15 ---------------------------------------------------

BOOST_AUTO_TEST_CASE(real_meet) {
  auto bytes = unhex(fixture_meet);
  BOOST_TEST(bytes.size() == 2256u);
  auto m = decode_ok(bytes);
  BOOST_TEST(m.hdr.version == 1);
  BOOST_TEST((m.hdr.type == message_type::meet));
  BOOST_TEST(m.hdr.port == 27007);
  BOOST_TEST(m.hdr.current_epoch == 0u);
  BOOST_TEST(m.hdr.config_epoch == 0u);
  BOOST_TEST(m.hdr.offset == 0u);
  BOOST_TEST(m.hdr.sender == id_g);
  BOOST_TEST(m.hdr.slots.none());
  BOOST_TEST(m.hdr.slaveof == "");
  BOOST_TEST(m.hdr.myip == "");  // no cluster-announce-ip: the receiver uses the socket address
  BOOST_TEST(m.hdr.pport == 0);
  BOOST_TEST(m.hdr.cport == 37007);
  BOOST_TEST(m.hdr.flags == (node_flag::myself | node_flag::master));
  BOOST_TEST(m.hdr.state == state_fail);  // a lone node's cluster is down
  BOOST_TEST(m.hdr.mflags[0] == 0);
  auto& body = std::get<ping_body>(m.data);
  BOOST_TEST(body.gossip.empty());
  BOOST_TEST(body.extensions.empty());
  BOOST_TEST(encode(m) == bytes);
}

BOOST_AUTO_TEST_CASE(real_pong_with_gossip_and_hostname) {
  auto bytes = unhex(fixture_pong_hostname);
  BOOST_TEST(bytes.size() == 2592u);  // 2256 + 3 * 104 + 24
  auto m = decode_ok(bytes);
  BOOST_TEST((m.hdr.type == message_type::pong));
  BOOST_TEST(m.hdr.port == 27002);
  BOOST_TEST(m.hdr.current_epoch == 6u);
  BOOST_TEST(m.hdr.config_epoch == 2u);
  BOOST_TEST(m.hdr.offset == 42u);
  BOOST_TEST(m.hdr.sender == id_b);
  BOOST_TEST(m.hdr.slots.ranges() == R({{5461, 10922}}));
  BOOST_TEST(m.hdr.slaveof == "");
  BOOST_TEST(m.hdr.cport == 47002);  // the announced bus port
  BOOST_TEST(m.hdr.flags == (node_flag::myself | node_flag::master | node_flag::migrate_to));
  BOOST_TEST(m.hdr.state == state_ok);
  BOOST_TEST(m.hdr.mflags[0] == message_flag0::ext_data);
  auto& body = std::get<ping_body>(m.data);
  BOOST_REQUIRE(body.gossip.size() == 3u);
  const auto& g0 = body.gossip[0];
  BOOST_TEST(g0.name == id_f);
  BOOST_TEST(g0.ping_sent == 0u);
  BOOST_TEST(g0.pong_received == 1795679800u);  // seconds
  BOOST_TEST(g0.ip == "127.0.0.1");
  BOOST_TEST(g0.port == 27006);
  BOOST_TEST(g0.cport == 37006);
  BOOST_TEST(g0.flags == node_flag::slave);
  BOOST_TEST(g0.pport == 0);
  BOOST_TEST(body.gossip[1].name == id_e);
  BOOST_TEST(body.gossip[1].pong_received == 1795679801u);
  BOOST_TEST(body.gossip[2].name == id_a);
  BOOST_TEST(body.gossip[2].port == 27001);
  BOOST_TEST(body.gossip[2].flags == (node_flag::master | node_flag::migrate_to));
  BOOST_REQUIRE(body.extensions.size() == 1u);
  BOOST_TEST(body.extensions[0].type == extension_type::hostname);
  BOOST_TEST(body.extensions[0].payload == std::string("node-b.example\0\0", 16));
  BOOST_TEST(*body.hostname() == "node-b.example");
  BOOST_TEST(encode(m) == bytes);

  // Building the same message from scratch yields the same bytes.
  message built = make_message(message_type::pong);
  built.hdr = m.hdr;
  built.hdr.mflags = {0, 0, 0};  // ext_data is set by encode()
  ping_body pb;
  pb.gossip = body.gossip;
  pb.extensions.push_back(make_hostname_extension("node-b.example"));
  built.data = pb;
  BOOST_TEST(encode(built) == bytes);
}

BOOST_AUTO_TEST_CASE(real_ping_from_replica_view) {
  auto bytes = unhex(fixture_ping_gossip);
  auto m = decode_ok(bytes);
  BOOST_TEST((m.hdr.type == message_type::ping));
  BOOST_TEST(m.hdr.port == 27004);
  BOOST_TEST(m.hdr.sender == id_d);
  BOOST_TEST(m.hdr.current_epoch == 6u);
  BOOST_TEST(m.hdr.config_epoch == 4u);
  BOOST_TEST(m.hdr.cport == 37004);
  BOOST_TEST(m.hdr.mflags[0] == 0);  // no hostname: no extensions
  auto& body = std::get<ping_body>(m.data);
  BOOST_REQUIRE(body.gossip.size() == 3u);
  BOOST_TEST(body.gossip[0].name == id_e);
  BOOST_TEST(body.gossip[1].name == id_a);
  BOOST_TEST(body.gossip[2].name == id_f);
  BOOST_TEST(body.gossip[2].pong_received == 1795679773u);
  BOOST_TEST(body.extensions.empty());
  BOOST_TEST(!body.hostname().has_value());
  BOOST_TEST(encode(m) == bytes);
}

BOOST_AUTO_TEST_CASE(real_publish_and_publishshard) {
  auto bytes = unhex(fixture_publish);
  auto m = decode_ok(bytes);
  BOOST_TEST((m.hdr.type == message_type::publish));
  BOOST_TEST(m.hdr.sender == id_a);
  BOOST_TEST(m.hdr.slots.ranges() == R({{0, 5460}}));
  BOOST_TEST(m.hdr.offset == 14u);
  auto& p = std::get<publish_body>(m.data);
  BOOST_TEST(p.channel == "chan");
  BOOST_TEST(p.message == "hello");
  BOOST_TEST(encode(m) == bytes);

  // SPUBLISH on a replica: the header carries the master's slots and config epoch.
  bytes = unhex(fixture_publishshard);
  m = decode_ok(bytes);
  BOOST_TEST((m.hdr.type == message_type::publishshard));
  BOOST_TEST(m.hdr.sender == id_f);
  BOOST_TEST(m.hdr.slaveof == id_b);
  BOOST_TEST(m.hdr.flags == (node_flag::myself | node_flag::slave));
  BOOST_TEST(m.hdr.config_epoch == 2u);
  BOOST_TEST(m.hdr.slots.ranges() == R({{5461, 10922}}));
  auto& s = std::get<publish_body>(m.data);
  BOOST_TEST(s.channel == "c");
  BOOST_TEST(s.message == "shardmsg");
  BOOST_TEST(encode(m) == bytes);
}

BOOST_AUTO_TEST_CASE(real_fail) {
  auto bytes = unhex(fixture_fail);
  BOOST_TEST(bytes.size() == 2296u);
  auto m = decode_ok(bytes);
  BOOST_TEST((m.hdr.type == message_type::fail));
  BOOST_TEST(m.hdr.sender == id_d);
  BOOST_TEST(m.hdr.slaveof == id_c);
  BOOST_TEST(m.hdr.current_epoch == 8u);
  BOOST_TEST(m.hdr.config_epoch == 3u);
  BOOST_TEST(m.hdr.offset == 56u);
  BOOST_TEST(m.hdr.slots.ranges() == R({{10923, 16383}}));
  BOOST_TEST(std::get<fail_body>(m.data).node == id_c);
  BOOST_TEST(encode(m) == bytes);
}

BOOST_AUTO_TEST_CASE(real_update) {
  auto bytes = unhex(fixture_update);
  BOOST_TEST(bytes.size() == 4352u);
  auto m = decode_ok(bytes);
  BOOST_TEST((m.hdr.type == message_type::update));
  BOOST_TEST(m.hdr.sender == id_e);
  BOOST_TEST(m.hdr.current_epoch == 10u);
  auto& u = std::get<update_body>(m.data);
  BOOST_TEST(u.config_epoch == 10u);
  BOOST_TEST(u.node == id_f);
  BOOST_TEST(u.slots.ranges() == R({{5461, 10922}}));
  BOOST_TEST(encode(m) == bytes);
}

BOOST_AUTO_TEST_CASE(real_manual_failover_messages) {
  auto bytes = unhex(fixture_mfstart);
  auto m = decode_ok(bytes);
  BOOST_TEST((m.hdr.type == message_type::mfstart));
  BOOST_TEST(m.hdr.sender == id_f);
  BOOST_TEST(m.hdr.slaveof == id_b);
  BOOST_TEST(std::holds_alternative<empty_body>(m.data));
  BOOST_TEST(encode(m) == bytes);

  bytes = unhex(fixture_auth_request);
  m = decode_ok(bytes);
  BOOST_TEST((m.hdr.type == message_type::failover_auth_request));
  BOOST_TEST(m.hdr.current_epoch == 7u);  // the bumped election epoch
  BOOST_TEST(m.hdr.config_epoch == 2u);   // the master's
  BOOST_TEST(m.hdr.mflags[0] == message_flag0::forceack);  // manual failover
  BOOST_TEST(m.hdr.slots.ranges() == R({{5461, 10922}}));
  BOOST_TEST(encode(m) == bytes);

  bytes = unhex(fixture_auth_ack);
  m = decode_ok(bytes);
  BOOST_TEST((m.hdr.type == message_type::failover_auth_ack));
  BOOST_TEST(m.hdr.sender == id_a);
  BOOST_TEST(m.hdr.current_epoch == 8u);
  BOOST_TEST(encode(m) == bytes);
}

// --- incremental decoding ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(decode_stream_byte_by_byte) {
  auto frames = all_fixtures();
  std::string stream;
  for (auto& f : frames) stream += f;
  decoder d;
  std::vector<message> got;
  message m;
  for (char c : stream) {
    d.append(&c, 1);
    for (;;) {
      auto r = d.next(m);
      BOOST_REQUIRE(r != decoder::result::error);
      if (r == decoder::result::need_more) break;
      got.push_back(m);
    }
  }
  BOOST_REQUIRE(got.size() == frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i) BOOST_TEST(encode(got[i]) == frames[i]);
  BOOST_TEST(d.buffered() == 0u);
}

BOOST_AUTO_TEST_CASE(decode_stream_random_splits) {
  auto frames = all_fixtures();
  std::string stream;
  for (int rep = 0; rep < 3; ++rep)
    for (auto& f : frames) stream += f;
  std::mt19937 rng(12345);
  for (int round = 0; round < 50; ++round) {
    decoder d;
    std::size_t n = 0, pos = 0;
    message m;
    while (pos < stream.size()) {
      std::size_t len = std::uniform_int_distribution<std::size_t>(1, 6000)(rng);
      if (len > stream.size() - pos) len = stream.size() - pos;
      d.append(stream.data() + pos, len);
      pos += len;
      decoder::result r;
      while ((r = d.next(m)) == decoder::result::message) {
        BOOST_REQUIRE(encode(m) == frames[n % frames.size()]);
        ++n;
      }
      BOOST_REQUIRE(r == decoder::result::need_more);
    }
    BOOST_TEST(n == 3 * frames.size());
  }
}

BOOST_AUTO_TEST_CASE(truncated_input_waits) {
  for (auto& f : all_fixtures()) {
    decoder d;
    message m;
    d.append(f.data(), f.size() - 1);
    BOOST_TEST((d.next(m) == decoder::result::need_more));
    BOOST_TEST(d.buffered() == f.size() - 1);
    d.append(f.data() + f.size() - 1, 1);
    BOOST_TEST((d.next(m) == decoder::result::message));
    BOOST_TEST((d.next(m) == decoder::result::need_more));
    // The one-shot decoder refuses a frame that is short of its totlen.
    decode_error err;
    BOOST_TEST(!decode(std::string_view(f.data(), f.size() - 1), err).has_value());
    BOOST_TEST(!decode(std::string_view(f.data(), 5), err).has_value());
  }
}

// --- round trips of every type ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(round_trip_every_type) {
  std::vector<message> msgs;
  for (auto t : {message_type::ping, message_type::pong, message_type::meet}) {
    message m;
    m.hdr = sample_header(t);
    ping_body b;
    for (int i = 0; i < 5; ++i) {
      gossip_entry g;
      g.name = std::string(40, static_cast<char>('a' + i));
      g.ping_sent = 1700000000u + i;
      g.pong_received = 1700000100u + i;
      g.ip = i % 2 ? "10.0.0." + std::to_string(i) : "fe80::1234:5678:9abc:def0:1234:5678";
      g.port = static_cast<uint16_t>(7000 + i);
      g.cport = static_cast<uint16_t>(17000 + i);
      g.flags = static_cast<uint16_t>(i % 2 ? node_flag::master : node_flag::slave | node_flag::pfail);
      g.pport = static_cast<uint16_t>(i);
      b.gossip.push_back(g);
    }
    b.extensions.push_back(make_hostname_extension("a-rather-long-host-name.example.org"));
    b.extensions.push_back(ping_extension{2, std::string(40, 'S')});  // a 7.2-style shard id
    b.extensions.push_back(ping_extension{9, std::string()});
    m.data = b;
    msgs.push_back(m);
  }
  {
    message m;
    m.hdr = sample_header(message_type::fail);
    m.data = fail_body{std::string(40, 'f')};
    msgs.push_back(m);
  }
  for (auto t : {message_type::publish, message_type::publishshard}) {
    message m;
    m.hdr = sample_header(t);
    m.data = publish_body{std::string("ch\0an", 5), std::string(100000, 'x')};
    msgs.push_back(m);
  }
  {
    message m;
    m.hdr = sample_header(message_type::publish);
    m.data = publish_body{};
    msgs.push_back(m);
  }
  {
    message m;
    m.hdr = sample_header(message_type::update);
    update_body u;
    u.config_epoch = 77;
    u.node = std::string(40, 'u');
    u.slots.set_range(100, 200);
    m.data = u;
    msgs.push_back(m);
  }
  for (auto t : {message_type::failover_auth_request, message_type::failover_auth_ack,
                 message_type::mfstart}) {
    message m;
    m.hdr = sample_header(t);
    m.data = empty_body{};
    msgs.push_back(m);
  }
  {
    message m;
    m.hdr = sample_header(message_type::module);
    m.data = module_body{0x1122334455667788ULL, 200, std::string("payload\0!", 9)};
    msgs.push_back(m);
  }
  {
    message m;
    m.hdr = sample_header(static_cast<message_type>(42));
    unknown_body u;
    u.type = 42;
    u.count = 3;
    u.extensions = 1;
    u.data = "opaque body";
    m.data = u;
    msgs.push_back(m);
  }

  std::string stream;
  for (auto& m : msgs) {
    std::string bytes = encode(m);
    BOOST_TEST(bytes.size() >= header_size);
    auto back = decode_ok(bytes);
    check_same_header(back.hdr, m.hdr);
    BOOST_TEST(back.data.index() == m.data.index());
    BOOST_TEST(encode(back) == bytes);
    stream += bytes;
  }
  // The extension flag follows the body, whatever the caller left in mflags[0].
  auto pb = decode_ok(encode(msgs[0]));
  BOOST_TEST((pb.hdr.mflags[0] & message_flag0::ext_data) != 0);
  BOOST_TEST((pb.hdr.mflags[0] & message_flag0::paused) != 0);
  const auto& body = std::get<ping_body>(pb.data);
  const auto& orig = std::get<ping_body>(msgs[0].data);
  BOOST_REQUIRE(body.gossip.size() == 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    BOOST_TEST(body.gossip[i].name == orig.gossip[i].name);
    BOOST_TEST(body.gossip[i].ip == orig.gossip[i].ip);
    BOOST_TEST(body.gossip[i].ping_sent == orig.gossip[i].ping_sent);
    BOOST_TEST(body.gossip[i].pong_received == orig.gossip[i].pong_received);
    BOOST_TEST(body.gossip[i].port == orig.gossip[i].port);
    BOOST_TEST(body.gossip[i].cport == orig.gossip[i].cport);
    BOOST_TEST(body.gossip[i].flags == orig.gossip[i].flags);
    BOOST_TEST(body.gossip[i].pport == orig.gossip[i].pport);
  }
  BOOST_REQUIRE(body.extensions.size() == 3u);
  BOOST_TEST(*body.hostname() == "a-rather-long-host-name.example.org");
  BOOST_TEST(body.extensions[1].type == 2);
  BOOST_TEST(body.extensions[1].payload == std::string(40, 'S'));
  BOOST_TEST(body.extensions[2].payload.empty());
  auto pub = decode_ok(encode(msgs[4]));
  BOOST_TEST(std::get<publish_body>(pub.data).channel == std::string("ch\0an", 5));
  BOOST_TEST(std::get<publish_body>(pub.data).message.size() == 100000u);
  auto mod = decode_ok(encode(msgs[msgs.size() - 2]));
  BOOST_TEST(std::get<module_body>(mod.data).module_id == 0x1122334455667788ULL);
  BOOST_TEST(std::get<module_body>(mod.data).type == 200);
  BOOST_TEST(std::get<module_body>(mod.data).payload == std::string("payload\0!", 9));
  auto unk = decode_ok(encode(msgs.back()));
  BOOST_TEST(std::get<unknown_body>(unk.data).data == "opaque body");
  BOOST_TEST(std::get<unknown_body>(unk.data).count == 3);

  // The same messages through the incremental decoder in one go.
  decoder d;
  d.append(stream);
  message m;
  std::size_t n = 0;
  while (d.next(m) == decoder::result::message) ++n;
  BOOST_TEST(n == msgs.size());
}

BOOST_AUTO_TEST_CASE(encode_fixed_fields) {
  message m = make_message(message_type::ping);
  m.hdr.sender = "short";                               // padded with NULs to 40
  m.hdr.myip = std::string(60, '9');                    // cut to 45 characters + NUL
  m.hdr.slaveof = "";                                   // 40 NULs
  std::string bytes = encode(m);
  BOOST_TEST(bytes.substr(40, 5) == "short");
  BOOST_TEST(bytes.substr(45, 35) == std::string(35, '\0'));
  BOOST_TEST(bytes.substr(2128, 40) == std::string(40, '\0'));
  BOOST_TEST(bytes.substr(2168, 45) == std::string(45, '9'));
  BOOST_TEST(bytes[2213] == '\0');
  auto back = decode_ok(bytes);
  BOOST_TEST(back.hdr.myip == std::string(45, '9'));
  BOOST_TEST(back.hdr.sender == std::string("short") + std::string(35, '\0'));
  // Byte order: network order for every integer.
  m.hdr.port = 0x1234;
  m.hdr.current_epoch = 0x0102030405060708ULL;
  bytes = encode(m);
  BOOST_TEST(bytes.substr(0, 4) == "RCmb");
  BOOST_TEST(bytes.substr(4, 4) == std::string("\x00\x00\x08\xd0", 4));
  BOOST_TEST(bytes.substr(8, 2) == std::string("\x00\x01", 2));
  BOOST_TEST(bytes.substr(10, 2) == "\x12\x34");
  BOOST_TEST(bytes.substr(16, 8) == "\x01\x02\x03\x04\x05\x06\x07\x08");
}

BOOST_AUTO_TEST_CASE(encode_rejects_mismatched_body) {
  message m = make_message(message_type::ping);
  m.data = fail_body{};
  BOOST_CHECK_THROW(encode(m), std::invalid_argument);
  m.hdr.type = message_type::fail;
  BOOST_CHECK_NO_THROW(encode(m));
  m.hdr.type = message_type::mfstart;
  BOOST_CHECK_THROW(encode(m), std::invalid_argument);
  m = make_message(message_type::ping);
  std::get<ping_body>(m.data).gossip.resize(70000);
  BOOST_CHECK_THROW(encode(m), std::invalid_argument);
  m = make_message(static_cast<message_type>(99));
  BOOST_TEST(std::get<unknown_body>(m.data).type == 99);
  BOOST_CHECK_NO_THROW(encode(m));
  std::get<unknown_body>(m.data).type = 98;
  BOOST_CHECK_THROW(encode(m), std::invalid_argument);
}

// --- bad input --------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(bad_signature_is_fatal) {
  std::string bytes = unhex(fixture_meet);
  bytes[1] = 'X';
  decoder d;
  message m;
  d.append(bytes.substr(0, 7));
  BOOST_TEST((d.next(m) == decoder::result::need_more));  // fewer than 8 bytes: wait
  d.append(bytes.substr(7));
  BOOST_TEST((d.next(m) == decoder::result::error));
  BOOST_TEST(d.error().fatal);
  BOOST_TEST((d.error().code == decode_errc::bad_signature));
  BOOST_TEST(d.error().type == -1);
  BOOST_TEST(d.failed());
  // Once failed, it stays failed, even if good bytes follow.
  d.append(unhex(fixture_meet));
  BOOST_TEST((d.next(m) == decoder::result::error));
  d.reset();
  d.append(unhex(fixture_meet));
  BOOST_TEST((d.next(m) == decoder::result::message));
  // HTTP or RESP on the bus port is garbage.
  decoder d2;
  d2.append("GET / HTTP/1.1\r\n\r\n");
  BOOST_TEST((d2.next(m) == decoder::result::error));
  decoder d3;
  d3.append("*1\r\n$4\r\nPING\r\n");
  BOOST_TEST((d3.next(m) == decoder::result::error));
}

BOOST_AUTO_TEST_CASE(bad_total_length_is_fatal) {
  std::string bytes = unhex(fixture_meet);
  for (uint32_t len : {0u, 8u, 16u, 2255u}) {
    put32_at(bytes, 4, len);
    decoder d;
    message m;
    d.append(bytes);
    BOOST_TEST((d.next(m) == decoder::result::error));
    BOOST_TEST((d.error().code == decode_errc::length_too_small));
    BOOST_TEST(d.error().fatal);
    BOOST_TEST(d.error().text.find(std::to_string(len)) != std::string::npos);
  }
  put32_at(bytes, 4, 0xffffffffu);
  decoder d;
  message m;
  d.append(bytes.substr(0, 8));  // judged as soon as the length is known
  BOOST_TEST((d.next(m) == decoder::result::error));
  BOOST_TEST((d.error().code == decode_errc::length_too_large));
  // A tighter limit.
  decoder small(4096);
  small.append(unhex(fixture_update));  // 4352 bytes
  BOOST_TEST((small.next(m) == decoder::result::error));
  BOOST_TEST((small.error().code == decode_errc::length_too_large));
}

BOOST_AUTO_TEST_CASE(bad_messages_are_skipped) {
  // A message whose length disagrees with its type is consumed with an error; the stream goes on.
  std::vector<std::pair<std::string, decode_errc>> bad;
  {
    std::string s = unhex(fixture_meet);
    put16_at(s, 8, 2);  // version 2
    bad.emplace_back(s, decode_errc::unsupported_version);
  }
  {
    std::string s = unhex(fixture_fail);
    s += std::string(8, '\0');
    put32_at(s, 4, static_cast<uint32_t>(s.size()));
    bad.emplace_back(s, decode_errc::length_mismatch);  // FAIL must be exactly 2296
  }
  {
    std::string s = unhex(fixture_ping_gossip);
    put16_at(s, 14, 4);  // count 4, but only 3 entries
    bad.emplace_back(s, decode_errc::length_mismatch);
  }
  {
    std::string s = unhex(fixture_ping_gossip);
    put16_at(s, 14, 2);  // count 2, 104 bytes left over
    bad.emplace_back(s, decode_errc::length_mismatch);
  }
  {
    std::string s = unhex(fixture_ping_gossip);
    put16_at(s, 14, 0xffff);  // count far beyond the message
    bad.emplace_back(s, decode_errc::length_mismatch);
  }
  {
    std::string s = unhex(fixture_publish);
    put32_at(s, header_size, 0xfffffff0u);  // channel_len: the sum must not wrap around
    bad.emplace_back(s, decode_errc::length_mismatch);
  }
  {
    std::string s = unhex(fixture_publish);
    put32_at(s, header_size + 4, 4);  // message_len one short
    bad.emplace_back(s, decode_errc::length_mismatch);
  }
  {
    std::string s = unhex(fixture_publish).substr(0, header_size + 4);  // no room for lengths
    put32_at(s, 4, static_cast<uint32_t>(s.size()));
    bad.emplace_back(s, decode_errc::length_mismatch);
  }
  {
    std::string s = unhex(fixture_update).substr(0, 4351);
    put32_at(s, 4, 4351);
    bad.emplace_back(s, decode_errc::length_mismatch);
  }
  {
    std::string s = unhex(fixture_auth_ack) + "x";
    put32_at(s, 4, static_cast<uint32_t>(s.size()));
    bad.emplace_back(s, decode_errc::length_mismatch);
  }
  {
    message mm = make_message(message_type::module);
    std::get<module_body>(mm.data).payload = "abc";
    std::string s = encode(mm);
    put32_at(s, header_size + 8, 4);  // len says 4, 3 present
    bad.emplace_back(s, decode_errc::length_mismatch);
  }
  {
    std::string s = unhex(fixture_pong_hostname);
    put32_at(s, 2256 + 3 * 104, 20);  // extension length not a multiple of 8
    bad.emplace_back(s, decode_errc::bad_extension);
  }
  {
    std::string s = unhex(fixture_pong_hostname);
    put32_at(s, 2256 + 3 * 104, 0);  // zero-length extension would never advance
    bad.emplace_back(s, decode_errc::bad_extension);
  }
  {
    std::string s = unhex(fixture_pong_hostname);
    put32_at(s, 2256 + 3 * 104, 32);  // longer than what is left
    bad.emplace_back(s, decode_errc::bad_extension);
  }
  {
    std::string s = unhex(fixture_pong_hostname);
    put16_at(s, 2214, 2);  // two extensions announced, one present
    bad.emplace_back(s, decode_errc::bad_extension);
  }
  {
    std::string s = unhex(fixture_pong_hostname);
    put16_at(s, 2214, 0);  // extension bytes present but none announced
    bad.emplace_back(s, decode_errc::length_mismatch);
  }
  {
    std::string s = unhex(fixture_pong_hostname);
    s[2253] = 0;  // extensions announced without the ext_data flag
    bad.emplace_back(s, decode_errc::bad_extension);
  }

  std::string good = unhex(fixture_meet);
  for (auto& [bytes, code] : bad) {
    decode_error err;
    BOOST_TEST(!decode(bytes, err).has_value());
    BOOST_TEST((err.code == code), "expected code " << int(code) << " got " << int(err.code)
                                                    << ": " << err.text);
    BOOST_TEST(!err.fatal);
    BOOST_TEST(err.type == static_cast<int>(static_cast<unsigned char>(bytes[12]) << 8 |
                                            static_cast<unsigned char>(bytes[13])));

    decoder d;
    d.append(bytes + good);
    message m;
    BOOST_TEST((d.next(m) == decoder::result::error));
    BOOST_TEST(!d.failed());
    BOOST_TEST((d.next(m) == decoder::result::message));
    BOOST_TEST(m.hdr.sender == id_g);
    BOOST_TEST((d.next(m) == decoder::result::need_more));
  }
}

BOOST_AUTO_TEST_CASE(unknown_type_is_accepted) {
  // Redis accepts a type it does not know with any length, and ignores it.
  std::string s = unhex(fixture_auth_ack) + "12345";
  put32_at(s, 4, static_cast<uint32_t>(s.size()));
  put16_at(s, 12, 200);
  auto m = decode_ok(s);
  BOOST_TEST(static_cast<int>(m.hdr.type) == 200);
  BOOST_TEST(std::get<unknown_body>(m.data).data == "12345");
  BOOST_TEST(encode(m) == s);
}

BOOST_AUTO_TEST_CASE(mutated_input_never_crashes) {
  // Random corruption of real messages: every outcome is a message, an error or a wait.
  auto frames = all_fixtures();
  std::mt19937 rng(777);
  std::size_t messages = 0, errors = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string s = frames[rng() % frames.size()];
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      // Favour the length and count fields, where corruption matters most.
      std::size_t pos;
      switch (rng() % 4) {
        case 0: pos = 4 + rng() % 12; break;
        case 1: pos = 2214 + rng() % 42; break;
        case 2: pos = header_size + rng() % 16 < s.size() ? header_size + rng() % 16 : 0; break;
        default: pos = rng() % s.size();
      }
      s[pos] = static_cast<char>(rng());
    }
    if (rng() % 3 == 0) s.resize(rng() % s.size());
    decoder d(1 << 20);
    d.append(s);
    message m;
    for (int k = 0; k < 4; ++k) {
      auto r = d.next(m);
      if (r == decoder::result::message) ++messages;
      if (r == decoder::result::error) ++errors;
      if (r == decoder::result::need_more || d.failed()) break;
    }
    decode_error err;
    (void)decode(s, err);
  }
  BOOST_TEST(messages > 0u);
  BOOST_TEST(errors > 0u);
}

BOOST_AUTO_TEST_SUITE_END()
