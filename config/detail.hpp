// Internals of the config module: the directive table and the text helpers. Not for other folders.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::config::detail {

// How a directive's arguments are parsed, stored (always as its CONFIG GET text) and rewritten.
enum class kind : uint8_t {
  boolean,            // yes/no
  integer,            // strict decimal, [lo, hi]
  memory,             // digits + b/k/kb/m/mb/g/gb, [lo, hi] (hi may be ULLONG_MAX)
  memory_or_percent,  // memory, or N% (stored "N%")
  octal,              // unixsocketperm
  enumeration,        // one word of `choices` ("word" or "word:canonical" for a synonym)
  flags,              // several words of `choices`, first one means "none" (shutdown-on-sig*)
  string,             // anything; optional extra check
  dir,                // an existing directory, stored absolute
  save,               // pairs <seconds> <changes>, accumulate while loading
  bind,               // up to 16 addresses
  client_obuf,        // client-output-buffer-limit <class> <hard> <soft> <seconds> ...
  oom_values,         // three integers in [-2000, 2000]
  percentiles,        // doubles in [0, 100]
  notify,             // notify-keyspace-events class characters
  replicaof,          // <host> <port> | no one
  include,            // include <path>, file only
  file_only,          // rename-command / user / loadmodule: kept, not in CONFIG GET
  sentinel,           // refused outside sentinel mode
  deprecated,         // accepted with one argument and ignored
};

enum flag : unsigned {
  f_immutable = 1u << 0,   // not settable by CONFIG SET
  f_protected = 1u << 1,   // settable only when enable-protected-configs allows it
  f_hidden = 1u << 2,      // not matched by CONFIG GET globs
  f_effective = 1u << 3,   // has an effect in Troupe from the start
  f_clamp_hz = 1u << 4,    // stored clamped to [1, 500] (hz)
  f_always_rewrite = 1u << 5,  // CONFIG REWRITE writes it even at its default
  f_backlog_min = 1u << 6,     // CONFIG SET raises it to 16kb at least (repl-backlog-size)
  f_empty_is_none = 1u << 7,   // an empty string means unset: CONFIG REWRITE drops its lines
  f_start_only = 1u << 8,      // settable by CONFIG SET only to its current value: Troupe reads it at
                               // start (Redis would act on it at once)
};

// Extra validation of a string value: nullptr when fine, else the error reason.
using string_check = const char* (*)(const std::string&);

struct spec {
  std::string_view name;
  std::string_view alias;  // "" when none
  kind type;
  std::string_view def;    // default, in CONFIG GET form
  long long lo;
  unsigned long long hi;
  std::string_view choices;  // enumeration / flags words, space separated
  unsigned flags;
  string_check check;
};

const std::vector<spec>& table();
// Index in table() of a directive by name or alias, case-insensitive.
std::optional<std::size_t> find(std::string_view name);

// ---- text helpers (text.cpp) ----
std::string lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
std::string trim(std::string_view s, std::string_view chars = " \t\r\n");
// Splits a line like redis.conf does (quotes, escapes); nullopt on unbalanced quotes.
std::optional<std::vector<std::string>> split_args(std::string_view line);
// Splits on single spaces keeping empty fields, "" -> {} (CONFIG SET of multi-value directives).
std::vector<std::string> split_spaces(std::string_view s);
// Double-quoted representation with escapes, as redis-server prints arguments.
std::string repr(std::string_view s);
// Redis glob matching (* ? [...] [^...] \x), optionally case-insensitive.
bool glob_match(std::string_view pattern, std::string_view str, bool nocase);

// Strict integer (no sign '+', no leading zeros, no spaces); nullopt when not one.
std::optional<long long> parse_ll(std::string_view s);
// Memory value with unit; nullopt when not one. Saturates on overflow.
std::optional<unsigned long long> parse_memory(std::string_view s);
// strtoll/strtol-like: leading spaces and sign accepted, whole string must be consumed.
std::optional<long long> parse_c_integer(std::string_view s, int base);
// Memory value written the way CONFIG REWRITE does (1gb, 2mb, 3kb, or bytes).
std::string memory_to_text(unsigned long long v);
// "%f" with trailing zeros (and dot) removed.
std::string double_to_text(double v);

}  // namespace troupe::config::detail
