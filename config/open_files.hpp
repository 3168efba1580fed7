// The open-files limit against maxclients, as Redis 7.0 handles it: at start (and when CONFIG SET
// raises maxclients) the soft RLIMIT_NOFILE is raised to maxclients plus the descriptors the server
// keeps for itself; where the system refuses, maxclients is lowered to what the limit allows, with
// Redis's log lines, so that a client past the limit gets "max number of clients reached" instead of
// an accept() that fails for want of a descriptor.
#pragma once

#include <cstdint>
#include <string>

namespace troupe::config {

struct open_files_fit {
  int64_t maxclients = 0;   // what fits (the request when the limit was or could be made enough)
  uint64_t limit = 0;       // the soft limit now
  bool fatal = false;       // not even the reserved descriptors fit: the server cannot start
  std::string error;        // strerror of the last refused setrlimit, if any
};

// Raises RLIMIT_NOFILE towards `maxclients + reserved` (down in steps of 16 where refused, never
// below the current limit) and returns the maxclients that fits. Logs nothing.
open_files_fit fit_open_files(int64_t maxclients, int64_t reserved);

// The same at start, with Redis's log lines for each outcome; returns the maxclients to use, or -1
// when the server must exit (the limit leaves no room for a single client).
int64_t adjust_open_files_limit(int64_t maxclients, int64_t reserved);

// The slot-range actors a node runs with these settings: slot-actors, raised to one per I/O loop,
// at most one per slot.
int64_t slot_range_count(int64_t io_threads, int64_t slot_actors);

// Descriptors the server keeps for itself with these io-threads and slot-actors settings: Redis's
// 32, plus an epoll descriptor and a wake-up pipe per I/O loop and two timers per slot range.
// (CONFIG SET maxclients applies the same fit through config::store::set.)
int64_t reserved_descriptors(int64_t io_threads, int64_t slot_actors);

} // namespace troupe::config
