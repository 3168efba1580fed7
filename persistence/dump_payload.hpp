// DUMP / RESTORE payloads as Redis 7.0 makes and checks them: the value's RDB type byte and
// serialization, then the RDB version as 2 bytes little-endian (10), then the CRC64 (Redis's
// variant) of everything before it, 8 bytes little-endian.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "keyspace/context.hpp"
#include "keyspace/entry.hpp"

namespace troupe::persistence {

// The DUMP payload of `e`'s value (LZF-compressed strings when `compression`, as rdbcompression).
std::string dump_payload(const keyspace::entry* e, bool compression = true);

// Redis's verifyDumpPayload: at least 10 bytes, a version no newer than 10, a matching CRC64
// (unless `skip_checksum`, Redis's skip-checksum-validation). Sets *version when given.
bool verify_dump_payload(std::string_view payload, int* version = nullptr, bool skip_checksum = false);

struct restore_result {
  keyspace::entry* entry = nullptr;   // owned by the caller on success
  std::string error;                  // the client's error reply (without the leading '-')
  bool ok() const { return entry != nullptr; }
};

// The errors RESTORE replies with.
inline constexpr std::string_view restore_bad_payload_error = "ERR DUMP payload version or checksum are wrong";
inline constexpr std::string_view restore_bad_format_error = "ERR Bad data format";

// Builds the entry RESTORE would store under `key` (expire_ms < 0: none) from `payload`.
// Encoding thresholds come from `settings`. Empty collections, streams and module values are
// "Bad data format" (Troupe holds no streams or modules).
restore_result restore_payload(std::string_view payload, std::string_view key, int64_t expire_ms,
                               const keyspace::keyspace_settings& settings, bool skip_checksum = false);

} // namespace troupe::persistence
