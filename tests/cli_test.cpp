// The `ergon` binary as a user runs it: real child processes.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "archive/archive.h"
#include "slurp.h"
#include "run_ergon.h"
#include "engine/home.h"

namespace fs = std::filesystem;

namespace {


}  // namespace

TEST_CASE("--help lists every subcommand and exits 0") {
  Ran r = Ergon("--help");
  CHECK(r.code == 0);
  for (const char* sub : {"tasks", "run", "eval", "score", "archive", "replay", "doctor", "serve"})
    CHECK_MESSAGE(r.out.find(sub) != std::string::npos, sub);
}

TEST_CASE("--version prints the project version") {
  Ran r = Ergon("--version");
  CHECK(r.code == 0);
  CHECK(r.out == std::string("ergon ") + ERGON_VERSION + "\n");
}

TEST_CASE("tasks lists the task folders with their summaries") {
  Ran r = Ergon("tasks");
  CHECK(r.code == 0);
  CHECK(r.out.find("dally_parity") != std::string::npos);
  CHECK(r.out.find("sparse_parity") != std::string::npos);
  CHECK(r.out.find("k-sparse parity") != std::string::npos);
}

TEST_CASE("tasks lists every Dally leaderboard: matmul, symmetry and each MASK32 band") {
  Ran r = Ergon("tasks");
  REQUIRE(r.code == 0);
  for (const char* name : {"matmul4x4", "matmul16x16", "symmetry6", "symmetry8", "mask32_20", "mask32_40", "mask32_60",
                           "mask32_80", "dally_parity"})
    CHECK_MESSAGE(r.out.find(std::string("\n  ") + name + " ") != std::string::npos, name);
  CHECK(r.out.find("published record 63,290") != std::string::npos);
}

TEST_CASE("run on a board task: the offline agent's in-process search beats a naive program, then export and kit") {
  // matmul4x4's task.json over the schoolbook product (cost 1,485).
  const fs::path dir = fs::temp_directory_path() / ("ergon-board-run-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "tasks" / "matmul4x4");
  fs::copy_file(fs::path(ERGON_TESTS_DIR) / "../evaluators/matmul4x4/task.json", dir / "tasks/matmul4x4/task.json");
  fs::copy_file(fs::path(ERGON_DALLY_DATA) / "matmul/naive_4x4.ir", dir / "tasks/matmul4x4/baseline.ir");
  Ran r = Ergon("run --task matmul4x4 --tasks tasks --agent offline --max-candidates 4 --db a.db", "", dir.string());
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("baseline: candidate 1  exact=1, cost=1485") != std::string::npos);
  CHECK(r.out.find("4 new candidates; the run in all: 4 candidates (") != std::string::npos);
  CHECK(r.out.find("(0 invalid, ") != std::string::npos);
  // The headline leads with the adjudicated (fresh-suite) figure, against the
  // baseline measured on a fresh suite too.
  CHECK(r.out.find("on a fresh suite = ") != std::string::npos);
  CHECK(r.out.find("x the baseline's 1485 there; dev: ") != std::string::npos);
  auto best = Ergon("archive top --task matmul4x4 --db a.db --json", "", dir.string());
  REQUIRE(best.code == 0);
  auto j = nlohmann::json::parse(best.out);
  REQUIRE(j.is_array());
  REQUIRE(!j.empty());
  const double cost = j[0]["metrics"]["cost"].get<double>();
  CHECK(cost < 1485);
  const long id = j[0]["id"].get<long>();
  auto ex = Ergon(fmt::format("archive export {} --db a.db -o out", id), "", dir.string());
  INFO(ex.out);
  REQUIRE(ex.code == 0);
  CHECK(fs::exists(dir / "out/program.ir"));
  auto sc = Ergon("score out/program.ir --tier matmul4x4 --json", "", dir.string());
  REQUIRE(sc.code == 0);
  CHECK(nlohmann::json::parse(sc.out)["cost"].get<double>() == cost);

  // A baseline that fails its check stops the run before it starts, and the
  // run is recorded as failed, with why (not left running).
  std::ofstream(dir / "tasks/matmul4x4/baseline.ir") << "1,2\nmul 3,1,2\n3\n";
  Ran bad = Ergon("run --task matmul4x4 --tasks tasks --agent offline --max-candidates 4 --db b.db", "", dir.string());
  INFO(bad.out);
  CHECK(bad.code == 1);
  CHECK(bad.out.find("ergon run: the baseline does not run: line 1: IR declares 2 inputs") != std::string::npos);
  auto runs = nlohmann::json::parse(Ergon("archive runs --db b.db --json", "", dir.string()).out);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0]["status"] == "failed");
  CHECK(runs[0]["stop_reason"].get<std::string>().find("the baseline does not run: line 1") == 0);
  fs::remove_all(dir);
}

