#include "evaluators/learning/text_corpus.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

#include "evaluators/learning/splitmix.h"

namespace ergon::evaluators::learning {
namespace {
namespace fs = std::filesystem;

bool Kept(unsigned char c) { return c == '\t' || c == '\n' || (c >= 0x20 && c < 0x7f); }

// Appends the documents of one fortune file.
void AddDocuments(const std::string& text, std::vector<std::string>& out) {
  std::string doc, line;
  auto flush = [&] {
    const auto first = doc.find_first_not_of('\n');
    if (first != std::string::npos) {
      doc.erase(0, first);
      doc.erase(doc.find_last_not_of('\n') + 1);
      out.push_back(doc + "\n");
    }
    doc.clear();
  };
  std::istringstream in(text);
  while (std::getline(in, line)) {
    if (line == "%") flush();
    else doc += line + "\n";
  }
  flush();
}

}  // namespace

tl::expected<TextCorpus, std::string> LoadFortunes(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || e.is_symlink() || name.find('.') != std::string::npos) continue;
    if (name == "ascii-art" || name == "translate-me") continue;
    files.push_back(e.path().string());
  }
  if (ec || files.empty())
    return tl::unexpected(fmt::format(
        "the char_lm corpus is missing: no fortune files in {} (install Debian's `fortunes` package: "
        "sudo apt-get install -y fortunes, or run `make deps`)",
        dir));
  std::sort(files.begin(), files.end());
  TextCorpus c;
  c.dir = dir;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string text;
    text.reserve(raw.size());
    for (char ch : raw)
      if (Kept(static_cast<unsigned char>(ch))) text += ch;
    AddDocuments(text, c.documents);
  }
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64 over the documents
  for (const auto& d : c.documents) {
    c.bytes += d.size();
    for (unsigned char ch : d) h = (h ^ ch) * 0x100000001b3ull;
    h = (h ^ 0xff) * 0x100000001b3ull;  // a document boundary
  }
  c.digest = fmt::format("{:016x}", h);
  return c;
}

TextSplit SplitCorpus(const TextCorpus& corpus, std::uint64_t key, std::size_t train_bytes,
                      std::size_t validation_chars) {
  std::vector<std::size_t> order(corpus.documents.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::uint64_t s = key;
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[SplitMix(s) % i]);
  TextSplit out;
  std::size_t next = 0;
  while (next < order.size() && out.validation.size() < validation_chars) {
    if (!out.validation.empty()) out.validation += '\n';
    out.validation += corpus.documents[order[next++]];
  }
  out.validation.resize(std::min(out.validation.size(), validation_chars));
  for (; next < order.size(); ++next) {
    const std::string& d = corpus.documents[order[next]];
    const std::size_t add = d.size() + (out.train.empty() ? 0 : 1);
    if (out.train.size() + add > train_bytes) break;
    if (!out.train.empty()) out.train += '\n';
    out.train += d;
  }
  return out;
}

}  // namespace ergon::evaluators::learning
