#include "evaluators/char_lm/harness/evaluate.h"

#include <filesystem>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "evaluators/learning/built_learner.h"
#include "evaluators/learning/char_referee.h"
#include "evaluators/learning/metered_run.h"
#include "evaluators/learning/parity_instance.h"
#include "base/file.h"

namespace ergon::evaluators {
namespace {

// Where else the corpus's bytes lie on a Debian machine: the package's
// folder, and apt's cache of the package itself (a .deb is an archive a
// learner could unpack).
std::vector<std::string> CorpusCopies(const std::string& corpus_dir) {
  return {corpus_dir, "/var/cache/apt/archives"};
}

// Means over the instances, into the report.
void Summarise(CharLmReport& r) {
  const double n = static_cast<double>(r.per_instance.size());
  double energy = 0;
  bool every_energy = true;
  for (const auto& o : r.per_instance) {
    r.accuracy += o.accuracy / n;
    r.wall_s += o.wall_s / n;
    r.cpu_s += o.cpu_s / n;
    if (o.energy_j) energy += *o.energy_j / n;
    else every_energy = false;
    r.components.AddMean(o.components, n);
    r.profile.AddMean(o.profile, n);
    r.counts += o.counts;
  }
  if (r.meter != "wall" && every_energy) r.energy_j = energy;
}

}  // namespace

std::string CharLmCorpusDigest(const std::string& corpus_dir) {
  auto c = learning::LoadFortunes(corpus_dir);
  return c ? c->digest : "none";
}

CharLmReport EvaluateCharLm(const sandbox::Sandbox& sb, const CharLmRequest& q) {
  CharLmReport r;
  r.meter = q.meter;
  r.suite = q.suite;
  r.isolation = sb.DescribeIsolation();
  auto fail = [&](std::string stage, std::string status) {
    r.stage = std::move(stage);
    r.status = std::move(status);
    return r;
  };
  auto corpus = learning::LoadFortunes(q.corpus_dir);
  if (!corpus) return fail("corpus", corpus.error());
  auto meter = learning::LearnerMeter::Open(q.meter);
  if (!meter) return fail("meter", meter.error());

  auto built = learning::BuildLearner(sb, q.source, q.cuda);
  if (!built) {
    r.compile_s = built.error().compile_s;
    r.feedback = built.error().diagnostics;
    return fail("compile", built.error().error);
  }
  r.compile_s = built->compile_s;

  const auto keys = learning::SuiteSeeds(q.suite, q.instances);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const learning::TextSplit split = learning::SplitCorpus(*corpus, keys[i], q.train_bytes, q.validation_chars);
    auto work = sandbox::ScratchDir::Create(sb, "ergon-run-");
    if (!work) return fail("run", work.error());
    if (!base::WriteFile((std::filesystem::path(work->path()) / "train.txt").string(), split.train)) return fail("run", "cannot write train.txt");
    learning::CharReferee referee(split.validation);
    sandbox::RunSpec spec;
    spec.argv = {built->executable};
    spec.work_dir = work->path();
    spec.read_only_paths = {built->dir.path()};
    spec.masked_paths = CorpusCopies(q.corpus_dir);
    spec.peer = &referee;
    spec.limits.wall_s = q.timeout_s;
    spec.limits.cpu_s = q.timeout_s;
    spec.limits.address_space = 8ull << 30;
    spec.limits.file_size = 64ull << 20;
    spec.limits.stdout_cap = split.validation.size() + (64 << 10);
    spec.limits.stderr_cap = 16 << 10;
    auto ran = meter->Run(sb, spec, q.cuda);
    if (!ran) return fail("run", ran.error());
    // Under the cachemodel valgrind writes to its own files: stderr is the learner's.
    r.feedback = ran->run.stderr_text;
    CharLmInstance out;
    out.validation_chars = referee.size();
    out.train_bytes = split.train.size();
    out.predicted = referee.predicted();
    out.right = referee.right();
    out.surplus = referee.surplus();
    out.accuracy = referee.accuracy();
    out.wall_s = ran->run.wall_s;
    out.cpu_s = ran->run.user_s + ran->run.sys_s;
    out.cut_off = ran->run.outcome == sandbox::Outcome::kTimeout;
    if (sb.cancelled()) return fail("run", fmt::format("instance {}: {}", i + 1, ran->run.Describe()));
    if (!ran->run.ok() && !out.cut_off)
      return fail("run", fmt::format("instance {}: the learner failed after {} of {} predictions: {}", i + 1,
                                     out.predicted, out.validation_chars, ran->run.Describe()));
    if (!out.cut_off) {
      if (!ran->meter_error.empty()) return fail("meter", fmt::format("instance {}: {}", i + 1, ran->meter_error));
      out.energy_j = ran->energy_j;
      out.components = ran->components;
      out.profile = std::move(ran->profile);
      out.counts = ran->counts;
    } else {
      r.feedback += fmt::format("\n[ergon] instance {}: cut off at the time limit ({:.0f} s) after {} of {} predictions",
                                i + 1, q.timeout_s, out.predicted, out.validation_chars);
    }
    r.per_instance.push_back(out);
  }
  Summarise(r);
  r.ran = true;
  return r;
}

std::string CharLmReportJson(const CharLmReport& r) {
  nlohmann::json j;
  j["status"] = r.ran ? "ok" : r.status;
  j["stage"] = r.stage;
  j["task"] = "char_lm";
  j["meter"] = r.meter;
  j["suite"] = r.suite;
  j["accuracy"] = r.accuracy;
  j["energy_j"] = r.energy_j ? nlohmann::json(*r.energy_j) : nlohmann::json(nullptr);
  j["wall_s"] = r.wall_s;
  j["cpu_s"] = r.cpu_s;
  j["instances"] = r.per_instance.size();
  j["compile_s"] = r.compile_s;
  if (r.meter == "cachemodel")
    j["components"] = {{"instructions_j", r.components.instructions_j},
                       {"l1_j", r.components.l1_j},
                       {"ll_j", r.components.ll_j},
                       {"dram_j", r.components.dram_j},
                       {"Ir", r.counts.ir},
                       {"processes", r.counts.processes}};
  nlohmann::json per = nlohmann::json::array();
  for (const auto& o : r.per_instance) {
    per.push_back({{"accuracy", o.accuracy},
                   {"predicted", o.predicted},
                   {"right", o.right},
                   {"surplus_bytes", o.surplus},
                   {"validation_chars", o.validation_chars},
                   {"train_bytes", o.train_bytes},
                   {"cut_off", o.cut_off},
                   {"wall_s", o.wall_s},
                   {"cpu_s", o.cpu_s},
                   {"energy_j", o.energy_j ? nlohmann::json(*o.energy_j) : nlohmann::json(nullptr)}});
  }
  j["per_instance"] = per;
  j["feedback"] = r.feedback.substr(0, 4096);
  j["isolation"] = r.isolation;
  return j.dump();
}

}  // namespace ergon::evaluators
