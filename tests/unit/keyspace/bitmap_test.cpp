// Bitmap commands: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD (byte-exact replies against redis-server are
// in tests/compat/bitmaps.redis; here the bit arithmetic and what the commands leave behind).
#include "harness.hpp"

using namespace ut;

BOOST_FIXTURE_TEST_SUITE(bitmaps, server)

BOOST_AUTO_TEST_CASE(setbit_grows_with_zeros_and_answers_the_old_bit) {
  BOOST_TEST(cmd("setbit b 1 1") == integer(0));
  BOOST_TEST(cmd("get b") == bulk("@"));   // 0100 0000
  BOOST_TEST(cmd("setbit b 1 1") == integer(1));
  BOOST_TEST(cmd("setbit b 23 1") == integer(0));
  BOOST_TEST(cmd("get b") == bulk(std::string("@\0\x01", 3)));
  BOOST_TEST(cmd("getbit b 23") == integer(1));
  BOOST_TEST(cmd("getbit b 22") == integer(0));
  BOOST_TEST(cmd("getbit b 1000") == integer(0));
  BOOST_TEST(cmd("setbit b 1 0") == integer(1));
  BOOST_TEST(cmd("object encoding b") == bulk("raw"));
  BOOST_TEST(cmd("setbit b -1 1") == err("ERR bit offset is not an integer or out of range"));
  BOOST_TEST(cmd("setbit b 1 2") == err("ERR bit is not an integer or out of range"));
  BOOST_TEST(cmd("setbit b 4294967296 1") == err("ERR bit offset is not an integer or out of range"));
}

BOOST_AUTO_TEST_CASE(setbit_keeps_the_expiry_and_reads_integers_as_text) {
  BOOST_TEST(cmd("set n 1 ex 100") == ok());
  BOOST_TEST(cmd("getbit n 2") == integer(1));   // "1" is 0011 0001
  BOOST_TEST(cmd("setbit n 7 0") == integer(1));
  BOOST_TEST(cmd("get n") == bulk("0"));
  BOOST_TEST(cmd("ttl n") == integer(100));
  // Unchanged, the value still becomes a raw string, as in Redis.
  BOOST_TEST(cmd("set m 5") == ok());
  BOOST_TEST(cmd("setbit m 0 0") == integer(0));
  BOOST_TEST(cmd("object encoding m") == bulk("raw"));
}

BOOST_AUTO_TEST_CASE(bitcount_ranges_in_bytes_and_bits) {
  BOOST_TEST(cmd("set s foobar") == ok());
  BOOST_TEST(cmd("bitcount s") == integer(26));
  BOOST_TEST(cmd("bitcount s 1 1") == integer(6));
  BOOST_TEST(cmd("bitcount s -2 -1") == integer(7));   // "ar"
  BOOST_TEST(cmd("bitcount s 5 30 bit") == integer(17));
  BOOST_TEST(cmd("bitcount s 0 -1 bit") == integer(26));
  BOOST_TEST(cmd("bitcount s -1 -2") == integer(0));
  BOOST_TEST(cmd("bitcount s 7 100") == integer(0));
  // Long runs go eight bytes at a time: the same count either way.
  std::string ones(1000, '\xff');
  BOOST_TEST(cmd("setrange long 0 " + ones) == integer(1000));
  BOOST_TEST(cmd("bitcount long") == integer(8000));
  BOOST_TEST(cmd("bitcount long 3 998 bit") == integer(996));
  BOOST_TEST(cmd("bitcount nokey 0 1") == integer(0));
  BOOST_TEST(cmd("bitcount s 0") == err("ERR syntax error"));
}

BOOST_AUTO_TEST_CASE(bitpos_pads_with_zeros_only_without_an_end) {
  BOOST_TEST(run({"setrange", "p", "0", std::string("\xff\xf0\x00", 3)}) == integer(3));
  BOOST_TEST(cmd("bitpos p 0") == integer(12));
  BOOST_TEST(cmd("bitpos p 1 2") == integer(-1));
  BOOST_TEST(cmd("bitpos p 0 7 15 bit") == integer(12));
  BOOST_TEST(cmd("setrange ones 0 " + std::string(3, '\xff')) == integer(3));
  BOOST_TEST(cmd("bitpos ones 0") == integer(24));       // past the end: zeros follow
  BOOST_TEST(cmd("bitpos ones 0 0 -1") == integer(-1));  // an end given: none in the range
  BOOST_TEST(cmd("bitpos nokey 0") == integer(0));
  BOOST_TEST(cmd("bitpos nokey 1") == integer(-1));
  BOOST_TEST(cmd("bitpos p 2") == err("ERR The bit argument must be 1 or 0."));
}

