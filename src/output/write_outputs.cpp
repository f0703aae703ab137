// write_outputs(): OUTPUT_DIR/STEM.EXT for one format or all, as openai-whisper's get_writer.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "wisp/error.h"
#include "wisp/output.h"

namespace wisp {
namespace {

// os.path.splitext(os.path.basename(path))[0]; "-" (standard input) is named "stdin".
std::string audio_stem(const std::string& audio_path) {
  if (audio_path == "-") return "stdin";
  const size_t slash = audio_path.rfind('/');
  const std::string name = slash == std::string::npos ? audio_path : audio_path.substr(slash + 1);
  const size_t dot = name.rfind('.');
  // Leading dots do not start an extension (".bashrc" has none).
  if (dot == std::string::npos || name.find_first_not_of('.') >= dot) return name;
  return name.substr(0, dot);
}

// os.path.join(output_dir, name).
std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty() || dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) {
    throw Error("cannot write " + path + ": " + std::strerror(errno) + "; choose a writable --output_dir");
  }
  file.write(content.data(), static_cast<std::streamsize>(content.size()));
  file.close();
  if (!file) throw Error("cannot write " + path + " (disk full?); choose another --output_dir");
}

}  // namespace

std::vector<std::string> write_outputs(const TranscribeResult& result, const std::string& audio_path,
                                       const std::string& output_dir, std::string_view format,
                                       const WriterOptions& options) {
  std::vector<std::string> formats;
  if (format == "all") {
    formats = output_formats();
  } else {
    for (const std::string& known : output_formats()) {
      if (format == known) formats.push_back(known);
    }
    if (formats.empty()) {
      throw Error("unknown output format '" + std::string(format) + "'; choose one of: txt, vtt, srt, tsv, json, all");
    }
  }
  // Render everything first: an invalid result (negative time) leaves no partial files.
  std::vector<std::string> contents;
  for (const std::string& f : formats) contents.push_back(format_result(result, f, options));

  if (!output_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(output_dir, error);  // like os.makedirs(exist_ok=True)
    if (error || !std::filesystem::is_directory(output_dir)) {
      throw Error("cannot create the output directory " + output_dir + ": " +
                  (error ? error.message() : std::string("a file of that name exists")) +
                  "; choose a writable --output_dir");
    }
  }
  const std::string stem = audio_stem(audio_path);
  std::vector<std::string> written;
  for (size_t i = 0; i < formats.size(); ++i) {
    const std::string path = join_path(output_dir, stem + "." + formats[i]);
    write_file(path, contents[i]);
    written.push_back(path);
  }
  return written;
}

}  // namespace wisp
