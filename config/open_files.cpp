#include "config/open_files.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "config/log.hpp"
#include "protocol/key_slot.hpp"

namespace troupe::config {

int64_t slot_range_count(int64_t io_threads, int64_t slot_actors) {
  return std::clamp<int64_t>(std::max(io_threads, slot_actors), 1, protocol::slot_count);
}

int64_t reserved_descriptors(int64_t io_threads, int64_t slot_actors) {
  return 32 + 3 * io_threads + 2 * slot_range_count(io_threads, slot_actors);
}

open_files_fit fit_open_files(int64_t maxclients, int64_t reserved) {
  open_files_fit r;
  r.maxclients = maxclients;
  auto wanted = static_cast<uint64_t>(maxclients + reserved);
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) {
    r.error = std::strerror(errno);
    r.limit = 1024;   // Redis assumes 1024 then
  } else {
    r.limit = lim.rlim_cur;
    if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < wanted) {
      uint64_t old = lim.rlim_cur;
      for (uint64_t best = wanted; best > old; best = best > 16 ? best - 16 : old) {
        rlimit want{};
        want.rlim_cur = best;
        want.rlim_max = lim.rlim_max == RLIM_INFINITY || lim.rlim_max >= best ? lim.rlim_max : best;
        if (setrlimit(RLIMIT_NOFILE, &want) == 0) {
          r.limit = best;
          break;
        }
        r.error = std::strerror(errno);
      }
    } else {
      return r;
    }
  }
  if (r.limit < wanted) {
    r.fatal = r.limit <= static_cast<uint64_t>(reserved);
    r.maxclients = r.fatal ? 0 : static_cast<int64_t>(r.limit) - reserved;
  }
  return r;
}

int64_t adjust_open_files_limit(int64_t maxclients, int64_t reserved) {
  rlimit before{};
  bool known = getrlimit(RLIMIT_NOFILE, &before) == 0;
  auto wanted = static_cast<unsigned long long>(maxclients + reserved);
  open_files_fit r = fit_open_files(maxclients, reserved);
  if (!known) {
    log_warning("Unable to obtain the current NOFILE limit (" + r.error
                + "), assuming 1024 and setting the max clients configuration accordingly.");
  } else if (r.fatal) {
    log_warning("Your current 'ulimit -n' of " + std::to_string(before.rlim_cur)
                + " is not enough for the server to start. Please increase your open file limit to at least "
                + std::to_string(wanted) + ". Exiting.");
    return -1;
  } else if (r.maxclients < maxclients) {
    log_warning("You requested maxclients of " + std::to_string(maxclients) + " requiring at least "
                + std::to_string(wanted) + " max file descriptors.");
    log_warning("Server can't set maximum open files to " + std::to_string(wanted) + " because of OS error: "
                + r.error + ".");
    log_warning("Current maximum open files is " + std::to_string(r.limit) + ". maxclients has been reduced to "
                + std::to_string(r.maxclients)
                + " to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.");
  } else if (r.limit != before.rlim_cur) {
    log_notice("Increased maximum number of open files to " + std::to_string(r.limit) + " (it was originally set to "
               + std::to_string(before.rlim_cur) + ").");
  }
  return r.fatal ? -1 : r.maxclients;
}

} // namespace troupe::config
