// Strategies and studies (issue 29): where each proposal starts, runs that
// see only themselves, the rank test, and `ergon study` end to end against
// a scripted model on 127.0.0.1, where building on the best pays and where
// it does not.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <sqlite3.h>
#include <doctest/doctest.h>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "chat_reply.h"
#include "countdown_task.h"
#include "engine/agents/reply.h"
#include "engine/rank_test.h"
#include "engine/reintroduced.h"
#include "engine/study_report.h"
#include "run_ergon.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using ergon::engine::MannWhitney;

namespace {

// Rows of one integer query over a SQLite file, read as it is on disk.
std::vector<std::vector<std::int64_t>> Query(const fs::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  REQUIRE_MESSAGE(sqlite3_prepare_v2(h, sql.c_str(), -1, &s, nullptr) == SQLITE_OK, sqlite3_errmsg(h));
  std::vector<std::vector<std::int64_t>> out;
  while (sqlite3_step(s) == SQLITE_ROW) {
    std::vector<std::int64_t> row;
    for (int i = 0; i < sqlite3_column_count(s); ++i) row.push_back(sqlite3_column_int64(s, i));
    out.push_back(row);
  }
  sqlite3_finalize(s);
  sqlite3_close(h);
  return out;
}

// A matmul 4x4 board whose baseline is the naive product (cost 1,485), so
// the offline agent's in-process steps find something at every proposal.
struct NaiveBoard {
  fs::path root, db;
  explicit NaiveBoard(const std::string& name) {
    root = fs::temp_directory_path() / ("ergon-study-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root / "naive4");
    std::ofstream(root / "naive4" / "task.json") << R"({
  "summary": "matmul 4x4 from the naive product",
  "language": "ir",
  "dally": {"board": "matmul4x4"},
  "description": "C = A*B for 4x4 integer matrices, cheapest IR.",
  "objectives": {"gate": {"metric": "exact", "min": 1}, "minimise": "cost"},
  "meter": "dally",
  "metrics": ["cost", "exact"],
  "params": {"search_moves": 0, "search_placed_moves": 20000},
  "edits": {"whole_file": true}
})";
    fs::copy_file(fs::path(ERGON_DALLY_DATA) / "matmul" / "naive_4x4.ir", root / "naive4" / "baseline.ir");
    db = root / "study.db";
  }
  ~NaiveBoard() { fs::remove_all(root); }
  std::string Run(const std::string& more) const {
    return "run --task naive4 --tasks '" + root.string() + "' --db '" + db.string() +
           "' --evaluators 1 --proposals 1 " + more;
  }
};

