// String commands, with the replies redis-server 7.0.15 gives for the same calls.
#include "harness.hpp"

using namespace ut;

BOOST_FIXTURE_TEST_SUITE(string_commands, server)

BOOST_AUTO_TEST_CASE(get_and_set) {
  BOOST_TEST(cmd("get k") == nil());
  BOOST_TEST(cmd("set k hello") == ok());
  BOOST_TEST(cmd("get k") == bulk("hello"));
  BOOST_TEST(cmd("set k \"\"") == ok());
  BOOST_TEST(cmd("get k") == bulk(""));
  BOOST_TEST(run({"set", std::string("b\0in", 4), std::string("v\r\n\0", 4)}) == ok());
  BOOST_TEST(run({"get", std::string("b\0in", 4)}) == bulk(std::string("v\r\n\0", 4)));
  BOOST_TEST(cmd("SET K upper") == ok());
  BOOST_TEST(cmd("get K") == bulk("upper"));
  BOOST_TEST(cmd("get k") == bulk(""));
  resp = 3;
  BOOST_TEST(cmd("get missing") == "_\r\n");
}

BOOST_AUTO_TEST_CASE(set_nx_xx) {
  BOOST_TEST(cmd("set k v xx") == nil());
  BOOST_TEST(cmd("get k") == nil());
  BOOST_TEST(cmd("set k v nx") == ok());
  BOOST_TEST(cmd("set k w NX") == nil());
  BOOST_TEST(cmd("get k") == bulk("v"));
  BOOST_TEST(cmd("set k w XX") == ok());
  BOOST_TEST(cmd("get k") == bulk("w"));
}

BOOST_AUTO_TEST_CASE(set_get_option) {
  BOOST_TEST(cmd("set k old") == ok());
  BOOST_TEST(cmd("set k new get") == bulk("old"));
  BOOST_TEST(cmd("get k") == bulk("new"));
  BOOST_TEST(cmd("set fresh v get") == nil());
  BOOST_TEST(cmd("get fresh") == bulk("v"));
  // NX GET (allowed since 7.0): the old value, and no change.
  BOOST_TEST(cmd("set k other nx get") == bulk("new"));
  BOOST_TEST(cmd("get k") == bulk("new"));
  BOOST_TEST(cmd("set m v nx get") == nil());
  BOOST_TEST(cmd("get m") == bulk("v"));
  BOOST_TEST(cmd("set x v xx get") == nil());
  BOOST_TEST(cmd("exists x") == integer(0));
  // GET twice is accepted.
  BOOST_TEST(cmd("set k v get get") == bulk("new"));
}

BOOST_AUTO_TEST_CASE(set_option_errors) {
  BOOST_TEST(cmd("set k v nx xx") == syntax_error);
  BOOST_TEST(cmd("set k v xx nx") == syntax_error);
  BOOST_TEST(cmd("set k v keepttl ex 10") == syntax_error);
  BOOST_TEST(cmd("set k v ex 10 keepttl") == syntax_error);
  BOOST_TEST(cmd("set k v ex 10 px 100") == syntax_error);
  BOOST_TEST(cmd("set k v exat 10 pxat 100") == syntax_error);
  BOOST_TEST(cmd("set k v ex") == syntax_error);
  BOOST_TEST(cmd("set k v foo") == syntax_error);
  BOOST_TEST(cmd("set k v persist") == syntax_error);
  BOOST_TEST(cmd("set k v ex abc") == not_integer);
  BOOST_TEST(cmd("set k v ex 0") == err("ERR invalid expire time in 'set' command"));
  BOOST_TEST(cmd("set k v ex -5") == err("ERR invalid expire time in 'set' command"));
  BOOST_TEST(cmd("set k v px 0") == err("ERR invalid expire time in 'set' command"));
  BOOST_TEST(cmd("set k v ex 9223372036854775807") == err("ERR invalid expire time in 'set' command"));
  BOOST_TEST(cmd("set k v px 9223372036854775807") == err("ERR invalid expire time in 'set' command"));
  BOOST_TEST(cmd("exists k") == integer(0));
  // The largest EXAT that still fits in milliseconds is fine.
  BOOST_TEST(cmd("set k v exat 9223372036854775") == ok());
  BOOST_TEST(cmd("pexpiretime k") == integer(9223372036854775000));
}

