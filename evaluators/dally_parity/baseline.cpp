// dally_parity baseline: prints a MASK32 IR program to stdout.
//
// The program recovers the 5-bit secret of a 32-column sparse parity from 18
// training rows, branch-free, on the simplified Dally model (reading address
// a costs ceil(sqrt(a)); writes and arithmetic are free; 8-bit cells).
//
// Method (GF(2) elimination over the column space, then a search of the
// solution space for the weight-5 solution):
//  1. Pack each column c of X into V_c (18 row bits in 3 cells of 6 bits) and
//     y into Y. Track each vector's coefficients over the original columns in
//     C_c (32 bits in cells of kCoefBits bits), starting from e_c (free `set`s).
//  2. For each row bit r: the first column not yet a pivot with bit r set
//     becomes the pivot p; XOR (V_p, C_p) into every other column and into
//     (Y, CY) that has bit r set. Invariant: V_c = X C_c, Y = y + X CY.
//     Afterwards non-pivot columns have V_c = 0, so C_c is a null vector with
//     bit c set, and CY is a particular solution using only pivot columns.
//  3. Every solution is CY + sum of C_c over a set D of non-pivot columns, and
//     D is exactly the solution's non-pivot bits, so the secret (weight 5)
//     has |D| <= 5. Compact the null vectors of the non-pivot columns into
//     kSlots slots and visit every subset of at most 5 slots depth first,
//     keeping the candidate whose popcount is 5 (unique by construction of
//     the suite). With kSlots >= 32 - rank nothing is missed.
//  4. Unpack the kept candidate into the 32 output cells.
//
// Napkin maths: elimination ~18 x 32 x 40 ops; search sum_{w<=5} C(16, w) =
// 6,885 nodes x ~80 ops: ~0.6 M lines, under the 2 M cap.
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

// KNOB slots 16 range 14 20 int
constexpr int kSlots = 16;
// KNOB coef_bits 7 range 6 7 int
constexpr int kCoefBits = 7;
// KNOB input_base 2000 range 600 100000 int
constexpr long kInputBase = 2000;

namespace {

constexpr int kCols = 32, kRows = 18, kRowCells = 3, kRowBits = 6;
constexpr int kCoefCells = (kCols + kCoefBits - 1) / kCoefBits;

// Addresses: the lowest free one goes to each new value, so hot short-lived
// temporaries stay cheap; inputs sit above kInputBase (each is read once).
class Alloc {
 public:
  long Get() {
    if (!free_.empty()) {
      long a = *free_.begin();
      free_.erase(free_.begin());
      return a;
    }
    if (++top_ >= kInputBase) {  // temporaries would overwrite inputs
      std::fprintf(stderr, "baseline: more than %ld live values; raise input_base\n", kInputBase - 1);
      std::exit(1);
    }
    return top_;
  }
  void Put(long a) { free_.insert(a); }

 private:
  std::set<long> free_;
  long top_ = 0;
};

Alloc mem;
std::string body;
long lines = 0;

void Emit(const char* op, long d, long a, long b = -1, long c = -1) {
  char buf[96];
  if (c >= 0) std::snprintf(buf, sizeof buf, "%s %ld,%ld,%ld,%ld\n", op, d, a, b, c);
  else if (b >= 0) std::snprintf(buf, sizeof buf, "%s %ld,%ld,%ld\n", op, d, a, b);
  else std::snprintf(buf, sizeof buf, "%s %ld,%ld\n", op, d, a);
  body += buf;
  ++lines;
}
long Set(int k) {
  long d = mem.Get();
  char buf[48];
  std::snprintf(buf, sizeof buf, "set %ld,%d\n", d, k);
  body += buf;
  ++lines;
  return d;
}
long Op(const char* op, long a, long b) {
  long d = mem.Get();
  Emit(op, d, a, b);
  return d;
}

}  // namespace

