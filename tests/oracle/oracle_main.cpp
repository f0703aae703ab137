#include <cstdio>
#include <exception>
#include <fstream>
#include <sstream>

#include "oracle_tool.h"
#include "wisp/error.h"

namespace wisp::oracle {

static std::map<std::string, Command>& registry() {
  static std::map<std::string, Command> commands;
  return commands;
}

bool register_command(const char* name, Command command) {
  registry()[name] = command;
  return true;
}

const std::string& require(const Args& args, const std::string& key) {
  auto it = args.find(key);
  if (it == args.end()) throw Error("missing required argument --" + key);
  return it->second;
}

LoadOptions oracle_load_options(const Args& args) {
  auto it = args.find("compute_type");
  return LoadOptions{it == args.end() ? ComputeType::Float32 : compute_type_from_name(it->second)};
}

std::vector<int> parse_tokens(const std::string& list) {
  std::vector<int> tokens;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) tokens.push_back(std::stoi(item));
  if (tokens.empty()) throw Error("--tokens is empty");
  return tokens;
}

void write_npy(const std::string& path, const float* data, const std::vector<size_t>& shape) {
  std::ostringstream header_text;
  header_text << "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  size_t count = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    header_text << (i ? ", " : "") << shape[i];
    count *= shape[i];
  }
  header_text << (shape.size() == 1 ? ",), }" : "), }");
  std::string header = header_text.str();
  // Magic (6) + version (2) + header length (2) + header + '\n' padded to a multiple of 64.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::ofstream out(path, std::ios::binary);
  if (!out) throw Error("cannot write " + path);
  out.write("\x93NUMPY\x01\x00", 8);
  const uint16_t header_len = static_cast<uint16_t>(header.size());
  out.write(reinterpret_cast<const char*>(&header_len), 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(count * sizeof(float)));
}

}  // namespace wisp::oracle

int main(int argc, char** argv) {
  using namespace wisp::oracle;
  if (argc < 2 || !registry().count(argv[1])) {
    std::fprintf(stderr, "usage: wisp_oracle_dump COMMAND [--key value]...\ncommands:");
    for (auto& [name, _] : registry()) std::fprintf(stderr, " %s", name.c_str());
    std::fprintf(stderr, "\n");
    return 2;
  }
  Args args;
  for (int i = 2; i < argc; ++i) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0) {
      std::fprintf(stderr, "error: unexpected argument '%s'\n", argv[i]);
      return 2;
    }
    key = key.substr(2);
    if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
      args[key] = argv[++i];
    } else {
      args[key] = "1";
    }
  }
  try {
    return registry()[argv[1]](args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
