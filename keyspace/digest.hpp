// SHA-1 and the dataset digest DEBUG DIGEST / DIGEST-VALUE compute, with Redis's mixing scheme so
// that digests compare across Troupe and redis-server.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace troupe::keyspace {

using digest20 = std::array<unsigned char, 20>;

digest20 sha1(const void* data, size_t len);
// digest ^= sha1(data)
void xor_digest(digest20& digest, const void* data, size_t len);
// digest = sha1(digest ^ sha1(data))
void mix_digest(digest20& digest, const void* data, size_t len);
inline void mix_digest(digest20& d, std::string_view s) { mix_digest(d, s.data(), s.size()); }
std::string to_hex(const digest20& d);

struct entry;
// Mixes one value (type, contents, whether it has an expiry) into `digest`, as Redis does.
void value_digest(digest20& digest, const entry* e);

} // namespace troupe::keyspace
