#include "base/digest.h"
#include "evaluators/dally/mask32.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>
#include <random>

#include <fmt/core.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "evaluators/dally/python_random.h"
#include "base/file.h"
#include "genome/genome.h"  // Sha256Hex

namespace ergon::evaluators::dally {
namespace {

constexpr const char* kSuiteVersion = "mask-sparse-parity-v1";

tl::expected<std::vector<std::int8_t>, std::string> ReadDigits(const std::string& path, std::size_t width,
                                                               std::size_t& rows) {
  const auto whole = base::ReadFile(path);
  if (!whole) return tl::unexpected(fmt::format("cannot read {}", path));
  const std::string& text = *whole;
  std::vector<std::int8_t> out;
  out.reserve(text.size());
  rows = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::size_t len = end - pos;
    if (len && text[pos + len - 1] == '\r') --len;
    if (len) {
      if (len != width)
        return tl::unexpected(fmt::format("{}:{}: expected {} digits, got {}", path, rows + 1, width, len));
      for (std::size_t i = pos; i < pos + len; ++i) {
        const char c = text[i];
        if (c != '0' && c != '1') return tl::unexpected(fmt::format("{}:{}: not a 0/1 digit", path, rows + 1));
        out.push_back(static_cast<std::int8_t>(c - '0'));
      }
      ++rows;
    }
    pos = end + 1;
  }
  return out;
}

// random.Random(int.from_bytes(sha256("|".join(parts)), "big")).
PythonRandom DigestRng(const std::string& text) {
  std::string hex = base::Sha256Hex(text);
  std::vector<std::uint32_t> words(8);
  for (int w = 0; w < 8; ++w)  // least significant word first = last 8 hex digits first
    words[static_cast<std::size_t>(w)] =
        static_cast<std::uint32_t>(std::stoul(hex.substr(static_cast<std::size_t>(56 - 8 * w), 8), nullptr, 16));
  while (words.size() > 1 && words.back() == 0) words.pop_back();
  return PythonRandom(words);
}

}  // namespace

