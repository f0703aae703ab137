// The CTest fixture's random-weight decode model (tests/CMakeLists.txt: make_decode_test_model),
// which ctest passes to the model unit tests as WISP_DECODE_TEST_MODEL, and its conversions.
#pragma once

#include <cstdlib>
#include <string>

namespace wisp::test {

// A file the fixture writes next to the model (e.g. "ggml-model-q8_0.bin"), or "" without it.
inline std::string decode_fixture_file(const std::string& name) {
  const char* path = std::getenv("WISP_DECODE_TEST_MODEL");
  if (path == nullptr) return "";
  const std::string model = path;
  return model.substr(0, model.find_last_of('/') + 1) + name;
}

}  // namespace wisp::test
