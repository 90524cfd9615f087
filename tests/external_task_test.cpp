// External tasks end to end, through the ergon binary as a user runs it: the
// shipped linear_regression folder (a Python harness, never compiled into
// ergon) copied to a world-readable place and added with --tasks; harnesses
// that crash, hang or print garbage; a candidate that hunts for the hidden
// answers and the task folder.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>

#include "evaluators/task.h"
#include <nlohmann/json.hpp>

#include "run_ergon.h"
#include "slurp.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// A copy of the shipped task under /var/tmp (not /tmp: the sandbox's private
// /tmp would hide it by accident), world-readable as users keep theirs.
struct TaskCopy {
  fs::path root, dir;
  explicit TaskCopy(const std::string& name, const std::string& task_name = "linear_regression") {
    root = fs::path("/var/tmp") / ("ergon-ext-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(root);
    dir = root / task_name;
    fs::create_directories(root);
    fs::copy(fs::path(ERGON_SOURCE_DIR) / "evaluators" / "linear_regression", dir, fs::copy_options::recursive);
    fs::permissions(root, fs::perms::all & ~fs::perms::group_write & ~fs::perms::others_write);
    for (auto& e : fs::recursive_directory_iterator(root))
      fs::permissions(e.path(), e.is_directory() ? fs::perms(0755) : fs::perms(0644));
  }
  ~TaskCopy() { fs::remove_all(root); }
  void Write(const std::string& file, const std::string& text) const { std::ofstream(dir / file) << text; }
  std::string Flags() const { return "--tasks '" + root.string() + "'"; }
};

json LastJson(const std::string& out) {
  auto at = out.rfind("\n{");
  return json::parse(at == std::string::npos ? out : out.substr(at + 1));
}

}  // namespace

TEST_CASE("external task: listed, evaluated, searched, ranked by its own metric, replayed and exported") {
  TaskCopy t("e2e", "linreg_copy");
  const std::string db = (t.root / "runs.db").string();
  Ran tasks = Ergon("tasks --json " + t.Flags());
  REQUIRE(tasks.code == 0);
  bool found = false;
  for (const auto& x : json::parse(tasks.out))
    if (x["name"] == "linreg_copy") {
      found = true;
      CHECK(x["external"] == true);
      CHECK(x["metrics"].dump().find("r2") != std::string::npos);
    }
  CHECK(found);

  Ran eval = Ergon("eval --task linreg_copy --json " + t.Flags());
  INFO(eval.out);
  REQUIRE(eval.code == 0);
  json j = LastJson(eval.out);
  CHECK(j["gate_passed"] == true);
  CHECK(j["metrics"]["r2"].get<double>() > 0.9);
  CHECK(j["metrics"]["energy_j"].get<double>() > 0);
  CHECK(j["components"]["instructions_j"].get<double>() > 0);
  // The energy profile a built-in learner's prompt shows: by function, and
  // by line of the candidate (compiled with line tables).
  REQUIRE(j["components"].contains("profile"));
  CHECK(!j["components"]["profile"]["functions"].empty());
  CHECK(!j["components"]["profile"]["lines"].empty());
  // Repeatable: the cache meter gives the same joules for the same learner.
  Ran again = Ergon("eval --task linreg_copy --json " + t.Flags());
  REQUIRE(again.code == 0);
  CHECK(LastJson(again.out)["metrics"]["energy_j"] == j["metrics"]["energy_j"]);

  Ran run = Ergon("run --task linreg_copy --agent offline --max-candidates 4 --seed 5 --db '" + db + "' " + t.Flags());
  INFO(run.out);
  REQUIRE(run.code == 0);
  CHECK(run.out.find("4 new candidates") != std::string::npos);

  Ran top = Ergon("archive --db '" + db + "' top --by r2 --json --task linreg_copy " + t.Flags());
  REQUIRE(top.code == 0);
  auto rows = json::parse(top.out);
  REQUIRE(rows.size() >= 1);
  for (std::size_t i = 1; i < rows.size(); ++i) CHECK(rows[i - 1]["r2"].get<double>() >= rows[i]["r2"].get<double>());
  Ran by_energy = Ergon("archive --db '" + db + "' top --by energy_j --json " + t.Flags());
  REQUIRE(by_energy.code == 0);
  auto erows = json::parse(by_energy.out);
  for (std::size_t i = 1; i < erows.size(); ++i)
    CHECK(erows[i - 1]["energy_j"].get<double>() <= erows[i]["energy_j"].get<double>());
  Ran bad = Ergon("archive --db '" + db + "' top --by accuracy --task linreg_copy " + t.Flags());
  CHECK(bad.code == 2);
  CHECK(bad.out.find("valid:") != std::string::npos);
  CHECK(bad.out.find("r2") != std::string::npos);

  const std::string best = std::to_string(erows[0]["id"].get<long>());
  Ran rep = Ergon("replay " + best + " --json --db '" + db + "' " + t.Flags());
  INFO(rep.out);
  REQUIRE(rep.code == 0);
  CHECK(LastJson(rep.out)["verdict"] == "identical");

  const fs::path out = t.root / "export";
  Ran ex = Ergon("archive --db '" + db + "' export " + best + " -o '" + out.string() + "' " + t.Flags());
  REQUIRE(ex.code == 0);
  CHECK(fs::exists(out / "candidate.cpp"));
  CHECK(fs::exists(out / "task.json"));
  CHECK(Slurp(out / "README.md").find("r2") != std::string::npos);
  CHECK(std::system(("sh '" + (out / "build.sh").string() + "' 2>/dev/null").c_str()) == 0);

  // The harness ran as the user, in the user's folder: nothing there changed hands.
  struct stat st{};
  REQUIRE(::stat(t.dir.c_str(), &st) == 0);
  CHECK(st.st_uid == ::geteuid());

  // A changed harness is a changed evaluator: replay says so.
  t.Write("score.py", Slurp(t.dir / "score.py") + "\n# edited\n");
  Ran rep2 = Ergon("replay " + best + " --json --db '" + db + "' " + t.Flags());
  REQUIRE(rep2.code == 0);
  CHECK(rep2.out.find("harness files changed") != std::string::npos);
}