// An OpenAI-style server answering countdown prompts, by model:
//   climb  the program shown, its number 20 to 39 lower (building on the
//          best pays: each step adds to the last)
//   noise  a number drawn afresh each call, whatever program was shown
class ScriptedModel {
 public:
  ScriptedModel() {
    server_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      const json body = json::parse(req.body, nullptr, false);
      std::string user;
      for (const auto& m : body["messages"])
        if (m.value("role", "") == "user") {
          user = m.value("content", "");
          break;
        }
      int n;
      {
        std::lock_guard<std::mutex> l(mu_);
        n = calls_++;
      }
      const std::string model = body.value("model", "");
      if (model == "readd") {
        // 1000 -> 990 adds a line, 990 -> 980 deletes it, 980 -> 970 adds it
        // back (re-introduced code), then 10 less each time.
        const int parent = CostInPrompt(user);
        const int cost = parent - 10;
        const bool extra = cost == 990 || cost == 970;
        {
          std::lock_guard<std::mutex> l(mu_);
          prompts_.push_back(user);
        }
        const std::string text = "Idea: count down by ten\nOne step lower.\n```cpp\n" + Countdown::Source(cost) +
                                 (extra ? "constexpr int kExtra = 7;\n" : "") + "constexpr int kTag = " +
                                 std::to_string(n) + ";\n```\n";
        res.set_content(ChatReply(text), "application/json");
        return;
      }
      const int cost = model == "climb" ? CostInPrompt(user) - (20 + n % 20) : 100 + (n * 7919 + 17) % 900;
      // A tag makes every answer a program of its own (an archive keeps one
      // row per program: a repeat would be refused as a duplicate).
      const std::string text = "Another number.\n```cpp\n" + Countdown::Source(cost) +
                               "constexpr int kTag = " + std::to_string(n) + ";\n```\n";
      res.set_content(ChatReply(text), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 100 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~ScriptedModel() {
    server_.stop();
    thread_.join();
  }
  std::string Flags(const std::string& model) const {
    return "--agent openai --model " + model + " --base-url http://127.0.0.1:" + std::to_string(port_) +
           "/v1 --price-in 1 --price-out 2 --agent-timeout 20 --agent-backoff 0.1 ";
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  int calls_ = 0;
  std::vector<std::string> prompts_;

 public:
  std::vector<std::string> prompts() {
    std::lock_guard<std::mutex> l(mu_);
    return prompts_;
  }
};

}  // namespace

TEST_CASE("rank test: the exact permutation p-values and the normal approximation" * doctest::test_suite("fast")) {
  // Fully separated samples of 5 and 5: 2 of the C(10, 5) = 252 splits are
  // as extreme (both tails).
  auto t = MannWhitney({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10});
  CHECK(t.exact);
  CHECK(t.u == 0);
  CHECK(t.p == doctest::Approx(2.0 / 252));
  CHECK(MannWhitney({6, 7, 8, 9, 10}, {1, 2, 3, 4, 5}).u == 25);
  // 3 and 3: 2 of 20.
  CHECK(MannWhitney({1, 2, 3}, {4, 5, 6}).p == doctest::Approx(0.1));
  // The same values: nothing to tell apart.
  CHECK(MannWhitney({5, 5, 5, 5, 5}, {5, 5, 5, 5, 5}).p == doctest::Approx(1.0));
  CHECK(MannWhitney({1, 3, 5, 7, 9}, {2, 4, 6, 8, 10}).p > 0.5);
  // Ties take mid-ranks: {1, 1, 2} against {2, 3, 3} has U = 0.5.
  CHECK(MannWhitney({1, 1, 2}, {2, 3, 3}).u == doctest::Approx(0.5));
  // 15 and 15, separated: normal approximation, z = 112 / sqrt(581.25).
  std::vector<double> a, b;
  for (int i = 0; i < 15; ++i) {
    a.push_back(i);
    b.push_back(100 + i);
  }
  auto big = MannWhitney(a, b);
  CHECK_FALSE(big.exact);
  CHECK(big.p == doctest::Approx(3.39e-6).epsilon(0.02));
  CHECK(MannWhitney({}, {1, 2}).p == 1);
}

TEST_CASE("quartiles interpolate between order statistics" * doctest::test_suite("fast")) {
  auto q = ergon::engine::QuartilesOf({4, 1, 3, 2, 5});
  CHECK(q.median == 3);
  CHECK(q.q1 == 2);
  CHECK(q.q3 == 4);
  CHECK(ergon::engine::QuartilesOf({1, 2}).median == doctest::Approx(1.5));
  CHECK(ergon::engine::QuartilesOf({}).median == 0);
}

TEST_CASE("strategies: independent starts from the baseline, hillclimb from the best, isolated runs see only themselves" *
          doctest::test_suite("fast")) {
  NaiveBoard board("strategies");
  // An ordinary run first: its candidates are in the archive for later runs.
  Ran first = Ergon(board.Run("--max-candidates 3"));
  INFO(first.out);
  REQUIRE(first.code == 0);

  Ran ind = Ergon(board.Run("--strategy independent --isolated --max-candidates 4 --seed 2"));
  INFO(ind.out);
  REQUIRE(ind.code == 0);
  const auto base = Query(board.db, "SELECT id FROM candidates WHERE parent_id IS NULL");
  REQUIRE(base.size() == 1);
  const auto ind_parents = Query(board.db, "SELECT parent_id FROM candidates WHERE run_id = 2");
  REQUIRE(ind_parents.size() == 4);
  for (const auto& p : ind_parents) CHECK(p[0] == base[0][0]);

  Ran hill = Ergon(board.Run("--strategy hillclimb --isolated --max-candidates 5 --seed 3"));
  INFO(hill.out);
  REQUIRE(hill.code == 0);
  // Each parent is the best the run had when it was sampled: the baseline or
  // one of its own, cheaper than everything before it (a new best still
  // awaiting its fresh-suite verdict is not yet the best), and the parents
  // never get dearer.
  const auto hill_rows = Query(board.db,
                               "SELECT c.id, c.parent_id, CAST(p.value AS INTEGER) FROM candidates c JOIN "
                               "candidates q ON q.id = c.parent_id JOIN evaluation_metrics p ON "
                               "p.evaluation_id = q.primary_eval AND p.name = 'cost' WHERE c.run_id = 3 ORDER BY c.id");
  REQUIRE(hill_rows.size() == 5);
  std::int64_t last_cost = INT64_MAX;
  bool climbed = false;
  for (const auto& r : hill_rows) {
    const auto parent = r[1], cost = r[2];
    CHECK((parent == base[0][0] || Query(board.db, "SELECT run_id FROM candidates WHERE id = " +
                                                       std::to_string(parent))[0][0] == 3));
    CHECK(Query(board.db, "SELECT count(*) FROM candidates c JOIN evaluation_metrics m ON m.evaluation_id = "
                          "c.primary_eval AND m.name = 'cost' WHERE (c.run_id = 3 OR c.parent_id IS NULL) AND c.id < " +
                              std::to_string(parent) + " AND m.value <= " + std::to_string(cost))[0][0] == 0);
    CHECK(cost <= last_cost);
    last_cost = cost;
    climbed = climbed || parent != base[0][0];
  }
  CHECK(climbed);
  // The ordinary run's candidates were there to be seen, and an isolated
  // evolve run took none of them as a parent.
  Ran evo = Ergon(board.Run("--strategy evolve --isolated --max-candidates 4 --seed 4"));
  REQUIRE(evo.code == 0);
  CHECK(Query(board.db, "SELECT count(*) FROM candidates c JOIN candidates p ON p.id = c.parent_id "
                        "WHERE c.run_id = 4 AND p.run_id <> 4 AND p.parent_id IS NOT NULL")[0][0] == 0);
  // Stored with the run; a resumed run keeps its strategy.
  Ran runs = Ergon("archive runs --json --db '" + board.db.string() + "'");
  REQUIRE(runs.code == 0);
  const json listed = json::parse(runs.out);
  CHECK(listed[2]["strategy"] == "hillclimb");
  CHECK(listed[2]["isolated"] == true);
  CHECK(listed[0]["strategy"] == "evolve");
  CHECK(listed[0]["isolated"] == false);
  Ran change = Ergon(board.Run("--resume 3 --strategy evolve --max-candidates 6"));
  CHECK(change.code == 2);
  CHECK(change.out.find("run 3 was started with --strategy hillclimb --isolated; a resumed run keeps them") !=
        std::string::npos);
}

TEST_CASE("a study where building on the best pays: evolve beats independent over 5 seeds, and it resumes" *
          doctest::test_suite("slow")) {
  ScriptedModel model;
  Countdown task("study-pays");
  const std::string study = "study --task countdown --tasks '" + task.root.string() + "' --db '" + task.db.string() +
                            "' --name pays --target 955 " + model.Flags("climb") +
                            "--max-candidates 10 --evaluators 1 --proposals 1 --islands 1";
  // Two seeds, then all five: the first four runs are kept, not run again.
  Ran part = Ergon(study + " --seeds 2", "OPENAI_API_KEY=sk-test");
  INFO(part.out);
  REQUIRE(part.code == 0);
  Ran all = Ergon(study + " --seeds 5 --json", "OPENAI_API_KEY=sk-test");
  INFO(all.out);
  REQUIRE(all.code == 0);
  CHECK(all.out.find("evolve seed 2: run ") != std::string::npos);
  CHECK(all.out.find("already done") != std::string::npos);
  CHECK(Query(task.db, "SELECT count(*) FROM runs")[0][0] == 10);
  const json r = json::parse(all.out.substr(all.out.rfind("\n{") + 1));
  REQUIRE(r["arms"].size() == 2);
  CHECK(r["arms"][0]["arm"] == "evolve");
  CHECK(r["arms"][0]["runs"].size() == 5);
  CHECK(r["arms"][1]["runs"].size() == 5);
  const double evolve = r["arms"][0]["final"]["median"], independent = r["arms"][1]["final"]["median"];
  MESSAGE("final best, median over 5 seeds: evolve " << evolve << ", independent " << independent << "; p "
                                                     << r["comparisons"][0]["p"].get<double>());
  CHECK(evolve < independent);
  CHECK(r["comparisons"][0]["a_lower"] == true);
  CHECK(r["comparisons"][0]["exact"] == true);
  CHECK(r["comparisons"][0]["p"].get<double>() < 0.05);
  // Each run's curve never rises, and its spend grows with it.
  for (const auto& run : r["arms"][0]["runs"]) {
    REQUIRE(run["best"].size() == 10);
    for (std::size_t k = 1; k < run["best"].size(); ++k) CHECK(run["best"][k] <= run["best"][k - 1]);
    CHECK(run["tokens"].back().get<int>() >= 10 * 1100);
  }
  // Independent can never reach 955 (its best is 1000 less at most 39);
  // evolve does, though a proposer samples the next parents while its last
  // children are still evaluated, so the first few of every run start from
  // the baseline.
  CHECK(r["arms"][0]["reached"].get<int>() >= 3);
  CHECK(r["arms"][1]["reached"] == 0);
  CHECK(r["arms"][0]["to_target"]["candidates"].get<double>() > 1);
  // The text report says the same.
  Ran text = Ergon(study + " --seeds 5", "OPENAI_API_KEY=sk-test");
  INFO(text.out);
  REQUIRE(text.code == 0);
  CHECK(text.out.find("evolve is lower (p < 0.05)") != std::string::npos);
  if (const auto at = text.out.find("study 'pays'"); at != std::string::npos) MESSAGE(text.out.substr(at));
}

TEST_CASE("a study where building on the best does not pay reports no difference" * doctest::test_suite("slow")) {
  ScriptedModel model;
  Countdown task("study-noise");
  Ran r = Ergon("study --task countdown --tasks '" + task.root.string() + "' --db '" + task.db.string() +
                    "' --name noise --seeds 5 --json " + model.Flags("noise") +
                    "--max-candidates 4 --evaluators 1 --proposals 1 --islands 1",
                "OPENAI_API_KEY=sk-test");
  INFO(r.out);
  REQUIRE(r.code == 0);
  const json j = json::parse(r.out.substr(r.out.rfind("\n{") + 1));
  MESSAGE("noise: evolve " << j["arms"][0]["final"]["median"] << ", independent " << j["arms"][1]["final"]["median"]
                           << "; p " << j["comparisons"][0]["p"].get<double>());
  CHECK(j["comparisons"][0]["p"].get<double>() >= 0.05);
}

TEST_CASE("study usage errors: an unknown strategy, a flag the study sets itself, an unknown task" *
          doctest::test_suite("fast")) {
  NaiveBoard board("usage");
  const std::string base = "study --tasks '" + board.root.string() + "' --db '" + board.db.string() + "' ";
  Ran bad = Ergon(base + "--task naive4 --strategies evolve,random");
  CHECK(bad.code == 2);
  CHECK(bad.out.find("'random' is not a strategy") != std::string::npos);
  Ran own = Ergon(base + "--task naive4 --seed 3");
  CHECK(own.code == 2);
  CHECK(own.out.find("--seed is the study's to set for each run") != std::string::npos);
  Ran none = Ergon(base + "--task nosuch");
  CHECK(none.code == 2);
  CHECK(none.out.find("no task 'nosuch'") != std::string::npos);
  CHECK_FALSE(fs::exists(board.db));
}

TEST_CASE("idea labels: an `Idea:` line, markdown around it, or the intent's first words" * doctest::test_suite("fast")) {
  using ergon::engine::ReadIdea;
  auto a = ReadIdea("Idea: cache-blocked update\nBlock the loop so rows stay in L1.\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n");
  CHECK(a.idea == "cache-blocked update");
  CHECK(a.intent == "Block the loop so rows stay in L1.");
  auto b = ReadIdea("\n**Idea:** fewer passes\n\n*Fuse the two passes into one.*\n```cpp\nint main() {}\n```\n");
  CHECK(b.idea == "fewer passes");
  CHECK(b.intent == "Fuse the two passes into one.");
  auto c = ReadIdea("Lower the learning rate, since the loss oscillates late in training.\n```cpp\n```\n");
  CHECK(c.idea == "Lower the learning rate, since the");
  CHECK(c.intent == "Lower the learning rate, since the loss oscillates late in training.");
  auto d = ReadIdea("```cpp\nint main() {}\n```\n");  // no prose at all
  CHECK(d.idea.empty());
  CHECK(d.intent.empty());
  CHECK(ReadIdea("Idea: " + std::string(200, 'x')).idea.size() == 80);
}

TEST_CASE("re-introduced lines: counted on a lineage whose answer is known" * doctest::test_suite("fast")) {
  using ergon::engine::CountReintroduced;
  using ergon::engine::LineageStep;
  // g0 -> g1 deletes `a`, `b`; g1 -> g2 deletes `c` and adds `d`; the child
  // of g2 adds back `a` and `c`, adds `e` (new) and `}` (punctuation,
  // never counted), and keeps `d`.
  const std::string g0 = "int a = 1;\nint b = 2;\nint c = 3;\n";
  const std::string g1 = "int c = 3;\n";
  const std::string g2 = "int d = 4;\n";
  const std::string child = "int d = 4;\n  int a = 1;  \nint c = 3;\nint e = 5;\n}\n";
  std::vector<LineageStep> lineage = {{12, g1, g2, 950.0}, {11, g0, g1, 970.0}};
  auto r = CountReintroduced(g2, child, lineage);
  CHECK(r.added == 3);  // a, c, e
  CHECK(r.lines == 2);  // a (deleted by 11's change) and c (by 12's)
  CHECK(r.by == 12);    // the newest change that deleted one of them
  CHECK(r.by_metric == 950.0);
  // A line added twice and deleted once counts once.
  auto twice = CountReintroduced(g2, g2 + "int a = 1;\nint a = 1;\n", lineage);
  CHECK(twice.added == 2);
  CHECK(twice.lines == 1);
  CHECK(twice.by == 11);
  // Nothing re-added: nothing counted, no ancestor named.
  auto none = CountReintroduced(g2, g2 + "int z = 0;\n", lineage);
  CHECK(none.lines == 0);
  CHECK(none.by == 0);
}

TEST_CASE("a run records each candidate's idea and re-introduced lines, and tells the agent" *
          doctest::test_suite("slow")) {
  ScriptedModel model;
  Countdown task("readd");
  Ran r = Ergon(task.Args(model.Flags("readd") + "--strategy hillclimb --max-candidates 24 --evaluators 1 "
                                                  "--proposals 1 --islands 1"),
                "OPENAI_API_KEY=sk-test");
  INFO(r.out);
  REQUIRE(r.code == 0);
  Ran list = Ergon("archive list --json --limit 100 --db '" + task.db.string() + "'");
  REQUIRE(list.code == 0);
  const json rows = json::parse(list.out);
  // The 970s re-add the line the 980 change deleted; a proposer runs a
  // few children ahead, so several 980s and 970s may be made.
  std::int64_t readded = 0, deleter = 0, readders = 0;
  for (const auto& c : rows) {
    if (c["parent"].is_null()) continue;
    CHECK(c["idea"] == "count down by ten");
    CHECK(c["intent"] == "One step lower.");
    if (c["reintroduced"].get<int>() > 0) {
      CHECK(c["reintroduced"] == 1);
      readded = c["id"];
      deleter = c["parent"];
      ++readders;
    }
  }
  REQUIRE(readded > 0);
  Ran show = Ergon("archive show " + std::to_string(readded) + " --db '" + task.db.string() + "'");
  INFO(show.out);
  CHECK(show.out.find("idea: count down by ten") != std::string::npos);
  // Three lines added: the new number, the tag, and the line back.
  CHECK(show.out.find("re-adds 1 of the 3 lines its change added, which the change that made candidate " +
                      std::to_string(deleter) + " had deleted (candidate " + std::to_string(deleter) +
                      " scored cost 980)") != std::string::npos);
  CHECK(r.out.find(fmt::format("re-introduced code: {} line(s) in {} of 24 candidates", readders, readders)) !=
        std::string::npos);
  // The ledger (and the dashboard's ledger view) counts them by run and model.
  const json ledger = json::parse(Ergon("archive ledger --json --db '" + task.db.string() + "'").out);
  REQUIRE(ledger.size() == 1);
  CHECK(ledger[0]["reintroduced"] == readders);
  // A later prompt from that program told the agent.
  bool told = false;
  for (const auto& p : model.prompts()) told = told || p.find("Note: this program re-adds 1 of the 3 lines") != std::string::npos;
  CHECK(told);
}

TEST_CASE("study arms by flags and by run file: each arm's runs carry its name and its settings" *
          doctest::test_suite("fast")) {
  NaiveBoard board("arms");
  const fs::path night = board.root / "night.toml";
  std::ofstream(night) << "[run]\nstrategy = \"independent\"\nmax-candidates = 3\n";
  Ran r = Ergon("study --task naive4 --tasks '" + board.root.string() + "' --db '" + board.db.string() +
                "' --name arms --seeds 1 --json --strategies '' --arm 'climb=--strategy hillclimb --max-candidates 2' "
                "--arm 'night=--config " + night.string() + "' --evaluators 1 --proposals 1");
  INFO(r.out);
  REQUIRE(r.code == 0);
  const json j = json::parse(r.out.substr(r.out.rfind("\n{") + 1));
  REQUIRE(j["arms"].size() == 2);
  CHECK(j["arms"][0]["arm"] == "climb");
  CHECK(j["arms"][1]["arm"] == "night");
  CHECK(j["arms"][0]["runs"][0]["best"].size() == 2);  // its own budget
  CHECK(j["arms"][1]["runs"][0]["best"].size() == 3);  // the run file's
  const json runs = json::parse(Ergon("archive runs --json --db '" + board.db.string() + "'").out);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0]["strategy"] == "hillclimb");
  CHECK(runs[0]["study"]["arm"] == "climb");
  CHECK(runs[1]["strategy"] == "independent");
  CHECK(runs[1]["study"]["arm"] == "night");
  CHECK(runs[1]["isolated"] == true);
  // What an arm may not set, and what is not an arm.
  const std::string base = "study --task naive4 --tasks '" + board.root.string() + "' --db '" + board.db.string() + "' ";
  Ran seed = Ergon(base + "--arm 'x=--seed 3'");
  CHECK(seed.code == 2);
  CHECK(seed.out.find("arm x: --seed is the study's to set for each run") != std::string::npos);
  Ran word = Ergon(base + "--strategies '' --arm nonsense");
  CHECK(word.code == 2);
  CHECK(word.out.find("'nonsense' is not a strategy") != std::string::npos);
  Ran twice = Ergon(base + "--strategies evolve --arm 'evolve=--model m'");
  CHECK(twice.code == 2);
  CHECK(twice.out.find("two arms are named evolve") != std::string::npos);
}
