// loop_timer: a one-shot timer that lives on an I/O loop, as a timerfd in the loop's own epoll set.
// When it expires, the loop calls its callback on the loop's own thread; a slot range uses it to send
// itself a message (gather_atom), which then never leaves the loop's thread. CAF's own timers
// (delayed_send) go through CAF's clock thread: each costs that thread two wake-ups and a write to
// the loop's wake-up pipe, which at one timer per millisecond (aof-gather-usec) was 6% of the
// process's CPU (and, when snapshot steps still ran on the loops, 15% of a core during a BGSAVE,
// at a timer per step). While the loop
// is busy, an expired timerfd is one more event in an epoll_wait that returns anyway.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include <caf/io/network/event_handler.hpp>

namespace caf::io {
class middleman;
}

namespace troupe::actors {

class loop_timer : public caf::io::network::event_handler {
public:
  // Called on the loop's thread with the argument of the arm() that set the expiry.
  using callback = std::function<void(uint64_t)>;

  // A timer on `mm`'s loop; nullptr when the kernel gives no timerfd (the caller then keeps using
  // delayed_send). Registers itself with the loop (from any thread), which keeps a pointer to it
  // from then on: a timer is not freed while its loop runs.
  static std::unique_ptr<loop_timer> create(caf::io::middleman& mm, callback on_expiry);

  // Expires once, `after` from now (at the loop's next look, for 1 µs), unless armed again before.
  // From any thread (a timerfd call).
  void arm(std::chrono::microseconds after, uint64_t arg = 0);

  void handle_event(caf::io::network::operation op) override;
  void removed_from_loop(caf::io::network::operation) override {}
  void graceful_shutdown() override;

  uint64_t fired() const { return fired_.load(std::memory_order_relaxed); }

private:
  loop_timer(caf::io::network::default_multiplexer& mpx, int fd, callback on_expiry);

  callback on_expiry_;
  std::atomic<uint64_t> arg_{0};
  std::atomic<uint64_t> fired_{0};
};

} // namespace troupe::actors
