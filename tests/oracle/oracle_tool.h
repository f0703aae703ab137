// Oracle dump tool: one executable, several subcommands, each writing wisp's intermediate results
// (as .npy or .json) for the Python reference tests in tests/oracle/test_*.py to compare.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "wisp/model.h"

namespace wisp::oracle {

// Parsed "--key value" pairs (flags without a value map to "1").
using Args = std::map<std::string, std::string>;
using Command = int (*)(const Args& args);

// Registers a subcommand; use WISP_ORACLE_COMMAND at namespace scope in a tests/oracle/*.cpp file.
bool register_command(const char* name, Command command);
// The value of a required argument, or throws wisp::Error naming it.
const std::string& require(const Args& args, const std::string& key);

// Model load options from --compute_type (default float32: the oracle checks float numerics).
LoadOptions oracle_load_options(const Args& args);

// "1,2,3" as token ids; throws wisp::Error when empty.
std::vector<int> parse_tokens(const std::string& list);

// Writes a little-endian float32 C-order .npy file.
void write_npy(const std::string& path, const float* data, const std::vector<size_t>& shape);

}  // namespace wisp::oracle

#define WISP_ORACLE_COMMAND(name, fn) \
  static const bool wisp_oracle_registered_##fn = ::wisp::oracle::register_command(name, fn)