BOOST_AUTO_TEST_CASE(set_expiry_options) {
  BOOST_TEST(cmd("set k v ex 10") == ok());
  BOOST_TEST(cmd("pttl k") == integer(10000));
  BOOST_TEST(cmd("set k v px 1234") == ok());
  BOOST_TEST(cmd("pttl k") == integer(1234));
  BOOST_TEST(cmd("set k v exat " + std::to_string(t0 / 1000 + 100)) == ok());
  BOOST_TEST(cmd("pttl k") == integer(100000));
  BOOST_TEST(cmd("set k v pxat " + std::to_string(t0 + 555)) == ok());
  BOOST_TEST(cmd("pttl k") == integer(555));
  // A plain SET drops the expiry, KEEPTTL keeps it.
  BOOST_TEST(cmd("set k v2 keepttl") == ok());
  BOOST_TEST(cmd("pttl k") == integer(555));
  BOOST_TEST(cmd("get k") == bulk("v2"));
  BOOST_TEST(cmd("set k v3") == ok());
  BOOST_TEST(cmd("pttl k") == integer(-1));
  // KEEPTTL on a key without expiry or a new key: no expiry.
  BOOST_TEST(cmd("set n v keepttl") == ok());
  BOOST_TEST(cmd("ttl n") == integer(-1));
  // An absolute time in the past: the key is gone at once.
  BOOST_TEST(cmd("set p v pxat 1") == ok());
  BOOST_TEST(cmd("get p") == nil());
}

BOOST_AUTO_TEST_CASE(set_get_on_wrong_type) {
  add_list(*this, "l", {"a", "b"});
  BOOST_TEST(cmd("set l v get") == wrongtype);
  BOOST_TEST(cmd("type l") == simple("list"));
  // A plain SET overwrites any type.
  BOOST_TEST(cmd("set l v") == ok());
  BOOST_TEST(cmd("type l") == simple("string"));
}

BOOST_AUTO_TEST_CASE(wrongtype_for_string_commands) {
  add_list(*this, "l", {"a", "b"});
  for (const char* c : {"get l", "getex l", "getdel l", "getset l v", "append l x", "strlen l", "incr l", "decr l",
                        "incrby l 2", "decrby l 2", "incrbyfloat l 1.5", "getrange l 0 1", "setrange l 0 x",
                        "getex l persist"}) {
    BOOST_TEST(cmd(c) == wrongtype, c);
  }
  // MGET answers nil for keys of other types.
  BOOST_TEST(cmd("set k old") == ok());
  BOOST_TEST(cmd("mget l k nokey") == arr({nil(), bulk("old"), nil()}));
  BOOST_TEST(cmd("type l") == simple("list"));
}

BOOST_AUTO_TEST_CASE(setnx_setex_psetex) {
  BOOST_TEST(cmd("setnx k v") == integer(1));
  BOOST_TEST(cmd("setnx k w") == integer(0));
  BOOST_TEST(cmd("get k") == bulk("v"));
  BOOST_TEST(cmd("setex s 100 v") == ok());
  BOOST_TEST(cmd("ttl s") == integer(100));
  BOOST_TEST(cmd("psetex p 1500 v") == ok());
  BOOST_TEST(cmd("pttl p") == integer(1500));
  BOOST_TEST(cmd("psetex p 0 v") == err("ERR invalid expire time in 'psetex' command"));
  BOOST_TEST(cmd("setex p -1 v") == err("ERR invalid expire time in 'setex' command"));
  BOOST_TEST(cmd("setex p abc v") == not_integer);
  BOOST_TEST(cmd("pttl p") == integer(1500));
}

