#include "persistence/lz4_stream.hpp"

#include <lz4frame.h>

namespace troupe::persistence {

std::string lz4_frame_compress(std::string_view data) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
  std::string out(LZ4F_compressFrameBound(data.size(), &prefs), '\0');
  size_t n = LZ4F_compressFrame(out.data(), out.size(), data.data(), data.size(), &prefs);
  if (LZ4F_isError(n))
    return {};
  out.resize(n);
  return out;
}

std::optional<std::string> lz4_frame_decompress(std::string_view frames) {
  LZ4F_dctx* dctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
    return std::nullopt;
  std::string out;
  char buf[64 * 1024];
  const char* src = frames.data();
  size_t left = frames.size();
  bool ok = true;
  size_t hint = 1;
  while (left > 0) {
    size_t dst_size = sizeof(buf), src_size = left;
    hint = LZ4F_decompress(dctx, buf, &dst_size, src, &src_size, nullptr);
    if (LZ4F_isError(hint)) {
      ok = false;
      break;
    }
    out.append(buf, dst_size);
    src += src_size;
    left -= src_size;
    if (src_size == 0 && dst_size == 0)
      break;
  }
  LZ4F_freeDecompressionContext(dctx);
  if (!ok || hint != 0)
    return std::nullopt;
  return out;
}

} // namespace troupe::persistence