namespace {

// The same count by trying all 201,376 5-subsets.
int CountByEnumeration(const std::uint32_t* col, std::uint32_t y) {
  int n = 0;
  for (int a = 0; a < 32; ++a)
    for (int b = a + 1; b < 32; ++b)
      for (int c = b + 1; c < 32; ++c)
        for (int d = c + 1; d < 32; ++d) {
          const std::uint32_t abcd = col[a] ^ col[b] ^ col[c] ^ col[d] ^ y;
          for (int e = d + 1; e < 32; ++e)
            if (col[e] == abcd && ++n > 1) return 2;
        }
  return n;
}

// The subsets of Bits elements as masks ordered by size, and how many have
// each size or less.
template <int Bits>
struct SubsetsBySize {
  std::array<std::uint16_t, 1 << Bits> mask{};
  std::array<int, Bits + 1> upto{};
};

template <int Bits>
constexpr SubsetsBySize<Bits> MakeSubsetsBySize() {
  SubsetsBySize<Bits> s;
  int k = 0;
  for (int t = 0; t <= Bits; ++t) {
    for (int m = 0; m < (1 << Bits); ++m) {
      int size = 0;
      for (int v = m; v; v &= v - 1) ++size;
      if (size == t) s.mask[static_cast<std::size_t>(k++)] = static_cast<std::uint16_t>(m);
    }
    s.upto[static_cast<std::size_t>(t)] = k;
  }
  return s;
}

constexpr SubsetsBySize<7> kSubsets7 = MakeSubsetsBySize<7>();
constexpr SubsetsBySize<8> kSubsets8 = MakeSubsetsBySize<8>();
constexpr SubsetsBySize<9> kSubsets9 = MakeSubsetsBySize<9>();

template <int Bits>
constexpr const SubsetsBySize<Bits>& Subsets() {
  if constexpr (Bits == 7) return kSubsets7;
  else if constexpr (Bits == 8) return kSubsets8;
  else return kSubsets9;
}

#if defined(__x86_64__)
// The solutions x0 + (kernel vectors of S) of weight 5, for |S| <= 5: kernel
// holds 7 + Nb vectors' pivot parts (column i of the free ones is bit i of
// S). 0, 1, or 2 for more.
template <int Nb>
__attribute__((target("avx512f,avx512vpopcntdq"))) int CountLightSolutions(const std::uint32_t* kernel,
                                                                          std::uint32_t x0) {
  const auto& a = kSubsets7;
  std::uint32_t xa[128], xb[1 << Nb];
  xa[0] = xb[0] = 0;
  for (int m = 1; m < 128; ++m) xa[m] = xa[m & (m - 1)] ^ kernel[__builtin_ctz(m)];
  for (int m = 1; m < (1 << Nb); ++m) xb[m] = xb[m & (m - 1)] ^ kernel[7 + __builtin_ctz(m)];
  __m512i lanes[8], needs[8];  // a's pivot part, and 5 - |a| (negative past size 5: never met)
  for (int r = 0; r < 8; ++r) {
    alignas(64) std::uint32_t l[16];
    alignas(64) std::int32_t nd[16];
    for (int k = 0; k < 16; ++k) {
      const int m = a.mask[static_cast<std::size_t>(16 * r + k)];
      l[k] = xa[m];
      nd[k] = 5 - __builtin_popcount(static_cast<unsigned>(m));
    }
    lanes[r] = _mm512_load_si512(l);
    needs[r] = _mm512_load_si512(nd);
  }
  const auto& b = Subsets<Nb>();
  int n = 0;
  for (int sb = 0, k = 0; sb <= 5; ++sb) {
    const int regs = (a.upto[static_cast<std::size_t>(5 - sb)] + 15) / 16;
    const __m512i size_b = _mm512_set1_epi32(sb);
    for (; k < b.upto[static_cast<std::size_t>(sb)]; ++k) {
      const __m512i base = _mm512_set1_epi32(static_cast<int>(x0 ^ xb[b.mask[static_cast<std::size_t>(k)]]));
      for (int r = 0; r < regs; ++r) {
        const __m512i pivot_part = _mm512_popcnt_epi32(_mm512_xor_si512(base, lanes[r]));
        n += __builtin_popcount(_mm512_cmpeq_epi32_mask(pivot_part, _mm512_sub_epi32(needs[r], size_b)));
      }
      if (n > 1) return 2;
    }
  }
  return n;
}
#endif

// The same count from the solution space: the x in GF(2)^32 with A x = y
// are one particular solution plus the kernel of A (18 x 32: of dimension
// 14 at full rank); count those of weight 5 with AVX-512's popcount,
// stopping past 1, trying only the few thousand that can have weight 5
// (below). -1 when the kernel's dimension is not 14 to 16 (rank under 16:
// rare); the caller checks the CPU.
#if defined(__x86_64__)
__attribute__((target("avx512f,avx512vpopcntdq"))) int CountOverKernel(const std::uint32_t* col, std::uint32_t y) {
  // A basis of the columns' span by leading bit, each with the columns it
  // combines; a column the basis already spans gives a kernel vector. The
  // reduction runs over every bit without branches (a branch per step,
  // taken at random, cost more than the steps): where a slot is empty, the
  // bit stays, and the vector ends with its highest unfilled bit leading.
  std::uint32_t basis[kMaskRows] = {}, made_of[kMaskRows] = {}, kernel[32];
  auto reduce = [&](std::uint32_t& v, std::uint32_t& comb) {
    for (int bit = kMaskRows - 1; bit >= 0; --bit) {
      const std::uint32_t take = 0u - ((v >> bit) & 1u);
      v ^= basis[bit] & take;
      comb ^= made_of[bit] & take;
    }
  };
  int dim = 0;
  for (int c = 0; c < 32; ++c) {
    std::uint32_t v = col[c], comb = 1u << c;
    reduce(v, comb);
    const int lead = 31 - __builtin_clz(v | 1u);
    basis[lead] = v ? v : basis[lead];
    made_of[lead] = v ? comb : made_of[lead];
    kernel[dim] = comb ^ (1u << c);  // its pivot columns (c is its free one); kept when v is 0
    dim += v == 0;
  }
  // Rank is at most 18 (signatures have 18 bits), so dim is at least 14.
  if (dim < 14 || dim > 16) return -1;
  std::uint32_t v = y, x0 = 0;  // one solution of A x = y, if any
  reduce(v, x0);
  if (v) return 0;
  // A solution is x0 plus the kernel vectors of a set S of free columns: S
  // itself is x's free part, so |x| = |S| + |its pivot part|, and only the
  // sets of at most 5 free columns can give weight 5 (3,473 of the 16,384
  // at dimension 14). The free columns split in two groups: the subsets a
  // of the first 7, sorted by size, are vector lanes; each subset b of the
  // rest tests only the lanes with |a| <= 5 - |b|.
  if (dim == 14) return CountLightSolutions<7>(kernel, x0);
  if (dim == 15) return CountLightSolutions<8>(kernel, x0);
  return CountLightSolutions<9>(kernel, x0);
}
#endif

}  // namespace

