#include "evaluators/external_task.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "evaluators/harness_parts.h"
#include "evaluators/learning/metered_run.h"
#include "genome/genome.h"
#include "sandbox/compiler.h"

namespace ergon::evaluators {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

// The harness is trusted: it runs as ergon's user, with ergon's environment,
// outside the namespaces, but still under a watchdog and with its output
// capped, so a broken harness is reported instead of hanging a run.
tl::expected<sandbox::RunResult, std::string> RunHarness(const sandbox::Sandbox& trusted, const TaskSpec& spec,
                                                        std::vector<std::string> argv, double timeout_s) {
  sandbox::RunSpec r;
  r.argv = std::move(argv);
  r.work_dir = spec.dir;
  r.inherit_environment = true;
  r.limits.wall_s = timeout_s;
  r.limits.cpu_s = timeout_s;
  r.limits.address_space = 0;
  r.limits.processes = 0;
  r.limits.file_size = 0;
  r.limits.stdout_cap = 16 << 20;
  r.limits.stderr_cap = 16 << 10;
  return trusted.Run(r);
}

std::string Tail(const std::string& s, std::size_t n) { return s.size() <= n ? s : "..." + s.substr(s.size() - n); }

// Copies VISIBLE into the candidate's fresh working directory.
std::string CopyTree(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
  return ec ? fmt::format("cannot copy {} to {}: {}", from.string(), to.string(), ec.message()) : std::string();
}

// A private folder for one instance: VISIBLE and HIDDEN inside, mode 0700,
// owned by ergon's user, so the sandboxed uid cannot enter it.
struct InstanceDirs {
  fs::path root;
  ~InstanceDirs() {
    std::error_code ec;
    if (!root.empty()) fs::remove_all(root, ec);
  }
};

class ExternalTask : public Task {
 public:
  using Task::Task;

  std::string Version() const override {
    std::call_once(version_once_, [&] { version_ = spec().name + "/ext-" + HashHarness(); });
    return version_;
  }

  Measurement Evaluate(const sandbox::Sandbox& sb, const TaskEvalRequest& q) const override;

 private:
  // Every file of the task folder but the baseline and Python's caches, by
  // path and content: a changed harness is a changed evaluator.
  std::string HashHarness() const {
    std::vector<fs::path> files;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(spec().dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      const fs::path& p = it->path();
      if (it->is_directory() && p.filename() == "__pycache__") {
        it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file() && p.extension() != ".pyc" && p.filename() != spec().baseline) files.push_back(p);
    }
    std::sort(files.begin(), files.end());
    std::string all;
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      all += fs::relative(f, spec().dir).string() + "\n" + genome::ContentHash(text.str()) + "\n";
    }
    return genome::ContentHash(all).substr(0, 12);
  }

  mutable std::once_flag version_once_;
  mutable std::string version_;
};

