// troupe-hop-bench: what a message costs between two brokers on the same I/O loop and between
// brokers on two loops (io-threads), set up the way troupe-server sets up its loops: one actor
// system per loop, brokers without sockets. A "pinger" keeps `window` pings in flight to a
// "ponger" and sends the next one for each pong; the figures are wall time and process CPU time
// per round trip (two hops). window 1 is a lone client's command; a larger window is the
// batching that many clients and pipelines give a loop.
//
// usage: troupe-hop-bench [round_trips] [window...]   (defaults: 200000 and windows 1 16)
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

namespace {

using ping_atom = caf::atom_constant<caf::atom("ping")>;
using pong_atom = caf::atom_constant<caf::atom("pong")>;
using go_atom = caf::atom_constant<caf::atom("go")>;

caf::behavior ponger(caf::io::broker* self) {
  return {[=](ping_atom, uint64_t n) {
    self->send(caf::actor_cast<caf::actor>(self->current_sender()), pong_atom::value, n);
  }};
}

struct run_state {
  uint64_t total = 0, sent = 0, received = 0;
  std::promise<void> done;
};

caf::behavior pinger(caf::io::broker* self, caf::actor peer, std::shared_ptr<run_state> st) {
  return {
    [=](go_atom, uint64_t window) {
      for (uint64_t i = 0; i < window && st->sent < st->total; ++i)
        self->send(peer, ping_atom::value, st->sent++);
    },
    [=](pong_atom, uint64_t) {
      if (++st->received == st->total) {
        st->done.set_value();
        return;
      }
      if (st->sent < st->total)
        self->send(peer, ping_atom::value, st->sent++);
    },
  };
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec)
         + static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::unique_ptr<caf::actor_system_config> loop_config() {
  // As troupe-server configures its loops (actors/main.cpp).
  auto c = std::make_unique<caf::actor_system_config>();
  c->load<caf::io::middleman>();
  c->set("scheduler.policy", caf::atom("sharing"));
  c->set("scheduler.max-threads", 1);
  c->set("logger.verbosity", caf::atom("quiet"));
  return c;
}

} // namespace

int main(int argc, char** argv) {
  uint64_t trips = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200000;
  std::vector<uint64_t> windows;
  for (int i = 2; i < argc; ++i)
    windows.push_back(std::strtoull(argv[i], nullptr, 10));
  if (windows.empty())
    windows = {1, 16};
  auto cfg0 = loop_config(), cfg1 = loop_config();
  caf::actor_system loop0{*cfg0}, loop1{*cfg1};
  std::printf("placement,window,round_trips,wall_ns_per_round_trip,cpu_ns_per_round_trip\n");
  for (uint64_t window : windows) {
    for (bool cross : {false, true}) {
      auto st = std::make_shared<run_state>();
      st->total = trips;
      auto done = st->done.get_future();
      auto peer = (cross ? loop1 : loop0).middleman().spawn_broker(ponger);
      auto me = loop0.middleman().spawn_broker(pinger, peer, st);
      double c0 = cpu_seconds();
      auto t0 = std::chrono::steady_clock::now();
      caf::anon_send(me, go_atom::value, window);
      done.wait();
      auto t1 = std::chrono::steady_clock::now();
      double c1 = cpu_seconds();
      double wall = std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(trips);
      double cpu = (c1 - c0) * 1e9 / static_cast<double>(trips);
      std::printf("%s,%llu,%llu,%.0f,%.0f\n", cross ? "two loops" : "one loop",
                  static_cast<unsigned long long>(window), static_cast<unsigned long long>(trips), wall, cpu);
      std::fflush(stdout);
      caf::anon_send_exit(me, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(peer, caf::exit_reason::user_shutdown);
    }
  }
  std::fflush(nullptr);
  std::_Exit(0);
}