int main() {
  // Constants 2^j for bit extraction, and 1.
  long pow2[8];
  for (int j = 0; j < 8; ++j) pow2[j] = Set(1 << j);
  const long one = pow2[0];

  // Inputs: X row-major then y.
  std::string in_line;
  for (int i = 0; i < kCols * kRows + kRows; ++i) in_line += (i ? "," : "") + std::to_string(kInputBase + i);
  auto x_addr = [](int r, int c) { return kInputBase + r * kCols + c; };
  auto y_addr = [](int r) { return kInputBase + kCols * kRows + r; };

  // 1. Pack. cell = sum of bit_r * 2^(r mod 6): mul by a power of two, add.
  auto pack = [&](auto addr_of_row) {
    std::vector<long> cells(kRowCells);
    for (int k = 0; k < kRowCells; ++k) {
      long acc = mem.Get();
      Emit("copy", acc, addr_of_row(k * kRowBits));
      for (int j = 1; j < kRowBits && k * kRowBits + j < kRows; ++j) {
        long t = Op("mul", addr_of_row(k * kRowBits + j), pow2[j]);
        Emit("add", acc, acc, t);
        mem.Put(t);
      }
      cells[static_cast<size_t>(k)] = acc;
    }
    return cells;
  };
  std::vector<std::vector<long>> V(kCols), C(kCols);
  std::vector<long> notpivot(kCols);
  for (int c = 0; c < kCols; ++c) {
    V[static_cast<size_t>(c)] = pack([&](int r) { return x_addr(r, c); });
    for (int k = 0; k < kCoefCells; ++k)
      C[static_cast<size_t>(c)].push_back(Set(c / kCoefBits == k ? 1 << (c % kCoefBits) : 0));
    notpivot[static_cast<size_t>(c)] = Set(1);
  }
  std::vector<long> Y = pack([&](int r) { return y_addr(r); });
  std::vector<long> CY;
  for (int k = 0; k < kCoefCells; ++k) CY.push_back(Set(0));

  // 2. Elimination, one row bit at a time.
  auto bit_of = [&](long cell, int j) {
    long t = Op("div", cell, pow2[j]);
    Emit("and", t, t, one);
    return t;
  };
  for (int r = 0; r < kRows; ++r) {
    const int k = r / kRowBits, j = r % kRowBits;
    long notfound = Set(1);
    std::vector<long> bit(kCols), cand(kCols);
    for (int c = 0; c < kCols; ++c) {
      bit[static_cast<size_t>(c)] = bit_of(V[static_cast<size_t>(c)][static_cast<size_t>(k)], j);
      long t = Op("and", bit[static_cast<size_t>(c)], notpivot[static_cast<size_t>(c)]);
      Emit("and", t, t, notfound);
      Emit("xor", notfound, notfound, t);
      Emit("xor", notpivot[static_cast<size_t>(c)], notpivot[static_cast<size_t>(c)], t);
      cand[static_cast<size_t>(c)] = t;
    }
    mem.Put(notfound);
    // The pivot's vectors: exactly one cand is 1 (or none: all zero).
    std::vector<long> PV, PC;
    for (int q = 0; q < kRowCells + kCoefCells; ++q) {
      long acc = Set(0);
      for (int c = 0; c < kCols; ++c) {
        long src = q < kRowCells ? V[static_cast<size_t>(c)][static_cast<size_t>(q)]
                                 : C[static_cast<size_t>(c)][static_cast<size_t>(q - kRowCells)];
        long t = Op("mul", cand[static_cast<size_t>(c)], src);
        Emit("xor", acc, acc, t);
        mem.Put(t);
      }
      (q < kRowCells ? PV : PC).push_back(acc);
    }
    // Eliminate bit r from every other column and from y.
    auto eliminate = [&](long cond, std::vector<long>& vcells, std::vector<long>& ccells) {
      for (int q = 0; q < kRowCells; ++q) {
        long t = Op("mul", cond, PV[static_cast<size_t>(q)]);
        Emit("xor", vcells[static_cast<size_t>(q)], vcells[static_cast<size_t>(q)], t);
        mem.Put(t);
      }
      for (int q = 0; q < kCoefCells; ++q) {
        long t = Op("mul", cond, PC[static_cast<size_t>(q)]);
        Emit("xor", ccells[static_cast<size_t>(q)], ccells[static_cast<size_t>(q)], t);
        mem.Put(t);
      }
    };
    for (int c = 0; c < kCols; ++c) {
      long cond = Op("xor", bit[static_cast<size_t>(c)], cand[static_cast<size_t>(c)]);  // bit and not pivot
      eliminate(cond, V[static_cast<size_t>(c)], C[static_cast<size_t>(c)]);
      mem.Put(cond);
      mem.Put(bit[static_cast<size_t>(c)]);
      mem.Put(cand[static_cast<size_t>(c)]);
    }
    long ybit = bit_of(Y[static_cast<size_t>(k)], j);
    eliminate(ybit, Y, CY);
    mem.Put(ybit);
    for (long a : PV) mem.Put(a);
    for (long a : PC) mem.Put(a);
  }
  for (int c = 0; c < kCols; ++c)
    for (long a : V[static_cast<size_t>(c)]) mem.Put(a);
  for (long a : Y) mem.Put(a);

  // 3a. Compact null vectors of non-pivot columns into slots.
  std::vector<std::vector<long>> slot(kSlots);
  for (int i = 0; i < kSlots; ++i)
    for (int q = 0; q < kCoefCells; ++q) slot[static_cast<size_t>(i)].push_back(Set(0));
  long count = Set(0);  // non-pivot columns seen so far
  std::vector<long> idx(kSlots);
  for (int i = 0; i < kSlots; ++i) idx[static_cast<size_t>(i)] = Set(i);
  for (int c = 0; c < kCols; ++c) {
    for (int i = 0; i < kSlots && i <= c; ++i) {
      long m = Op("cmp", count, idx[static_cast<size_t>(i)]);
      // cmp d,a,b,eq needs the predicate: rewrite the line just emitted.
      body.insert(body.size() - 1, ",eq");
      Emit("and", m, m, notpivot[static_cast<size_t>(c)]);
      for (int q = 0; q < kCoefCells; ++q) {
        long t = Op("mul", m, C[static_cast<size_t>(c)][static_cast<size_t>(q)]);
        Emit("xor", slot[static_cast<size_t>(i)][static_cast<size_t>(q)], slot[static_cast<size_t>(i)][static_cast<size_t>(q)], t);
        mem.Put(t);
      }
      mem.Put(m);
    }
    Emit("add", count, count, notpivot[static_cast<size_t>(c)]);
  }

  // 3b. Depth-first over subsets of at most 5 slots; keep weight-5 candidates.
  std::vector<long> best;
  for (int q = 0; q < kCoefCells; ++q) best.push_back(Set(0));
  long five = Set(5);
  auto consider = [&](const std::vector<long>& cand) {
    // popcount(v) = v - sum_{i>=1} floor(v / 2^i), per cell (values >= 0).
    long total = -1;
    for (int q = 0; q < kCoefCells; ++q) {
      long pc = mem.Get();
      Emit("copy", pc, cand[static_cast<size_t>(q)]);
      for (int i = 1; i < kCoefBits; ++i) {
        long t = Op("div", cand[static_cast<size_t>(q)], pow2[i]);
        Emit("sub", pc, pc, t);
        mem.Put(t);
      }
      if (total < 0) total = pc;
      else { Emit("add", total, total, pc); mem.Put(pc); }
    }
    long is5 = Op("cmp", total, five);
    body.insert(body.size() - 1, ",eq");
    for (int q = 0; q < kCoefCells; ++q)
      Emit("select", best[static_cast<size_t>(q)], is5, cand[static_cast<size_t>(q)], best[static_cast<size_t>(q)]);
    mem.Put(is5);
    mem.Put(total);
  };
  consider(CY);
  // Recursive walk: child = parent xor slot[i], for i after the last used.
  struct Walker {
    std::vector<std::vector<long>>* slot;
    decltype(consider)* visit;
    void Walk(const std::vector<long>& parent, int next, int depth) {
      if (depth == 5) return;
      for (int i = next; i < kSlots; ++i) {
        std::vector<long> child;
        for (int q = 0; q < kCoefCells; ++q) child.push_back(Op("xor", parent[static_cast<size_t>(q)], (*slot)[static_cast<size_t>(i)][static_cast<size_t>(q)]));
        (*visit)(child);
        Walk(child, i + 1, depth + 1);
        for (long a : child) mem.Put(a);
      }
    }
  } walker{&slot, &consider};
  walker.Walk(CY, 0, 0);

  // 4. Unpack the kept coefficient vector into the 32 outputs.
  std::string out_line;
  for (int c = 0; c < kCols; ++c) {
    long o = bit_of(best[static_cast<size_t>(c / kCoefBits)], c % kCoefBits);
    out_line += (c ? "," : "") + std::to_string(o);
  }
  std::fputs((in_line + "\n").c_str(), stdout);
  std::fputs(body.c_str(), stdout);
  std::fputs((out_line + "\n").c_str(), stdout);
  std::fprintf(stderr, "baseline: %ld body lines, %d slots, %d-bit coefficient cells\n", lines, kSlots, kCoefBits);
  return 0;
}