TEST_CASE("several runs share one archive: the baseline once, every run closed, a killed run found stopped") {
  const fs::path dir = fs::temp_directory_path() / ("ergon-shared-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string e = std::string("'") + ERGON_BINARY + "'";
  // Three runs started together on one new file, same task.
  Ran r = RunShell("cd '" + dir.string() + "' && for i in 1 2 3; do (" + e +
                   " run --task symmetry6 --agent offline --max-candidates 2 --db shared.db > run$i.log 2>&1; "
                   "echo $? > rc$i) & done; wait; cat rc1 rc2 rc3");
  INFO(r.out);
  CHECK(r.out == "0\n0\n0\n");
  auto runs = nlohmann::json::parse(Ergon("archive runs --db shared.db --json", "", dir.string()).out);
  REQUIRE(runs.size() == 3);
  for (const auto& run : runs) CHECK(run["status"] == "done");
  auto all = nlohmann::json::parse(Ergon("archive list --db shared.db --json --limit 100", "", dir.string()).out);
  int baselines = 0;
  for (const auto& c : all) baselines += c["intent"] == "the task's baseline";
  CHECK(baselines == 1);

  // A run killed with SIGKILL, its parent never reaping it (a zombie, as
  // under a container's init): shown stopped, with why, and closed by the
  // next run.
  r = RunShell("cd '" + dir.string() + "' && (sh -c '" + e +
               " run --task matmul4x4 --agent offline --max-candidates 1000 --db k.db > k.log 2>&1 & echo $! > pid; "
               "exec sleep 20' > /dev/null 2>&1 &) ; for i in $(seq 200); do [ -s pid ] && " + e +
               " archive runs --db k.db 2>/dev/null | grep -q running && break; sleep 0.1; done; kill -9 $(cat pid); "
               "sleep 0.5; " + e + " archive runs --db k.db");
  INFO(r.out);
  CHECK(r.out.find("stopped  its process (pid ") != std::string::npos);
  CHECK(r.out.find("ended without closing the run: killed or crashed") != std::string::npos);
  Ran next = Ergon("run --task matmul4x4 --agent offline --max-candidates 1 --db k.db", "", dir.string());
  INFO(next.out);
  CHECK(next.code == 0);
  CHECK(next.out.find("1 earlier run(s) of k.db had died without closing; marked stopped") != std::string::npos);
  runs = nlohmann::json::parse(Ergon("archive runs --db k.db --json", "", dir.string()).out);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0]["status"] == "stopped");
  CHECK(runs[0]["stop_reason"].get<std::string>().find("killed or crashed") != std::string::npos);
  CHECK(runs[1]["status"] == "done");
  fs::remove_all(dir);
}

