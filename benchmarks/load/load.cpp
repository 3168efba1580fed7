// troupe-load-bench: a lean load generator for SET and GET, so that on a small machine the server,
// not the client, sets the pace. redis-benchmark spends about five epoll_ctl calls per request
// (it adds and removes its write interest around every request), and on a 2-core machine its one
// core saturates before either server does; throughput ratios then measure the client. This one
// keeps read interest registered for good and writes each connection's next batch as soon as the
// last reply of the previous batch is in: per batch one write and (usually) one read, and one
// epoll_wait for all the connections that are ready.
//
// It takes redis-benchmark's options for what it does and prints redis-benchmark's --csv shape, so
// benchmarks/compare can run either:
//   troupe-load-bench -p PORT [-h HOST] -t set|get [-c CLIENTS] [-n REQUESTS] [-P PIPELINE]
//                     [-r KEYSPACE] [-d VALUE_SIZE] [--csv]
// Keys are redis-benchmark's: "key:__rand_int__" without -r, "key:" and 12 digits of a random number
// below KEYSPACE with it; values are VALUE_SIZE bytes of 'x'. A request's latency is its batch's: from
// the batch's write to its last reply, as redis-benchmark counts it. Error replies stop the run.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct options {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string test = "set";
  int clients = 50;
  long requests = 100000;
  int pipeline = 1;
  long keyspace = 0;
  int value_size = 3;
};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "troupe-load-bench: %s\n", what);
  std::exit(1);
}

[[noreturn]] void fail_errno(const char* what) {
  std::fprintf(stderr, "troupe-load-bench: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

options parse_options(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc)
        fail("an option lacks its value");
      return argv[++i];
    };
    if (a == "-h")
      o.host = value();
    else if (a == "-p")
      o.port = std::atoi(value());
    else if (a == "-t")
      o.test = value();
    else if (a == "-c")
      o.clients = std::atoi(value());
    else if (a == "-n")
      o.requests = std::atol(value());
    else if (a == "-P")
      o.pipeline = std::atoi(value());
    else if (a == "-r")
      o.keyspace = std::atol(value());
    else if (a == "-d")
      o.value_size = std::atoi(value());
    else if (a == "--csv" || a == "-q")
      ;  // the output is always the CSV
    else
      fail("unknown option (see the usage at the top of benchmarks/load/load.cpp)");
  }
  std::transform(o.test.begin(), o.test.end(), o.test.begin(), [](unsigned char c) { return std::tolower(c); });
  if (o.test != "set" && o.test != "get")
    fail("-t takes set or get");
  if (o.clients < 1 || o.requests < 1 || o.pipeline < 1 || o.value_size < 0 || o.keyspace < 0)
    fail("-c, -n and -P must be positive, -r and -d not negative");
  return o;
}

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

// xorshift64*: the keys need spread, not quality.
struct random_keys {
  uint64_t state = 0x9e3779b97f4a7c15ull;
  uint64_t next() {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545f4914f6cdd1dull;
  }
};

// Appends one request of the test to out.
void append_request(std::string& out, const options& o, const std::string& value, random_keys& rnd) {
  char key[17] = "key:";
  std::string_view k;
  if (o.keyspace > 0) {
    uint64_t n = rnd.next() % uint64_t(o.keyspace);
    for (int d = 15; d >= 4; --d) {
      key[d] = char('0' + n % 10);
      n /= 10;
    }
    k = std::string_view(key, 16);
  } else {
    k = "key:__rand_int__";
  }
  char head[64];
  int len;
  if (o.test == "set")
    len = std::snprintf(head, sizeof head, "*3\r\n$3\r\nSET\r\n$%zu\r\n", k.size());
  else
    len = std::snprintf(head, sizeof head, "*2\r\n$3\r\nGET\r\n$%zu\r\n", k.size());
  out.append(head, size_t(len));
  out.append(k);
  out.append("\r\n");
  if (o.test == "set") {
    len = std::snprintf(head, sizeof head, "$%zu\r\n", value.size());
    out.append(head, size_t(len));
    out.append(value);
    out.append("\r\n");
  }
}

struct connection {
  int fd = -1;
  std::string out;        // the batch being written
  size_t written = 0;
  std::string in;         // bytes of a reply that a read cut in two
  int batch = 0;          // requests in the current batch
  int awaited = 0;        // of its replies, those still to come
  uint64_t batch_start = 0;
  bool want_write = false;
};

// How many bytes the complete reply at the front of buf takes, 0 while it is incomplete. Sets
// error when it is an error reply. Only the shapes SET and GET reply with.
size_t reply_length(std::string_view buf, bool& error) {
  if (buf.empty())
    return 0;
  auto eol = buf.find("\r\n");
  if (eol == std::string_view::npos)
    return 0;
  switch (buf[0]) {
    case '+':
    case ':':
      return eol + 2;
    case '-':
      error = true;
      return eol + 2;
    case '$': {
      long n = std::atol(std::string(buf.substr(1, eol - 1)).c_str());
      if (n < 0)
        return eol + 2;
      size_t total = eol + 2 + size_t(n) + 2;
      return buf.size() >= total ? total : 0;
    }
    default:
      fail("a reply of a shape SET and GET do not send");
  }
}

