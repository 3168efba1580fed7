// loop_timer: see loop_timer.hpp.
#include "actors/loop_timer.hpp"

#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include <caf/io/middleman.hpp>
#include <caf/io/network/default_multiplexer.hpp>

namespace troupe::actors {

loop_timer::loop_timer(caf::io::network::default_multiplexer& mpx, int fd, callback on_expiry)
  : event_handler(mpx, caf::io::network::invalid_native_socket), on_expiry_(std::move(on_expiry)) {
  // Set here rather than through the base's constructor, which would treat it as a TCP socket.
  fd_ = fd;
  state_.reading = true;
}

std::unique_ptr<loop_timer> loop_timer::create(caf::io::middleman& mm, callback on_expiry) {
  auto* mpx = dynamic_cast<caf::io::network::default_multiplexer*>(&mm.backend());
  if (mpx == nullptr)
    return nullptr;
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0)
    return nullptr;
  std::unique_ptr<loop_timer> t{new loop_timer(*mpx, fd, std::move(on_expiry))};
  // The loop's set of descriptors belongs to its thread.
  auto* raw = t.get();
  mpx->dispatch([mpx, raw] { mpx->add(caf::io::network::operation::read, raw->fd(), raw); });
  return t;
}

void loop_timer::arm(std::chrono::microseconds after, uint64_t arg) {
  arg_.store(arg, std::memory_order_release);
  auto us = std::max<int64_t>(1, after.count());   // (zero would disarm it)
  itimerspec spec{};
  spec.it_value.tv_sec = static_cast<time_t>(us / 1000000);
  spec.it_value.tv_nsec = static_cast<long>((us % 1000000) * 1000);
  timerfd_settime(fd_, 0, &spec, nullptr);
}

void loop_timer::handle_event(caf::io::network::operation op) {
  if (op != caf::io::network::operation::read)
    return;
  uint64_t expirations = 0;
  while (::read(fd_, &expirations, sizeof(expirations)) < 0 && errno == EINTR) {
  }
  fired_.fetch_add(1, std::memory_order_relaxed);
  on_expiry_(arg_.load(std::memory_order_acquire));
}

void loop_timer::graceful_shutdown() {
  backend().del(caf::io::network::operation::read, fd_, this);
}

} // namespace troupe::actors