BOOST_AUTO_TEST_CASE(getset_getdel) {
  BOOST_TEST(cmd("getset k a") == nil());
  BOOST_TEST(cmd("set k b ex 100") == ok());
  BOOST_TEST(cmd("getset k c") == bulk("b"));
  BOOST_TEST(cmd("ttl k") == integer(-1)); // GETSET drops the expiry
  BOOST_TEST(cmd("get k") == bulk("c"));
  BOOST_TEST(cmd("getdel k") == bulk("c"));
  BOOST_TEST(cmd("exists k") == integer(0));
  BOOST_TEST(cmd("getdel k") == nil());
}

BOOST_AUTO_TEST_CASE(getex) {
  BOOST_TEST(cmd("getex nokey") == nil());
  BOOST_TEST(cmd("getex nokey ex 0") == nil()); // the key is looked up before the time is checked
  BOOST_TEST(cmd("set k v") == ok());
  BOOST_TEST(cmd("getex k") == bulk("v"));
  BOOST_TEST(cmd("ttl k") == integer(-1));
  BOOST_TEST(cmd("getex k ex 100") == bulk("v"));
  BOOST_TEST(cmd("ttl k") == integer(100));
  BOOST_TEST(cmd("getex k px 5000") == bulk("v"));
  BOOST_TEST(cmd("pttl k") == integer(5000));
  BOOST_TEST(cmd("getex k pxat " + std::to_string(t0 + 777)) == bulk("v"));
  BOOST_TEST(cmd("pttl k") == integer(777));
  BOOST_TEST(cmd("getex k persist") == bulk("v"));
  BOOST_TEST(cmd("pttl k") == integer(-1));
  BOOST_TEST(cmd("getex k persist persist") == bulk("v"));
  BOOST_TEST(cmd("getex k nx") == syntax_error);
  BOOST_TEST(cmd("getex k keepttl") == syntax_error);
  BOOST_TEST(cmd("getex k ex 10 persist") == syntax_error);
  BOOST_TEST(cmd("getex k ex 0") == err("ERR invalid expire time in 'getex' command"));
  BOOST_TEST(cmd("getex k ex abc") == not_integer);
  // EXAT in the past deletes the key after replying with it.
  BOOST_TEST(cmd("getex k exat 1") == bulk("v"));
  BOOST_TEST(cmd("exists k") == integer(0));
}

BOOST_AUTO_TEST_CASE(mget_mset_msetnx) {
  BOOST_TEST(cmd("mset a 1 b 2 c 3") == ok());
  BOOST_TEST(cmd("mget a b c d") == arr({bulk("1"), bulk("2"), bulk("3"), nil()}));
  BOOST_TEST(cmd("mset a 1 b") == err("ERR wrong number of arguments for 'mset' command"));
  BOOST_TEST(cmd("set t v ex 100") == ok());
  BOOST_TEST(cmd("mset t w") == ok());
  BOOST_TEST(cmd("ttl t") == integer(-1));
  BOOST_TEST(cmd("msetnx a 9 q 2") == integer(0));
  BOOST_TEST(cmd("exists q") == integer(0));
  BOOST_TEST(cmd("get a") == bulk("1"));
  BOOST_TEST(cmd("msetnx q 1 r 2") == integer(1));
  BOOST_TEST(cmd("mget q r") == bulks({"1", "2"}));
  BOOST_TEST(cmd("msetnx q 1 r") == err("ERR wrong number of arguments for 'msetnx' command"));
  // The same key twice: the last value wins.
  BOOST_TEST(cmd("mset d 1 d 2") == ok());
  BOOST_TEST(cmd("get d") == bulk("2"));
}

