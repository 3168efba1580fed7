// Where a command's keys are served in cluster mode: the immutable snapshot of slot ownership the
// cluster actor publishes, and Redis's redirection rules (CROSSSLOT, CLUSTERDOWN, MOVED, ASK,
// TRYAGAIN) applied to it. Pure: the connection calls route() for every keyed command.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "protocol/key_slot.hpp"

namespace troupe::protocol {

struct cluster_routing {
  bool ok = false;                      // cluster_state:ok
  bool allow_reads_when_down = false;   // cluster-allow-reads-when-down
  bool allow_pubsubshard_when_down = true;
  struct endpoint {
    std::string host;                   // what MOVED and ASK name
    int port = 0;
  };
  std::vector<endpoint> nodes;          // by node index
  int myself = -1;
  int my_master = -1;                   // when this node is a replica
  std::array<int16_t, slot_count> owner;
  std::array<int16_t, slot_count> migrating_to;
  std::array<int16_t, slot_count> importing_from;
  cluster_routing() {
    owner.fill(-1);
    migrating_to.fill(-1);
    importing_from.fill(-1);
  }
};

enum class redirect { none, crossslot, unbound, down, down_readonly, moved, ask, tryagain };

struct route_result {
  redirect kind = redirect::none;
  int slot = -1;
  int node = -1;
};

struct route_request {
  bool write = false;             // the command (or a queued one, for EXEC) writes
  bool readonly_client = false;   // READONLY was sent
  bool asking = false;            // ASKING was sent, or the command has the asking flag
  bool pubsubshard = false;       // SSUBSCRIBE / SUNSUBSCRIBE / SPUBLISH
};

// `slots`: the hash slot of every key of the command (or of every queued command, for EXEC).
// Identical keys must be reported once each time they appear; different keys of one slot are fine.
// `multiple_keys`: the request names more than one distinct key (matters while importing).
route_result route(const cluster_routing& r, const std::vector<int>& slots, bool multiple_keys,
                   const route_request& req);
// The error reply text (without '-') for a redirect: "MOVED 3999 127.0.0.1:7002" ...
std::string redirect_error(const cluster_routing& r, const route_result& res);

} // namespace troupe::protocol