Measurement ExternalTask::Evaluate(const sandbox::Sandbox& sb, const TaskEvalRequest& q) const {
  const TaskSpec& t = spec();
  Measurement m;
  m.meter = q.meter.empty() ? t.meter : q.meter;
  m.suite = q.suite;
  m.evaluator_version = Version();
  m.device = DeviceFor(m.meter);
  auto fail = [&](std::string stage, std::string error) {
    m.ran = false;
    m.stage = std::move(stage);
    m.error = std::move(error);
    m.harness_error = m.stage == "harness";
    Judge(m);
    return m;
  };
  const double timeout = q.timeout_s > 0 ? q.timeout_s : t.timeout_s;
  const std::size_t instances = q.instances ? q.instances : static_cast<std::size_t>(t.instances);
  const std::string language = q.language.empty() ? t.language : q.language;

  auto meter = learning::LearnerMeter::Open(m.meter);
  if (!meter) return fail("meter", meter.error());
  sandbox::SandboxOptions trusted_options;
  trusted_options.force_level = sandbox::IsolationLevel::kRlimitsOnly;
  trusted_options.uid = ::getuid();
  trusted_options.gid = ::getgid();
  trusted_options.uid_pool = 1;  // the harness is the user's: it runs as them, in their folder
  auto trusted = sandbox::Sandbox::Create(trusted_options);
  if (!trusted) return fail("harness", trusted.error());

  auto build = sandbox::ScratchDir::Create(sb, "ergon-learner-");
  if (!build) return fail("compile", build.error());
  sandbox::CompileRequest creq;
  creq.source = q.source;
  creq.language = language == "cuda" ? sandbox::Language::kCuda : sandbox::Language::kCpp;
  creq.output_dir = build->path();
  creq.timeout_s = 180;
  // As the built-in learners: line tables, so the cachemodel's profile can
  // name the candidate's hot lines for its agent.
  if (language != "cuda") creq.flags = {"-g1"};
  auto built = sandbox::Compile(sb, creq);
  if (!built) return fail("compile", built.error());
  if (!built->ok) {
    m.feedback = built->diagnostics;
    return fail("compile", "the candidate does not compile");
  }

  // Seeds: fixed for dev; for fresh, drawn here and never shown to the candidate.
  std::random_device rd;
  std::map<std::string, double> sums;
  double wall = 0, cpu = 0, energy = 0;
  bool have_energy = false;
  learning::EnergyBreakdown comp;  // means over the instances
  learning::EnergyProfile profile;
  learning::CacheCounts counts;
  for (std::size_t i = 0; i < instances; ++i) {
    const std::uint64_t seed =
        q.suite == "dev" ? 1000 + i : ((static_cast<std::uint64_t>(rd()) << 31) ^ rd()) & ((1ull << 62) - 1);
    InstanceDirs dirs;
    char tmpl[] = "/tmp/ergon-harness-XXXXXX";
    if (!::mkdtemp(tmpl)) return fail("harness", "cannot make a private folder in /tmp");
    dirs.root = tmpl;  // mkdtemp makes it 0700
    const fs::path visible = dirs.root / "visible", hidden = dirs.root / "hidden";
    std::error_code ec;
    fs::create_directory(visible, ec);
    fs::create_directory(hidden, ec);
    std::vector<std::string> prep = t.prepare;
    prep.insert(prep.end(), {std::to_string(seed), visible.string(), hidden.string()});
    auto prepared = RunHarness(*trusted, t, prep, t.harness_timeout_s);
    if (!prepared) return fail("harness", fmt::format("prepare could not start: {}", prepared.error()));
    if (!prepared->ok())
      return fail("harness", fmt::format("prepare failed on instance {}: {}\n{}", i + 1, prepared->Describe(),
                                         Tail(prepared->stderr_text, 2000)));

    auto work = sandbox::ScratchDir::Create(sb, "ergon-run-");
    if (!work) return fail("run", work.error());
    if (auto e = CopyTree(visible, work->path()); !e.empty()) return fail("harness", e);
    sandbox::RunSpec spec;
    spec.argv = {built->executable};
    spec.work_dir = work->path();
    spec.read_only_paths = {build->path()};
    spec.masked_paths = {t.dir};
    spec.limits.wall_s = timeout;
    spec.limits.cpu_s = timeout;
    spec.limits.address_space = 8ull << 30;
    spec.limits.file_size = 64ull << 20;
    spec.limits.stdout_cap = 1 << 20;
    spec.limits.stderr_cap = 16 << 10;
    auto ran = meter->Run(sb, spec, language == "cuda");
    if (!ran) return fail("run", ran.error());
    m.feedback = ran->run.stderr_text;
    if (!ran->run.ok())
      return fail("run", fmt::format("instance {}: the candidate failed: {}", i + 1, ran->run.Describe()));
    if (!ran->meter_error.empty()) return fail("meter", fmt::format("instance {}: {}", i + 1, ran->meter_error));

    std::vector<std::string> sc = t.score;
    sc.insert(sc.end(), {work->path(), hidden.string()});
    auto scored = RunHarness(*trusted, t, sc, t.harness_timeout_s);
    if (!scored) return fail("harness", fmt::format("score could not start: {}", scored.error()));
    if (!scored->ok())
      return fail("harness", fmt::format("score failed on instance {}: {}\n{}", i + 1, scored->Describe(),
                                         Tail(scored->stderr_text, 2000)));
    json j;
    try {
      j = json::parse(scored->stdout_text);
    } catch (const json::exception&) {
      return fail("harness", fmt::format("score printed no JSON object on instance {}: {}", i + 1,
                                         Tail(scored->stdout_text, 300)));
    }
    if (!j.is_object()) return fail("harness", fmt::format("score printed {} instead of a JSON object", j.type_name()));
    for (const auto& [k, v] : j.items()) {
      if (!v.is_number() || !std::isfinite(v.get<double>()))
        return fail("harness", fmt::format("score's metric \"{}\" is not a finite number", k));
      if (!IsMetricName(k))
        return fail("harness", fmt::format("score's metric name \"{}\" is not letters, digits, '_' and '.'", k));
      sums[k] += v.get<double>();
    }
    if (!j.contains(t.gate_metric))
      return fail("harness", fmt::format("score printed no \"{}\", the gate metric", t.gate_metric));
    wall += ran->run.wall_s;
    cpu += ran->run.user_s + ran->run.sys_s;
    if (ran->energy_j) {
      have_energy = true;
      energy += *ran->energy_j;
    }
    comp.AddMean(ran->components, static_cast<double>(instances));
    profile.AddMean(ran->profile, static_cast<double>(instances));
    counts += ran->counts;
  }
  const double n = static_cast<double>(instances);
  for (const auto& [k, v] : sums) m.metrics[k] = v / n;
  // The meter's numbers are ergon's: a harness cannot overrule them.
  m.metrics["wall_s"] = wall / n;
  m.metrics["cpu_s"] = cpu / n;
  if (have_energy) m.metrics["energy_j"] = energy / n;
  else m.metrics.erase("energy_j");
  // The same breakdown and profile as a built-in learner's: the prompt shows
  // an external task's hot spots alike.
  m.components = LearnerComponents(m.meter, instances, comp, counts, profile);
  m.ran = true;
  Judge(m);
  std::string shown;
  for (const auto& [k, v] : m.metrics) shown += fmt::format("{}{} {:.6g}", shown.empty() ? "" : "  ", k, v);
  m.text = fmt::format("{}  ({})  meter {}  suite {}  {} instance(s)", shown,
                       m.gate_passed ? "gate passed" : "gate FAILED", m.meter, m.suite, instances);
  json out = {{"status", "ok"}, {"task", t.name}, {"meter", m.meter}, {"suite", m.suite},
              {"gate_passed", m.gate_passed}, {"instances", instances}, {"evaluator_version", m.evaluator_version},
              {"metrics", m.metrics}, {"components", json::parse(m.components)}, {"feedback", m.feedback.substr(0, 4096)},
              {"isolation", sb.DescribeIsolation()}};
  m.json = out.dump();
  return m;
}

}  // namespace

std::unique_ptr<Task> MakeExternalTask(const TaskSpec& spec) { return std::make_unique<ExternalTask>(spec); }

}  // namespace ergon::evaluators
