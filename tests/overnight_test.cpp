// An overnight run as a user meets it, through the ergon binary: deadlines and
// stops that cut off work in flight, an agent that cannot be reached, budgets
// that survive --resume, old STOP files, failed attempts that can be found,
// read-only archives, long sources, and options checked up front.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <sqlite3.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "run_ergon.h"
#include "sleepy_task.h"
#include "slurp.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::string RunStatus(const fs::path& db) {
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(raw, "SELECT status FROM runs ORDER BY id LIMIT 1", -1, &s, nullptr);
  std::string out = sqlite3_step(s) == SQLITE_ROW ? reinterpret_cast<const char*>(sqlite3_column_text(s, 0)) : "";
  sqlite3_finalize(s);
  sqlite3_close(raw);
  return out;
}

}  // namespace

TEST_CASE("--max-time is a deadline: work in flight is cut off and recorded as cut off, never as invalid") {
  Sleepy t("deadline");
  const auto t0 = Clock::now();
  Ran r = Ergon(t.Args("--max-candidates 50 --evaluators 2 --max-time 9s"));
  const double took = std::chrono::duration<double>(Clock::now() - t0).count();
  INFO(r.out);
  CHECK(r.code == 0);
  CHECK(took < 9 + 4);  // the learner alone would take 4 s more per candidate in flight
  CHECK(r.out.find("--max-time 9s reached") != std::string::npos);
  CHECK(Count(t.db, "SELECT count(*) FROM attempts WHERE stage='cut_off'") >= 1);
  CHECK(Count(t.db, "SELECT count(*) FROM candidates WHERE status='failed'") == 0);
  CHECK(RunStatus(t.db) == "stopped");
  CHECK(r.out.find("--resume 1") != std::string::npos);
}

TEST_CASE("a run given only --max-time runs until that time; given no budget it says it stops at 10") {
  Sleepy t("onlytime", 0);
  fs::create_directories(t.root);
  const auto t0 = std::chrono::steady_clock::now();
  Ran timed = Ergon(t.Args("--max-time 20s --evaluators 2 --proposals 2"));
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO(timed.out);
  CHECK(timed.code == 0);
  CHECK(timed.out.find("budget: no candidate limit, 20 s") != std::string::npos);
  CHECK(timed.out.find("--max-candidates 10 reached") == std::string::npos);
  CHECK(timed.out.find("--max-time 20s reached") != std::string::npos);
  CHECK(took >= 19);
  Ran plain = Ergon("run --task sleepy --tasks '" + t.root.string() + "' --db '" + (t.root / "plain.db").string() +
                    "' --evaluators 2 --proposals 2");
  INFO(plain.out);
  CHECK(plain.code == 0);
  CHECK(plain.out.find("budget: 10 candidates (the default when no budget is given") != std::string::npos);
  CHECK(plain.out.find("--max-candidates 10 reached") != std::string::npos);
}

TEST_CASE("Ctrl-C: no new proposals - a grace for running work - then cut off - twice: at once - the run is marked stopped") {
  Sleepy t("sigint");
  const fs::path log = t.root / "log";
  pid_t pid = Start(t.Args("--max-candidates 50 --evaluators 2 --grace 60"), log);
  INFO(Slurp(log));  // lazily: the log as it is when a check fails
  REQUIRE(WaitFor(log, "evaluation slot(s)", 30));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  kill(pid, SIGINT);
  REQUIRE(WaitFor(log, "get 60 s to finish", 5));
  const auto t0 = Clock::now();
  kill(pid, SIGINT);  // the second: cut off now, not in 60 s
  int st = 0;
  waitpid(pid, &st, 0);
  const double took = std::chrono::duration<double>(Clock::now() - t0).count();
  CHECK(took < 5);
  CHECK(WIFEXITED(st));
  CHECK(WEXITSTATUS(st) == 130);
  CHECK(RunStatus(t.db) == "stopped");
  CHECK(Count(t.db, "SELECT count(*) FROM attempts WHERE stage='cut_off'") >= 1);
  CHECK(Count(t.db, "SELECT count(*) FROM candidates WHERE status='failed'") == 0);
  // --resume continues it, with the budget it was started with unless raised.
  Ran r = Ergon(t.Args("--resume 1 --max-candidates 1 --evaluators 1"));
  INFO(r.out);
  CHECK(r.code == 0);
  CHECK(r.out.find("budgets of run 1: 1 candidates") != std::string::npos);
}

TEST_CASE("a heartbeat while nothing lands") {
  Sleepy t("heartbeat", 5);
  Ran r = Ergon(t.Args("--max-candidates 1 --evaluators 1 --heartbeat 1"));
  INFO(r.out);
  CHECK(r.code == 0);
  CHECK(r.out.find("still running: 1 attempt(s) in flight") != std::string::npos);
}

