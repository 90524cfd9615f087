// How alike two sources are, as a model's proposal is judged for novelty.
//
// Normalised tokens: comments and whitespace dropped; identifiers, keywords,
// numbers, string and character literals and punctuation kept as tokens
// (a number's text as written, so a changed constant is a changed token).
// Similarity: 2 * LCS(a, b) / (|a| + |b|) over the token sequences, in [0, 1];
// 1 means the sources differ only in comments, spacing and layout.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ergon::genome {

// Each token as a 64-bit hash (equal tokens, equal hashes).
std::vector<std::uint64_t> NormalisedTokens(const std::string& source);

double TokenSimilarity(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b);

}  // namespace ergon::genome