// Number of 5-subsets of the 32 column signatures whose XOR equals y; stops
// past 1 (only "exactly one" matters). Meet in the middle without checking
// disjointness: R counts every (2-subset, 3-subset) pair, overlapping or
// not, whose XORs combine to y. A 5-subset solution is counted C(5,2) = 10
// times; a 3-subset {u,v,w} with XOR y is counted 3 x 29 = 87 times (the
// pair {x,u} and the triple {x,v,w}, x outside); a column equal to y is
// counted C(31,2) = 465 times (any pair inside a triple with it). So
// N5 = (R - 87 N3 - 465 N1) / 10, and N3, N1 are cheap (below). R needs, for
// each of the 4,960 triples, the number of pairs with the completing value:
// a signature has 18 bits, so a bitmap of all 2^18 values (32 KB) answers
// "none" with one bit test, and only the rare hit reads the count. The
// bitmap is cleared word by word on the way out.
int internal::CountMaskSolutionsMeetInMiddle(const std::uint32_t* col, std::uint32_t y) {
  constexpr std::uint32_t kBits = 18, kMask = (1u << kBits) - 1;
  // Pairs per value: bitmap `one` has the values of at least one pair,
  // `two` of at least two; a call with three pairs of one value (repeated
  // columns make them; one call in hundreds) counts by plain enumeration.
  // Two 32 KB bitmaps, where a 512 KB table of counts missed the cache on
  // every update.
  struct Bitmaps {
    std::vector<std::uint64_t> one = std::vector<std::uint64_t>(std::size_t{1} << (kBits - 6), 0);
    std::vector<std::uint64_t> two = std::vector<std::uint64_t>(std::size_t{1} << (kBits - 6), 0);
  };
  thread_local Bitmaps maps;
  std::uint64_t* bits = maps.one.data();
  std::uint64_t* twice = maps.two.data();
  auto test = [](const std::uint64_t* m, std::uint32_t v) { return (m[v >> 6] >> (v & 63)) & 1; };
  auto count = [&](std::uint32_t v) -> std::int64_t {
    return test(bits, v) ? 1 + static_cast<std::int64_t>(test(twice, v)) : 0;
  };
  std::uint32_t c18[32];
  for (int i = 0; i < 32; ++i) c18[i] = col[i] & kMask;
  y &= kMask;
  // The pairs ordered by their larger column: those inside columns [0, e)
  // are the first C(e,2), so the triples {c,d,e} are, for each e, one long
  // run over a prefix (short nested loops would cost a mispredicted exit
  // per pair, as much as the tests themselves).
  std::uint32_t pv[32 * 31 / 2];
  for (int d = 1, k = 0; d < 32; ++d)
    for (int c = 0; c < d; ++c) pv[k++] = c18[c] ^ c18[d];
  std::uint32_t repeated[32 * 31 / 2];
  int nrepeated = 0;
  bool thrice = false;
  for (std::uint32_t v : pv) {
    const std::uint64_t bit = std::uint64_t{1} << (v & 63);
    if (bits[v >> 6] & bit) {
      if (twice[v >> 6] & bit) thrice = true;
      twice[v >> 6] |= bit;
      repeated[nrepeated++] = v;
    }
    bits[v >> 6] |= bit;
  }
  auto clear = [&] {
    for (std::uint32_t v : pv) bits[v >> 6] = 0;
    for (int i = 0; i < nrepeated; ++i) twice[repeated[i] >> 6] = 0;
  };
  if (thrice) {
    clear();
    return CountByEnumeration(c18, y);
  }
  // N1: columns equal to y. N3 from the sum over columns w of the pairs
  // completing w: each 3-subset solution 3 times, and for each w every
  // pair {w, x} with col x = y (N1 - [col w = y] of them).
  std::int64_t n1 = 0, s3 = 0;
  for (int w = 0; w < 32; ++w) {
    n1 += c18[w] == y;
    s3 += count(y ^ c18[w]);
  }
  const std::int64_t n3 = (s3 - 31 * n1) / 3;
  const std::int64_t degenerate = 87 * n3 + 465 * n1;
  const std::int64_t past_one = degenerate + 10;  // R above this: a second solution
  std::int64_t r = 0;
  for (int e = 2; e < 32 && r <= past_one; ++e) {
    const std::uint32_t z = c18[e] ^ y;
    const int n = e * (e - 1) / 2;
    int k = 0;
    for (; k + 16 <= n; k += 16) {  // blocks of 16 tests, one branch
      std::uint64_t any = 0;
      for (int j = k; j < k + 16; ++j) any |= bits[(pv[j] ^ z) >> 6] >> ((pv[j] ^ z) & 63);
      if (any & 1)
        for (int j = k; j < k + 16; ++j) r += count(pv[j] ^ z);
    }
    for (; k < n; ++k) r += count(pv[k] ^ z);
  }
  clear();
  if (r > past_one) return 2;
  return static_cast<int>((r - degenerate) / 10);
}

