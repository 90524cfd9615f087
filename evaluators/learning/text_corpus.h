// The char_lm corpus: documents of real English text, and their split into a
// train part and a validation part by a key.
//
// The text is the English fortunes collection of Debian's `fortunes` package
// (about 15,000 quotations, jokes and short prose pieces, 2.5 MB): packaged,
// so every machine gets the same bytes with `make deps`, and made of many
// short documents, so a key can draw a new split that shares no document
// with the dev split's validation part.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <tl/expected.hpp>

namespace ergon::evaluators::learning {

inline constexpr const char* kFortunesDir = "/usr/share/games/fortunes";

struct TextCorpus {
  std::string dir;
  std::vector<std::string> documents;  // each ends in one '\n'
  std::size_t bytes = 0;
  std::string digest;  // of every document, in order: changes when the package does
};

// Reads every fortune file in `dir` (files cut by lines of a lone '%'), but
// the two that are not English prose (ascii-art, translate-me). Bytes other
// than printable ASCII, tab and newline are dropped (overstrikes, a few
// Latin-1 letters), so predictions are over one small alphabet.
tl::expected<TextCorpus, std::string> LoadFortunes(const std::string& dir);

struct TextSplit {
  std::string train;       // whole documents, about train_bytes
  std::string validation;  // exactly validation_chars (its last document cut)
};

// Shuffles the documents by `key` (splitmix64, Fisher-Yates: the same on
// every machine), takes validation documents until validation_chars, then
// train documents while they fit in train_bytes. Documents are separated by
// an empty line in both parts.
TextSplit SplitCorpus(const TextCorpus& corpus, std::uint64_t key, std::size_t train_bytes,
                      std::size_t validation_chars);

}  // namespace ergon::evaluators::learning
