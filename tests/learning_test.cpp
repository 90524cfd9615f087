// The sparse_parity harness and its meters, with real learners in the real
// sandbox: the baseline, a GF(2) reference learner, and the hostile gallery
// in tests/gallery/learners/.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>

#include "evaluators/learning/cachegrind_meter.h"
#include "evaluators/learning/nvml_meter.h"
#include "evaluators/learning/parity_instance.h"
#include "evaluators/sparse_parity/harness/evaluate.h"
#include "sandbox/compiler.h"
#include "sandbox/sandbox.h"
#include "test_sandbox.h"

namespace fs = std::filesystem;
using namespace ergon::evaluators;
using namespace ergon::evaluators::learning;

namespace {

std::string Slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), p.string());
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// A gallery learner as one file: "GF2_SOURCE" becomes the reference learner.
std::string Learner(const std::string& rel) {
  std::string s = Slurp(fs::path(ERGON_TESTS_DIR) / rel);
  const std::string marker = "#include \"GF2_SOURCE\"";
  if (auto at = s.find(marker); at != std::string::npos)
    s.replace(at, marker.size(), Slurp(fs::path(ERGON_TESTS_DIR) / "learners/gf2.cpp"));
  return s;
}

LearnEvalReport Eval(const std::string& source, const std::string& meter = "cachemodel", double timeout = 120) {
  LearnEvalRequest q;
  q.source = source;
  q.meter = meter;
  q.instances = 1;
  q.timeout_s = timeout;
  return EvaluateSparseParity(TestSandbox(), q);
}

}  // namespace

TEST_CASE("instances: labels are the parity of the secret bits - deterministic in the seed") {
  ParitySpec spec;
  auto a = MakeParityInstance(spec, 42), b = MakeParityInstance(spec, 42), c = MakeParityInstance(spec, 43);
  CHECK(a.secret == b.secret);
  CHECK(a.train_x == b.train_x);
  CHECK(a.train_x != c.train_x);
  REQUIRE(a.secret.size() == 3);
  for (int r = 0; r < spec.train_rows; ++r) {
    int p = 0;
    for (int s : a.secret) p ^= a.train_x[static_cast<std::size_t>(r * spec.n + s)];
    REQUIRE(p == a.train_y[static_cast<std::size_t>(r)]);
  }
  std::string train = TrainText(spec, a);
  CHECK(train.rfind("20 3 1000\n", 0) == 0);
  CHECK(train.size() == 10 + 1000 * 23);
  CHECK(TestText(spec, a).rfind("20 1000\n", 0) == 0);
  CHECK(SuiteSeeds("dev", 3) == SuiteSeeds("dev", 3));
  CHECK(SuiteSeeds("fresh", 3) != SuiteSeeds("fresh", 3));
  CHECK(SuiteSeeds("fresh", 3) != SuiteSeeds("dev", 3));
}

TEST_CASE("cachegrind outputs are summed - a process without counts is refused") {
  fs::path dir = fs::temp_directory_path() / "ergon-cg-test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "vg.10") << "log";
  std::ofstream(dir / "vg.11") << "log";
  std::ofstream(dir / "cg.10") << "desc: I1 cache\ncmd: ./learner\nevents: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw\n"
                                  "fl=x\n1 1 1 1 1 1 1 1 1 1\nsummary: 1000 10 5 300 20 4 200 8 2\n";
  CachegrindMeter m;
  auto missing = m.Collect(dir.string());
  REQUIRE(!missing.has_value());
  CHECK(missing.error().find("process 11") != std::string::npos);
  std::ofstream(dir / "cg.11") << "events: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw\nsummary: 1 0 0 1 0 0 1 0 0\n";
  auto c = m.Collect(dir.string());
  REQUIRE(c.has_value());
  CHECK(c->ir == 1001);
  CHECK(c->dr == 301);
  CHECK(c->dlmw == 2);
  CHECK(c->processes == 2);
  EnergyBreakdown e = m.Energy(*c);
  CHECK(e.instructions_j == doctest::Approx(1001 * 5e-12));
  CHECK(e.l1_j == doctest::Approx((301 + 201) * 20e-12));
  CHECK(e.ll_j == doctest::Approx((10 + 20 + 8) * 1600e-12));
  CHECK(e.dram_j == doctest::Approx((5 + 4 + 2) * 10240e-12));
  fs::remove_all(dir);
}

