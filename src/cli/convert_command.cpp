// `wisp convert SRC DST --type T`: rewrite any model wisp loads as a whisper.cpp ggml file.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "model/ggml_writer.h"
#include "wisp/error.h"
#include "wisp/model.h"

namespace wisp::cli {

namespace {

struct ConvertArgs {
  std::string source;
  std::string destination;
  std::string type = "f16";
};

int run(const ConvertArgs& args) {
  const std::optional<GgmlType> type = ggml_type_from_name(args.type);
  if (!type || *type == GgmlType::BF16) {
    throw Error("--type " + args.type + " is not supported; use f32, f16, q8_0, q5_0, q5_1, q4_0 or q4_1");
  }
  const std::shared_ptr<const Model> model = Model::load(args.source);
  write_ggml_model(*model, args.destination, *type);
  std::fprintf(stderr, "wrote %s (%s, from %s)\n", args.destination.c_str(), args.type.c_str(), args.source.c_str());
  return 0;
}

}  // namespace

std::function<int()> add_convert_command(CLI::App& app) {
  auto args = std::make_shared<ConvertArgs>();
  CLI::App* cmd = app.add_subcommand(
      "convert", "Write a model as a whisper.cpp ggml file (f32, f16 or quantized), loadable by both engines");
  cmd->add_option("source", args->source, "Hugging Face Whisper directory or ggml .bin file to read")->required();
  cmd->add_option("destination", args->destination, "ggml .bin file to write")->required();
  cmd->add_option("--type", args->type, "Weight type: f32, f16, q8_0, q5_0, q5_1, q4_0, q4_1")
      ->check(CLI::IsMember({"f32", "f16", "q8_0", "q5_0", "q5_1", "q4_0", "q4_1"}));
  return [args] { return run(*args); };
}

}  // namespace wisp::cli
