// What the engine may ask of a meter, knowing it only by name: whether its
// figures repeat, whether it is worth a cheap check first, whether it needs
// the GPU, and whether this machine can run it. The meters themselves are
// in learning/ (CachegrindMeter, NvmlMeter) and dally/.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ergon::evaluators {

struct MeterTraits {
  bool deterministic = false;  // the same program, the same figures (replay compares them exactly)
  bool slow = false;           // seconds a run: a cheap check on kCheckMeter comes first (the cascade)
  bool needs_gpu = false;      // one evaluation at a time here; a GPU for each cluster job
};

// An unknown name has none of the traits.
MeterTraits TraitsOf(std::string_view meter);

// The cheap meter a slow one's cascade checks with: it only runs the program.
inline constexpr const char* kCheckMeter = "wall";

// The meters that need something of this machine, each with whether it is
// there ("valgrind found", "unavailable (no NVIDIA driver)"): for `ergon doctor`.
std::vector<std::pair<std::string, std::string>> MeterAvailability();

}  // namespace ergon::evaluators