TEST_CASE("a task of one's own is remembered: replay, top, export and --resume need no --tasks, and a moved folder is named") {
  const fs::path dir = fs::temp_directory_path() / ("ergon-own-task-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "mine" / "mym");
  fs::copy_file(fs::path(ERGON_TESTS_DIR) / "../evaluators/matmul4x4/task.json", dir / "mine/mym/task.json");
  fs::copy_file(fs::path(ERGON_DALLY_DATA) / "matmul/naive_4x4.ir", dir / "mine/mym/baseline.ir");
  Ran r = Ergon("run --task mym --tasks mine --agent offline --max-candidates 2 --db o.db", "", dir.string());
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("resume:") == std::string::npos);  // done, not stopped
  // Without --tasks, from another folder: the archive knows where mym came from.
  const std::string db = (dir / "o.db").string();
  Ran top = Ergon("archive top --task mym --db '" + db + "'");
  INFO(top.out);
  CHECK(top.code == 0);
  CHECK(top.out.find("cost 1485 ") != std::string::npos);  // the task's metric column, not dropped
  CHECK(top.out.find(".0000") == std::string::npos);        // human views round (JSON keeps every digit)
  Ran show = Ergon("archive show 1 --db '" + db + "'");
  INFO(show.out);
  CHECK(show.out.find("  dev suite, meter dally, dally_board/1 matmul4x4: cost=1485, exact=1, lines=114, "
                      "lower_bound=784  (ok, gate passed)") != std::string::npos);
  Ran rep = Ergon("replay 1 --db '" + db + "'");
  INFO(rep.out);
  CHECK(rep.code == 0);
  CHECK(rep.out.find("verdict: identical") != std::string::npos);
  Ran ex = Ergon("archive export 1 -o '" + (dir / "kit").string() + "' --db '" + db + "'");
  CHECK(ex.code == 0);
  CHECK(fs::exists(dir / "kit/REPORT.md"));
  // --resume needs nothing else; a spent budget says which and how to extend it.
  Ran res = Ergon("run --resume 1 --db '" + db + "'");
  INFO(res.out);
  CHECK(res.code == 0);
  CHECK(res.out.find("run 1's budget is already spent: --max-candidates 2 (it has 2): give a larger --max-candidates") !=
        std::string::npos);
  Ran more = Ergon("run --resume 1 --max-candidates 4 --db '" + db + "'");
  INFO(more.out);
  CHECK(more.code == 0);
  CHECK(more.out.find("already spent") == std::string::npos);
  CHECK(more.out.find("run 1 (mym, agent offline): 2 new candidates") != std::string::npos);
  // The folder moved: replay says which folder is gone.
  fs::rename(dir / "mine", dir / "moved");
  Ran gone = Ergon("replay 1 --db '" + db + "'");
  INFO(gone.out);
  CHECK(gone.code != 0);
  CHECK(gone.out.find("run 1's task folder " + (dir / "mine/mym").string() + " is gone (moved? give --tasks DIR)") !=
        std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("tasks --json is one parseable array") {
  Ran r = Ergon("tasks --json");
  REQUIRE(r.code == 0);
  auto j = nlohmann::json::parse(r.out);
  REQUIRE(j.is_array());
  REQUIRE(j.size() >= 4);
  std::vector<std::string> names;
  for (const auto& t : j) {
    names.push_back(t["name"]);
    CHECK(t.contains("summary"));
  }
  CHECK(std::is_sorted(names.begin(), names.end()));
  for (const char* builtin : {"char_lm", "dally_parity", "sparse_parity"})
    CHECK(std::find(names.begin(), names.end(), builtin) != names.end());
}

TEST_CASE("the binary finds its tasks from any working directory") {
  Ran r = Ergon("tasks", "", "/");
  CHECK(r.code == 0);
  CHECK(r.out.find("sparse_parity") != std::string::npos);
}

TEST_CASE("unknown commands and bad flags exit 2 with an error and a hint") {
  Ran a = Ergon("frobnicate");
  CHECK(a.code == 2);
  CHECK(a.out.find("unknown command 'frobnicate'") != std::string::npos);
  CHECK(a.out.find("ergon --help") != std::string::npos);
  Ran b = Ergon("tasks --bogus");
  CHECK(b.code == 2);
  CHECK(b.out.find("--bogus") != std::string::npos);
  CHECK(b.out.find("ergon tasks --help") != std::string::npos);
  Ran c = Ergon("");
  CHECK(c.code == 2);
  Ran d = Ergon("run");
  CHECK(d.code == 2);
  CHECK(d.out.find("--task is required") != std::string::npos);
}

TEST_CASE("run: bad arguments are usage errors that name the problem") {
  Ran task = Ergon("run --task nope --db /tmp/ergon-never.db");
  CHECK(task.code == 2);
  CHECK(task.out.find("nope") != std::string::npos);
  Ran agent = Ergon("run --task dally_parity --agent cli");
  CHECK(agent.code == 2);
  Ran time = Ergon("run --task dally_parity --max-time 5x");
  CHECK(time.code == 2);
  CHECK(time.out.find("--max-time 5x") != std::string::npos);
  Ran key = Ergon("run --task dally_parity --agent openai --db /tmp/ergon-never.db", "OPENAI_API_KEY=");
  CHECK(key.code == 2);
  CHECK(key.out.find("OPENAI_API_KEY") != std::string::npos);
  CHECK(!fs::exists("/tmp/ergon-never.db"));
}

TEST_CASE("ERGON_HOME overrides and a wrong one is a clear error") {
  fs::path home = fs::temp_directory_path() / "ergon-home-test";
  fs::remove_all(home);
  fs::create_directories(home / "evaluators" / "toy");
  std::ofstream(home / "evaluators" / "toy" / "baseline.cpp") << "int main() { return 0; }\n";
  std::ofstream(home / "evaluators" / "toy" / "task.json")
      << R"({"summary": "a toy task", "language": "cpp", "objectives": {"gate": {"metric": "accuracy", "min": 0.5}, "minimise": "energy_j"}})";
  Ran r = Ergon("tasks", "ERGON_HOME='" + home.string() + "'");
  CHECK(r.code == 0);
  CHECK(r.out.find("a toy task") != std::string::npos);
  CHECK(r.out.find("sparse_parity") == std::string::npos);

  std::ofstream(home / "evaluators" / "toy" / "task.json") << R"({"language": "cpp"})";
  Ran bad = Ergon("tasks", "ERGON_HOME='" + home.string() + "'");
  CHECK(bad.code == 1);
  CHECK(bad.out.find("toy/task.json: field \"summary\": missing") != std::string::npos);

  Ran missing = Ergon("tasks", "ERGON_HOME=/nonexistent/ergon");
  CHECK(missing.code == 1);
  CHECK(missing.out.find("ERGON_HOME=/nonexistent/ergon") != std::string::npos);
  fs::remove_all(home);
}

TEST_CASE("FindHome: installed prefix first, then source tree, cwd, exe parents") {
  fs::path root = fs::temp_directory_path() / "ergon-findhome-test";
  fs::remove_all(root);
  fs::create_directories(root / "prefix" / "bin");
  fs::create_directories(root / "prefix" / "share" / "ergon" / "evaluators");
  fs::create_directories(root / "src" / "evaluators");
  fs::create_directories(root / "src" / "build" / "sub");
  ergon::engine::HomeSearch w;
  w.exe_path = (root / "prefix" / "bin" / "ergon").string();
  w.source_dir = (root / "src").string();
  auto h = ergon::engine::FindHome(w);
  REQUIRE(h.has_value());
  CHECK(*h == (root / "prefix" / "share" / "ergon").string());

  // A build tree inside the source tree, source dir unknown (moved binary).
  ergon::engine::HomeSearch b;
  b.exe_path = (root / "src" / "build" / "sub" / "ergon").string();
  auto hb = ergon::engine::FindHome(b);
  REQUIRE(hb.has_value());
  CHECK(*hb == (root / "src").string());

  ergon::engine::HomeSearch none;
  none.exe_path = "/nonexistent/bin/ergon";
  auto hn = ergon::engine::FindHome(none);
  REQUIRE(!hn.has_value());
  CHECK(hn.error().find("set ERGON_HOME") != std::string::npos);
  fs::remove_all(root);
}

TEST_CASE("score: the record IR on the dev suite with --json") {
  Ran r = Ergon(std::string("score '") + ERGON_DALLY_DATA + "/packedscan_beat382794_mask32.ir' --suite dev --json");
  REQUIRE(r.code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["status"] == "ok");
  CHECK(j["cost"] == 382794);
  CHECK(j["recovery"] == 1.0);
  CHECK(j["instances"] == 1024);
  CHECK(j["lines"] == 58530);
}

TEST_CASE("score: invalid IR exits 1 naming the line - bad tier exits 2") {
  fs::path bad = fs::temp_directory_path() / "ergon-cli-bad.ir";
  std::ofstream(bad) << "1\nfoo 2,1\n2\n";
  Ran r = Ergon("score '" + bad.string() + "' --json");
  CHECK(r.code == 1);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["status"] == "line 2: malformed instruction 'foo 2,1': unknown op: 'foo'");
  Ran t = Ergon("score '" + bad.string() + "' --tier huge");
  CHECK(t.code == 2);
  Ran m = Ergon("score /nonexistent.ir");
  CHECK(m.code == 1);
  CHECK(m.out.find("cannot read /nonexistent.ir") != std::string::npos);
  fs::remove(bad);
}

TEST_CASE("score: small and medium tiers on fixed seeds") {
  Ran r = Ergon(std::string("score '") + ERGON_DALLY_DATA + "/predpack_tuned_medium.ir' --tier medium --suite dev --json");
  REQUIRE(r.code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["cost"] == 15691);
  CHECK(j["accuracy"] == 1.0);
  CHECK(j["instances"] == 64);
}

TEST_CASE("eval dally_parity: the baseline recovers the whole dev suite") {
  Ran r = Ergon("eval --task dally_parity --json");
  REQUIRE(r.code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["status"] == "ok");
  CHECK(j["recovery"] == 1.0);
  CHECK(j["instances"] == 1024);
  CHECK(j["cost"].get<std::uint64_t>() > 0);
  CHECK(j["lines"].get<std::uint64_t>() <= 2000000);
  CHECK(j["wall_s"].get<double>() > 0);
  CHECK(j["isolation"].get<std::string>().find("bubblewrap") != std::string::npos);
}

TEST_CASE("eval dally_parity: hostile generators are contained and scored truthfully") {
  const std::string g = std::string(ERGON_GALLERY_DIR) + "/dally/";
  Ran claims = Ergon("eval --task dally_parity '" + g + "prints_claims.cpp' --json");
  CHECK(claims.code == 1);
  auto jc = nlohmann::json::parse(claims.out);
  CHECK(jc["stage"] == "ir");
  CHECK(jc["recovery"] == 0.0);

  Ran loops = Ergon("eval --task dally_parity '" + g + "loops.cpp' --timeout 1 --json");
  CHECK(loops.code == 1);
  auto jl = nlohmann::json::parse(loops.out);
  CHECK(jl["stage"] == "run");
  CHECK((jl["status"].get<std::string>().find("timeout") != std::string::npos ||
         jl["status"].get<std::string>().find("CPU limit") != std::string::npos));

  Ran arity = Ergon("eval --task dally_parity '" + g + "wrong_arity.cpp' --json");
  CHECK(arity.code == 1);
  CHECK(nlohmann::json::parse(arity.out)["status"] == "IR declares 2 inputs; 594 required");

  Ran zero = Ergon("eval --task dally_parity '" + g + "all_zero.cpp' --suite fresh --instances 64 --json");
  CHECK(zero.code == 3);  // it ran, and recovers nothing: below the gate
  auto jz = nlohmann::json::parse(zero.out);
  CHECK(jz["recovery"] == 0.0);
  CHECK(jz["instances"] == 64);
}

TEST_CASE("optimize-ir: verified and cheaper - the record IR improves") {
  fs::path out = fs::temp_directory_path() / "ergon-cli-opt.ir";
  Ran r = Ergon(std::string("optimize-ir '") + ERGON_DALLY_DATA + "/packedscan_beat382794_mask32.ir' -o '" +
                out.string() + "' --fresh 256 --json");
  REQUIRE(r.code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["cost_before"] == 382794);
  CHECK(j["cost_after"].get<std::uint64_t>() < 382794);
  CHECK(j["verified_instances"] == 1024 + 256);
  Ran s = Ergon("score '" + out.string() + "' --suite dev --json");
  REQUIRE(s.code == 0);
  auto js = nlohmann::json::parse(s.out);
  CHECK(js["recovery"] == 1.0);
  CHECK(js["cost"] == j["cost_after"]);
  fs::remove(out);
}

TEST_CASE("score and optimize-ir on the checked boards: matmul and symmetry") {
  const std::string dir = std::string(ERGON_DALLY_DATA);
  Ran m16 = Ergon("score '" + dir + "/matmul/best_63290.ir' --tier matmul16x16 --json");
  REQUIRE(m16.code == 0);
  auto j = nlohmann::json::parse(m16.out);
  CHECK(j["exact"] == true);
  CHECK(j["cost"] == 63290);
  Ran s8 = Ergon("score '" + dir + "/symmetry/baseline_eight.ir' --tier symmetry8");
  CHECK(s8.code == 0);
  CHECK(s8.out.find("cost 29  exact: symmetry 8 bits") == 0);
  Ran wrong = Ergon("score '" + dir + "/matmul/best_667.ir' --tier matmul16x16");
  CHECK(wrong.code == 1);
  CHECK(wrong.out.find("line 1: IR declares 32 inputs; matmul 16x16 needs 512") != std::string::npos);

  // The 4x4 record with every address moved up by 300 (a bijection: the
  // same function, a worse layout), optimised back by the flow layout.
  std::string moved;
  {
    std::istringstream in(Slurp(dir + "/matmul/best_667.ir"));
    for (std::string line; std::getline(in, line);) {
      std::string out;
      std::size_t i = 0;
      if (auto sp = line.find(' '); sp != std::string::npos) {
        out = line.substr(0, sp + 1);
        i = sp + 1;
      }
      std::istringstream items(line.substr(i));
      bool first = true;
      for (std::string a; std::getline(items, a, ',');) {
        out += (first ? "" : ",") + std::to_string(std::stoull(a) + 300);
        first = false;
      }
      moved += out + "\n";
    }
  }
  const fs::path in = fs::temp_directory_path() / "ergon-cli-moved4.ir", out = fs::temp_directory_path() / "ergon-cli-moved4-opt.ir";
  { std::ofstream(in) << moved; }
  Ran opt = Ergon("optimize-ir '" + in.string() + "' -o '" + out.string() + "' --tier matmul4x4 --json");
  REQUIRE(opt.code == 0);
  auto jo = nlohmann::json::parse(opt.out);
  CHECK(jo["checked"] == true);
  CHECK(jo["cost_before"].get<std::uint64_t>() > 4000);
  CHECK(jo["cost_after"].get<std::uint64_t>() <= 668);
  CHECK(jo["lower_bound"] == 664);
  Ran back = Ergon("score '" + out.string() + "' --tier matmul4x4 --json");
  REQUIRE(back.code == 0);
  CHECK(nlohmann::json::parse(back.out)["cost"] == jo["cost_after"]);
  Ran text = Ergon("optimize-ir '" + in.string() + "' -o '" + out.string() + "' --tier matmul4x4");
  CHECK(text.out.find("passes the matmul4x4 checker") != std::string::npos);
  CHECK(text.out.find("costs less than 664") != std::string::npos);
  // A wrong program is refused before anything is written.
  fs::remove(out);
  { std::ofstream(in) << "1,2\nmul 3,1,1\n3\n"; }
  Ran refused = Ergon("optimize-ir '" + in.string() + "' -o '" + out.string() + "' --tier matmul1x1");
  CHECK(refused.code == 1);
  CHECK(refused.out.find("the input is not a correct matmul1x1 program: line 3: output 1 is not C[0][0]") != std::string::npos);
  CHECK_FALSE(fs::exists(out));
  fs::remove(in);
}

TEST_CASE("optimize-ir --no-verify writes the same program unverified, and score --profile says where the cost goes") {
  const std::string in = std::string(ERGON_DALLY_DATA) + "/packedscan_beat382794_mask32.ir";
  const fs::path a = fs::temp_directory_path() / "ergon-cli-opt-a.ir", b = fs::temp_directory_path() / "ergon-cli-opt-b.ir";
  Ran verified = Ergon("optimize-ir '" + in + "' -o '" + a.string() + "' --fresh 0 --json");
  Ran unverified = Ergon("optimize-ir '" + in + "' -o '" + b.string() + "' --no-verify --json");
  REQUIRE(verified.code == 0);
  REQUIRE(unverified.code == 0);
  CHECK(nlohmann::json::parse(verified.out)["verified_instances"] == 1024);
  CHECK(nlohmann::json::parse(unverified.out)["verified_instances"] == 0);
  CHECK(Slurp(a) == Slurp(b));
  Ran text = Ergon("optimize-ir '" + in + "' -o '" + b.string() + "' --no-verify");
  CHECK(text.out.find("NOT verified") != std::string::npos);
  Ran s = Ergon("score '" + in + "' --suite dev --json --profile");
  REQUIRE(s.code == 0);
  auto j = nlohmann::json::parse(s.out);
  REQUIRE(j.contains("profile"));
  CHECK(j["profile"]["total"] == 382794);
  for (const char* k : {"read_s", "parse_s", "suite_s", "simulate_s"}) CHECK(j.contains(k));
  Ran plain = Ergon("score '" + in + "' --suite dev --json");
  CHECK(!nlohmann::json::parse(plain.out).contains("profile"));
  Ran bad = Ergon("score '" + std::string(ERGON_GALLERY_DIR) + "/dally/loops.cpp' --suite dev --json");
  CHECK(bad.code == 1);
  CHECK(nlohmann::json::parse(bad.out)["stage"] == "parse");
  fs::remove(a);
  fs::remove(b);
}

namespace {

// An archive with a lineage, a failed attempt, ledger rows and two runs,
// built through the archive API, plus two real evaluations through the CLI.
struct BuiltArchive {
  fs::path db;
  std::int64_t root = 0, child = 0, grandchild = 0;
  BuiltArchive() {
    db = fs::temp_directory_path() / ("ergon-cli-archive-" + std::to_string(::getpid()) + ".db");
    for (const char* ext : {"", "-wal", "-shm"}) fs::remove(db.string() + ext);
    auto a = ergon::archive::Archive::Open(db.string());
    REQUIRE(a.has_value());
    auto run = (*a)->BeginRun({0, "toy", "offline", "none", "{\"seed\":1}", 0, 0, ergon::archive::RunStatus::kRunning}).value();
    auto add = [&](const std::string& src, std::optional<std::int64_t> parent, double energy, const std::string& intent) {
      ergon::archive::Attempt at;
      ergon::archive::Candidate c;
      c.run_id = run;
      c.task = "toy";
      c.source = src;
      c.hash = "h-" + src;
      c.parent = parent;
      c.intent = intent;
      at.candidate = c;
      ergon::archive::Evaluation e;
      e.evaluator_version = "toy/1";
      e.meter = "cachemodel";
      e.device = "sim";
      e.suite = "dev";
      e.gate_passed = true;
      e.fitness = -energy;
      e.metrics.values["accuracy"] = 0.99;
      e.metrics.values["energy_j"] = energy;
      e.metrics.values["wall_s"] = 0.5;
      at.evaluations.push_back(e);
      at.objectives = {-0.99, energy};
      ergon::archive::LedgerEntry l;
      l.run_id = run;
      l.model = "toy-model";
      l.tokens_in = 1000;
      l.tokens_out = 200;
      l.cost_usd = 0.002;
      at.ledger = l;
      return (*a)->Record(at).value();
    };
    root = add("int main() { return 0; }\n", std::nullopt, 3.0, "baseline");
    child = add("int main() { return 1; }\n", root, 1.5, "return one: halves the energy");
    grandchild = add("int main() { return 2; }\n// quokka\n", child, 1.2, "a quokka comment");
    ergon::archive::Attempt failed;
    failed.failure = ergon::archive::FailedAttempt{run, child, "edit", "SEARCH text not found", "..."};
    (*a)->Record(failed).value();
    REQUIRE((*a)->EndRun(run, ergon::archive::RunStatus::kDone).has_value());
  }
  ~BuiltArchive() {
    for (const char* ext : {"", "-wal", "-shm"}) fs::remove(db.string() + ext);
  }
  std::string Db() const { return " --db '" + db.string() + "'"; }
};

}  // namespace

TEST_CASE("archive CLI: every command works on a real archive and --json parses") {
  BuiltArchive b;
  auto j = [&](const std::string& args) {
    Ran r = Ergon("archive " + args + b.Db() + " --json");
    INFO(args << ": " << r.out);
    REQUIRE(r.code == 0);
    return nlohmann::json::parse(r.out);
  };
  auto list = j("list");
  REQUIRE(list.is_array());
  CHECK(list.size() == 3);
  CHECK(list[0]["id"] == b.grandchild);  // newest first
  CHECK(list[0]["parent"] == b.child);
  CHECK(list[0]["status"] == "evaluated");
  CHECK(list[0]["energy_j"] == 1.2);
  CHECK(list[0]["accuracy"] == 0.99);
  CHECK(list[0]["wall_s"] == 0.5);
  auto top = j("top --by energy_j --limit 2");
  REQUIRE(top.size() == 2);
  CHECK(top[0]["id"] == b.grandchild);
  CHECK(top[1]["id"] == b.child);
  auto show = j("show " + std::to_string(b.child));
  CHECK(show.is_object());
  CHECK(show["source"] == "int main() { return 1; }\n");
  CHECK(show["ancestors"].size() == 1);
  CHECK(show["evaluations"].size() == 1);
  auto search = j("search quokka");
  REQUIRE(search.size() == 1);
  CHECK(search[0]["id"] == b.grandchild);
  // A failed attempt's error is found under its parent, and as the attempt itself.
  auto failed = j("search 'SEARCH text not found'");
  REQUIRE(failed.size() == 2);
  CHECK(failed[0]["kind"] == "candidate");
  CHECK(failed[0]["id"] == b.child);
  CHECK(failed[1]["kind"] == "attempt");
  CHECK(failed[1]["parent"] == b.child);
  auto lineage = j("lineage " + std::to_string(b.grandchild));
  REQUIRE(lineage.size() == 3);
  CHECK(lineage[0]["change"].get<double>() == doctest::Approx((1.2 - 1.5) / 1.5));
  auto diff = j("diff " + std::to_string(b.root) + " " + std::to_string(b.grandchild));
  CHECK(diff["diff"].get<std::string>().find("+// quokka") != std::string::npos);
  auto pareto = j("pareto");
  REQUIRE(pareto.size() == 1);
  CHECK(pareto[0]["id"] == b.grandchild);
  auto runs = j("runs");
  REQUIRE(runs.size() == 1);
  CHECK(runs[0]["status"] == "done");
  auto ledger = j("ledger");
  REQUIRE(ledger.size() == 1);
  CHECK(ledger[0]["calls"] == 3);
  CHECK(ledger[0]["tokens_in"] == 3000);
  // Human tables too.
  Ran table = Ergon("archive top" + b.Db());
  CHECK(table.code == 0);
  CHECK(table.out.find("return one") != std::string::npos);
  Ran lin = Ergon("archive lineage " + std::to_string(b.grandchild) + b.Db());
  CHECK(lin.out.find("-20.0% vs parent") != std::string::npos);
  // Errors.
  Ran missing = Ergon("archive show 999" + b.Db());
  CHECK(missing.code == 1);
  CHECK(missing.out.find("no candidate 999") != std::string::npos);
  Ran nodb = Ergon("archive list --db /nonexistent/x.db");
  CHECK(nodb.code == 1);
  CHECK(nodb.out.find("no such archive") != std::string::npos);
  Ran badsub = Ergon("archive frob" + b.Db());
  CHECK(badsub.code == 2);
}

TEST_CASE("eval --db then replay: bit-exact for the dally and cachemodel meters") {
  fs::path db = fs::temp_directory_path() / ("ergon-cli-replay-" + std::to_string(::getpid()) + ".db");
  for (const char* ext : {"", "-wal", "-shm"}) fs::remove(db.string() + ext);
  const std::string d = " --db '" + db.string() + "'";
  REQUIRE(Ergon("eval --task dally_parity" + d).code == 0);
  REQUIRE(Ergon(std::string("eval --task sparse_parity '") + ERGON_TESTS_DIR + "/learners/gf2.cpp' --instances 1" + d).code == 0);
  for (int id : {1, 2}) {
    Ran r = Ergon("replay " + std::to_string(id) + d + " --json");
    INFO(r.out);
    REQUIRE(r.code == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["verdict"] == "identical");
    CHECK(j["reasons"].empty());
  }
  // Another meter is a difference, and it says why.
  Ran w = Ergon("replay 2 --meter wall" + d + " --json");
  auto jw = nlohmann::json::parse(w.out);
  CHECK(jw["verdict"] == "differs");
  CHECK(jw["reasons"][0].get<std::string>().find("meter differs") != std::string::npos);
  // --emit writes a folder that builds and runs without ergon.
  fs::path dir = fs::temp_directory_path() / ("ergon-emit-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  Ran e = Ergon("replay 1" + d + " --emit '" + dir.string() + "'");
  REQUIRE(e.code == 0);
  CHECK(fs::exists(dir / "README.md"));
  CHECK(fs::exists(dir / "task.json"));
  REQUIRE(std::system(("sh '" + (dir / "build.sh").string() + "' && cd '" + dir.string() +
                       "' && ./candidate > program.ir 2>/dev/null").c_str()) == 0);
  Ran s = Ergon("score '" + (dir / "program.ir").string() + "' --suite dev --json");
  REQUIRE(s.code == 0);
  auto js = nlohmann::json::parse(s.out);
  auto shown = nlohmann::json::parse(Ergon("archive show 1 --json" + d).out);
  CHECK(js["cost"] == shown["cost"]);
  fs::remove_all(dir);
  for (const char* ext : {"", "-wal", "-shm"}) fs::remove(db.string() + ext);
}

TEST_CASE("doctor names the tasks and the HTTP library - and a broken task folder fails it") {
  Ran ok = Ergon("doctor");
  CHECK(ok.code == 0);
  CHECK(ok.out.find("linear_regression (external)") != std::string::npos);
  CHECK(ok.out.find("http:") != std::string::npos);
  // What a candidate sees, listed: the toolchain, nothing of people's files.
  CHECK(ok.out.find("candidates see only:") != std::string::npos);
  CHECK(ok.out.find("/usr/include") != std::string::npos);
  for (const char* hidden : {"/home", "/srv", "/opt", "/var", "/usr/share", "/work"})
    CHECK_MESSAGE(ok.out.find(std::string("            ") + hidden + " ") == std::string::npos, hidden);
  fs::path dir = fs::temp_directory_path() / ("ergon-doctor-" + std::to_string(::getpid()));
  fs::create_directories(dir / "broken");
  std::ofstream(dir / "broken" / "task.json") << R"({"summary": "x"})";
  Ran bad = Ergon("doctor", "ERGON_TASKS='" + dir.string() + "'");
  CHECK(bad.code == 1);
  CHECK(bad.out.find("BROKEN: " + (dir / "broken" / "task.json").string() + ": field \"language\": missing") !=
        std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("run file: --config FILE with command-line overrides - stored resolved - launches the same run again") {
  const fs::path dir = fs::temp_directory_path() / ("ergon-runfile-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "night.toml") << "# a night's run\n[run]\ntask = \"linear_regression\"\nmeter = \"wall\"\n"
                                       "max-candidates = 5\nevaluators = 1\nislands = 1\n";
  const std::string db1 = (dir / "one.db").string(), db2 = (dir / "two.db").string();
  // The command line wins over the file (1 candidate, not 5).
  Ran r = Ergon("run --config '" + (dir / "night.toml").string() + "' --max-candidates 1 --db '" + db1 + "'");
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("--max-candidates 1 reached") != std::string::npos);
  auto stored = [](const std::string& db) {
    Ran runs = Ergon("archive --db '" + db + "' runs --json");
    const auto j = nlohmann::json::parse(runs.out, nullptr, false);
    REQUIRE((j.is_array() && j.size() == 1 && j[0].contains("config")));
    return j[0]["config"].get<std::string>();
  };
  const std::string config = stored(db1);
  INFO(config);
  for (const char* line : {"\n[run]\n", "\ntask=\"linear_regression\"\n", "\nmax-candidates=1\n", "\nmeter=\"wall\"\n",
                           "\nislands=1\n", "\n# agent=\"offline\"\n", "\n# seed=1\n"})
    CHECK_MESSAGE(config.find(line) != std::string::npos, line);
  CHECK(config.find("resume") == std::string::npos);
  // Launched again from what was stored: the same configuration.
  std::ofstream(dir / "again.toml") << config;
  Ran again = Ergon("run --config '" + (dir / "again.toml").string() + "' --db '" + db2 + "'");
  INFO(again.out);
  REQUIRE(again.code == 0);
  std::string expected = config;
  expected.replace(expected.find(db1), db1.size(), db2);
  CHECK(stored(db2) == expected);
  // A misspelt key is an error that names it; nothing runs.
  std::ofstream(dir / "bad.toml") << "[run]\ntask = \"linear_regression\"\nmax-candidatez = 5\n";
  Ran bad = Ergon("run --config '" + (dir / "bad.toml").string() + "' --db '" + (dir / "bad.db").string() + "'");
  CHECK(bad.code == 2);
  CHECK(bad.out.find("max-candidatez") != std::string::npos);
  CHECK(!fs::exists(dir / "bad.db"));
  fs::remove_all(dir);
}
