#include "keyspace/error_stats.hpp"

namespace troupe::keyspace {

std::string_view error_stats::code_of(std::string_view error) {
  if (!error.empty() && error.front() == '-')
    error.remove_prefix(1);
  size_t end = error.find_first_of(" \r\n");
  return end == std::string_view::npos ? error : error.substr(0, end);
}

void error_stats::count(std::string_view error) {
  std::string_view code = code_of(error);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counts_.find(code);
  if (it != counts_.end())
    ++it->second;
  else if (counts_.size() < max_codes)
    counts_.emplace(std::string(code), 1);
}

std::vector<std::pair<std::string, uint64_t>> error_stats::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {counts_.begin(), counts_.end()};
}

void error_stats::reset() {
  std::lock_guard<std::mutex> lock(mu_);
  counts_.clear();
}

} // namespace troupe::keyspace
