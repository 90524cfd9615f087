// The search loop with fakes: an agent that writes countdown programs from a
// script, and an executor that reads the cost out of the source instead of
// compiling and running it. A real archive file, a real task folder; runs of
// milliseconds, so budgets, deadlines, the breaker, resume and adjudication
// are tested here rather than only through the binary (search_test.cpp and
// cli_test.cpp run the real thing).
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <sqlite3.h>

#include "archive/archive.h"
#include "engine/agents/agent.h"
#include "engine/budget.h"
#include "engine/executor/executor.h"
#include "engine/search.h"
#include "tests/countdown_task.h"

namespace {
using namespace ergon;
using engine::AgentError;
using engine::AgentReply;
using engine::AgentRequest;

// The cost a countdown program writes (its kCost), or -1.
int CostOf(const std::string& source) {
  const auto at = source.find("kCost = ");
  if (at == std::string::npos) return -1;
  return std::atoi(source.c_str() + at + 8);
}

// Measures a countdown program without running it. Optional faults: a delay
// per suite, a harness failure, lost jobs.
class FakeExecutor : public engine::Executor {
 public:
  struct Faults {
    std::map<std::string, double> delay_s;  // by suite
    bool harness_error = false;             // every dev evaluation after the baseline
    bool fresh_fails = false;               // the fresh suite disagrees (overfit)
    int overfit_every = 0;                  // or only with costs divisible by this
  };
  FakeExecutor() = default;
  explicit FakeExecutor(Faults f) : f_(std::move(f)) {}

  std::string name() const override { return "fake"; }
  evaluators::Measurement Measure(const evaluators::Task&, const std::string& key,
                                  const evaluators::TaskEvalRequest& q, const std::string&) override {
    {
      std::lock_guard<std::mutex> l(seen_->mu);
      ++seen_->measured[q.suite];
      seen_->unrecorded.insert(key);
    }
    evaluators::Measurement m;
    m.suite = q.suite;
    m.meter = "wall";
    const auto until = std::chrono::steady_clock::now() +
                       std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           std::chrono::duration<double>(f_.delay_s.count(q.suite) ? f_.delay_s.at(q.suite) : 0));
    while (std::chrono::steady_clock::now() < until)
      if (cancel_.load()) {
        m.stage = "run";
        m.error = "cut off";
        return m;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    const int cost = CostOf(q.source);
    if (f_.harness_error && cost != 1000 && q.suite == "dev") {
      m.harness_error = true;
      m.stage = "harness";
      m.error = "score.sh: exit 3";
      return m;
    }
    if (cost < 0) {
      m.stage = "output";
      m.error = "no answer";
      return m;
    }
    m.ran = true;
    m.metrics = {{"ok", 1}, {"cost", cost}};
    const bool overfit = f_.fresh_fails || (f_.overfit_every > 0 && cost % f_.overfit_every == 0);
    m.gate_passed = !(overfit && q.suite == "fresh" && cost != 1000);
    m.fitness = -cost;
    m.objectives = {-1, static_cast<double>(cost)};
    m.text = "cost " + std::to_string(cost);
    return m;
  }
  void Recorded(const std::string& key) override {
    std::lock_guard<std::mutex> l(seen_->mu);
    seen_->unrecorded.erase(key);
  }
  std::vector<engine::Unfinished> Orphans() override { return {}; }
  bool KeepsNotes() const override { return false; }
  void Cancel() override { cancel_.store(true); }
  engine::ExecutorCounts Counts() const override { return {}; }

  // What it saw, shared with the test (the run owns the executor).
  struct Seen {
    std::mutex mu;
    std::map<std::string, int> measured;  // by suite
    std::set<std::string> unrecorded;     // measured, not yet Recorded
  };
  std::shared_ptr<Seen> seen() { return seen_; }

 private:
  Faults f_;
  std::atomic<bool> cancel_{false};
  std::shared_ptr<Seen> seen_ = std::make_shared<Seen>();
};

// Proposes countdown programs: call n (from 0) writes cost(n). A cost of 0
// or less is a reply the edit cannot apply; `fail(n)` makes call n an error.
class ScriptedAgent : public engine::Agent {
 public:
  ScriptedAgent(std::string model, std::function<int(int)> cost,
                std::function<std::optional<AgentError>(int)> fail = nullptr, double delay_s = 0)
      : model_(std::move(model)), cost_(std::move(cost)), fail_(std::move(fail)), delay_s_(delay_s) {}
  tl::expected<AgentReply, AgentError> Propose(const AgentRequest& req) override {
    const int n = calls_.fetch_add(1);
    if (delay_s_ > 0) std::this_thread::sleep_for(std::chrono::duration<double>(delay_s_));
    if (fail_)
      if (auto e = fail_(n)) return tl::unexpected(*e);
    AgentReply r;
    r.model = model_;
    r.tokens_in = 100;
    r.tokens_out = 10;
    const int cost = cost_(n);
    if (cost <= 0) {
      r.text = "<<<<<<< SEARCH\nno such line\n=======\nx\n>>>>>>> REPLACE\n";
    } else {
      r.program = std::make_shared<const std::string>(Countdown::Source(cost));
      r.intent = "cost " + std::to_string(cost);
    }
    (void)req;
    return r;
  }
  std::string name() const override { return "scripted"; }
  std::string model() const override { return model_; }

