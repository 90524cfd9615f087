// `make bench`: timings with ratios to a baseline measured in the same run
// (machines here are shared and noisy; absolute times drift, ratios less so).
//
//  1. Dally scorer on the record IR (packedscan_beat382794_mask32.ir, 58,530
//     lines) over the 1,024-instance dev suite: parse, batched scoring on one
//     thread and on all cores, against the exact scalar engine (baseline).
//  2. Sandbox: one sandboxed run of /bin/true against a bare fork+exec.
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/core.h>

#include "evaluators/dally/ir.h"
#include "evaluators/dally/mask32.h"
#include "sandbox/sandbox.h"

using namespace ergon::evaluators::dally;
using Clock = std::chrono::steady_clock;

extern char** environ;

namespace {

template <class F>
double MedianSeconds(int reps, F f) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    f();
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

int Dally() {
  std::ifstream f(std::string(ERGON_DALLY_DATA) + "/packedscan_beat382794_mask32.ir");
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  auto suite = LoadMaskSuite(std::string(ERGON_DEV_SUITE) + "/mask32_dev_inputs.txt",
                             std::string(ERGON_DEV_SUITE) + "/mask32_dev_masks.txt");
  if (!suite) { fmt::print(stderr, "{}\n", suite.error()); return 1; }
  tl::expected<IrProgram, IrError> prog;
  double parse = MedianSeconds(5, [&] { prog = CompileIr(text, kMask32LineCap); });
  if (!prog) { fmt::print(stderr, "{}\n", prog.error().Describe()); return 1; }
  std::size_t correct = 0;
  double batch = MedianSeconds(9, [&] { correct = ScoreMask32(*prog, *suite)->correct; });
  // All cores: halves of the suite on separate threads.
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  double multi = MedianSeconds(9, [&] {
    std::vector<std::thread> ts;
    std::size_t per = (suite->instances + cores - 1) / cores;
    for (unsigned c = 0; c < cores; ++c) {
      ts.emplace_back([&, c] {
        std::size_t lo = c * per, hi = std::min(suite->instances, lo + per);
        if (lo >= hi) return;
        std::vector<std::int8_t> in(suite->inputs.begin() + static_cast<long>(lo * kMaskInputs),
                                    suite->inputs.begin() + static_cast<long>(hi * kMaskInputs));
        (void)SimulateBatch(*prog, in, hi - lo);
      });
    }
    for (auto& t : ts) t.join();
  });
  // Baseline: the exact scalar engine, on 64 instances, scaled to 1,024.
  double scalar64 = MedianSeconds(3, [&] {
    for (std::size_t i = 0; i < 64; ++i) {
      std::vector<std::int64_t> in(suite->inputs.begin() + static_cast<long>(i * kMaskInputs),
                                   suite->inputs.begin() + static_cast<long>((i + 1) * kMaskInputs));
      (void)SimulateOne(*prog, in);
    }
  });
  double scalar = scalar64 * static_cast<double>(suite->instances) / 64.0;
  double lane_ops = static_cast<double>(prog->ops.size()) * static_cast<double>(suite->instances);
  fmt::print("dally: record IR, {} lines, cost {}, dev recovery {}/{}\n", prog->lines, prog->cost, correct, suite->instances);
  fmt::print("  parse+cost            {:8.2f} ms\n", parse * 1e3);
  fmt::print("  score, 1 thread       {:8.2f} ms  {:10.0f} instances/s  {:6.2f} G lane-ops/s\n", batch * 1e3,
             suite->instances / batch, lane_ops / batch / 1e9);
  fmt::print("  score, {} threads      {:8.2f} ms  {:10.0f} instances/s  {:6.2f} G lane-ops/s\n", cores, multi * 1e3,
             suite->instances / multi, lane_ops / multi / 1e9);
  fmt::print("  baseline: scalar exact engine {:8.2f} ms (extrapolated from 64 instances)\n", scalar * 1e3);
  fmt::print("  ratio scalar/batched (1 thread): {:.1f}x\n", scalar / batch);
  fmt::print("  parse + 1-thread score: {:.2f} ms (target < 20 ms)\n", (parse + batch) * 1e3);
  return 0;
}

int Sandbox() {
  auto sb = ergon::sandbox::Sandbox::Create();
  if (!sb) { fmt::print(stderr, "{}\n", sb.error()); return 1; }
  auto dir = ergon::sandbox::ScratchDir::Create(*sb, "ergon-bench-");
  if (!dir) return 1;
  ergon::sandbox::RunSpec spec;
  spec.argv = {"/bin/true"};
  spec.work_dir = dir->path();
  double boxed = MedianSeconds(15, [&] { (void)sb->Run(spec); });
  double bare = MedianSeconds(15, [&] {
    pid_t pid;
    char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
    posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ);
    int st;
    waitpid(pid, &st, 0);
  });
  fmt::print("sandbox: /bin/true, {}\n", sb->DescribeIsolation().substr(0, 40));
  fmt::print("  sandboxed run {:8.2f} ms, bare fork+exec {:8.2f} ms, overhead ratio {:.0f}x\n", boxed * 1e3, bare * 1e3,
             boxed / bare);
  return 0;
}

}  // namespace

int main() {
  int rc = Dally();
  rc |= Sandbox();
  return rc;
}
