#include "evaluators/dally/board.h"

#include <charconv>

#include <fmt/core.h>

#include "evaluators/dally/matmul.h"
#include "evaluators/dally/symmetry.h"

namespace ergon::evaluators::dally {
namespace {

// A decimal in [lo, hi] that is the whole of `s`.
std::optional<int> Number(std::string_view s, int lo, int hi) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty() || s[0] == '0' || v < lo || v > hi)
    return std::nullopt;
  return v;
}

}  // namespace

std::string Board::Name() const {
  return kind == Kind::kMatmul ? fmt::format("matmul{}x{}", n, n) : fmt::format("symmetry{}", n);
}

std::string Board::Describe() const {
  return kind == Kind::kMatmul ? fmt::format("matmul {}x{} (v0, exact over the integers)", n, n)
                               : fmt::format("symmetry {} bits (v3, all {} patterns)", n, 1u << n);
}

std::optional<Board> ParseBoard(std::string_view name) {
  if (name.rfind("matmul", 0) == 0) {
    const std::string_view dims = name.substr(6);
    const auto x = dims.find('x');
    if (x == std::string_view::npos) return std::nullopt;
    auto a = Number(dims.substr(0, x), 1, 64), b = Number(dims.substr(x + 1), 1, 64);
    if (!a || !b || *a != *b) return std::nullopt;
    return Board{Board::Kind::kMatmul, *a};
  }
  if (name.rfind("symmetry", 0) == 0) {
    auto n = Number(name.substr(8), 2, 16);
    if (!n) return std::nullopt;
    return Board{Board::Kind::kSymmetry, *n};
  }
  return std::nullopt;
}

tl::expected<BoardScore, IrError> CheckBoard(const Board& board, const IrProgram& program) {
  if (board.kind == Board::Kind::kMatmul) {
    auto r = MatmulChecker(board.n).Check(program);
    if (!r) return tl::unexpected(r.error());
    return BoardScore{r->cost, r->lines, 0};
  }
  auto r = CheckSymmetry(program, board.n);
  if (!r) return tl::unexpected(r.error());
  return BoardScore{r->cost, r->lines, r->patterns};
}

}  // namespace ergon::evaluators::dally