 private:
  std::string model_;
  std::function<int(int)> cost_;
  std::function<std::optional<AgentError>(int)> fail_;
  double delay_s_;
  std::atomic<int> calls_{0};
};

engine::SearchOptions Options(const Countdown& c) {
  engine::SearchOptions o;
  o.task = "countdown";
  o.agent = "scripted";
  o.db = c.db.string();
  o.home = ERGON_SOURCE_DIR;
  o.tasks_dirs = {c.root.string()};
  o.evaluators = 2;
  o.proposals = 2;
  o.heartbeat_s = 3600;
  o.grace_s = 0.2;
  o.novelty = 0;  // countdown programs differ in one number: all near-copies
  o.given = {"--max-candidates"};
  return o;
}

struct Ran {
  int rc = -1;
  double wall_s = 0;
};

Ran Run(const engine::SearchOptions& o, std::unique_ptr<engine::Agent> agent, std::unique_ptr<FakeExecutor> ex) {
  engine::SearchParts parts;
  parts.agents.push_back(std::move(agent));
  parts.executor = std::move(ex);
  const auto t0 = std::chrono::steady_clock::now();
  Ran r;
  r.rc = engine::RunSearch(o, std::move(parts));
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

std::unique_ptr<archive::Archive> Open(const Countdown& c) {
  auto a = archive::Archive::OpenReadOnly(c.db.string());
  REQUIRE(a);
  return std::move(*a);
}

// Every candidate of the task, by status; and that no source is there twice.
std::map<std::string, int> Statuses(archive::Archive& a) {
  auto rows = a.List({std::nullopt, "countdown", std::nullopt, 0});
  REQUIRE(rows);
  std::map<std::string, int> by;
  std::set<std::string> hashes;
  for (const auto& r : *rows) {
    ++by[archive::StatusName(r.candidate.status)];
    CHECK(hashes.insert(r.candidate.hash).second);
  }
  return by;
}

// The message of the run's last event of `kind` ("" if none).
std::string LastEvent(const Countdown& c, const std::string& kind) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(c.db.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT message FROM events WHERE kind=? ORDER BY id DESC LIMIT 1", -1, &s, nullptr) ==
          SQLITE_OK);
  sqlite3_bind_text(s, 1, kind.c_str(), -1, SQLITE_TRANSIENT);
  std::string out;
  if (sqlite3_step(s) == SQLITE_ROW) out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

archive::Run RunRow(archive::Archive& a, std::int64_t id) {
  auto r = a.GetRun(id);
  REQUIRE(r);
  REQUIRE(*r);
  return **r;
}

}  // namespace

TEST_CASE("loop: the candidate budget holds exactly with several proposers and slots, each call in the ledger" * doctest::test_suite("fast")) {
  Countdown c("loop-budget");
  auto o = Options(c);
  o.max_candidates = 12;  // new candidates: the baseline is not one
  o.proposals = 3;
  auto ex = std::make_unique<FakeExecutor>();
  auto seen = ex->seen();  // outlives the executor, which the run owns
  const Ran r = Run(o, std::make_unique<ScriptedAgent>("m", [](int n) { return 999 - n; }), std::move(ex));
  CHECK(r.rc == 0);
  CHECK(r.wall_s < 20);
  auto a = Open(c);
  const auto by = Statuses(*a);
  int all = 0;
  for (const auto& [status, n] : by) all += n;
  CHECK(all == 1 + 12);
  CHECK(RunRow(*a, 1).status == archive::RunStatus::kDone);
  auto led = a->Ledger();
  REQUIRE(led);
  REQUIRE(led->size() == 1);
  CHECK(led->front().calls == 12);  // every call became a candidate: none lost, none twice
  std::lock_guard<std::mutex> l(seen->mu);
  CHECK(seen->unrecorded.empty());  // every measurement was recorded, then forgotten
  CHECK(seen->measured["dev"] == 1 + 12);  // every measurement was recorded, then forgotten
}

TEST_CASE("loop: the deadline cuts off evaluations in flight; the run is stopped and its attempts kept" * doctest::test_suite("fast")) {
  Countdown c("loop-deadline");
  auto o = Options(c);
  o.max_candidates = 1000;
  o.max_time_s = 0.6;
  o.given = {"--max-time"};
  FakeExecutor::Faults f;
  f.delay_s["dev"] = 0.25;
  auto ex = std::make_unique<FakeExecutor>(f);
  const Ran r = Run(o, std::make_unique<ScriptedAgent>("m", [](int n) { return 999 - n; }), std::move(ex));
  CHECK(r.rc == 0);
  CHECK(r.wall_s < 5);  // the baseline's 0.25 s, the deadline, no grace
  auto a = Open(c);
  const archive::Run run = RunRow(*a, 1);
  CHECK(run.status == archive::RunStatus::kStopped);
  auto outcomes = a->Outcomes(1);
  REQUIRE(outcomes);
  // What was in flight at the deadline is an attempt, cut off; not a candidate.
  CHECK((*outcomes)[1][archive::Outcome::kCutOff] >= 1);
}

TEST_CASE("loop: an agent whose edits never apply trips the circuit breaker" * doctest::test_suite("fast")) {
  Countdown c("loop-breaker");
  auto o = Options(c);
  o.max_candidates = 3;
  o.repair_turns = 0;
  const Ran r = Run(o, std::make_unique<ScriptedAgent>("m", [](int) { return 0; }), std::make_unique<FakeExecutor>());
  CHECK(r.rc == 0);
  auto a = Open(c);
  CHECK(LastEvent(c, "budget_stop").find("circuit breaker") != std::string::npos);
  auto outcomes = a->Outcomes(1);
  REQUIRE(outcomes);
  // 10 per candidate asked for, plus 20: then it stops (a few more may be in flight).
  const auto invalid = (*outcomes)[1][archive::Outcome::kInvalid];
  CHECK(invalid > 10 * 3 + 20);
  CHECK(invalid <= 10 * 3 + 20 + 2);
}

TEST_CASE("loop: a fatal agent error fails the run with its reason" * doctest::test_suite("fast")) {
  Countdown c("loop-fatal");
  auto o = Options(c);
  o.max_candidates = 10;
  auto fail = [](int n) -> std::optional<AgentError> {
    if (n < 2) return std::nullopt;
    AgentError e;
    e.message = "401: invalid key";
    e.fatal = true;
    return e;
  };
  const Ran r = Run(o, std::make_unique<ScriptedAgent>("m", [](int n) { return 999 - n; }, fail),
                    std::make_unique<FakeExecutor>());
  CHECK(r.rc == 1);
  auto a = Open(c);
  const archive::Run run = RunRow(*a, 1);
  CHECK(run.status == archive::RunStatus::kFailed);
  CHECK(run.stop_reason.find("401: invalid key") != std::string::npos);
}

TEST_CASE("loop: a broken harness stops the run, blaming the harness, not the candidate" * doctest::test_suite("fast")) {
  Countdown c("loop-harness");
  auto o = Options(c);
  o.max_candidates = 10;
  FakeExecutor::Faults f;
  f.harness_error = true;
  const Ran r = Run(o, std::make_unique<ScriptedAgent>("m", [](int n) { return 999 - n; }),
                    std::make_unique<FakeExecutor>(f));
  CHECK(r.rc == 1);
  auto a = Open(c);
  CHECK(RunRow(*a, 1).stop_reason.find("harness failed") != std::string::npos);
  const auto by = Statuses(*a);
  CHECK(by.count("failed") == 0);  // no candidate blamed
}

TEST_CASE("loop: --resume continues the budget: nothing lost, nothing counted twice" * doctest::test_suite("fast")) {
  Countdown c("loop-resume");
  auto o = Options(c);
  o.max_candidates = 6;
  CHECK(Run(o, std::make_unique<ScriptedAgent>("m", [](int n) { return 999 - n; }), std::make_unique<FakeExecutor>()).rc == 0);
  auto o2 = Options(c);
  o2.resume = 1;
  o2.max_candidates = 11;
  // The second agent's programs differ from the first's.
  CHECK(Run(o2, std::make_unique<ScriptedAgent>("m", [](int n) { return 500 - n; }), std::make_unique<FakeExecutor>()).rc == 0);
  auto a = Open(c);
  const auto by = Statuses(*a);
  int all = 0;
  for (const auto& [status, n] : by) all += n;
  CHECK(all == 1 + 11);
  auto t = a->Totals(1);
  REQUIRE(t);
  CHECK(t->candidates == 11);
  auto led = a->Ledger();
  REQUIRE(led);
  CHECK(led->front().calls == 11);
}

TEST_CASE("loop: a new best cut off before its verdict stays pending; --resume judges it" * doctest::test_suite("fast")) {
  Countdown c("loop-pending");
  auto o = Options(c);
  o.max_candidates = 1000;
  o.max_time_s = 0.5;
  o.evaluators = 1;
  o.proposals = 1;
  o.given = {"--max-time"};
  FakeExecutor::Faults f;
  f.delay_s["fresh"] = 30;  // the verdict never comes before the deadline
  const Ran r = Run(o, std::make_unique<ScriptedAgent>("m", [](int) { return 7; }), std::make_unique<FakeExecutor>(f));
  CHECK(r.rc == 0);
  CHECK(r.wall_s < 5);
  {
    auto a = Open(c);
    const auto by = Statuses(*a);
    REQUIRE(by.count("pending") == 1);
    CHECK(by.at("pending") == 1);
  }
  auto o2 = Options(c);
  o2.resume = 1;
  o2.max_time_s = 60;
  o2.max_candidates = 1;  // spent: the resumed run only judges what is pending
  o2.given = {"--max-time", "--max-candidates"};
  const Ran r2 = Run(o2, std::make_unique<ScriptedAgent>("m", [](int n) { return 100 + n; }),
                     std::make_unique<FakeExecutor>());
  CHECK(r2.rc == 0);
  auto a = Open(c);
  const auto by = Statuses(*a);
  CHECK(by.count("pending") == 0);
  CHECK(by.at("evaluated") == 2);  // the baseline and the judged child
}

TEST_CASE("loop: a best the fresh suite does not confirm is overfit, and never the run's best" * doctest::test_suite("fast")) {
  Countdown c("loop-overfit");
  auto o = Options(c);
  o.max_candidates = 4;
  o.evaluators = 1;
  o.proposals = 1;
  FakeExecutor::Faults f;
  f.fresh_fails = true;
  CHECK(Run(o, std::make_unique<ScriptedAgent>("m", [](int n) { return 900 - n; }), std::make_unique<FakeExecutor>(f)).rc == 0);
  auto a = Open(c);
  const auto by = Statuses(*a);
  CHECK(by.at("overfit") == 4);  // each was a new best on dev, none held
  auto top = a->Top("countdown", "fitness", 1, false);
  REQUIRE(top);
  REQUIRE(!top->empty());
  CHECK(top->front().candidate.id == 1);  // still the baseline
}

TEST_CASE("loop: Ctrl-C stops new proposals; the run is stopped, resumable, and nothing in flight is lost" * doctest::test_suite("fast")) {
  Countdown c("loop-interrupt");
  // In a child process: the interrupt count is process-wide.
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    auto o = Options(c);
    o.max_candidates = 1000;
    auto agent = std::make_unique<ScriptedAgent>("m", [](int n) {
      if (n == 3) std::raise(SIGINT);
      return 999 - n;
    });
    FakeExecutor::Faults f;
    f.delay_s["dev"] = 0.05;
    engine::SearchParts parts;
    parts.agents.push_back(std::move(agent));
    parts.executor = std::make_unique<FakeExecutor>(f);
    ::_exit(engine::RunSearch(o, std::move(parts)));
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  auto a = Open(c);
  const archive::Run run = RunRow(*a, 1);
  CHECK(run.status == archive::RunStatus::kStopped);
  auto t = a->Totals(1);
  REQUIRE(t);
  auto led = a->Ledger();
  REQUIRE(led);
  // Every call the agent answered is a candidate or a kept attempt.
  auto outcomes = a->Outcomes(1);
  REQUIRE(outcomes);
  CHECK(led->front().calls >= 4);
  CHECK(led->front().calls == t->candidates + t->attempts);  // Totals leaves the baseline out
  // No new proposal after the interrupt (the 4th call): at most what was in
  // flight then (2 proposers, 2 slots, a queue of 3) came after it.
  CHECK(led->front().calls <= 4 + 7);
}

TEST_CASE("budget: each limit stops the run at its figure, with its words; none given, none applies" *
          doctest::test_suite("fast")) {
  using engine::StopReason;
  engine::Budget b;
  b.max_candidates = 10;
  engine::Used u;
  CHECK(StopReason(b, u) == "");
  u.candidates = 9;
  CHECK(StopReason(b, u) == "");
  u.candidates = 10;
  CHECK(StopReason(b, u) == "--max-candidates 10 reached");
  u.candidates = 0;
  b.max_time_s = 60;
  u.elapsed_s = 59.9;
  CHECK(StopReason(b, u) == "");
  u.elapsed_s = 60;
  CHECK(StopReason(b, u) == "--max-time 60s reached");
  u.elapsed_s = 0;
  b.max_cost_usd = 0.5;
  u.cost_usd = 0.5;
  CHECK(StopReason(b, u) == "--max-cost $0.50 reached");
  u.cost_usd = 0;
  b.max_tokens = 1000;
  u.tokens = 999;
  CHECK(StopReason(b, u) == "");
  u.tokens = 1000;
  CHECK(StopReason(b, u) == "--max-tokens 1000 reached");
  // Ctrl-C and STOP come first, whatever else is spent.
  u.stop_file = true;
  CHECK(StopReason(b, u, "/x/STOP") == "/x/STOP appeared");
  u.interrupted = true;
  CHECK(StopReason(b, u) == "interrupted (Ctrl-C)");
  // No limit given: time, cost and tokens never stop it.
  engine::Budget none;
  none.max_candidates = engine::kNoCandidateLimit;
  engine::Used lots;
  lots.elapsed_s = 1e9;
  lots.cost_usd = 1e9;
  lots.tokens = 1'000'000'000;
  lots.candidates = 1'000'000;
  CHECK(StopReason(none, lots) == "");
}

TEST_CASE("budget: the circuit breaker allows 10 wasted attempts per candidate asked for, plus 20" *
          doctest::test_suite("fast")) {
  using archive::Outcome;
  engine::Budget b;
  b.max_candidates = 3;
  engine::Used u;
  u.outcomes[Outcome::kInvalid] = 30;
  u.outcomes[Outcome::kDuplicate] = 10;
  u.outcomes[Outcome::kCutOff] = 1000;  // cut off and lost are the run's doing, not wasted
  u.outcomes[Outcome::kLost] = 1000;
  CHECK(StopReason(b, u) == "");  // 40 of 50
  u.outcomes[Outcome::kNotNovel] = 5;
  u.outcomes[Outcome::kDidNotRun] = 5;
  CHECK(StopReason(b, u) == "");  // 50 of 50
  u.outcomes[Outcome::kDidNotRun] = 6;
  CHECK(StopReason(b, u) == "too many failed attempts (circuit breaker)");
  // Without a candidate limit, the allowance grows with what was made.
  b.max_candidates = engine::kNoCandidateLimit;
  u.candidates = 100;  // asked: 110, allowance 1,120
  CHECK(StopReason(b, u) == "");
  u.outcomes[Outcome::kInvalid] = 1200;
  CHECK(StopReason(b, u) == "too many failed attempts (circuit breaker)");
}

TEST_CASE("loop: the live model bandit ends equal to the one the ledger restores, overfit children and all" *
          doctest::test_suite("fast")) {
  Countdown c("loop-bandit");
  auto o = Options(c);
  o.max_candidates = 30;
  o.islands = 1;
  FakeExecutor::Faults f;
  f.overfit_every = 3;  // some new bests do not hold on the fresh suite
  std::atomic<int> next{990};
  // "better" improves on the best so far, often; "worse" writes costs above
  // the baseline's (it passes the gate and never wins).
  engine::SearchParts parts;
  parts.agents.push_back(std::make_unique<ScriptedAgent>("better", [&next](int) { return next.fetch_sub(7); }));
  parts.agents.push_back(std::make_unique<ScriptedAgent>("worse", [](int n) { return 2000 + n; }));
  parts.executor = std::make_unique<FakeExecutor>(f);
  std::vector<engine::ModelBandit::Arm> live;
  parts.bandit_at_end = &live;
  CHECK(engine::RunSearch(o, std::move(parts)) == 0);
  REQUIRE(live.size() == 2);
  auto a = Open(c);
  auto led = a->Ledger();
  REQUIRE(led);
  std::map<std::string, archive::LedgerSummary> stored;
  for (const auto& l : *led) stored[l.model] = l;
  std::int64_t wins = 0;
  for (const auto& arm : live) {
    INFO(arm.name);
    REQUIRE(stored.count(arm.name) == 1);
    CHECK(arm.calls == stored[arm.name].calls);
    CHECK(arm.wins == stored[arm.name].wins);
    wins += arm.wins;
  }
  CHECK(wins > 0);
  CHECK(Statuses(*a).count("overfit") == 1);  // the case the two rules once disagreed on is there
}
