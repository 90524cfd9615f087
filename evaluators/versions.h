// Evaluator versions. Evaluations are stored per (candidate, evaluator
// version, meter, device, suite): bump a version whenever a change could
// change a number, so old and new results never mix.
#pragma once

namespace ergon::evaluators {

inline constexpr const char* kDallyParityVersion = "dally_parity/1";
inline constexpr const char* kDallyBoardVersion = "dally_board/1";
inline constexpr const char* kSparseParityVersion = "sparse_parity/1";
inline constexpr const char* kCharLmVersion = "char_lm/1";
inline constexpr const char* kFashionMnistVersion = "fashion_mnist/1";
// The cachemodel's simulated machine: the same on every x86-64 host.
inline constexpr const char* kCachemodelDevice = "cachegrind I1=32768,8,64 D1=65536,8,64 LL=262144,8,64";

}  // namespace ergon::evaluators