BOOST_AUTO_TEST_CASE(strlen_append) {
  BOOST_TEST(cmd("strlen nokey") == integer(0));
  BOOST_TEST(cmd("append k hello") == integer(5));
  BOOST_TEST(cmd("append k \" world\"") == integer(11));
  BOOST_TEST(cmd("get k") == bulk("hello world"));
  BOOST_TEST(cmd("strlen k") == integer(11));
  BOOST_TEST(cmd("set n 12") == ok());
  BOOST_TEST(cmd("append n 3") == integer(3));
  BOOST_TEST(cmd("get n") == bulk("123"));
  BOOST_TEST(cmd("set t v px 5000") == ok());
  BOOST_TEST(cmd("append t w") == integer(2));
  BOOST_TEST(cmd("pttl t") == integer(5000)); // APPEND keeps the expiry
  settings.proto_max_bulk_len = 20;
  BOOST_TEST(cmd("append k 0123456789") == err("ERR string exceeds maximum allowed size (proto-max-bulk-len)"));
  BOOST_TEST(cmd("strlen k") == integer(11));
}

BOOST_AUTO_TEST_CASE(incr_decr) {
  BOOST_TEST(cmd("incr c") == integer(1));
  BOOST_TEST(cmd("incrby c 10") == integer(11));
  BOOST_TEST(cmd("decr c") == integer(10));
  BOOST_TEST(cmd("decrby c 20") == integer(-10));
  BOOST_TEST(cmd("incrby c -5") == integer(-15));
  BOOST_TEST(cmd("get c") == bulk("-15"));
  BOOST_TEST(cmd("set t 5 ex 100") == ok());
  BOOST_TEST(cmd("incr t") == integer(6));
  BOOST_TEST(cmd("ttl t") == integer(100)); // INCR keeps the expiry
  BOOST_TEST(cmd("set s abc") == ok());
  BOOST_TEST(cmd("incr s") == not_integer);
  BOOST_TEST(cmd("set s \" 1\"") == ok());
  BOOST_TEST(cmd("incr s") == not_integer);
  BOOST_TEST(cmd("set s 01") == ok());
  BOOST_TEST(cmd("incr s") == not_integer);
  BOOST_TEST(cmd("incrby c abc") == not_integer);
  BOOST_TEST(cmd("incrby c 1.5") == not_integer);
}

BOOST_AUTO_TEST_CASE(incr_overflow) {
  BOOST_TEST(cmd("set n 9223372036854775807") == ok());
  BOOST_TEST(cmd("incr n") == err("ERR increment or decrement would overflow"));
  BOOST_TEST(cmd("decrby n 9223372036854775807") == integer(0));
  BOOST_TEST(cmd("decrby n -1") == integer(1));
  BOOST_TEST(cmd("set m -9223372036854775808") == ok());
  BOOST_TEST(cmd("decr m") == err("ERR increment or decrement would overflow"));
  BOOST_TEST(cmd("incrby m -1") == err("ERR increment or decrement would overflow"));
  BOOST_TEST(cmd("decrby k -9223372036854775808") == err("ERR decrement would overflow"));
  BOOST_TEST(cmd("incrby m 9223372036854775807") == integer(-1));
  BOOST_TEST(cmd("set m 9223372036854775806") == ok());
  BOOST_TEST(cmd("incr m") == integer(INT64_MAX));
}

