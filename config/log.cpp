#include "config/log.hpp"

#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

namespace troupe::config {

log_level parse_log_level(std::string_view s) {
  if (s == "debug")
    return log_level::debug;
  if (s == "verbose")
    return log_level::verbose;
  if (s == "warning")
    return log_level::warning;
  return log_level::notice;
}

logger& logger::instance() {
  static logger l;
  return l;
}

void logger::configure(std::string file, log_level level) {
  std::lock_guard<std::mutex> guard(mutex_);
  file_ = std::move(file);
  level_ = level;
}

void logger::set_level(log_level level) {
  std::lock_guard<std::mutex> guard(mutex_);
  level_ = level;
}

void logger::set_role(char role) {
  std::lock_guard<std::mutex> guard(mutex_);
  role_ = role;
}

void logger::log(log_level level, std::string_view message) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (level < level_)
    return;
  static const char marks[] = {'.', '-', '*', '#'};
  timeval tv;
  gettimeofday(&tv, nullptr);
  tm tm_buf;
  localtime_r(&tv.tv_sec, &tm_buf);
  char when[64];
  size_t n = strftime(when, sizeof(when), "%d %b %Y %H:%M:%S.", &tm_buf);
  std::snprintf(when + n, sizeof(when) - n, "%03d", static_cast<int>(tv.tv_usec / 1000));
  FILE* fp = file_.empty() ? stdout : std::fopen(file_.c_str(), "a");
  if (fp == nullptr)
    return;
  std::fprintf(fp, "%d:%c %s %c %.*s\n", static_cast<int>(getpid()), role_, when, marks[static_cast<int>(level)],
               static_cast<int>(message.size()), message.data());
  std::fflush(fp);
  if (fp != stdout)
    std::fclose(fp);
}

void logger::raw(std::string_view text) {
  std::lock_guard<std::mutex> guard(mutex_);
  FILE* fp = file_.empty() ? stdout : std::fopen(file_.c_str(), "a");
  if (fp == nullptr)
    return;
  std::fwrite(text.data(), 1, text.size(), fp);
  std::fflush(fp);
  if (fp != stdout)
    std::fclose(fp);
}

} // namespace troupe::config
