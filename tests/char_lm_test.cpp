// The char_lm task: its corpus and split, the referee, the calibrated gate,
// repeatable joules, and hostile learners (tests/gallery/char_lm/), all with
// real learners in the real sandbox on the real corpus (Debian's fortunes).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

#include "evaluators/char_lm/harness/evaluate.h"
#include "evaluators/learning/char_referee.h"
#include "evaluators/learning/nvml_meter.h"
#include "evaluators/learning/parity_instance.h"
#include "evaluators/learning/text_corpus.h"
#include "evaluators/task.h"
#include "sandbox/sandbox.h"
#include "slurp.h"
#include "test_sandbox.h"

namespace fs = std::filesystem;
using namespace ergon::evaluators;
using namespace ergon::evaluators::learning;

namespace {

std::string Source(const std::string& rel) {
  std::string text = Slurp(fs::path(ERGON_SOURCE_DIR) / rel);
  REQUIRE_MESSAGE(!text.empty(), rel);
  return text;
}

const TextCorpus& Corpus() {
  static const TextCorpus c = [] {
    auto loaded = LoadFortunes(kFortunesDir);
    REQUIRE_MESSAGE(loaded.has_value(), (loaded ? "" : loaded.error()));
    return *loaded;
  }();
  return c;
}

// The dev suite's validation text, as the harness draws it.
std::string DevValidation() {
  return SplitCorpus(Corpus(), SuiteSeeds("dev", 1)[0], 300000, 20000).validation;
}

CharLmReport Eval(const std::string& source, const std::string& meter = "wall", double timeout = 60) {
  CharLmRequest q;
  q.source = source;
  q.meter = meter;
  q.timeout_s = timeout;
  return EvaluateCharLm(TestSandbox(), q);
}

// The task as `ergon eval --task char_lm` opens it: task.json's gate.
std::unique_ptr<Task> CharLm() {
  auto reg = TaskRegistry::Load(ERGON_SOURCE_DIR, {});
  auto t = reg.Open("char_lm");
  REQUIRE_MESSAGE(t.has_value(), (t ? "" : t.error()));
  return std::move(*t);
}

}  // namespace

TEST_CASE("corpus: the fortunes as documents - and a split that is the same for a key and disjoint") {
  const TextCorpus& c = Corpus();
  CHECK(c.documents.size() > 10000);
  CHECK(c.bytes > 2000000);
  for (const auto& d : c.documents) {
    REQUIRE(!d.empty());
    CHECK(d.back() == '\n');
    CHECK(d.find("\n%\n") == std::string::npos);
    CHECK(std::all_of(d.begin(), d.end(), [](char ch) { return ch == '\t' || ch == '\n' || (ch >= 0x20 && ch < 0x7f); }));
  }
  const TextSplit a = SplitCorpus(c, 7, 300000, 20000), b = SplitCorpus(c, 7, 300000, 20000);
  const TextSplit other = SplitCorpus(c, 8, 300000, 20000);
  CHECK(a.train == b.train);
  CHECK(a.validation == b.validation);
  CHECK(a.validation != other.validation);
  CHECK(a.validation.size() == 20000);
  CHECK(a.train.size() <= 300000);
  CHECK(a.train.size() > 290000);
  // The first validation document is not in the train part.
  const std::string first = a.validation.substr(0, a.validation.find("\n\n"));
  CHECK(a.train.find(first) == std::string::npos);
  // The dev suite's split is fixed; the fresh suite draws a new one.
  CHECK(SuiteSeeds("dev", 1) == SuiteSeeds("dev", 1));
  CHECK(SuiteSeeds("fresh", 1) != SuiteSeeds("fresh", 1));
}

TEST_CASE("referee: a character is revealed only after its prediction - surplus bytes never score") {
  CharReferee r("abc");
  CHECK(r.Opening() == "3\n");
  CHECK(r.Answer("") == "");
  CHECK(r.Answer("a") == "a");
  CHECK(r.predicted() == 1);
  CHECK(!r.Finished());
  CHECK(r.Answer("xcZZ") == "bc");  // two predictions, two reveals; the rest is surplus
  CHECK(r.Finished());
  CHECK(r.right() == 2);
  CHECK(r.surplus() == 2);
  CHECK(r.accuracy() == doctest::Approx(2.0 / 3));
}