BOOST_AUTO_TEST_CASE(incrbyfloat) {
  BOOST_TEST(cmd("incrbyfloat f 1.1") == bulk("1.1"));
  BOOST_TEST(cmd("incrbyfloat f 0.2") == bulk("1.3"));
  BOOST_TEST(cmd("incrbyfloat f -0.3") == bulk("1"));
  BOOST_TEST(cmd("incrbyfloat f 1e20") == bulk("100000000000000000000"));
  BOOST_TEST(cmd("incrbyfloat f -1e20") == bulk("0"));
  BOOST_TEST(cmd("incrbyfloat f 1.5e-10") == bulk("0.00000000015"));
  BOOST_TEST(cmd("set g 10.50") == ok());
  BOOST_TEST(cmd("incrbyfloat g 0.1") == bulk("10.6"));
  BOOST_TEST(cmd("set g 5.0e3") == ok());
  BOOST_TEST(cmd("incrbyfloat g 2.0e2") == bulk("5200"));
  BOOST_TEST(cmd("incrbyfloat g 0x10") == bulk("5216"));
  BOOST_TEST(cmd("incrbyfloat g inf") == err("ERR increment would produce NaN or Infinity"));
  BOOST_TEST(cmd("incrbyfloat g abc") == err("ERR value is not a valid float"));
  BOOST_TEST(cmd("incrbyfloat g \" 1\"") == err("ERR value is not a valid float"));
  BOOST_TEST(cmd("incrbyfloat g 1e5000") == err("ERR value is not a valid float"));
  BOOST_TEST(cmd("incrbyfloat g nan") == err("ERR value is not a valid float"));
  BOOST_TEST(cmd("get g") == bulk("5216"));
  BOOST_TEST(cmd("set s abc") == ok());
  BOOST_TEST(cmd("incrbyfloat s 1") == err("ERR value is not a valid float"));
  BOOST_TEST(cmd("set t 1 px 4000") == ok());
  BOOST_TEST(cmd("incrbyfloat t 1.5") == bulk("2.5"));
  BOOST_TEST(cmd("pttl t") == integer(4000));
}

BOOST_AUTO_TEST_CASE(getrange) {
  BOOST_TEST(cmd("getrange nokey 0 1") == bulk(""));
  BOOST_TEST(cmd("set s \"Hello World\"") == ok());
  BOOST_TEST(cmd("getrange s 0 4") == bulk("Hello"));
  BOOST_TEST(cmd("getrange s -3 -1") == bulk("rld"));
  BOOST_TEST(cmd("getrange s 5 3") == bulk(""));
  BOOST_TEST(cmd("getrange s -100 100") == bulk("Hello World"));
  BOOST_TEST(cmd("getrange s 0 -100") == bulk("H"));
  BOOST_TEST(cmd("getrange s -1 -5") == bulk(""));
  BOOST_TEST(cmd("getrange s 20 30") == bulk(""));
  BOOST_TEST(cmd("getrange s x 1") == not_integer);
  BOOST_TEST(cmd("set n 12345") == ok());
  BOOST_TEST(cmd("getrange n 1 2") == bulk("23"));
  BOOST_TEST(cmd("set e \"\"") == ok());
  BOOST_TEST(cmd("getrange e 0 -1") == bulk(""));
}

BOOST_AUTO_TEST_CASE(setrange) {
  BOOST_TEST(cmd("setrange e 0 \"\"") == integer(0));
  BOOST_TEST(cmd("exists e") == integer(0));
  BOOST_TEST(cmd("setrange e 5 x") == integer(6));
  BOOST_TEST(cmd("get e") == bulk(std::string("\0\0\0\0\0x", 6)));
  BOOST_TEST(cmd("set s \"Hello World\"") == ok());
  BOOST_TEST(cmd("setrange s 6 Redis") == integer(11));
  BOOST_TEST(cmd("get s") == bulk("Hello Redis"));
  BOOST_TEST(cmd("setrange s 0 \"\"") == integer(11));
  BOOST_TEST(cmd("setrange s 11 !!") == integer(13));
  BOOST_TEST(cmd("get s") == bulk("Hello Redis!!"));
  BOOST_TEST(cmd("setrange s -1 x") == err("ERR offset is out of range"));
  BOOST_TEST(cmd("setrange s x x") == not_integer);
  BOOST_TEST(cmd("setrange s 536870912 x") == err("ERR string exceeds maximum allowed size (proto-max-bulk-len)"));
  BOOST_TEST(cmd("setrange big 536870912 x") == err("ERR string exceeds maximum allowed size (proto-max-bulk-len)"));
  BOOST_TEST(cmd("exists big") == integer(0));
  BOOST_TEST(cmd("set t abc px 3000") == ok());
  BOOST_TEST(cmd("setrange t 1 X") == integer(3));
  BOOST_TEST(cmd("get t") == bulk("aXc"));
  BOOST_TEST(cmd("pttl t") == integer(3000));
}

