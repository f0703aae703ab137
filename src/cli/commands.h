// Subcommands of the `wisp` CLI; each registers its options on the app and runs when chosen.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace wisp::cli {

// Adds the subcommand to `app`; the returned function runs it (after parsing) and gives the
// process exit code.
std::function<int()> add_transcribe_command(CLI::App& app);

}  // namespace wisp::cli