TEST_CASE("an agent that cannot be reached ends the run with an error, unless falling back is asked for") {
  Sleepy t("unreachable", 0);
  const std::string agent = "--agent openai --model gpt-4o-mini --base-url http://127.0.0.1:1/v1 --agent-backoff 0.02 ";
  Ran r = Ergon(t.Args(agent + "--max-candidates 3"));
  INFO(r.out);
  CHECK(r.code == 1);
  // Refused: a few quick tries, then the run stops saying why (issue 28).
  CHECK(r.out.find("cannot reach http://127.0.0.1:1/v1/chat/completions") != std::string::npos);
  CHECK(RunStatus(t.db) == "failed");
  fs::remove(t.db);
  Ran f = Ergon(t.Args(agent + "--max-candidates 2 --fallback-offline --evaluators 1"));
  INFO(f.out);
  CHECK(f.code == 0);
  CHECK(f.out.find("fallback:") != std::string::npos);
}

TEST_CASE("--max-cost needs a price: refused up front for a model ergon cannot price") {
  Sleepy t("price", 0);
  const std::string agent = "--agent openai --base-url http://127.0.0.1:1/v1 --agent-backoff 0.02 --max-candidates 1 ";
  Ran r = Ergon(t.Args(agent + "--model mystery-model --max-cost 0.01"));
  CHECK(r.code == 2);
  CHECK(r.out.find("--max-cost needs prices") != std::string::npos);
  CHECK(!fs::exists(t.db));  // nothing half-written
  // A provider prefix is looked past; given prices are enough.
  Ran known = Ergon(t.Args(agent + "--model openai/gpt-4o-mini --max-cost 0.01"));
  CHECK(known.out.find("--max-cost needs prices") == std::string::npos);
  Ran priced = Ergon(t.Args(agent + "--model mystery-model --max-cost 0.01 --price-in 1 --price-out 2"));
  CHECK(priced.out.find("--max-cost needs prices") == std::string::npos);
}

TEST_CASE("budgets are stored with the run: --resume keeps them, flags given again replace them") {
  Sleepy t("budgets", 0);
  Ran first = Ergon(t.Args("--max-candidates 2 --evaluators 1"));
  REQUIRE(first.code == 0);
  Ran again = Ergon(t.Args("--resume 1 --evaluators 1"));
  INFO(again.out);
  CHECK(again.code == 0);
  CHECK(again.out.find("0 new candidates") != std::string::npos);  // not the default 10
  CHECK(again.out.find("candidates 2/2") != std::string::npos);
  Ran raised = Ergon(t.Args("--resume 1 --evaluators 1 --max-candidates 3"));
  CHECK(raised.code == 0);
  CHECK(raised.out.find("1 new candidates") != std::string::npos);
  CHECK(Count(t.db, "SELECT count(*) FROM candidates WHERE parent_id IS NOT NULL") == 3);
}

TEST_CASE("a STOP file older than the run is reported and ignored, one made during the run stops it") {
  Sleepy t("stopfile", 0);
  fs::create_directories(t.root);
  std::ofstream(t.root / "STOP") << "";
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Ran r = Ergon(t.Args("--max-candidates 2 --evaluators 1"));
  INFO(r.out);
  CHECK(r.code == 0);
  CHECK(r.out.find("is older than this run and is ignored") != std::string::npos);
  CHECK(r.out.find("2 new candidates") != std::string::npos);
}

TEST_CASE("the baseline is the task's baseline file (not whatever was recorded first) and totals count only the run's own") {
  Sleepy t("baseline", 0);
  fs::create_directories(t.root);
  std::ofstream(t.root / "broken.cpp") << "this does not compile\n";
  Ran bad = Ergon("eval --task sleepy --tasks '" + t.root.string() + "' --db '" + t.db.string() + "' '" +
                  (t.root / "broken.cpp").string() + "'");
  CHECK(bad.code == 1);
  Ran other = Ergon("eval --task linear_regression --meter wall --db '" + t.db.string() + "'");
  CHECK(other.code == 0);
  Ran r = Ergon(t.Args("--max-candidates 2 --evaluators 1"));
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("evaluating the sleepy baseline first") != std::string::npos);
  CHECK(r.out.find("2 new candidates") != std::string::npos);
}