BOOST_AUTO_TEST_CASE(object_encoding_of_strings) {
  auto enc = [&](std::string_view key) { return cmd("object encoding " + std::string(key)); };
  BOOST_TEST(cmd("set i 123") == ok());
  BOOST_TEST(enc("i") == bulk("int"));
  BOOST_TEST(cmd("set i -9223372036854775808") == ok());
  BOOST_TEST(enc("i") == bulk("int"));
  BOOST_TEST(cmd("set i 9223372036854775807") == ok());
  BOOST_TEST(enc("i") == bulk("int"));
  for (const char* s : {"9223372036854775808", "-0", "01", "+1", "1.5", "abc", " 1"}) {
    BOOST_TEST(run({"set", "e", s}) == ok());
    BOOST_TEST(enc("e") == bulk("embstr"), s);
  }
  BOOST_TEST(run({"set", "e", std::string(44, 'a')}) == ok());
  BOOST_TEST(enc("e") == bulk("embstr"));
  BOOST_TEST(run({"set", "r", std::string(45, 'a')}) == ok());
  BOOST_TEST(enc("r") == bulk("raw"));
  // Changed in place: raw.
  BOOST_TEST(cmd("set a 12") == ok());
  BOOST_TEST(cmd("append a 3") == integer(3));
  BOOST_TEST(enc("a") == bulk("raw"));
  BOOST_TEST(cmd("set a 12") == ok());
  BOOST_TEST(cmd("setrange a 0 3") == integer(2));
  BOOST_TEST(enc("a") == bulk("raw"));
  BOOST_TEST(cmd("get a") == bulk("32"));
  // APPEND to a missing key creates a fresh value: int.
  BOOST_TEST(cmd("append fresh 1") == integer(1));
  BOOST_TEST(enc("fresh") == bulk("int"));
  BOOST_TEST(cmd("set h 5") == ok());
  BOOST_TEST(cmd("incr h") == integer(6));
  BOOST_TEST(enc("h") == bulk("int"));
  BOOST_TEST(cmd("incrbyfloat h 1.5") == bulk("7.5"));
  BOOST_TEST(enc("h") == bulk("embstr"));
  BOOST_TEST(enc("nokey") == nil());
}