TEST_CASE("baseline under cachemodel: accurate - and the same joules to the last digit twice") {
  const std::string src = Slurp(fs::path(ERGON_SOURCE_DIR) / "evaluators/sparse_parity/baseline.cpp");
  LearnEvalReport a = Eval(src), b = Eval(src);
  REQUIRE_MESSAGE(a.ran, a.status << "\n" << a.feedback);
  REQUIRE_MESSAGE(b.ran, b.status);
  CHECK(a.accuracy >= 0.95);
  CHECK(a.gate_passed);
  REQUIRE(a.energy_j.has_value());
  CHECK(*a.energy_j > 0);
  CHECK(*a.energy_j == *b.energy_j);  // bit for bit
  CHECK(a.counts.ir == b.counts.ir);
  CHECK(a.counts.dlmr == b.counts.dlmr);
  MESSAGE("baseline: accuracy " << a.accuracy << ", energy " << *a.energy_j << " J (instr " << a.components.instructions_j
                                << ", L1 " << a.components.l1_j << ", LL " << a.components.ll_j << ", DRAM "
                                << a.components.dram_j << "), Ir " << a.counts.ir);

  LearnEvalReport g = Eval(Learner("learners/gf2.cpp"));
  REQUIRE_MESSAGE(g.ran, g.status << "\n" << g.feedback);
  CHECK(g.accuracy == 1.0);
  REQUIRE(g.energy_j.has_value());
  const double ratio = *a.energy_j / *g.energy_j;
  MESSAGE("gf2: energy " << *g.energy_j << " J (instr " << g.components.instructions_j << ", L1 " << g.components.l1_j
                         << ", LL " << g.components.ll_j << ", DRAM " << g.components.dram_j << "), Ir " << g.counts.ir
                         << "; baseline / gf2 = " << ratio);
  CHECK(ratio >= 100);
}

TEST_CASE("the wall meter runs natively and reports no energy") {
  LearnEvalReport w = Eval(Learner("learners/gf2.cpp"), "wall");
  REQUIRE_MESSAGE(w.ran, w.status);
  CHECK(!w.energy_j.has_value());
  CHECK(w.accuracy == 1.0);
  CHECK(w.wall_s > 0);
}

TEST_CASE("hostile learners: fake results, wrong rows, crashes and loops are scored truthfully") {
  LearnEvalReport fake = Eval(Learner("gallery/learners/fake_result.cpp"));
  REQUIRE_MESSAGE(fake.ran, fake.status);
  CHECK(fake.accuracy < 0.6);  // what it printed about itself is ignored
  CHECK(!fake.gate_passed);

  LearnEvalReport rows = Eval(Learner("gallery/learners/wrong_rows.cpp"));
  CHECK(!rows.ran);
  CHECK(rows.stage == "output");
  CHECK(rows.status.find("has 10 rows") != std::string::npos);

  LearnEvalReport crash = Eval(Learner("gallery/learners/crash.cpp"));
  CHECK(!crash.ran);
  CHECK(crash.stage == "run");
  CHECK(crash.status.find("SIGSEGV") != std::string::npos);

  LearnEvalReport loop = Eval(Learner("gallery/learners/loop.cpp"), "cachemodel", 2);
  CHECK(!loop.ran);
  CHECK(loop.stage == "run");
  CHECK((loop.status.find("timeout") != std::string::npos || loop.status.find("CPU limit") != std::string::npos));
}

TEST_CASE("hostile learners: work in children is counted or refused") {
  LearnEvalReport worker = Eval(Learner("gallery/learners/fork_worker.cpp"));
  REQUIRE_MESSAGE(worker.ran, worker.status << "\n" << worker.feedback);
  CHECK(worker.accuracy == 1.0);
  CHECK(worker.counts.processes == 2);  // the child's work is in the total
  LearnEvalReport plain = Eval(Learner("learners/gf2.cpp"));
  REQUIRE(plain.ran);
  CHECK(*worker.energy_j > *plain.energy_j * 0.9);

  LearnEvalReport escape = Eval(Learner("gallery/learners/fork_escape.cpp"));
  CHECK(!escape.ran);
  CHECK(escape.stage == "meter");
  CHECK(escape.status.find("unmeasured") != std::string::npos);
}

