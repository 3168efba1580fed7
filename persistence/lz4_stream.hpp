// LZ4 frame streams: the container of Troupe's AOF and RDB files (see ARCHITECTURE.md).
// This first piece compresses and decompresses whole buffers as LZ4 frames, so that `lz4 -d`
// reads what Troupe writes; the AOF and RDB writers build on it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace troupe::persistence {

// One complete LZ4 frame holding `data`.
std::string lz4_frame_compress(std::string_view data);
// The contents of one or more concatenated LZ4 frames; nullopt if the input is not valid LZ4.
std::optional<std::string> lz4_frame_decompress(std::string_view frames);

} // namespace troupe::persistence