BOOST_AUTO_TEST_CASE(a_value_of_the_same_size_overwrites_in_place) {
  auto enc = [&](std::string_view key) { return cmd("object encoding " + std::string(key)); };
  auto at = [&](std::string_view key) { return ctx.peek(database(), key); };
  BOOST_TEST(cmd("set k 123") == ok());
  const auto* first = at("k");
  BOOST_TEST(cmd("set k abc") == ok());   // same length: the same entry, newly encoded
  BOOST_TEST(at("k") == first);
  BOOST_TEST(enc("k") == bulk("embstr"));
  BOOST_TEST(cmd("set k 456") == ok());
  BOOST_TEST(enc("k") == bulk("int"));
  BOOST_TEST(cmd("incr k") == integer(457));
  BOOST_TEST(at("k") == first);
  BOOST_TEST(cmd("set k abcd") == ok());   // longer: a new entry
  BOOST_TEST(cmd("get k") == bulk("abcd"));
  // Expiry: replaced in place by a new one, kept by KEEPTTL, dropped by a plain SET.
  BOOST_TEST(cmd("set t aaa px 5000") == ok());
  BOOST_TEST(cmd("set t bbb px 9000") == ok());
  BOOST_TEST(cmd("pttl t") == integer(9000));
  BOOST_TEST(cmd("set t ccc keepttl") == ok());
  BOOST_TEST(cmd("pttl t") == integer(9000));
  BOOST_TEST(cmd("set t ddd") == ok());
  BOOST_TEST(cmd("pttl t") == integer(-1));
  BOOST_TEST(cmd("get t") == bulk("ddd"));
  BOOST_TEST(cmd("set t eee ex 7") == ok());
  BOOST_TEST(cmd("pttl t") == integer(7000));
  // Raw strings keep their buffer for a value that fills at least half of it.
  BOOST_TEST(run({"set", "r", std::string(100, 'a')}) == ok());
  BOOST_TEST(run({"set", "r", std::string(90, 'b')}) == ok());
  BOOST_TEST(cmd("get r") == bulk(std::string(90, 'b')));
  BOOST_TEST(run({"set", "r", std::string(46, 'c')}) == ok());
  BOOST_TEST(cmd("get r") == bulk(std::string(46, 'c')));
  BOOST_TEST(enc("r") == bulk("raw"));
  // A short value for a raw string (APPEND made it raw): a fresh embstr, as in Redis.
  BOOST_TEST(cmd("set a 12") == ok());
  BOOST_TEST(cmd("append a x") == integer(3));
  BOOST_TEST(cmd("set a xyz") == ok());
  BOOST_TEST(enc("a") == bulk("embstr"));
  BOOST_TEST(cmd("get a") == bulk("xyz"));
  // Another type under the key: replaced whole.
  BOOST_TEST(cmd("rpush l a") == integer(1));
  BOOST_TEST(cmd("set l b") == ok());
  BOOST_TEST(cmd("get l") == bulk("b"));
}

BOOST_AUTO_TEST_CASE(lcs_and_substr) {
  BOOST_TEST(cmd("mset a ohmytext b mynewtext") == ok());
  BOOST_TEST(cmd("lcs a b") == bulk("mytext"));
  BOOST_TEST(cmd("lcs a b len") == integer(6));
  // Ranges from the end backward: "text" at 4-7 / 5-8, then "my" at 2-3 / 0-1.
  BOOST_TEST(cmd("lcs a b idx minmatchlen 0 withmatchlen")
             == arr({bulk("matches"),
                     arr({arr({arr({integer(4), integer(7)}), arr({integer(5), integer(8)}), integer(4)}),
                          arr({arr({integer(2), integer(3)}), arr({integer(0), integer(1)}), integer(2)})}),
                     bulk("len"), integer(6)}));
  BOOST_TEST(cmd("lcs a b idx minmatchlen 3")
             == arr({bulk("matches"), arr({arr({arr({integer(4), integer(7)}), arr({integer(5), integer(8)})})}),
                     bulk("len"), integer(6)}));
  BOOST_TEST(cmd("lcs a nokey") == bulk(""));
  BOOST_TEST(cmd("lcs a b len idx") == err("ERR If you want both the length and indexes, please just use IDX."));
  BOOST_TEST(cmd("lcs a b foo") == err("ERR syntax error"));
  BOOST_TEST(cmd("rpush l x") == integer(1));
  BOOST_TEST(cmd("lcs a l") == err("ERR The specified keys must contain string values"));
  BOOST_TEST(cmd("substr a 2 5") == bulk("myte"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(string_encodings)

BOOST_FIXTURE_TEST_CASE(incrbyfloat_results_are_strings, server) {
  BOOST_TEST(cmd("set c 2.5") == simple("OK"));
  BOOST_TEST(cmd("incrbyfloat c 0.5") == bulk("3"));
  BOOST_TEST(cmd("object encoding c") == bulk("embstr"));   // as Redis, although "3" reads as an integer
  BOOST_TEST(cmd("incr c") == integer(4));
  BOOST_TEST(cmd("object encoding c") == bulk("int"));
}

BOOST_AUTO_TEST_SUITE_END()
