// The common part of every actor's status reply.
#pragma once

#include <caf/deep_to_string.hpp>

#include "actors/messages.hpp"

namespace troupe::actors {

template <class Self, class Detail>
actor_status make_status(Self* self, const std::string& name, const char* kind, uint64_t handled,
                         std::string summary, Detail detail) {
  actor_status s;
  s.name = name;
  s.kind = kind;
  s.handled = handled;
  s.mailbox = self->mailbox().size();
  s.summary = std::move(summary);
  s.detail = caf::deep_to_string(detail);
  return s;
}

} // namespace troupe::actors
