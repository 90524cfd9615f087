#include "evaluators/dally/mask32.h"

#include <algorithm>
#include <fstream>
#include <vector>
#include <random>

#include <fmt/core.h>

#include "evaluators/dally/python_random.h"
#include "genome/genome.h"  // Sha256Hex

namespace ergon::evaluators::dally {
namespace {

constexpr const char* kSuiteVersion = "mask-sparse-parity-v1";

tl::expected<std::vector<std::int8_t>, std::string> ReadDigits(const std::string& path, std::size_t width,
                                                               std::size_t& rows) {
  std::ifstream in(path);
  if (!in) return tl::unexpected(fmt::format("cannot read {}", path));
  std::vector<std::int8_t> out;
  std::string line;
  rows = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line.size() != width)
      return tl::unexpected(fmt::format("{}:{}: expected {} digits, got {}", path, rows + 1, width, line.size()));
    for (char c : line) {
      if (c != '0' && c != '1') return tl::unexpected(fmt::format("{}:{}: not a 0/1 digit", path, rows + 1));
      out.push_back(static_cast<std::int8_t>(c - '0'));
    }
    ++rows;
  }
  return out;
}

// random.Random(int.from_bytes(sha256("|".join(parts)), "big")).
PythonRandom DigestRng(const std::string& text) {
  std::string hex = genome::Sha256Hex(text);
  std::vector<std::uint32_t> words(8);
  for (int w = 0; w < 8; ++w)  // least significant word first = last 8 hex digits first
    words[static_cast<std::size_t>(w)] =
        static_cast<std::uint32_t>(std::stoul(hex.substr(static_cast<std::size_t>(56 - 8 * w), 8), nullptr, 16));
  while (words.size() > 1 && words.back() == 0) words.pop_back();
  return PythonRandom(words);
}

}  // namespace

// Number of 5-subsets of the 32 column signatures whose XOR equals y; stops
// past 1 (only "exactly one" matters). Meet in the middle: each 5-subset
// splits into a pair and a disjoint triple in exactly C(5,2) = 10 ways, so
// with every pair XOR in a table, each of the 4,960 triples looks up the pair
// that completes it, and the matches are 10 per solution (instead of
// enumerating 201,376 subsets). The table is indexed directly by the low 18
// bits (a MASK32 signature is 18 bits) and stamped per call, so it is never
// cleared: one memory access a lookup.
int CountMaskSolutions(const std::uint32_t* col, std::uint32_t y) {
  constexpr std::uint32_t kBits = 18, kMask = (1u << kBits) - 1;
  struct Table {
    std::vector<std::uint32_t> stamp = std::vector<std::uint32_t>(1u << kBits, 0);
    std::vector<std::int16_t> head = std::vector<std::int16_t>(1u << kBits, -1);
    std::uint32_t now = 0;
  };
  thread_local Table t;
  if (++t.now == 0) {  // the stamp wrapped: forget everything once
    std::fill(t.stamp.begin(), t.stamp.end(), 0);
    t.now = 1;
  }
  struct Pair {
    std::uint32_t value;
    std::int8_t a, b;
    std::int16_t next;
  };
  Pair pairs[32 * 31 / 2];
  std::int16_t n = 0;
  for (int a = 0; a < 32; ++a)
    for (int b = a + 1; b < 32; ++b, ++n) {
      const std::uint32_t v = col[a] ^ col[b];
      const std::uint32_t i = v & kMask;
      if (t.stamp[i] != t.now) {
        t.stamp[i] = t.now;
        t.head[i] = -1;
      }
      pairs[n] = {v, static_cast<std::int8_t>(a), static_cast<std::int8_t>(b), t.head[i]};
      t.head[i] = n;
    }
  int matches = 0;
  for (int c = 0; c < 32; ++c)
    for (int d = c + 1; d < 32; ++d) {
      const std::uint32_t cd = col[c] ^ col[d] ^ y;
      for (int e = d + 1; e < 32; ++e) {
        const std::uint32_t want = cd ^ col[e];
        const std::uint32_t i = want & kMask;
        if (t.stamp[i] != t.now) continue;
        for (std::int16_t k = t.head[i]; k >= 0; k = pairs[k].next) {
          const Pair& p = pairs[k];
          if (p.value != want || p.a == c || p.a == d || p.a == e || p.b == c || p.b == d || p.b == e) continue;
          if (++matches > 10) return 2;
        }
      }
    }
  return matches / 10;
}


tl::expected<MaskSuite, std::string> LoadMaskSuite(const std::string& inputs_path, const std::string& masks_path) {
  MaskSuite s;
  s.name = inputs_path;
  std::size_t n_in = 0, n_mask = 0;
  auto in = ReadDigits(inputs_path, kMaskInputs, n_in);
  if (!in) return tl::unexpected(in.error());
  auto masks = ReadDigits(masks_path, kMaskBits, n_mask);
  if (!masks) return tl::unexpected(masks.error());
  if (n_in != n_mask)
    return tl::unexpected(fmt::format("{} has {} instances but {} has {}", inputs_path, n_in, masks_path, n_mask));
  s.instances = n_in;
  s.inputs = std::move(*in);
  s.masks = std::move(*masks);
  return s;
}

