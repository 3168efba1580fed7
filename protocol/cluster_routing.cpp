#include "protocol/cluster_routing.hpp"

namespace troupe::protocol {

route_result route(const cluster_routing& r, const std::vector<int>& slots, bool multiple_keys,
                   const route_request& req) {
  route_result res;
  if (slots.empty())
    return res; // no keys: served here
  int slot = slots[0];
  for (int s : slots)
    if (s != slot) {
      res.kind = redirect::crossslot;
      return res;
    }
  res.slot = slot;
  int owner = r.owner[static_cast<size_t>(slot)];
  if (owner < 0) {
    res.kind = redirect::unbound;
    return res;
  }
  if (!r.ok) {
    if (req.pubsubshard) {
      if (!r.allow_pubsubshard_when_down) {
        res.kind = redirect::down;
        return res;
      }
    } else if (!r.allow_reads_when_down) {
      res.kind = redirect::down;
      return res;
    } else if (req.write) {
      res.kind = redirect::down_readonly;
      return res;
    }
  }
  bool importing = r.importing_from[static_cast<size_t>(slot)] >= 0;
  if (importing && req.asking) {
    (void)multiple_keys; // keys are checked by the slot_range (TRYAGAIN when some are missing)
    return res;
  }
  if (owner == r.myself)
    return res;
  // A replica serves reads of its master's slots to READONLY clients.
  if ((req.readonly_client || req.pubsubshard) && !req.write && r.my_master >= 0 && owner == r.my_master)
    return res;
  res.kind = redirect::moved;
  res.node = owner;
  return res;
}

std::string redirect_error(const cluster_routing& r, const route_result& res) {
  switch (res.kind) {
    case redirect::crossslot:
      return "CROSSSLOT Keys in request don't hash to the same slot";
    case redirect::unbound:
      return "CLUSTERDOWN Hash slot not served";
    case redirect::down:
      return "CLUSTERDOWN The cluster is down";
    case redirect::down_readonly:
      return "CLUSTERDOWN The cluster is down and only accepts read commands";
    case redirect::tryagain:
      return "TRYAGAIN Multiple keys request during rehashing of slot";
    case redirect::moved:
    case redirect::ask: {
      auto& n = r.nodes[static_cast<size_t>(res.node)];
      return std::string(res.kind == redirect::moved ? "MOVED " : "ASK ") + std::to_string(res.slot) + " " + n.host
             + ":" + std::to_string(n.port);
    }
    case redirect::none:
      break;
  }
  return "";
}

} // namespace troupe::protocol