int CountMaskSolutions(const std::uint32_t* col, std::uint32_t y) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq")) {
    constexpr std::uint32_t kMask = (1u << 18) - 1;
    std::uint32_t c[32];
    for (int i = 0; i < 32; ++i) c[i] = col[i] & kMask;
    if (const int n = CountOverKernel(c, y & kMask); n >= 0) return n;
  }
#endif
  return internal::CountMaskSolutionsMeetInMiddle(col, y);
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

namespace {

// Why a suite of that many secrets and reps cannot be drawn ("" when it can).
std::string SuiteSizeProblem(int n_secrets, int reps) {
  if (n_secrets < 1 || reps < 1) return "suite needs at least one secret and one rep";
  if (n_secrets > 201376) return fmt::format("cannot sample {} distinct secrets", n_secrets);
  return "";
}

// Column c's signature (bit r = row r's bit c) for the 32 columns. With
// AVX-512 all 32 at once, a row per step; else bit by bit (576 steps, a
// third of drawing a fresh suite where the count takes 1 us).
#if defined(__x86_64__)
__attribute__((target("avx512f"))) void ColumnsOfRowsAvx512(const std::uint32_t* rows, std::uint32_t* col) {
  const __m512i low = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i high = _mm512_add_epi32(low, _mm512_set1_epi32(16)), one = _mm512_set1_epi32(1);
  __m512i a = _mm512_setzero_si512(), b = _mm512_setzero_si512();
  for (int r = 0; r < kMaskRows; ++r) {
    const __m512i row = _mm512_set1_epi32(static_cast<int>(rows[r]));
    const __m128i shift = _mm_cvtsi32_si128(r);
    // The maskz forms with every lane on: GCC 12's plain forms start from
    // _mm512_undefined_epi32 and warn that it is uninitialised.
    const __m512i bit_a = _mm512_and_si512(_mm512_maskz_srlv_epi32(0xFFFF, row, low), one);
    const __m512i bit_b = _mm512_and_si512(_mm512_maskz_srlv_epi32(0xFFFF, row, high), one);
    a = _mm512_or_si512(a, _mm512_maskz_sll_epi32(0xFFFF, bit_a, shift));
    b = _mm512_or_si512(b, _mm512_maskz_sll_epi32(0xFFFF, bit_b, shift));
  }
  _mm512_storeu_si512(col, a);
  _mm512_storeu_si512(col + 16, b);
}
#endif

void ColumnsOfRows(const std::uint32_t* rows, std::uint32_t* col) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f")) return ColumnsOfRowsAvx512(rows, col);
#endif
  for (int c = 0; c < kMaskBits; ++c) col[c] = 0;
  for (int r = 0; r < kMaskRows; ++r)
    for (int c = 0; c < kMaskBits; ++c) col[c] |= ((rows[r] >> c) & 1u) << r;
}

