// loop_timer: a one-shot timer that lives on an I/O loop, as a timerfd in the loop's own epoll set.
// When it expires, the loop sends `gather_atom` to the slot range that owns it; the range is on the
// same loop, so the message never leaves the loop's thread. CAF's own timers (delayed_send) go
// through CAF's clock thread: each costs that thread two wake-ups and a write to the loop's wake-up
// pipe, which at one timer per millisecond (aof-gather-usec) was 6% of the process's CPU. While the
// loop is busy, an expired timerfd is one more event in an epoll_wait that returns anyway.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include <caf/io/network/event_handler.hpp>

#include "actors/interfaces.hpp"

namespace caf::io {
class middleman;
}

namespace troupe::actors {

class loop_timer : public caf::io::network::event_handler {
public:
  // A timer on `mm`'s loop that will wake `target`; nullptr when the kernel gives no timerfd (the
  // caller then keeps using delayed_send). Registers itself with the loop (from any thread).
  static std::unique_ptr<loop_timer> create(caf::io::middleman& mm, const slot_range_actor& target);

  // Fires once, `after` from now, unless armed again before (from any thread: a timerfd call).
  void arm(std::chrono::microseconds after);

  void handle_event(caf::io::network::operation op) override;
  void removed_from_loop(caf::io::network::operation) override {}
  void graceful_shutdown() override;

  uint64_t fired() const { return fired_.load(std::memory_order_relaxed); }

private:
  loop_timer(caf::io::network::default_multiplexer& mpx, int fd, const slot_range_actor& target);

  caf::weak_actor_ptr target_;   // (weak: the range's state owns the timer)
  std::atomic<uint64_t> fired_{0};
};

} // namespace troupe::actors
