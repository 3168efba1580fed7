// Number parsing and formatting with Redis's exact rules (what counts as an integer or a float,
// and how floats are printed), shared by the protocol, the commands and the config.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace troupe::protocol {

// Redis's string2ll: optional '-', no '+', no spaces, no leading zeros, no overflow.
bool parse_int64(std::string_view s, int64_t& out);
// Unsigned variant (no sign at all).
bool parse_uint64(std::string_view s, uint64_t& out);
// Redis's getDoubleFromObject rules: strtod over the whole string, no leading space, no NaN.
// Accepts "inf", "-inf", "+inf". Overflow (ERANGE to HUGE_VAL) fails.
bool parse_double(std::string_view s, double& out);
// Redis's getLongDoubleFromObject / string2ld rules.
bool parse_long_double(std::string_view s, long double& out);
// INCRBYFLOAT's human-friendly long double formatting: "%.17Lf" without trailing zeros.
std::string format_long_double(long double v);
// True if `s` is exactly the canonical decimal form of an int64 (what Redis stores as "int").
bool is_canonical_int(std::string_view s, int64_t* value = nullptr);

} // namespace troupe::protocol
