// LZF, the compression Redis applies to RDB strings (rdbcompression yes) and to compressed
// quicklist nodes. Written from the format: a stream of
//   literal run:   000LLLLL, then L+1 bytes (1..32)
//   back reference: LLLooooo [extra length byte if LLL == 7] oooooooo
//                  copies (LLL [+ extra]) + 2 bytes from (o + 1) bytes back (up to 8192).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace troupe::persistence {

// Compresses `in` into at most `max_out` bytes. Returns false (and leaves `out` unspecified) if
// the result would not fit: the caller then stores the string uncompressed.
bool lzf_compress(std::string_view in, size_t max_out, std::string& out);
// Decompresses `in`, which must expand to exactly `expected` bytes. False on malformed input.
bool lzf_decompress(std::string_view in, size_t expected, std::string& out);

} // namespace troupe::persistence
