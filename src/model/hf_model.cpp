// Hugging Face Whisper directories as published on the hub (openai/whisper-*, distil-whisper,
// fine-tunes such as Belle-whisper): config.json + safetensors + generation_config.json.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "model/model_parts.h"
#include "model/safetensors.h"
#include "wisp/error.h"

namespace wisp {
namespace fs = std::filesystem;
using nlohmann::json;

static json read_json_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read " + path.string());
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw Error(path.string() + " is not valid JSON (" + e.what() + ")");
  }
}

// "model.encoder.layers.3.self_attn.q_proj.weight" -> "encoder.blocks.3.attn.query.weight".
static std::optional<std::string> hf_to_openai_name(const std::string& hf_name) {
  static const std::pair<const char*, const char*> kRules[] = {
      {"model.encoder.embed_positions.weight", "encoder.positional_embedding"},
      {"model.decoder.embed_positions.weight", "decoder.positional_embedding"},
      {"model.decoder.embed_tokens.", "decoder.token_embedding."},
      {"model.encoder.layer_norm.", "encoder.ln_post."},
      {"model.decoder.layer_norm.", "decoder.ln."},
      {"model.encoder.layers.", "encoder.blocks."},
      {"model.decoder.layers.", "decoder.blocks."},
      {"model.encoder.", "encoder."},
      {".self_attn_layer_norm.", ".attn_ln."},
      {".encoder_attn_layer_norm.", ".cross_attn_ln."},
      {".final_layer_norm.", ".mlp_ln."},
      {".self_attn.", ".attn."},
      {".encoder_attn.", ".cross_attn."},
      {".q_proj.", ".query."},
      {".k_proj.", ".key."},
      {".v_proj.", ".value."},
      {".out_proj.", ".out."},
      {".fc1.", ".mlp.0."},
      {".fc2.", ".mlp.2."},
  };
  // proj_out is tied to the token embedding in every Whisper checkpoint.
  if (hf_name == "proj_out.weight") return std::nullopt;
  std::string name = hf_name;
  for (auto [from, to] : kRules) {
    auto pos = name.find(from);
    if (pos != std::string::npos) name.replace(pos, std::strlen(from), to);
  }
  return name;
}

static int get_int(const json& config, const char* key, const fs::path& path) {
  auto it = config.find(key);
  if (it == config.end() || !it->is_number_integer()) {
    throw Error(path.string() + ": missing integer field '" + key + "'");
  }
  return it->get<int>();
}

static std::vector<std::string> safetensors_files(const fs::path& dir) {
  if (fs::exists(dir / "model.safetensors")) return {(dir / "model.safetensors").string()};
  const fs::path index_path = dir / "model.safetensors.index.json";
  if (fs::exists(index_path)) {
    json index = read_json_file(index_path);
    std::set<std::string> shards;
    try {
      for (auto& [name, file] : index.at("weight_map").items()) shards.insert(file.get<std::string>());
    } catch (const json::exception&) {
      throw Error(index_path.string() + ": missing or malformed 'weight_map'");
    }
    std::vector<std::string> files;
    for (const auto& shard : shards) files.push_back((dir / shard).string());
    return files;
  }
  if (fs::exists(dir / "pytorch_model.bin")) {
    throw Error(dir.string() + " holds only pytorch_model.bin (a pickle); wisp reads safetensors: "
                "download the model's model.safetensors, or convert it");
  }
  throw Error("no model.safetensors or model.safetensors.index.json in " + dir.string());
}

static void read_generation_config(const fs::path& dir, ModelInfo& info) {
  const fs::path path = dir / "generation_config.json";
  if (!fs::exists(path)) return;  // optional: defaults are derived from the tokenizer
  json config = read_json_file(path);
  try {
    if (auto it = config.find("alignment_heads"); it != config.end() && it->is_array()) {
      for (auto& pair : *it) info.alignment_heads.emplace_back(pair.at(0).get<int>(), pair.at(1).get<int>());
    }
    if (auto it = config.find("suppress_tokens"); it != config.end() && it->is_array()) {
      info.suppress_tokens = it->get<std::vector<int>>();
    }
  } catch (const json::exception& e) {
    throw Error(path.string() + ": malformed field (" + e.what() + ")");
  }
}

ModelParts load_hf_parts(const std::string& dir_string) {
  const fs::path dir(dir_string);
  const fs::path config_path = dir / "config.json";
  if (!fs::exists(config_path)) {
    throw Error("not a Whisper model directory: " + dir_string +
                " has no config.json (expected a Hugging Face Whisper model or a ggml .bin file)");
  }
  json config = read_json_file(config_path);
  if (config.value("model_type", "") != "whisper") {
    throw Error(config_path.string() + ": model_type is '" + config.value("model_type", "") +
                "', not 'whisper'");
  }
  ModelParts parts;
  ModelDims& d = parts.info.dims;
  d.n_mels = get_int(config, "num_mel_bins", config_path);
  d.n_vocab = get_int(config, "vocab_size", config_path);
  d.n_audio_ctx = get_int(config, "max_source_positions", config_path);
  d.n_audio_state = get_int(config, "d_model", config_path);
  d.n_audio_head = get_int(config, "encoder_attention_heads", config_path);
  d.n_audio_layer = get_int(config, "encoder_layers", config_path);
  d.n_text_ctx = get_int(config, "max_target_positions", config_path);
  d.n_text_state = d.n_audio_state;
  d.n_text_head = get_int(config, "decoder_attention_heads", config_path);
  d.n_text_layer = get_int(config, "decoder_layers", config_path);
  parts.n_audio_ffn = config.value("encoder_ffn_dim", 4 * d.n_audio_state);
  parts.n_text_ffn = config.value("decoder_ffn_dim", 4 * d.n_text_state);
  const std::string activation = config.value("activation_function", "gelu");
  if (activation != "gelu") {
    throw Error(config_path.string() + ": activation_function '" + activation +
                "' is not supported (Whisper uses 'gelu')");
  }
  parts.info.path = dir_string;
  parts.info.format = "hf";
  read_generation_config(dir, parts.info);

  for (const auto& file : safetensors_files(dir)) read_safetensors(file, hf_to_openai_name, parts.tensors);
  parts.tokenizer = Tokenizer::from_hf_dir(dir_string, d.n_vocab);
  return parts;
}

}  // namespace wisp