// One instance for secret `sec`: 18 random rows of 32 bits, redrawn until
// the secret is the only 5-subset that explains the labels. `next_row`
// gives a row (bit c = column c) from the suite's random source.
template <class NextRow>
void AppendInstance(const std::vector<int>& sec, NextRow&& next_row, MaskSuite& s) {
  std::uint32_t rows[kMaskRows], col[kMaskBits], ysig;
  std::uint32_t secbits = 0;
  for (int c : sec) secbits |= 1u << c;
  for (;;) {
    ysig = 0;
    for (int r = 0; r < kMaskRows; ++r) {
      const std::uint32_t row = next_row();
      rows[r] = row;
      ysig |= static_cast<std::uint32_t>(__builtin_parity(row & secbits)) << r;
    }
    ColumnsOfRows(rows, col);
    if (CountMaskSolutions(col, ysig) == 1) break;
  }
  const std::size_t at = s.inputs.size(), mat = s.masks.size();
  s.inputs.resize(at + kMaskInputs);
  s.masks.resize(mat + kMaskBits);
  std::int8_t* in = s.inputs.data() + at;
  for (int r = 0; r < kMaskRows; ++r)
    for (int c = 0; c < kMaskBits; ++c) *in++ = static_cast<std::int8_t>((rows[r] >> c) & 1u);
  for (int r = 0; r < kMaskRows; ++r) *in++ = static_cast<std::int8_t>((ysig >> r) & 1);
  for (int c = 0; c < kMaskBits; ++c) s.masks[mat + static_cast<std::size_t>(c)] = static_cast<std::int8_t>((secbits >> c) & 1u);
}

}  // namespace

tl::expected<MaskSuite, std::string> GenerateMaskSuite(const std::string& key, int n_secrets, int reps) {
  if (auto why = SuiteSizeProblem(n_secrets, reps); !why.empty()) return tl::unexpected(why);
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
      // Upstream draws x[r][c] = getrandbits(1), row by row.
      PythonRandom tr = DigestRng(fmt::format("{}|{}|train|{}|{}", kSuiteVersion, key, tuple, rep));
      AppendInstance(sec, [&tr] {
        std::uint32_t row = 0;
        for (int c = 0; c < kMaskBits; ++c) row |= tr.GetRandBits(1) << c;
        return row;
      }, s);
    }
  }
  return s;
}

// The same distribution as a keyed suite (distinct uniform secrets, uniform
// bits, unique solutions), drawn from a generator seeded by the OS: nobody
// can regenerate it, so it need not follow upstream's draw order, and a
// 64-bit draw gives two rows where upstream spends 64 Mersenne outputs.
tl::expected<MaskSuite, std::string> FreshMaskSuite(int n_secrets, int reps) {
  if (auto why = SuiteSizeProblem(n_secrets, reps); !why.empty()) return tl::unexpected(why);
  std::random_device rd;
  std::seed_seq seed{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
  std::mt19937_64 gen(seed);
  MaskSuite s;
  s.name = fmt::format("fresh ({} x {})", n_secrets, reps);
  s.instances = static_cast<std::size_t>(n_secrets) * static_cast<std::size_t>(reps);
  s.inputs.reserve(s.instances * kMaskInputs);
  s.masks.reserve(s.instances * kMaskBits);
  std::vector<std::uint32_t> seen;
  std::uint64_t spare = 0;
  bool have_spare = false;
  auto next_row = [&] {
    if (have_spare) {
      have_spare = false;
      return static_cast<std::uint32_t>(spare >> 32);
    }
    spare = gen();
    have_spare = true;
    return static_cast<std::uint32_t>(spare);
  };
  while (static_cast<int>(seen.size()) < n_secrets) {
    std::uint32_t bits = 0;
    while (__builtin_popcount(bits) < kMaskSecret) bits |= 1u << (gen() >> 59);  // uniform 5-subset
    if (std::find(seen.begin(), seen.end(), bits) != seen.end()) continue;
    seen.push_back(bits);
    std::vector<int> sec;
    for (int c = 0; c < kMaskBits; ++c)
      if (bits >> c & 1u) sec.push_back(c);
    for (int rep = 0; rep < reps; ++rep) AppendInstance(sec, next_row, s);
  }
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
