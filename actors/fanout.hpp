// Asking several actors one question and going on once each has answered, failed, or gone down.
// Used by the listener (CLIENT LIST, CLIENT KILL) and the inspector (ACTORS). Under CAF 0.17 a
// request that reaches an actor of another I/O loop just as it terminates may get neither a reply
// nor an error back (CLIENT LIST waited for its 5 s timeout, ACTORS for its 2 s one); the down
// message of a monitor still comes, so a monitored actor's going down settles its part.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include <caf/actor_addr.hpp>

namespace troupe::actors {

struct fanout {
  std::set<caf::actor_addr> waiting;
  std::function<void()> finish;
};

class fanouts {
public:
  // Starts a fan-out over `who`; `finish` runs once each of them is settled (at once if none).
  std::shared_ptr<fanout> open(std::set<caf::actor_addr> who, std::function<void()> finish) {
    auto f = std::make_shared<fanout>();
    f->waiting = std::move(who);
    f->finish = std::move(finish);
    if (f->waiting.empty()) {
      f->finish();
      return f;
    }
    for (auto& a : f->waiting)
      ++interest_[a];
    open_.push_back(f);
    return f;
  }

  // `who` answered, failed or went down. True if no open fan-out waits on it any more (whoever
  // monitored it only for these questions may demonitor it).
  bool settle(const std::shared_ptr<fanout>& f, const caf::actor_addr& who) {
    if (f->waiting.erase(who) == 0)
      return false;
    auto it = interest_.find(who);
    bool last = it != interest_.end() && --it->second == 0;
    if (last)
      interest_.erase(it);
    if (f->waiting.empty()) {
      open_.erase(std::remove(open_.begin(), open_.end(), f), open_.end());
      f->finish();
    }
    return last;
  }

  // `who` went down: every open fan-out stops waiting on it.
  void down(const caf::actor_addr& who) {
    for (auto& f : std::vector<std::shared_ptr<fanout>>(open_))
      settle(f, who);
  }

  // True while an open fan-out waits on `who` (it is monitored already).
  bool waiting_on(const caf::actor_addr& who) const { return interest_.count(who) != 0; }

private:
  std::vector<std::shared_ptr<fanout>> open_;
  std::map<caf::actor_addr, int> interest_;
};

} // namespace troupe::actors
