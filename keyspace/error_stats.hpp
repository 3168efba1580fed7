// INFO errorstats: error replies counted by their code, the first word of the message (ERR,
// WRONGTYPE, MOVED ...), as Redis 7.0 counts them. Every thread that answers errors (the I/O loops'
// connections and slot ranges) counts into the node's one table; errors are the rare path, so a
// mutex guards it. Once 128 distinct codes are known, new ones are not tracked (Redis's bound on
// its table of error codes), while codes already known go on counting.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace troupe::keyspace {

class error_stats {
public:
  static constexpr size_t max_codes = 128;

  // `error`: the message as written after RESP's '-' ("WRONGTYPE Operation ..."), or the whole
  // reply with its '-' and CRLF; its code ends at the first space or CR.
  void count(std::string_view error);
  // Counts `reply` if it is an error reply ("-CODE message\r\n"); true if it was one.
  bool count_if_error(std::string_view reply) {
    if (reply.empty() || reply.front() != '-')
      return false;
    count(reply);
    return true;
  }
  // (code, count) in byte order of the codes, as INFO lists them.
  std::vector<std::pair<std::string, uint64_t>> counts() const;
  void reset();

  static std::string_view code_of(std::string_view error);

private:
  mutable std::mutex mu_;
  std::map<std::string, uint64_t, std::less<>> counts_;
};

} // namespace troupe::keyspace
