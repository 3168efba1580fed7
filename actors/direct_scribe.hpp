// direct_scribe: a CAF scribe (the TCP socket of a connection broker) that hands the bytes it
// reads straight to a function of its broker instead of wrapping them in a new_data_msg. CAF's own
// scribe shrinks its read buffer to the bytes read, swaps it into the message and dispatches that
// message through the broker's behavior (matching, a response promise, result visiting); the
// stream then grows the buffer again, zero-filling it, before the next read. Here the buffer keeps
// its size and the function runs with the broker's context set, as a handler would; a broker that
// quit inside it is finalized as CAF finalizes it after a message.
// What a handler would have that this call has not: a current mailbox element (so no response
// promise, no current_sender()), activity tokens (trigger(hdl, n) would never passivate the socket;
// halt() and trigger() without a count work), the broker's receive timeout being reset, and the
// cleanup of behaviors replaced by become(). The connection uses none of them on this path.
#pragma once

#include <cstddef>

#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/scribe_impl.hpp>

namespace troupe::actors {

class direct_scribe final : public caf::io::network::scribe_impl {
public:
  // Called on the broker's I/O loop with the broker and what one read returned (valid only during
  // the call).
  using on_data_fn = void (*)(caf::io::abstract_broker* broker, const char* data, size_t size);

  // Adds a direct_scribe for the socket `fd` to `broker` (not reading yet: configure_read starts
  // it, as with CAF's scribes) and returns its handle. The broker's loop is a default_multiplexer,
  // CAF 0.17's own backend, as every loop troupe-server runs is.
  static caf::io::connection_handle add_to(caf::io::abstract_broker* broker, caf::io::network::native_socket fd,
                                           on_data_fn fn);

  bool consume(caf::execution_unit* ctx, const void* buf, size_t size) override;

private:
  direct_scribe(caf::io::network::default_multiplexer& mpx, caf::io::network::native_socket fd, on_data_fn fn);

  on_data_fn fn_;
};

} // namespace troupe::actors