BOOST_AUTO_TEST_CASE(bitop_pads_shorter_values_and_deletes_an_empty_result) {
  BOOST_TEST(cmd("set a abc") == ok());
  BOOST_TEST(cmd("set b ab") == ok());
  BOOST_TEST(cmd("bitop and d a b") == integer(3));
  BOOST_TEST(cmd("get d") == bulk(std::string("ab\0", 3)));
  BOOST_TEST(cmd("bitop xor d a b nokey") == integer(3));
  BOOST_TEST(cmd("get d") == bulk(std::string("\0\0c", 3)));
  BOOST_TEST(cmd("bitop not d b") == integer(2));
  BOOST_TEST(cmd("get d") == bulk("\x9e\x9d"));
  BOOST_TEST(cmd("bitop or d d a") == integer(3));   // the destination among the sources
  BOOST_TEST(cmd("get d") == bulk("\xff\xff" "c"));
  BOOST_TEST(cmd("set d x ex 100") == ok());
  BOOST_TEST(cmd("bitop and d nokey") == integer(0));
  BOOST_TEST(cmd("exists d") == integer(0));
  BOOST_TEST(cmd("bitop not d a b") == err("ERR BITOP NOT must be called with a single source key."));
  BOOST_TEST(cmd("rpush l x") == integer(1));
  BOOST_TEST(cmd("bitop or d a l") == err("WRONGTYPE Operation against a key holding the wrong kind of value"));
}

BOOST_AUTO_TEST_CASE(bitfield_reads_and_writes_fields_of_any_width) {
  BOOST_TEST(cmd("bitfield f set i8 0 100 get i8 0 get u4 0 get i4 4") == arr({integer(0), integer(100), integer(6), integer(4)}));
  BOOST_TEST(cmd("bitfield f set u8 #1 255 get u16 0 get i16 0") == arr({integer(0), integer(25855), integer(25855)}));
  BOOST_TEST(cmd("bitfield f get i16 8") == arr({integer(-256)}));   // 0xff 0x00, past the end zeros
  BOOST_TEST(cmd("strlen f") == integer(2));
  BOOST_TEST(cmd("bitfield f set u32 100 4294967295 get i32 100") == arr({integer(0), integer(-1)}));
  BOOST_TEST(cmd("strlen f") == integer(17));   // grown to the last byte written
  BOOST_TEST(cmd("bitfield f set i64 200 -9223372036854775808 get i64 200")
             == arr({integer(0), integer(INT64_MIN)}));
}

BOOST_AUTO_TEST_CASE(bitfield_overflow_modes) {
  BOOST_TEST(cmd("bitfield o set i8 0 120 incrby i8 0 10") == arr({integer(0), integer(-126)}));   // WRAP
  BOOST_TEST(cmd("bitfield o overflow sat incrby i8 0 -10 incrby i8 0 -100") == arr({integer(-128), integer(-128)}));
  BOOST_TEST(cmd("bitfield o overflow fail incrby i8 0 -1 get i8 0") == arr({nil(), integer(-128)}));
  BOOST_TEST(cmd("bitfield o overflow sat set u4 8 20 get u4 8") == arr({integer(0), integer(15)}));
  BOOST_TEST(cmd("bitfield o overflow wrap set u4 8 20 get u4 8") == arr({integer(15), integer(4)}));
  BOOST_TEST(cmd("bitfield o overflow sat incrby u4 8 -5") == arr({integer(0)}));
  // An unsigned field takes a negative value as 2^64 plus it: too large.
  BOOST_TEST(cmd("bitfield o overflow sat set u8 16 -1 get u8 16") == arr({integer(0), integer(255)}));
  // As Redis: the room above an i16 holding -2^63 wraps, so SAT takes the maximum.
  BOOST_TEST(cmd("bitfield q overflow sat set i16 0 -9223372036854775808 get i16 0") == arr({integer(0), integer(32767)}));
  // Every write failing still leaves the key, grown to the bytes the writes would have touched.
  BOOST_TEST(cmd("bitfield n overflow fail incrby u2 100 10") == arr({nil()}));
  BOOST_TEST(cmd("strlen n") == integer(13));
}

BOOST_AUTO_TEST_CASE(bitfield_errors_and_bitfield_ro) {
  BOOST_TEST(cmd("bitfield f get u64 0") == err("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."));
  BOOST_TEST(cmd("bitfield f get I8 0") == err("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."));
  BOOST_TEST(cmd("bitfield f get i8 #-1") == err("ERR bit offset is not an integer or out of range"));
  BOOST_TEST(cmd("bitfield f overflow foo") == err("ERR Invalid OVERFLOW type specified"));
  BOOST_TEST(cmd("bitfield f get i8") == err("ERR syntax error"));
  BOOST_TEST(cmd("bitfield f set i8 0 x") == err("ERR value is not an integer or out of range"));
  BOOST_TEST(cmd("exists f") == integer(0));   // nothing happens before every argument is read
  BOOST_TEST(cmd("bitfield_ro f set i8 0 x") == err("ERR value is not an integer or out of range"));
  BOOST_TEST(cmd("bitfield_ro f set i8 0 1") == err("ERR BITFIELD_RO only supports the GET subcommand"));
  BOOST_TEST(cmd("set s A") == ok());
  BOOST_TEST(cmd("bitfield_ro s get u8 0 get u4 4 get u8 100") == arr({integer(65), integer(1), integer(0)}));
  BOOST_TEST(cmd("bitfield_ro nokey get u8 0") == arr({integer(0)}));
  BOOST_TEST(cmd("exists nokey") == integer(0));
}

BOOST_AUTO_TEST_SUITE_END()