tl::expected<MaskSuite, std::string> GenerateMaskSuite(const std::string& key, int n_secrets, int reps) {
  if (n_secrets < 1 || reps < 1) return tl::unexpected(std::string("suite needs at least one secret and one rep"));
  if (n_secrets > 201376) return tl::unexpected(fmt::format("cannot sample {} distinct secrets", n_secrets));
  MaskSuite s;
  s.name = key;
  PythonRandom sr = DigestRng(fmt::format("{}|{}|secrets|{}", kSuiteVersion, key, n_secrets));
  std::vector<std::vector<int>> secrets;
  std::vector<std::uint32_t> seen;
  while (static_cast<int>(secrets.size()) < n_secrets) {
    auto sec = sr.SampleRange(kMaskBits, kMaskSecret);
    std::sort(sec.begin(), sec.end());
    std::uint32_t bits = 0;
    for (int c : sec) bits |= 1u << c;
    if (std::find(seen.begin(), seen.end(), bits) != seen.end()) continue;
    seen.push_back(bits);
    secrets.push_back(sec);
  }
  s.instances = static_cast<std::size_t>(n_secrets) * static_cast<std::size_t>(reps);
  s.inputs.reserve(s.instances * kMaskInputs);
  s.masks.reserve(s.instances * kMaskBits);
  for (const auto& sec : secrets) {
    std::string tuple = fmt::format("({}, {}, {}, {}, {})", sec[0], sec[1], sec[2], sec[3], sec[4]);
    for (int rep = 0; rep < reps; ++rep) {
      PythonRandom tr = DigestRng(fmt::format("{}|{}|train|{}|{}", kSuiteVersion, key, tuple, rep));
      std::int8_t x[kMaskRows][kMaskBits];
      std::uint32_t col[kMaskBits], ysig;
      for (;;) {
        for (auto& c : col) c = 0;
        ysig = 0;
        for (int r = 0; r < kMaskRows; ++r) {
          int y = 0;
          for (int c = 0; c < kMaskBits; ++c) {
            x[r][c] = static_cast<std::int8_t>(tr.GetRandBits(1));
            if (x[r][c]) col[c] |= 1u << r;
          }
          for (int c : sec) y ^= x[r][c];
          if (y) ysig |= 1u << r;
        }
        if (CountMaskSolutions(col, ysig) == 1) break;
      }
      for (int r = 0; r < kMaskRows; ++r)
        for (int c = 0; c < kMaskBits; ++c) s.inputs.push_back(x[r][c]);
      for (int r = 0; r < kMaskRows; ++r) s.inputs.push_back(static_cast<std::int8_t>((ysig >> r) & 1));
      for (int c = 0; c < kMaskBits; ++c)
        s.masks.push_back(static_cast<std::int8_t>(std::find(sec.begin(), sec.end(), c) != sec.end()));
    }
  }
  return s;
}

tl::expected<MaskSuite, std::string> FreshMaskSuite(int n_secrets, int reps) {
  std::random_device rd;
  std::string key = "fresh-";
  for (int i = 0; i < 4; ++i) key += fmt::format("{:08x}", rd());
  auto s = GenerateMaskSuite(key, n_secrets, reps);
  if (s) s->name = fmt::format("fresh ({} x {})", n_secrets, reps);  // the key stays secret
  return s;
}

tl::expected<MaskScore, IrError> ScoreMask32(const IrProgram& program, const MaskSuite& suite) {
  if (program.input_slots.size() != static_cast<std::size_t>(kMaskInputs))
    return tl::unexpected(IrError{IrError::Kind::kArity, 0,
                                  fmt::format("IR declares {} inputs; {} required", program.input_slots.size(), kMaskInputs)});
  if (program.output_slots.size() != static_cast<std::size_t>(kMaskBits))
    return tl::unexpected(IrError{IrError::Kind::kArity, 0,
                                  fmt::format("IR produces {} outputs; {} required", program.output_slots.size(), kMaskBits)});
  auto out = SimulateBatch(program, suite.inputs, suite.instances);
  if (!out) return tl::unexpected(out.error());
  MaskScore sc;
  sc.cost = program.cost;
  sc.lines = program.lines;
  sc.instances = suite.instances;
  for (std::size_t i = 0; i < suite.instances; ++i)
    if (std::equal(out->begin() + static_cast<long>(i * kMaskBits), out->begin() + static_cast<long>((i + 1) * kMaskBits),
                   suite.masks.begin() + static_cast<long>(i * kMaskBits)))
      ++sc.correct;
  sc.recovery = suite.instances ? static_cast<double>(sc.correct) / static_cast<double>(suite.instances) : 0;
  return sc;
}

}  // namespace ergon::evaluators::dally

namespace ergon::evaluators::dally {

tl::expected<MaskSuite, std::string> MakeMaskSuite(const std::string& name, std::size_t instances,
                                                   const std::string& suites_dir) {
  if (name == "dev") return LoadMaskSuite(suites_dir + "/mask32_dev_inputs.txt", suites_dir + "/mask32_dev_masks.txt");
  std::size_t n = instances ? instances : 2048;
  int reps = n >= 8 ? 8 : 1;
  int secrets = static_cast<int>((n + static_cast<std::size_t>(reps) - 1) / static_cast<std::size_t>(reps));
  if (name == "fresh") return FreshMaskSuite(secrets, reps);
  return GenerateMaskSuite(name, secrets, reps);
}

}  // namespace ergon::evaluators::dally