TEST_CASE("a missing corpus is a clear error that names the package") {
  CharLmRequest q;
  q.source = "int main() { return 0; }";
  q.corpus_dir = "/nonexistent/fortunes";
  CharLmReport r = EvaluateCharLm(TestSandbox(), q);
  CHECK(!r.ran);
  CHECK(r.stage == "corpus");
  CHECK(r.status.find("fortunes") != std::string::npos);
  CHECK(r.status.find("apt-get install") != std::string::npos);
}

TEST_CASE("the gate: the baseline passes it - a bigram model does not - an n-gram model does") {
  auto task = CharLm();
  auto eval = [&](const std::string& rel) {
    TaskEvalRequest q;
    q.source = Source(rel);
    q.meter = "wall";
    Measurement m = task->Evaluate(TestSandbox(), q);
    INFO(rel, ": ", m.error, "\n", m.feedback);
    REQUIRE(m.ran);
    MESSAGE(rel << ": accuracy " << m.metrics.at("accuracy"));
    return m;
  };
  const Measurement baseline = eval("evaluators/char_lm/baseline.cpp");
  CHECK(baseline.gate_passed);
  CHECK(baseline.metrics.at("accuracy") < task->spec().gate_min + 0.05);  // a small margin, as documented
  const Measurement bigram = eval("tests/learners/char_lm/bigram.cpp");
  CHECK(!bigram.gate_passed);
  CHECK(bigram.metrics.at("accuracy") > 0.2);  // it is a real model, just too weak
  CHECK(eval("evaluators/char_lm/ngram.cpp").gate_passed);
}

TEST_CASE("the n-gram learner under cachemodel: the same joules to the last digit twice") {
  const CharLmReport a = Eval(Source("evaluators/char_lm/ngram.cpp"), "cachemodel");
  const CharLmReport b = Eval(Source("evaluators/char_lm/ngram.cpp"), "cachemodel");
  REQUIRE_MESSAGE(a.ran, a.status << "\n" << a.feedback);
  REQUIRE(b.ran);
  REQUIRE(a.energy_j);
  CHECK(*a.energy_j > 0);
  CHECK(*a.energy_j == *b.energy_j);
  CHECK(a.counts.ir == b.counts.ir);
  CHECK(a.accuracy == b.accuracy);
}

TEST_CASE("hostile char_lm learners: a corpus hunter finds nothing to copy") {
  // The corpus is on this machine and readable outside the sandbox, so a
  // hunter that finds nothing was stopped by the sandbox, not by luck.
  REQUIRE(fs::exists(fs::path(kFortunesDir) / "cookie"));
  std::ifstream outside(fs::path(kFortunesDir) / "cookie");
  REQUIRE(outside.good());
  const CharLmReport r = Eval(Source("tests/gallery/char_lm/corpus_hunter.cpp"), "wall", 60);
  REQUIRE_MESSAGE(r.ran, r.status << "\n" << r.feedback);
  MESSAGE(r.feedback);
  CHECK(r.feedback.find("searched ") != std::string::npos);  // it did search
  CHECK(r.feedback.find("FOUND") == std::string::npos);
}

TEST_CASE("hostile char_lm learners: reading ahead stalls - cut off and scored on what it predicted") {
  const std::string validation = DevValidation();
  const CharLmReport r = Eval(Source("tests/gallery/char_lm/read_ahead.cpp"), "cachemodel", 4);
  REQUIRE_MESSAGE(r.ran, r.status << "\n" << r.feedback);
  REQUIRE(r.per_instance.size() == 1);
  const CharLmInstance& i = r.per_instance[0];
  CHECK(i.cut_off);
  CHECK(i.predicted == 11);  // ten answered, the eleventh waiting for two reveals
  CHECK(i.right == static_cast<std::size_t>(std::count(validation.begin(), validation.begin() + 11, ' ')));
  CHECK(r.feedback.find("read ahead: got") == std::string::npos);
  CHECK(r.feedback.find("cut off at the time limit") != std::string::npos);
  CHECK(!r.energy_j);  // killed under valgrind: its energy is unknown, and it cannot rank
  Measurement m;
  m.ran = true;
  m.meter = "cachemodel";
  m.metrics = {{"accuracy", r.accuracy}, {"wall_s", r.wall_s}};
  struct Judged : Task {
    using Task::Task;
    Measurement Evaluate(const ergon::sandbox::Sandbox&, const TaskEvalRequest&) const override { return {}; }
    std::string Version() const override { return "t"; }
    void Apply(Measurement& x) const { Judge(x); }
  };
  Judged(CharLm()->spec()).Apply(m);
  CHECK(!m.gate_passed);
  CHECK(m.fitness == -1e300);
}

