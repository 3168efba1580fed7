#include "actors/direct_scribe.hpp"

#include <exception>

#include <caf/io/abstract_broker.hpp>

#include "config/log.hpp"

namespace troupe::actors {

direct_scribe::direct_scribe(caf::io::network::default_multiplexer& mpx, caf::io::network::native_socket fd,
                             on_data_fn fn)
    : scribe_impl(mpx, fd), fn_(fn) {
}

caf::io::connection_handle direct_scribe::add_to(caf::io::abstract_broker* broker, caf::io::network::native_socket fd,
                                                 on_data_fn fn) {
  auto& mpx = static_cast<caf::io::network::default_multiplexer&>(broker->backend());
  caf::intrusive_ptr<direct_scribe> scribe{new direct_scribe(mpx, fd, fn), false};
  auto hdl = scribe->hdl();
  broker->add_scribe(std::move(scribe));
  return hdl;
}

bool direct_scribe::consume(caf::execution_unit* ctx, const void* buf, size_t size) {
  // Closed by its broker while the loop still had this socket's event to deliver.
  if (detached())
    return false;
  auto* broker = parent();
  caf::strong_actor_ptr guard{broker->ctrl()};   // the broker may quit (and be cleaned up) inside
  if (!broker->alive())
    return false;
  broker->context(ctx);
  // No message is being handled: whatever the last handler left here may be gone (a response
  // promise or current_sender() reached from this call gets nothing instead of freed memory).
  broker->current_mailbox_element(nullptr);
  try {
    fn_(broker, static_cast<const char*>(buf), size);
  } catch (const std::exception& e) {
    config::log_warning(std::string("Closing a client connection after an error: ") + e.what());
    broker->quit(caf::sec::runtime_error);
  } catch (...) {
    config::log_warning("Closing a client connection after an unknown error");
    broker->quit(caf::sec::runtime_error);
  }
  if (!broker->alive())
    broker->finalize();
  flush();
  return !detached();
}

} // namespace troupe::actors
