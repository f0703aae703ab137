// `wisp`: command-line front end of libwisp.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/option_values.h"
#include "wisp/error.h"

namespace {

// openai-whisper spells options with underscores (--output_format); accept both spellings by
// rewriting the name part of long options to dashes.
std::vector<std::string> normalise_option_names(int argc, char** argv) {
  std::vector<std::string> args;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") options_done = true;
    if (!options_done && arg.rfind("--", 0) == 0) {
      const size_t end = std::min(arg.find('='), arg.size());
      for (size_t j = 2; j < end; ++j) {
        if (arg[j] == '_') arg[j] = '-';
      }
    }
    args.push_back(arg);
  }
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"wisp: fast, faithful Whisper speech recognition (openai-whisper's algorithm in C++)", "wisp"};
  app.set_version_flag("--version", std::string("wisp ") + WISP_VERSION);
  app.require_subcommand(1);
  app.footer("Run 'wisp COMMAND --help' for a command's options.");
  auto run_transcribe = wisp::cli::add_transcribe_command(app);
  auto run_bench = wisp::cli::add_bench_command(app);
  auto run_convert = wisp::cli::add_convert_command(app);

  std::vector<std::string> args = normalise_option_names(argc, argv);
  wisp::cli::complete_bool_flags(args, wisp::cli::transcribe_bool_options());
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments in reverse order
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "error: %s (see 'wisp --help')\n", e.what());
    return 2;
  }
  try {
    if (app.got_subcommand("transcribe")) return run_transcribe();
    if (app.got_subcommand("bench")) return run_bench();
    if (app.got_subcommand("convert")) return run_convert();
  } catch (const wisp::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: unexpected failure: %s\n", e.what());
    return 1;
  }
  return 0;
}
