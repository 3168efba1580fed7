// The server log in Redis's line format: "pid:role dd Mon yyyy hh:mm:ss.mmm <level> message",
// written to `logfile` (opened per line, as Redis does, so rotation works) or to stdout.
#pragma once

#include <mutex>
#include <string>
#include <string_view>

namespace troupe::config {

enum class log_level { debug = 0, verbose = 1, notice = 2, warning = 3 };

// Parses "debug" / "verbose" / "notice" / "warning" (Redis's loglevel values); notice otherwise.
log_level parse_log_level(std::string_view s);

class logger {
public:
  static logger& instance();
  void configure(std::string file, log_level level);
  void set_level(log_level level);
  void set_role(char role);
  // Logs one line if `level` is at or above the configured level.
  void log(log_level level, std::string_view message);
  // Writes text as is (the start-up banner).
  void raw(std::string_view text);
  bool to_stdout() const { return file_.empty(); }

private:
  logger() = default;
  std::mutex mutex_;
  std::string file_;
  log_level level_ = log_level::notice;
  char role_ = 'C';
};

inline void log_notice(std::string_view m) { logger::instance().log(log_level::notice, m); }
inline void log_warning(std::string_view m) { logger::instance().log(log_level::warning, m); }
inline void log_verbose(std::string_view m) { logger::instance().log(log_level::verbose, m); }
inline void log_debug(std::string_view m) { logger::instance().log(log_level::debug, m); }

} // namespace troupe::config