TEST_CASE("external task: its agent is told the true build command, its limits and what it sees") {
  auto reg = ergon::evaluators::TaskRegistry::Load(ERGON_SOURCE_DIR, {});
  auto task = reg.Open("linear_regression");
  REQUIRE(task.has_value());
  const std::string facts = (*task)->AgentFacts("cachemodel");
  INFO(facts);
  CHECK(facts.find("How it is built: g++ -O2 -g1 -std=c++20 candidate.cpp") != std::string::npos);
  CHECK(facts.find("its working directory holds one instance's input files") != std::string::npos);
  CHECK(facts.find("8 GiB of memory") != std::string::npos);
  CHECK(facts.find("Energy model (cachemodel)") != std::string::npos);
  CHECK(facts.find("harness builds") == std::string::npos);
}

TEST_CASE("external task: a harness that crashes, hangs or prints garbage is a harness error, never the candidate's") {
  struct Broken {
    const char* name;
    std::string score;
    const char* says;
  };
  const std::vector<Broken> cases = {
      {"crash", "import sys\nsys.stderr.write('scorer exploded\\n')\nsys.exit(3)\n", "scorer exploded"},
      {"hang", "import time\ntime.sleep(600)\n", "timeout"},
      {"garbage", "print('hello, I am not JSON')\n", "no JSON"},
      {"text_value", "print('{\"r2\": \"high\"}')\n", "not a finite number"},
      {"no_gate", "print('{\"mse\": 0.1}')\n", "gate metric"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    TaskCopy t(std::string("broken-") + c.name);
    t.Write("score.py", c.score);
    if (std::string(c.name) == "hang") {
      std::string spec = Slurp(t.dir / "task.json");
      spec.replace(spec.find("\"harness\": {"), 12, "\"harness\": {\"timeout_s\": 3, ");
      t.Write("task.json", spec);
    }
    const std::string db = (t.root / "x.db").string();
    Ran r = Ergon("eval --task linear_regression --meter wall --db '" + db + "' " + t.Flags());
    INFO(r.out);
    CHECK(r.code == 1);
    CHECK(r.out.find("harness error") != std::string::npos);
    CHECK(r.out.find(c.says) != std::string::npos);
    // Not recorded against the candidate.
    CHECK(!fs::exists(db));
    Ran run = Ergon("run --task linear_regression --meter wall --max-candidates 2 --db '" + db + "' " + t.Flags());
    CHECK(run.code == 1);
    CHECK(run.out.find("harness failed") != std::string::npos);
  }
}

TEST_CASE("eval --tasks DIR FILE evaluates FILE: a repeatable option takes one value per flag") {
  TaskCopy t("tasksfile");
  std::string src = Slurp(fs::path(ERGON_TESTS_DIR) / "gallery/external/snoop.cpp");
  src.replace(src.find("@TASK_DIR@"), 10, t.dir.string());
  const fs::path file = t.root / "zeros.cpp";
  std::ofstream(file) << src;
  // The file after --tasks (the shape that swallowed it into --tasks before).
  Ran r = Ergon("eval --task linear_regression --meter wall --json --tasks '" + t.root.string() + "' '" +
                file.string() + "'");
  INFO(r.out);
  CHECK(r.code == 3);  // zeros are below the gate: the baseline would pass it
  json j = LastJson(r.out);
  CHECK(j["feedback"].get<std::string>().find("SNOOP") != std::string::npos);
  CHECK(j["gate_passed"] == false);
  // Twice repeated, still one value each.
  Ran twice = Ergon("eval --task linear_regression --meter wall --json --tasks '" + t.root.string() + "' --tasks '" +
                    t.root.string() + "' '" + file.string() + "'");
  CHECK(twice.code == 3);
  CHECK(LastJson(twice.out)["feedback"].get<std::string>().find("SNOOP") != std::string::npos);
  // The baseline passes, exit 0.
  CHECK(Ergon("eval --task linear_regression --meter wall --tasks '" + t.root.string() + "'").code == 0);
}

TEST_CASE("external task: a broken task.json names the file and the field") {
  TaskCopy t("badspec");
  std::string spec = Slurp(t.dir / "task.json");
  spec.replace(spec.find("\"min\": 0.9"), 10, "\"min\": \"high\"");
  t.Write("task.json", spec);
  Ran r = Ergon("eval --task linear_regression " + t.Flags());
  CHECK(r.code == 2);
  CHECK(r.out.find("linear_regression/task.json: field \"objectives.gate.min\": expected a number") != std::string::npos);
  Ran list = Ergon("tasks " + t.Flags());
  CHECK(list.code == 1);
  CHECK(list.out.find("objectives.gate.min") != std::string::npos);
}

TEST_CASE("external task: an unknown key in task.json is an error naming it and the nearest valid key") {
  TaskCopy t("typo");
  std::string spec = Slurp(t.dir / "task.json");
  spec.replace(spec.find("\"timeout_s\": 60"), 15, "\"timeout\": 60");
  t.Write("task.json", spec);
  Ran r = Ergon("eval --task linear_regression " + t.Flags());
  CHECK(r.code == 2);
  CHECK(r.out.find("linear_regression/task.json: field \"timeout\": unknown key (did you mean \"timeout_s\"?") !=
        std::string::npos);
  // Nested too; and keys starting with '_' are comments.
  spec = Slurp(fs::path(ERGON_SOURCE_DIR) / "evaluators/linear_regression/task.json");
  spec.replace(spec.find("\"min\": 0.9"), 10, "\"minimum\": 0.9");
  t.Write("task.json", spec);
  r = Ergon("tasks " + t.Flags());
  CHECK(r.code == 1);
  CHECK(r.out.find("field \"objectives.gate.minimum\": unknown key (did you mean \"min\"?") != std::string::npos);
  spec = Slurp(fs::path(ERGON_SOURCE_DIR) / "evaluators/linear_regression/task.json");
  spec.replace(spec.find("{") , 1, "{\"_comment\": \"my notes\", ");
  t.Write("task.json", spec);
  CHECK(Ergon("tasks " + t.Flags()).code == 0);
}

TEST_CASE("external task: a candidate cannot read the hidden answers or the task folder, nor write into it") {
  TaskCopy t("snoop");
  std::string src = Slurp(fs::path(ERGON_TESTS_DIR) / "gallery/external/snoop.cpp");
  src.replace(src.find("@TASK_DIR@"), 10, t.dir.string());
  const fs::path file = t.root / "snoop.cpp";
  std::ofstream(file) << src;
  // The folder is readable to everyone outside the sandbox: the mask is what stops it.
  CHECK(Slurp(t.dir / "task.json").size() > 0);
  Ran r = Ergon("eval --task linear_regression --meter wall --json '" + file.string() + "' " + t.Flags());
  INFO(r.out);
  REQUIRE(r.code == 3);  // it ran and answered zeros: below the gate
  json j = LastJson(r.out);
  CHECK(j["feedback"].get<std::string>().find("SNOOP task_json=0 prepare=0 write=0 answers=0") != std::string::npos);
  CHECK(j["gate_passed"] == false);
  CHECK(!fs::exists(t.dir / "pwned"));
}
