#include "transcribe/compression.h"

#include <zlib.h>

#include <vector>

#include "wisp/error.h"

namespace wisp {

double compression_ratio(std::string_view text) {
  if (text.empty()) return 0.0;
  uLongf compressed_size = compressBound(static_cast<uLong>(text.size()));
  std::vector<Bytef> compressed(compressed_size);
  if (compress2(compressed.data(), &compressed_size, reinterpret_cast<const Bytef*>(text.data()),
                static_cast<uLong>(text.size()), Z_DEFAULT_COMPRESSION) != Z_OK) {
    throw Error("zlib compression failed");
  }
  return static_cast<double>(text.size()) / static_cast<double>(compressed_size);
}

}  // namespace wisp