TEST_CASE("hostile learners: a spy sees neither the harness nor its parent's memory") {
  LearnEvalReport spy = Eval(Learner("gallery/learners/spy.cpp"), "wall");
  REQUIRE_MESSAGE(spy.ran, spy.status);
  CHECK(spy.feedback.find("PARENT_MEM denied") != std::string::npos);
  CHECK(spy.feedback.find("eval --task") == std::string::npos);
  CHECK(spy.feedback.find("sparse_parity/harness") == std::string::npos);
  CHECK(spy.feedback.find("learning_test") == std::string::npos);  // the test process itself
  MESSAGE(spy.feedback);
}

TEST_CASE("hostile learners: behaving differently under the meter fails the gate") {
  LearnEvalReport aware = Eval(Learner("gallery/learners/valgrind_aware.cpp"));
  REQUIRE_MESSAGE(aware.ran, aware.status);
  CHECK(!aware.gate_passed);
  CHECK(aware.accuracy < 0.6);
  // Natively it learns: proof that the switch is what the cachemodel run caught.
  LearnEvalReport native = Eval(Learner("gallery/learners/valgrind_aware.cpp"), "wall");
  REQUIRE(native.ran);
  CHECK(native.accuracy == 1.0);
}

TEST_CASE("nvml: unavailable without a driver - measured with one") {
  auto m = NvmlMeter::Open();
  if (!m) {
    MESSAGE("SKIPPED (visible): nvml " << m.error());
    CHECK(m.error().rfind("unavailable", 0) == 0);
    LearnEvalReport r = Eval(Learner("learners/gf2.cpp"), "nvml");
    CHECK(!r.ran);
    CHECK(r.stage == "meter");
    return;
  }
  auto reading = (*m)->Measure([] {}, 0.3);
  REQUIRE(reading.has_value());
  CHECK(reading->update_period_s > 0);
  CHECK(reading->idle_w > 0);
}

TEST_CASE("every CUDA learner under evaluators/ compiles with nvcc (skipped without nvcc)") {
  auto nvcc = ergon::sandbox::FindCompiler(ergon::sandbox::Language::kCuda);
  if (!nvcc) {
    MESSAGE("SKIPPED (visible): " << nvcc.error());
    return;
  }
  std::vector<fs::path> learners;
  for (const auto& task : fs::directory_iterator(fs::path(ERGON_SOURCE_DIR) / "evaluators"))
    if (task.is_directory())
      for (const auto& f : fs::directory_iterator(task.path()))
        if (f.path().extension() == ".cu") learners.push_back(f.path());
  CHECK(learners.size() >= 2);  // sparse_parity and char_lm
  for (const auto& cu : learners) {
    INFO(cu.string());
    auto dir = ergon::sandbox::ScratchDir::Create(TestSandbox(), "ergon-cuda-");
    REQUIRE(dir.has_value());
    ergon::sandbox::CompileRequest req;
    req.source = Slurp(cu);
    req.language = ergon::sandbox::Language::kCuda;
    req.output_dir = dir->path();
    req.timeout_s = 300;
    auto out = ergon::sandbox::Compile(TestSandbox(), req);
    REQUIRE(out.has_value());
    CHECK_MESSAGE(out->ok, out->diagnostics);
  }
}

TEST_CASE("the CUDA baseline learner learns on the GPU (skipped without one)") {
  if (ergon::sandbox::NvidiaDeviceNodes().empty() || !NvmlMeter::Open()) {
    MESSAGE("SKIPPED (visible): no NVIDIA GPU on this machine");
    return;
  }
  LearnEvalRequest q;
  q.source = Slurp(fs::path(ERGON_SOURCE_DIR) / "evaluators/sparse_parity/baseline.cu");
  q.cuda = true;
  q.meter = "wall";
  q.instances = 1;
  q.timeout_s = 120;
  LearnEvalReport r = EvaluateSparseParity(TestSandbox(), q);
  INFO("stage ", r.stage, ": ", r.status, "\n", r.feedback);
  REQUIRE(r.ran);
  CHECK(r.accuracy >= 0.95);
}
