// Helpers for the persistence tests: temporary directories, files, shell commands, a real
// redis-server on a free port, a minimal RESP client, and a canonical text form of a dataset
// (so that what Troupe holds and what redis-server holds can be compared).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "keyspace/database.hpp"
#include "keyspace/hash_value.hpp"
#include "keyspace/list_value.hpp"
#include "keyspace/set_value.hpp"
#include "keyspace/table.hpp"
#include "keyspace/zset_value.hpp"
#include "protocol/key_slot.hpp"
#include "protocol/resp_writer.hpp"

namespace ptest {

namespace ks = troupe::keyspace;

class temp_dir {
public:
  temp_dir() {
    char tmpl[] = "/tmp/troupe-ps-XXXXXX";
    char* p = ::mkdtemp(tmpl);
    if (p == nullptr)
      throw std::runtime_error("mkdtemp failed");
    path_ = p;
  }
  ~temp_dir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

inline void write_file(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct run_result {
  int status = -1;
  std::string out;
};

// Runs a shell command; stdout and stderr together.
inline run_result run(const std::string& cmd) {
  run_result r;
  FILE* p = ::popen(("{ " + cmd + " ; } 2>&1").c_str(), "r");
  if (p == nullptr)
    return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0)
    r.out.append(buf, n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

inline bool have_tool(const std::string& name) { return run("command -v " + name).status == 0; }

inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

// ---- RESP client ----------------------------------------------------------------------------

struct reply {
  char type = 0;   // + - : $ *  ('$' with null = true for a null bulk)
  bool null = false;
  std::string str;
  int64_t integer = 0;
  std::vector<reply> elems;
};

class client {
public:
  explicit client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~client() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }

  reply call(const std::vector<std::string>& args) {
    std::string out = "*" + std::to_string(args.size()) + "\r\n";
    for (auto& a : args)
      out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
    for (size_t off = 0; off < out.size();) {
      ssize_t n = ::write(fd_, out.data() + off, out.size() - off);
      if (n <= 0)
        throw std::runtime_error("write to redis failed");
      off += static_cast<size_t>(n);
    }
    return read_reply();
  }

private:
  char getc() {
    if (pos_ == buf_.size()) {
      buf_.resize(65536);
      ssize_t n = ::read(fd_, buf_.data(), buf_.size());
      if (n <= 0)
        throw std::runtime_error("read from redis failed");
      buf_.resize(static_cast<size_t>(n));
      pos_ = 0;
    }
    return buf_[pos_++];
  }
  std::string line() {
    std::string s;
    for (char c; (c = getc()) != '\n';)
      s.push_back(c);
    if (!s.empty() && s.back() == '\r')
      s.pop_back();
    return s;
  }
  reply read_reply() {
    reply r;
    std::string l = line();
    r.type = l[0];
    std::string rest = l.substr(1);
    switch (r.type) {
      case '+':
      case '-': r.str = rest; break;
      case ':': r.integer = std::stoll(rest); break;
      case '$': {
        long long n = std::stoll(rest);
        if (n < 0) {
          r.null = true;
          break;
        }
        for (long long i = 0; i < n; ++i)
          r.str.push_back(getc());
        getc();
        getc();
        break;
      }
      case '*': {
        long long n = std::stoll(rest);
        if (n < 0) {
          r.null = true;
          break;
        }
        for (long long i = 0; i < n; ++i)
          r.elems.push_back(read_reply());
        break;
      }
      default: throw std::runtime_error("bad reply: " + l);
    }
    return r;
  }
  int fd_ = -1;
  std::string buf_;
  size_t pos_ = 0;
};

// A redis-server on a free port in its own directory, stopped (killed) on destruction.
class redis_server {
public:
  // `extra`: more command-line flags.
  explicit redis_server(const std::string& dir, const std::string& extra = "") : dir_(dir), port_(free_port()) {
    std::string cmd = "cd '" + dir + "' && redis-server --port " + std::to_string(port_) +
                      " --bind 127.0.0.1 --dir '" + dir + "' --save '' --daemonize yes --pidfile '" + dir +
                      "/redis.pid' --logfile '" + dir + "/redis.log' " + extra;
    run(cmd);
    for (int i = 0; i < 200; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      client c(port_);
      if (c.ok()) {
        try {
          reply r = c.call({"PING"});
          if (r.type == '+') {
            up_ = true;
            break;
          }
        } catch (...) {
        }
      }
    }
    pid_ = std::atoi(read_file(dir + "/redis.pid").c_str());
  }
  ~redis_server() { stop(); }
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      for (int i = 0; i < 100 && ::kill(pid_, 0) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      pid_ = 0;
    }
  }
  bool up() const { return up_; }
  int port() const { return port_; }
  std::string log() const { return read_file(dir_ + "/redis.log"); }

private:
  std::string dir_;
  int port_;
  int pid_ = 0;
  bool up_ = false;
};

// ---- canonical form -------------------------------------------------------------------------

inline std::string fmt_score(double d) {
  if (std::isinf(d))
    return d < 0 ? "-inf" : "inf";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", d);
  return buf;
}

struct key_state {
  std::string type;
  std::string encoding;
  int64_t expire = -1;
  std::string value;   // canonical: lists in order, sets/hashes sorted, zsets in rank order
  bool operator==(const key_state& o) const {
    return type == o.type && encoding == o.encoding && expire == o.expire && value == o.value;
  }
};

using canon = std::map<std::pair<int, std::string>, key_state>;

inline std::string join_sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  std::string s;
  for (auto& x : v)
    s += std::to_string(x.size()) + ":" + x + ",";
  return s;
}

inline key_state state_of(const ks::entry* e) {
  key_state st;
  st.type = ks::type_name(e->type);
  st.encoding = ks::encoding_name(e->enc);
  if (e->type != ks::vtype::string)
    st.encoding = ks::encoding_name(e->coll()->encoding());
  st.expire = e->has_expire() ? e->expire() : -1;
  switch (e->type) {
    case ks::vtype::string:
      st.value = std::string(e->str());
      // Redis reports "embstr"/"raw"/"int" depending on how a string was made; compare values only.
      st.encoding = "string";
      break;
    case ks::vtype::list: {
      auto* l = static_cast<const ks::list_value*>(e->coll());
      l->for_each([&](std::string_view v) { st.value += std::to_string(v.size()) + ":" + std::string(v) + ","; });
      break;
    }
    case ks::vtype::set: {
      std::vector<std::string> m;
      static_cast<const ks::set_value*>(e->coll())->for_each([&](std::string_view v) { m.emplace_back(v); });
      st.value = join_sorted(m);
      break;
    }
    case ks::vtype::hash: {
      std::vector<std::string> m;
      static_cast<const ks::hash_value*>(e->coll())->for_each(
          [&](std::string_view f, std::string_view v) { m.push_back(std::string(f) + "=" + std::string(v)); });
      st.value = join_sorted(m);
      break;
    }
    case ks::vtype::zset: {
      static_cast<const ks::zset_value*>(e->coll())->for_each([&](std::string_view m, double s) {
        st.value += std::to_string(m.size()) + ":" + std::string(m) + "=" + fmt_score(s) + ",";
      });
      break;
    }
    default: break;
  }
  return st;
}

inline canon canon_of(const ks::dataset& data) {
  canon c;
  for (int db = 0; db < data.count(); ++db)
    for (int s = 0; s < troupe::protocol::slot_count; ++s)
      if (const ks::table* t = data.db(db).slot(s))
        t->for_each([&](ks::entry* e) { c[{db, std::string(e->key())}] = state_of(e); });
  return c;
}

// What redis-server holds, in the same canonical form (expire: PEXPIRETIME).
inline canon canon_of_redis(client& c, int databases = 16) {
  canon out;
  for (int db = 0; db < databases; ++db) {
    c.call({"SELECT", std::to_string(db)});
    reply keys = c.call({"KEYS", "*"});
    for (auto& k : keys.elems) {
      key_state st;
      st.type = c.call({"TYPE", k.str}).str;
      st.encoding = c.call({"OBJECT", "ENCODING", k.str}).str;
      int64_t pt = c.call({"PEXPIRETIME", k.str}).integer;
      st.expire = pt >= 0 ? pt : -1;
      if (st.type == "string") {
        st.value = c.call({"GET", k.str}).str;
        st.encoding = "string";
      } else if (st.type == "list") {
        for (auto& e : c.call({"LRANGE", k.str, "0", "-1"}).elems)
          st.value += std::to_string(e.str.size()) + ":" + e.str + ",";
      } else if (st.type == "set") {
        std::vector<std::string> m;
        for (auto& e : c.call({"SMEMBERS", k.str}).elems)
          m.push_back(e.str);
        st.value = join_sorted(m);
      } else if (st.type == "hash") {
        std::vector<std::string> m;
        auto r = c.call({"HGETALL", k.str});
        for (size_t i = 0; i + 1 < r.elems.size(); i += 2)
          m.push_back(r.elems[i].str + "=" + r.elems[i + 1].str);
        st.value = join_sorted(m);
      } else if (st.type == "zset") {
        auto r = c.call({"ZRANGE", k.str, "0", "-1", "WITHSCORES"});
        for (size_t i = 0; i + 1 < r.elems.size(); i += 2)
          st.value += std::to_string(r.elems[i].str.size()) + ":" + r.elems[i].str + "=" +
                      fmt_score(std::strtod(r.elems[i + 1].str.c_str(), nullptr)) + ",";
      }
      out[{db, k.str}] = st;
    }
  }
  c.call({"SELECT", "0"});
  return out;
}

inline std::string describe(const canon& c) {
  std::string s;
  for (auto& [k, v] : c)
    s += std::to_string(k.first) + "/" + k.second + " " + v.type + " " + v.encoding + " ttl=" +
         std::to_string(v.expire) + " " + v.value.substr(0, 120) + "\n";
  return s;
}

// ---- building a dataset ---------------------------------------------------------------------

inline void put(ks::dataset& d, int db, ks::entry* e) {
  d.db(db).slot_for_write(troupe::protocol::key_slot(e->key())).insert(e);
}

inline void put_string(ks::dataset& d, int db, const std::string& key, const std::string& v, int64_t expire = -1) {
  put(d, db, ks::make_string_entry(key, ks::hash_key(key), v, expire));
}

inline void put_coll(ks::dataset& d, int db, const std::string& key, ks::vtype t, std::unique_ptr<ks::collection> c,
                     int64_t expire = -1) {
  put(d, db, ks::make_collection_entry(key, ks::hash_key(key), t, std::move(c), expire));
}

// Redis 7.0's default encoding thresholds (keyspace_settings' own defaults may differ).
inline ks::keyspace_settings redis_defaults() {
  ks::keyspace_settings s;
  s.hash_max_listpack_entries = 512;
  s.hash_max_listpack_value = 64;
  s.set_max_intset_entries = 512;
  s.zset_max_listpack_entries = 128;
  s.zset_max_listpack_value = 64;
  s.list_max_listpack_size = -2;
  return s;
}

// A dataset with every type in every encoding Troupe has, in dbs 0, 3 and 15, with expiries
// (absolute, around `now_ms`).
inline void fill_sample(ks::dataset& d, int64_t now_ms) {
  ks::keyspace_settings s = redis_defaults();
  // strings
  put_string(d, 0, "s:int", "12345");
  put_string(d, 0, "s:neg", "-7");
  put_string(d, 0, "s:int16", "-30000");
  put_string(d, 0, "s:int32", "2000000000");
  put_string(d, 0, "s:int64", "12345678901234");
  put_string(d, 0, "s:notint", "007");
  put_string(d, 0, "s:embstr", "hello world");
  put_string(d, 0, "s:empty", "");
  put_string(d, 0, "s:binary", std::string("a\0b\r\n\xff", 6));
  std::string raw;
  for (int i = 0; i < 100; ++i)
    raw.push_back(static_cast<char>('a' + (i * 7919) % 26));
  put_string(d, 0, "s:raw", raw);
  std::string rep;
  for (int i = 0; i < 400; ++i)
    rep += "abcde" + std::to_string(i % 10);
  put_string(d, 0, "s:lzf", rep);
  put_string(d, 0, "s:ttl", "expiring", now_ms + 3600 * 1000);
  put_string(d, 3, "other-db", "three");
  put_string(d, 15, "last-db", "fifteen", now_ms + 7200 * 1000);
  // lists
  {
    auto l = std::make_unique<ks::list_value>(s.list_max_listpack_size);
    for (const char* v : {"a", "b", "1", "-2", "300", "70000", "9000000000", ""})
      l->push_back(v);
    put_coll(d, 0, "l:small", ks::vtype::list, std::move(l));
    auto big = std::make_unique<ks::list_value>(s.list_max_listpack_size);
    for (int i = 0; i < 3000; ++i) {
      if (i % 500 == 7)
        big->push_back(std::string(5000 + static_cast<size_t>(i), static_cast<char>('A' + i % 26)));
      else if (i % 3 == 0)
        big->push_back(std::to_string(i * 1000003LL - 1500000000LL));
      else
        big->push_back("element-" + std::to_string(i) + std::string(static_cast<size_t>(i % 70), 'x'));
    }
    put_coll(d, 0, "l:big", ks::vtype::list, std::move(big), now_ms + 600 * 1000);
  }
  // sets
  {
    auto a = std::make_unique<ks::set_value>();
    for (const char* v : {"1", "2", "-3", "100000", "5000000000"})
      a->add(v, s);
    put_coll(d, 0, "set:intset", ks::vtype::set, std::move(a));
    auto b = ks::set_value::create_for("x");
    for (const char* v : {"x", "y", "zebra", "42", ""})
      b->add(v, s);
    put_coll(d, 0, "set:strings", ks::vtype::set, std::move(b));
    auto c = std::make_unique<ks::set_value>();
    for (int i = 0; i < 600; ++i)
      c->add(std::to_string(i * 37), s);
    put_coll(d, 3, "set:bigints", ks::vtype::set, std::move(c), now_ms + 1000 * 1000);
  }
  // hashes
  {
    auto h = std::make_unique<ks::hash_value>();
    h->set("name", "troupe", s);
    h->set("count", "42", s);
    h->set("neg", "-5000", s);
    h->set("7", "seven", s);
    put_coll(d, 0, "h:listpack", ks::vtype::hash, std::move(h));
    auto big = std::make_unique<ks::hash_value>();
    for (int i = 0; i < 600; ++i)
      big->set("field" + std::to_string(i), "value" + std::to_string(i * i), s);
    put_coll(d, 0, "h:hashtable", ks::vtype::hash, std::move(big));
    auto lv = std::make_unique<ks::hash_value>();
    lv->set("short", "v", s);
    lv->set("long", std::string(100, 'L'), s);
    put_coll(d, 3, "h:longvalue", ks::vtype::hash, std::move(lv), now_ms + 50 * 1000);
  }
  // sorted sets
  {
    auto z = std::make_unique<ks::zset_value>(false);
    z->insert("one", 1);
    z->insert("half", 1.5);
    z->insert("neg", -2);
    z->insert("zero", 0);
    z->insert("big", 1e300);
    z->insert("tiny", 3.14159e-200);
    z->insert("pinf", HUGE_VAL);
    z->insert("ninf", -HUGE_VAL);
    z->insert("12", 12);
    put_coll(d, 0, "z:listpack", ks::vtype::zset, std::move(z));
    auto big = std::make_unique<ks::zset_value>(true);
    for (int i = 0; i < 200; ++i)
      big->insert("member" + std::to_string(i), i * 0.25 - 10);
    put_coll(d, 15, "z:skiplist", ks::vtype::zset, std::move(big), now_ms + 99 * 1000);
  }
}

} // namespace ptest
