#include "persistence/dump_payload.hpp"

#include "persistence/crc64.hpp"
#include "persistence/rdb_codec.hpp"

namespace troupe::persistence {

std::string dump_payload(const keyspace::entry* e, bool compression) {
  std::string out;
  out.push_back(static_cast<char>(rdb_value_type(e)));
  rdb_save_options opts;
  opts.compression = compression;
  rdb_write_value(out, e, opts);
  out.push_back(static_cast<char>(rdb::version & 0xff));
  out.push_back(static_cast<char>((rdb::version >> 8) & 0xff));
  uint64_t crc = crc64(0, out.data(), out.size());
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  return out;
}

bool verify_dump_payload(std::string_view p, int* version, bool skip_checksum) {
  if (p.size() < 10)
    return false;
  auto footer = reinterpret_cast<const unsigned char*>(p.data() + p.size() - 10);
  int v = footer[0] | (footer[1] << 8);
  if (version)
    *version = v;
  if (v > rdb::version)
    return false;
  if (skip_checksum)
    return true;
  uint64_t crc = crc64(0, p.data(), p.size() - 8);
  uint64_t stored = 0;
  for (int i = 7; i >= 0; --i)
    stored = (stored << 8) | footer[2 + i];
  return crc == stored;
}

restore_result restore_payload(std::string_view payload, std::string_view key, int64_t expire_ms,
                               const keyspace::keyspace_settings& settings, bool skip_checksum) {
  restore_result r;
  if (!verify_dump_payload(payload, nullptr, skip_checksum)) {
    r.error = restore_bad_payload_error;
    return r;
  }
  // The value lies between the type byte and the 10-byte footer (Redis does not insist that it
  // fills that space exactly, nor does this).
  rdb_input in(payload.data(), payload.size() - 10, 0, payload.size() - 10);
  rdb_read_options opts;
  opts.settings = settings;
  rdb_value v;
  try {
    int type = in.byte();
    if (!rdb::is_object_type(type))
      throw rdb_format_error(0, "bad type");
    rdb_read_value(in, type, opts, v);
  } catch (const rdb_format_error&) {
    r.error = restore_bad_format_error;
    return r;
  } catch (const rdb_short_input&) {
    r.error = restore_bad_format_error;
    return r;
  }
  if (v.skipped) {
    r.error = restore_bad_format_error;
    return r;
  }
  r.entry = rdb_make_entry(key, std::move(v), expire_ms);
  return r;
}

} // namespace troupe::persistence