TEST_CASE("hostile char_lm learners: all predictions at once are scored as the guesses they are") {
  const std::string validation = DevValidation();
  const CharLmReport r = Eval(Source("tests/gallery/char_lm/all_at_once.cpp"));
  REQUIRE_MESSAGE(r.ran, r.status << "\n" << r.feedback);
  const CharLmInstance& i = r.per_instance.at(0);
  CHECK(i.predicted == validation.size());
  CHECK(i.right == static_cast<std::size_t>(std::count(validation.begin(), validation.end(), 'e')));
  CHECK(!i.cut_off);
}

TEST_CASE("hostile char_lm learners: printed claims are predictions - scored as such") {
  const std::string validation = DevValidation();
  const CharLmReport r = Eval(Source("tests/gallery/char_lm/claims.cpp"), "cachemodel");
  REQUIRE_MESSAGE(r.ran, r.status << "\n" << r.feedback);
  const std::string claim = "accuracy: 1.000000\nenergy_j: 0.0\ngate passed\n";
  const CharLmInstance& i = r.per_instance.at(0);
  CHECK(i.predicted == claim.size());
  std::size_t right = 0;
  for (std::size_t k = 0; k < claim.size(); ++k) right += claim[k] == validation[k];
  CHECK(i.right == right);
  CHECK(r.accuracy < 0.01);
  REQUIRE(r.energy_j);  // it ran to its end: measured
  CHECK(*r.energy_j > 0);
}

TEST_CASE("hostile char_lm learners: a forked helper's work is in the energy") {
  const std::string source = Source("tests/gallery/char_lm/fork_helper.cpp");
  std::string inline_source = source;
  const std::string flag = "constexpr bool kFork = true;";
  inline_source.replace(inline_source.find(flag), flag.size(), "constexpr bool kFork = false;");
  const CharLmReport forked = Eval(source, "cachemodel", 120);
  const CharLmReport alone = Eval(inline_source, "cachemodel", 120);
  REQUIRE_MESSAGE(forked.ran, forked.status << "\n" << forked.feedback);
  REQUIRE_MESSAGE(alone.ran, alone.status << "\n" << alone.feedback);
  CHECK(forked.counts.processes == 2);
  CHECK(alone.counts.processes == 1);
  CHECK(forked.accuracy == alone.accuracy);
  CHECK(*forked.energy_j > *alone.energy_j * 0.95);
}

TEST_CASE("the CUDA baseline learns like the CPU one on the GPU, under the nvml meter (skipped without a GPU)") {
  if (ergon::sandbox::NvidiaDeviceNodes().empty() || !NvmlMeter::Open()) {
    MESSAGE("SKIPPED (visible): no NVIDIA GPU on this machine");
    return;
  }
  CharLmRequest q;
  q.source = Source("evaluators/char_lm/baseline.cu");
  q.cuda = true;
  q.meter = "nvml";
  q.timeout_s = 120;
  const CharLmReport r = EvaluateCharLm(TestSandbox(), q);
  INFO("stage ", r.stage, ": ", r.status, "\n", r.feedback);
  REQUIRE(r.ran);
  REQUIRE(r.energy_j);
  CHECK(*r.energy_j > 0);
  const CharLmReport cpu = Eval(Source("evaluators/char_lm/baseline.cpp"));
  REQUIRE(cpu.ran);
  MESSAGE("CUDA accuracy " << r.accuracy << " (CPU " << cpu.accuracy << "), " << *r.energy_j << " J");
  CHECK(std::abs(r.accuracy - cpu.accuracy) < 0.01);  // the same model; float sums in another order
}