int connect_to(const options& o) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  auto port = std::to_string(o.port);
  if (getaddrinfo(o.host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr)
    fail("cannot resolve the host");
  int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
  if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0)
    fail_errno("connect");
  freeaddrinfo(res);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  options o = parse_options(argc, argv);
  std::string value(size_t(o.value_size), 'x');
  random_keys rnd;
  int ep = epoll_create1(0);
  if (ep < 0)
    fail_errno("epoll_create1");
  std::vector<connection> conns(size_t(o.clients));
  for (size_t i = 0; i < conns.size(); ++i) {
    conns[i].fd = connect_to(o);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev) != 0)
      fail_errno("epoll_ctl");
  }
  // Latency histogram in microseconds; the last bucket takes everything from a second on.
  std::vector<uint64_t> hist(1000001, 0);
  uint64_t min_us = UINT64_MAX, max_us = 0, sum_us = 0;
  long issued = 0, done = 0;
  int open = 0;

  auto flush = [&](size_t i) {
    connection& c = conns[i];
    while (c.written < c.out.size()) {
      ssize_t n = write(c.fd, c.out.data() + c.written, c.out.size() - c.written);
      if (n > 0) {
        c.written += size_t(n);
      } else if (n < 0 && errno == EAGAIN) {
        break;
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        fail_errno("write");
      }
    }
    bool want = c.written < c.out.size();
    if (want != c.want_write) {
      epoll_event ev{};
      ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
      ev.data.u64 = i;
      epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
      c.want_write = want;
    }
  };
  auto send_batch = [&](size_t i) {
    connection& c = conns[i];
    int n = int(std::min<long>(o.pipeline, o.requests - issued));
    if (n <= 0)
      return false;
    issued += n;
    c.out.clear();
    c.written = 0;
    for (int k = 0; k < n; ++k)
      append_request(c.out, o, value, rnd);
    c.batch = c.awaited = n;
    c.batch_start = now_ns();
    flush(i);
    return true;
  };

  uint64_t started = now_ns();
  for (size_t i = 0; i < conns.size(); ++i)
    if (send_batch(i))
      ++open;
  std::vector<epoll_event> events(256);
  std::vector<char> buf(1 << 16);
  while (open > 0) {
    int ready = epoll_wait(ep, events.data(), int(events.size()), -1);
    if (ready < 0) {
      if (errno == EINTR)
        continue;
      fail_errno("epoll_wait");
    }
    for (int e = 0; e < ready; ++e) {
      size_t i = size_t(events[e].data.u64);
      connection& c = conns[i];
      if (events[e].events & EPOLLOUT)
        flush(i);
      if (!(events[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        continue;
      ssize_t n = read(c.fd, buf.data(), buf.size());
      if (n == 0)
        fail("the server closed a connection");
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
          continue;
        fail_errno("read");
      }
      // Replies straight from the read buffer; a reply cut by the read's end waits in c.in.
      std::string_view data(buf.data(), size_t(n));
      if (!c.in.empty()) {
        c.in.append(data);
        data = c.in;
      }
      size_t used = 0;
      bool error = false;
      while (c.awaited > 0) {
        size_t len = reply_length(data.substr(used), error);
        if (len == 0)
          break;
        if (error) {
          std::fprintf(stderr, "troupe-load-bench: the server replied %.*s\n", int(len - 2), data.data() + used);
          return 1;
        }
        used += len;
        --c.awaited;
      }
      if (used == data.size())
        c.in.clear();
      else
        c.in = std::string(data.substr(used));
      if (c.awaited == 0) {
        uint64_t us = (now_ns() - c.batch_start) / 1000;
        done += c.batch;
        hist[std::min<uint64_t>(us, hist.size() - 1)] += uint64_t(c.batch);
        min_us = std::min(min_us, us);
        max_us = std::max(max_us, us);
        sum_us += us * uint64_t(c.batch);
        if (!c.in.empty())
          fail("the server sent more replies than requests");
        if (!send_batch(i))
          --open;
      }
    }
  }
  double seconds = double(now_ns() - started) / 1e9;
  auto percentile = [&](double p) {
    uint64_t want = uint64_t(double(done) * p / 100.0 + 0.5), seen = 0;
    for (size_t us = 0; us < hist.size(); ++us) {
      seen += hist[us];
      if (seen >= want && seen > 0)
        return double(std::min<uint64_t>(us + 1, max_us)) / 1000.0;  // the bucket's upper end, in ms
    }
    return double(max_us) / 1000.0;
  };
  std::string name = o.test == "set" ? "SET" : "GET";
  std::printf("\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\","
              "\"p99_latency_ms\",\"max_latency_ms\"\n");
  std::printf("\"%s\",\"%.2f\",\"%.3f\",\"%.3f\",\"%.3f\",\"%.3f\",\"%.3f\",\"%.3f\"\n", name.c_str(),
              double(done) / seconds, double(sum_us) / double(done) / 1000.0, double(min_us) / 1000.0, percentile(50),
              percentile(95), percentile(99), double(max_us) / 1000.0);
  for (auto& c : conns)
    close(c.fd);
  close(ep);
  return 0;
}