TEST_CASE("failed attempts are listed and found - the archive reads from a read-only medium - long sources are cut") {
  Sleepy t("attempts", 0);
  fs::create_directories(t.root);
  // A source with 5,000 lines of comment after it, and an edit that fails.
  std::string big = Slurp(t.dir / "baseline.cpp");
  for (int i = 0; i < 5000; ++i) big += "// padding line " + std::to_string(i) + "\n";
  std::ofstream(t.root / "big.cpp") << big;
  Ran ev = Ergon("eval --task sleepy --tasks '" + t.root.string() + "' --db '" + t.db.string() + "' '" +
                 (t.root / "big.cpp").string() + "'");
  REQUIRE(ev.code == 0);
  Ran run = Ergon(t.Args("--max-candidates 4 --evaluators 1 --seed 3"));
  REQUIRE(run.code == 0);
  // Duplicates from the knob-less sleep range and any cut-off are attempts.
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open_v2(t.db.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_exec(raw,
                       "INSERT INTO attempts(run_id, parent_id, stage, error, proposal, created_at) VALUES(2, 2, "
                       "'edit/no_match', 'SEARCH block 1 matches nothing: zanzibar', 'x', 0);"
                       "INSERT INTO search_owner(candidate_id) SELECT -max(id) FROM attempts;"
                       "INSERT INTO search_index(rowid, body) VALUES(last_insert_rowid(), 'zanzibar');",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(raw);
  Ran list = Ergon("archive --db '" + t.db.string() + "' attempts --json");
  INFO(list.out);
  REQUIRE(list.code == 0);
  auto rows = json::parse(list.out);
  REQUIRE(!rows.empty());
  CHECK(rows[0]["stage"] == "edit/no_match");
  Ran found = Ergon("archive --db '" + t.db.string() + "' search zanzibar --json");
  REQUIRE(found.code == 0);
  bool attempt = false;
  for (const auto& x : json::parse(found.out)) attempt = attempt || (x["kind"] == "attempt");
  CHECK(attempt);

  // show: the head of a long source, and all of it with --full.
  Ran show = Ergon("archive --db '" + t.db.string() + "' show 1");
  CHECK(show.code == 0);
  CHECK(show.out.size() < 40000);
  CHECK(show.out.find("--full") != std::string::npos);
  Ran full = Ergon("archive --db '" + t.db.string() + "' show 1 --full");
  CHECK(full.out.find("padding line 4999") != std::string::npos);

  // A read-only medium: the folder mounted read-only for ergon (bubblewrap).
  const std::string cmd = "bwrap --dev-bind / / --ro-bind '" + t.root.string() + "' '" + t.root.string() + "' '" +
                          ERGON_BINARY + "' archive --db '" + t.db.string() + "' list --json";
  const Ran ro = RunShell(cmd);
  const std::string& out = ro.out;
  INFO(out);
  CHECK(ro.code == 0);
  CHECK(out.find("\"task\":\"sleepy\"") != std::string::npos);
}

TEST_CASE("options are checked up front: bad values exit 2 with the reason") {
  Sleepy t("options", 0);
  for (const char* bad : {"--max-cost -1", "--instances 0", "--seed -1", "--meter joules", "--grace -5"}) {
    CAPTURE(bad);
    Ran r = Ergon(t.Args(std::string("--max-candidates 1 ") + bad));
    CHECK(r.code == 2);
  }
  CHECK(!fs::exists(t.db));
  Ran status = Ergon("archive --db '" + t.db.string() + "' list --status bogus");
  CHECK(status.code == 2);
  Ran typo = Ergon("replay 1 --db '" + (t.root / "typo.db").string() + "'");
  CHECK(typo.code == 2);
  CHECK(!fs::exists(t.root / "typo.db"));
}

TEST_CASE("a new best awaiting its fresh-suite verdict when the run died is judged on --resume, never reported before") {
  Sleepy t("pending", 0);
  Ran first = Ergon(t.Args("--max-candidates 2 --evaluators 1"));
  REQUIRE(first.code == 0);
  // As if killed between recording a new best and its verdict.
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open_v2(t.db.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_exec(raw, "UPDATE candidates SET status='pending' WHERE id=(SELECT max(id) FROM candidates)", nullptr,
                       nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(raw);
  const auto pending_id = Count(t.db, "SELECT id FROM candidates WHERE status='pending'");
  Ran top = Ergon("archive --db '" + t.db.string() + "' top --json --tasks '" + t.root.string() + "'");
  REQUIRE(top.code == 0);
  for (const auto& x : json::parse(top.out)) CHECK(x["id"].get<std::int64_t>() != pending_id);
  Ran r = Ergon(t.Args("--resume 1 --evaluators 1"));
  INFO(r.out);
  CHECK(r.code == 0);
  CHECK(r.out.find("awaiting its fresh-suite verdict: judging it now") != std::string::npos);
  CHECK(Count(t.db, "SELECT count(*) FROM candidates WHERE status='pending'") == 0);
}

TEST_CASE("a broken prompt template stops the run before anything is spent, whichever template it is") {
  Sleepy t("templates", 0);
  for (const char* file : {"repair.txt", "mutate.txt", "system.txt"}) {
    CAPTURE(file);
    const fs::path prompts = t.root / "prompts";
    fs::remove_all(prompts);
    fs::copy(fs::path(ERGON_SOURCE_DIR) / "prompts", prompts, fs::copy_options::recursive);
    std::ofstream(prompts / file, std::ios::app) << "\n{{no_such_placeholder}}\n";
    Ran r = Ergon(t.Args("--max-candidates 1 --prompts '" + prompts.string() + "'"));
    CHECK(r.code == 2);
    CHECK(r.out.find(file) != std::string::npos);
    CHECK(r.out.find("no_such_placeholder") != std::string::npos);
    CHECK(!fs::exists(t.db));
  }
}
