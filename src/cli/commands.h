// Subcommands of the `wisp` CLI; each registers its options on the app and runs when chosen.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace wisp::cli {

// Adds the subcommand to `app`; the returned function runs it (after parsing) and gives the
// process exit code.
std::function<int()> add_transcribe_command(CLI::App& app);
// Boolean transcribe options that may be given bare (--word-timestamps) or with True/False.
const std::vector<std::string>& transcribe_bool_options();
std::function<int()> add_bench_command(CLI::App& app);
std::function<int()> add_convert_command(CLI::App& app);

// The --compute-type option of transcribe and bench, storing the chosen name in `value`.
CLI::Option* add_compute_type_option(CLI::App& cmd, std::string& value);

}  // namespace wisp::cli
