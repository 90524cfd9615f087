// `ergon eval-job DIR`: what a Slurm job runs on its node. Measures the
// request in DIR with ergon's own sandbox and meter and writes
// DIR/result.json whole; when it cannot measure at all (no such task, another
// evaluator version), it writes DIR/error.txt and exits 1, and the head node
// treats the job as an infrastructure failure.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <fmt/core.h>

#include "base/file.h"
#include "engine/commands.h"
#include "engine/evaluate.h"
#include "engine/executor/job_files.h"
#include "engine/home.h"

namespace ergon::engine {
namespace {
namespace fs = std::filesystem;

int Fail(const fs::path& dir, const std::string& why) {
  fmt::print(stderr, "ergon eval-job: {}\n", why);
  if (auto failed = WriteWhole((dir / "error.txt").string(), why); !failed.empty())
    fmt::print(stderr, "ergon eval-job: and could not say so in {}: {}\n", (dir / "error.txt").string(), failed);
  return 1;
}

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace

int CmdEvalJob(const std::string& dir_arg) {
  const fs::path dir(dir_arg);
  const auto text = base::ReadFile((dir / "request.json").string());
  if (!text) return Fail(dir, fmt::format("cannot read {}", (dir / "request.json").string()));
  auto req = ParseJobRequest(*text);
  if (!req) return Fail(dir, req.error());
  auto home = FindHome();
  if (!home) return Fail(dir, home.error());
  auto registry = evaluators::TaskRegistry::Load(*home, req->tasks_dirs);
  auto task = registry.Open(req->task);
  if (!task) return Fail(dir, task.error());
  if ((*task)->Version() != req->expected_version)
    return Fail(dir, fmt::format("this node's ergon has evaluator {} for {}, the run uses {}", (*task)->Version(),
                                 req->task, req->expected_version));
  EvalOutcome o = Evaluate(**task, req->request, nullptr);
  if (o.usage_error) return Fail(dir, o.m.error);
  o.m.node = HostName();
  const char* id = std::getenv("SLURM_JOB_ID");
  o.m.job = id ? fmt::format("slurm job {}", id) : "eval-job";
  if (auto why = WriteWhole((dir / "result.json").string(), MeasurementJson(o.m)); !why.empty()) return Fail(dir, why);
  fmt::print("{}: {}\n", o.m.node, o.m.ran ? o.m.text : o.m.stage + ": " + o.m.error);
  return 0;
}

}  // namespace ergon::engine
