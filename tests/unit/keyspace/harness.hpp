// Test harness for the keyspace: runs data commands against a dataset and session commands against
// a session, returning the exact RESP bytes they wrote, plus a small RESP decoder for unordered replies.
#pragma once

#include <boost/test/unit_test.hpp>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "keyspace/commands.hpp"
#include "keyspace/digest.hpp"
#include "keyspace/entry.hpp"
#include "keyspace/session.hpp"
#include "keyspace/table.hpp"
#include "protocol/command_table.hpp"
#include "protocol/request_parser.hpp"

namespace ut {

using namespace troupe;

// A fixed "now" for the tests: 2023-11-14T22:13:20Z.
constexpr int64_t t0 = 1'700'000'000'000;

// Reply builders.
inline std::string ok() { return "+OK\r\n"; }
inline std::string nil() { return "$-1\r\n"; }
inline std::string simple(std::string_view s) { return "+" + std::string(s) + "\r\n"; }
inline std::string integer(int64_t n) { return ":" + std::to_string(n) + "\r\n"; }
inline std::string bulk(std::string_view s) { return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n"; }
inline std::string err(std::string_view s) { return "-" + std::string(s) + "\r\n"; }
inline std::string arr(const std::vector<std::string>& items) {
  std::string out = "*" + std::to_string(items.size()) + "\r\n";
  for (auto& i : items)
    out += i;
  return out;
}
inline std::string bulks(const std::vector<std::string>& items) {
  std::vector<std::string> encoded;
  for (auto& i : items)
    encoded.push_back(bulk(i));
  return arr(encoded);
}
inline const std::string wrongtype = err("WRONGTYPE Operation against a key holding the wrong kind of value");
inline const std::string syntax_error = err("ERR syntax error");
inline const std::string not_integer = err("ERR value is not an integer or out of range");

// Splits a command line like redis-cli would (quotes and escapes as in inline commands).
inline std::vector<std::string> words_of(std::string_view line) {
  std::vector<std::string> w;
  BOOST_REQUIRE_MESSAGE(protocol::split_args(line, w), "bad command line " << line);
  return w;
}

// The command-table id of a call ("config get x" -> config|get).
inline int command_id(const std::vector<std::string>& words) {
  auto& t = protocol::command_table::instance();
  const protocol::command_spec* c = t.find(words.at(0));
  BOOST_REQUIRE_MESSAGE(c != nullptr, "unknown command " << words[0]);
  if (c->is_container() && words.size() >= 2) {
    c = t.find_sub(*c, words[1]);
    BOOST_REQUIRE_MESSAGE(c != nullptr, "unknown subcommand " << words[1]);
  }
  // The dispatcher checks arity before a handler runs; a handler may index its arguments freely.
  BOOST_REQUIRE_MESSAGE(c->arity_ok(words.size()), "wrong arity for " << c->name);
  return c->id;
}

// A dataset with its execution context, driven one command at a time.
// Records the keys commands report as touched (WATCH) and ready (blocked clients).
struct recorder : keyspace::key_observer {
  std::vector<std::string> touched_keys, ready_keys;
  void touched(int, std::string_view key) override { touched_keys.emplace_back(key); }
  void ready(int, std::string_view key) override { ready_keys.emplace_back(key); }
  void touched_all(int, const std::function<bool(std::string_view)>&) override {}
  void watch(int, std::string_view, uint64_t, bool) override {}
};

struct server {
  keyspace::dataset data{16};
  keyspace::keyspace_stats stats;
  keyspace::keyspace_settings settings;
  std::mt19937_64 rng{20231114};
  keyspace::exec_context ctx{data, stats, settings, rng};
  int db = 0;
  int resp = 2;
  int64_t now = t0;

  server() { keyspace::command_registry::instance(); }

  std::string run(const std::vector<std::string>& words) {
    int id = command_id(words);
    BOOST_REQUIRE_MESSAGE(keyspace::command_registry::instance().find(id) != nullptr,
                          "not a data command: " << words[0]);
    keyspace::args_t args(words.begin(), words.end());
    std::string out;
    protocol::resp_writer w(out, resp);
    ctx.begin(db, args, w, now);
    keyspace::execute(ctx, id);
    return out;
  }
  std::string cmd(std::string_view line) { return run(words_of(line)); }

  keyspace::database& database(int i = -1) { return data.db(i < 0 ? db : i); }
  // The entry under `key` without expiring it.
  keyspace::entry* peek(std::string_view key, int dbi = -1) { return ctx.peek(database(dbi), key); }
};

// A client session for the connection-level commands.
struct client {
  keyspace::session s;
  keyspace::session_settings settings;

  std::string run(const std::vector<std::string>& words) {
    int id = command_id(words);
    keyspace::session_handler h = keyspace::find_session_command(id);
    BOOST_REQUIRE_MESSAGE(h != nullptr, "not a session command: " << words[0]);
    keyspace::args_t args(words.begin(), words.end());
    std::string out;
    protocol::resp_writer w(out, s.resp());
    h(s, args, w, settings);
    return out;
  }
  std::string cmd(std::string_view line) { return run(words_of(line)); }
};

// A decoded RESP value, for replies whose element order is not fixed.
struct value {
  char type = 0;                // + - : $ * % ~ _ , # = >
  std::string str;              // simple, error, bulk, double, verbatim text
  int64_t num = 0;              // integer
  bool null = false;
  std::vector<value> elems;     // aggregates (maps flattened: key, value, key, value ...)

  std::vector<std::string> strings() const {
    std::vector<std::string> out;
    for (auto& e : elems)
      out.push_back(e.str);
    return out;
  }
};

inline value decode_at(std::string_view s, size_t& pos) {
  value v;
  BOOST_REQUIRE(pos < s.size());
  v.type = s[pos];
  size_t eol = s.find("\r\n", pos);
  BOOST_REQUIRE(eol != std::string_view::npos);
  std::string line(s.substr(pos + 1, eol - pos - 1));
  pos = eol + 2;
  switch (v.type) {
    case '+': case '-': case ',': case '#':
      v.str = line;
      break;
    case ':':
      v.num = std::stoll(line);
      break;
    case '_':
      v.null = true;
      break;
    case '$': case '=': {
      long long n = std::stoll(line);
      if (n < 0) {
        v.null = true;
        break;
      }
      v.str = std::string(s.substr(pos, static_cast<size_t>(n)));
      pos += static_cast<size_t>(n) + 2;
      break;
    }
    case '*': case '~': case '>': case '%': {
      long long n = std::stoll(line);
      if (n < 0) {
        v.null = true;
        break;
      }
      if (v.type == '%')
        n *= 2;
      for (long long i = 0; i < n; ++i)
        v.elems.push_back(decode_at(s, pos));
      break;
    }
    default:
      BOOST_FAIL("bad RESP type " << v.type);
  }
  return v;
}

inline value decode(std::string_view s) {
  size_t pos = 0;
  value v = decode_at(s, pos);
  BOOST_TEST(pos == s.size(), "trailing bytes after the reply");
  return v;
}

// A stand-in collection (the collection types live elsewhere): a list of strings that digests
// the way Redis digests a list, so WRONGTYPE paths and digests of non-strings can be tested.
class test_list : public keyspace::collection {
public:
  explicit test_list(std::vector<std::string> items) : items_(std::move(items)) {}
  std::unique_ptr<keyspace::collection> clone() const override { return std::make_unique<test_list>(items_); }
  size_t size() const override { return items_.size(); }
  keyspace::venc encoding() const override { return keyspace::venc::quicklist; }
  size_t memory(size_t = 0) const override { return 64; }
  void digest(unsigned char out[20]) const override {
    keyspace::digest20 d;
    std::memcpy(d.data(), out, 20);
    for (auto& i : items_)
      keyspace::mix_digest(d, i);
    std::memcpy(out, d.data(), 20);
  }
  const std::vector<std::string>& items() const { return items_; }

private:
  std::vector<std::string> items_;
};

// Adds a list value under `key` in database `dbi` of `srv`.
inline void add_list(server& srv, std::string_view key, std::vector<std::string> items, int dbi = 0,
                     int64_t expire = -1) {
  auto* e = keyspace::make_collection_entry(key, keyspace::hash_key(key), keyspace::vtype::list,
                                            std::make_unique<test_list>(std::move(items)), expire);
  srv.ctx.add(srv.data.db(dbi), e);
}

} // namespace ut
