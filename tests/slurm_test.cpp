// `ergon run --executor slurm` against a real one-node Slurm cluster (munged,
// slurmctld, slurmd from Debian's packages) that each test starts on
// 127.0.0.1 and stops again (tests/slurm/cluster.sh). Where no cluster can
// run here, each test says why and passes without checking; the ctest entry
// slurm_cluster_available is then reported as skipped, so it shows.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include <doctest/doctest.h>

#include "plants.h"
#include "run_ergon.h"
#include "sleepy_task.h"
#include "slurp.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kClusterScript = std::string(ERGON_SOURCE_DIR) + "/tests/slurm/cluster.sh";

// A one-node cluster for one test.
struct Cluster {
  fs::path dir;
  std::string conf, why;
  explicit Cluster(const std::string& name) {
    dir = fs::path("/var/tmp") / ("ergon-slurm-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    Ran r = RunShell("'" + kClusterScript + "' start '" + dir.string() + "'");
    if (r.code == 0) {
      conf = r.out.substr(0, r.out.find('\n'));
    } else {
      why = r.out;
    }
  }
  ~Cluster() {
    RunShell("'" + kClusterScript + "' stop '" + dir.string() + "'");
    fs::remove_all(dir);
  }
  bool up() const {
    if (conf.empty()) MESSAGE("SKIPPED: no Slurm cluster here: " << why);
    return !conf.empty();
  }
  std::string Env() const { return "SLURM_CONF='" + conf + "'"; }
  Ran Slurm(const std::string& cmd) const { return RunShell(Env() + " " + cmd); }
  // Ids of our jobs in `state` (RUNNING, PENDING, ...).
  std::vector<std::string> Jobs(const std::string& state) const {
    Ran r = Slurm("squeue -h --states=all -o '%i %T'");
    std::vector<std::string> ids;
    std::istringstream in(r.out);
    for (std::string id, st; in >> id >> st;)
      if (st == state) ids.push_back(id);
    return ids;
  }
  // Waits for at least n running jobs; returns their ids.
  std::vector<std::string> WaitRunning(std::size_t n, double timeout_s) const {
    const auto end = Clock::now() + std::chrono::duration<double>(timeout_s);
    while (Clock::now() < end) {
      auto ids = Jobs("RUNNING");
      if (ids.size() >= n) return ids;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return {};
  }
};

// Column 0 of every row of a query.
std::vector<std::string> Column(const fs::path& db, const std::string& sql) {
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(raw, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
  std::vector<std::string> out;
  while (sqlite3_step(s) == SQLITE_ROW)
    out.push_back(sqlite3_column_text(s, 0) ? reinterpret_cast<const char*>(sqlite3_column_text(s, 0)) : "");
  sqlite3_finalize(s);
  sqlite3_close(raw);
  return out;
}

// hash -> "metric=value ..." of each candidate's dev evaluation, without
// wall-clock metrics (those differ between any two runs).
std::map<std::string, std::string> DevMetrics(const fs::path& db) {
  std::map<std::string, std::string> out;
  for (const auto& row : Column(db, "SELECT c.hash || ' ' || group_concat(m.name || '=' || printf('%.17g', m.value), ' ') "
                                    "FROM candidates c JOIN evaluations e ON e.candidate_id = c.id AND e.suite = 'dev' "
                                    "JOIN evaluation_metrics m ON m.evaluation_id = e.id "
                                    "WHERE m.name NOT IN ('wall_s', 'cpu_s') GROUP BY e.id ORDER BY c.id")) {
    const auto sp = row.find(' ');
    out[row.substr(0, sp)] = row.substr(sp + 1);
  }
  return out;
}

// Every candidate once: no source recorded twice.
void CheckNothingTwice(const fs::path& db) {
  CHECK(Count(db, "SELECT count(*) FROM candidates") == Count(db, "SELECT count(DISTINCT hash) FROM candidates"));
  CHECK(Count(db, "SELECT count(*) FROM (SELECT candidate_id, suite FROM evaluations GROUP BY candidate_id, suite "
                  "HAVING count(*) > 1)") == 0);
}

}  // namespace

TEST_CASE("slurm: a run through Slurm records the same metrics and joules as the local executor") {
  Cluster c("same");
  if (!c.up()) return;
  const fs::path root = c.dir / "work";
  fs::create_directories(root);
  // One proposal and one slot: both runs make the same candidates in the same order.
  const std::string common = "run --task linear_regression --meter cachemodel --instances 1 --max-candidates 3 "
                             "--evaluators 1 --proposals 1 --seed 4 ";
  Ran local = Ergon(common + "--db '" + (root / "local.db").string() + "'");
  INFO(local.out);
  REQUIRE(local.code == 0);
  Ran slurm = Ergon(common + "--executor slurm --db '" + (root / "slurm.db").string() + "'", c.Env());
  INFO(slurm.out);
  REQUIRE(slurm.code == 0);
  CHECK(slurm.out.find("evaluations are Slurm jobs") != std::string::npos);
  CHECK(slurm.out.find("jobs:") != std::string::npos);  // progress shows the queue

  const auto a = DevMetrics(root / "local.db"), b = DevMetrics(root / "slurm.db");
  CHECK(a.size() == 4);  // the baseline and three candidates
  CHECK(a == b);         // same sources, same meter, same suite: same joules
  for (const auto& [hash, metrics] : b) CHECK(metrics.find("energy_j=") != std::string::npos);
  // Every evaluation says where it was measured; none of the local run's do.
  const auto measured = Column(root / "slurm.db", "SELECT message FROM events WHERE kind='measured'");
  CHECK(measured.size() >= 4);
  for (const auto& m : measured) CHECK(m.find("slurm job ") != std::string::npos);
  CHECK(Column(root / "local.db", "SELECT message FROM events WHERE kind='measured'").empty());
  Ran show = Ergon("archive --db '" + (root / "slurm.db").string() + "' show 2");
  CHECK(show.out.find("measured on: dev: slurm job ") != std::string::npos);
  // Only ergon's head process wrote the archive; the spool holds nothing
  // unrecorded once the run is done.
  std::size_t left = 0;
  for (auto it = fs::recursive_directory_iterator(root / "slurm.db.spool"); it != fs::recursive_directory_iterator(); ++it)
    left += it->is_regular_file();
  CHECK(left == 0);
}

TEST_CASE("slurm: an API key in ergon's environment reaches no file that ergon or Slurm writes") {
  Cluster c("keys");
  if (!c.up()) return;
  const fs::path root = c.dir / "work";
  fs::create_directories(root);
  const std::string marker = "sk-ergon-marker-" + std::to_string(::getpid()) + "-do-not-store";
  const std::string keys = "OPENAI_API_KEY='" + marker + "' ANTHROPIC_API_KEY='" + marker + "' ERGON_SECRET='" + marker + "' ";
  Ran slurm = Ergon("run --task linear_regression --meter cachemodel --instances 1 --max-candidates 2 --evaluators 1 "
                    "--proposals 1 --seed 4 --executor slurm --db '" + (root / "keys.db").string() + "'",
                    keys + c.Env());
  INFO(slurm.out);
  REQUIRE(slurm.code == 0);
  // Every file under the cluster's folder: slurmctld's state (jobs' stored
  // environments), slurmd's spool, the logs, the run's archive, spool and
  // run file.
  std::size_t files = 0;
  for (auto it = fs::recursive_directory_iterator(c.dir, fs::directory_options::skip_permission_denied);
       it != fs::recursive_directory_iterator(); ++it) {
    if (!it->is_regular_file()) continue;
    ++files;
    CHECK_MESSAGE(Slurp(it->path()).find(marker) == std::string::npos, it->path().string());
  }
  CHECK(files > 5);
}

TEST_CASE("slurm: a candidate hunting the node's filesystem finds nothing of the host") {
  Cluster c("hunt");
  if (!c.up()) return;
  if (::geteuid() != 0) {
    MESSAGE("SKIPPED: needs root to plant files in /srv, /opt, /var and /usr/share");
    return;
  }
  const std::string marker = "ergonhunt" + std::to_string(::getpid());
  // External tasks whose baseline is the hunter (linear_regression's
  // harness), one a C++ and one a CUDA-language candidate (host code: it
  // runs without a GPU).
  const fs::path tasks = c.dir / "tasks";
  fs::create_directories(tasks);
  std::string hunter = Slurp(fs::path(ERGON_SOURCE_DIR) / "tests/gallery/external/hunter.cpp");
  hunter.replace(hunter.find("@MARKER@"), 8, marker);
  const bool cuda = RunShell("command -v nvcc || test -x /usr/local/cuda/bin/nvcc").code == 0;
  for (const std::string lang : {"cpp", "cuda"}) {
    if (lang == "cuda" && !cuda) continue;
    const fs::path task = tasks / ("hunt_" + lang);
    fs::copy(fs::path(ERGON_SOURCE_DIR) / "evaluators" / "linear_regression", task, fs::copy_options::recursive);
    std::ofstream(task / (lang == "cuda" ? "baseline.cu" : "baseline.cpp")) << hunter;
    if (lang == "cuda") {
      std::string spec = Slurp(task / "task.json");
      spec.replace(spec.find("\"language\": \"cpp\""), 17, "\"language\": \"cuda\"");
      spec.replace(spec.find("\"baseline\": \"baseline.cpp\""), 26, "\"baseline\": \"baseline.cu\"");
      std::ofstream(task / "task.json") << spec;
      fs::remove(task / "baseline.cpp");
    }
  }
  // World-readable plants: a second copy of the task folder, a home, /srv,
  // /opt, /var/tmp, the spool's folder, a data set under /usr/share.
  const fs::path copy = fs::path("/var/tmp") / ("ergon-task-copy-" + marker), home = fs::path("/home") / marker,
                 data = fs::path("/usr/share") / ("ergon-dataset-" + marker);
  std::vector<fs::path> plants = {copy / (marker + "-prepare.py"), home / (marker + "-notes.txt"),
                                  fs::path("/srv") / (marker + ".txt"), fs::path("/opt") / (marker + ".txt"),
                                  fs::path("/var/tmp") / (marker + ".txt"), c.dir / "work" / (marker + "-spool.req"),
                                  data / (marker + "-train.idx")};
  fs::create_directories(c.dir / "work");
  const Plants planted({copy, home, data}, plants, "secret\n");
  for (const std::string lang : {"cpp", "cuda"}) {
    if (lang == "cuda" && !cuda) {
      MESSAGE("the CUDA-language hunter is skipped: no nvcc here");
      continue;
    }
    const fs::path db = c.dir / "work" / ("hunt_" + lang + ".db");
    Ran r = Ergon("run --task hunt_" + lang + " --tasks '" + tasks.string() + "' --meter wall --instances 1 "
                  "--max-candidates 1 --evaluators 1 --proposals 1 --executor slurm --db '" + db.string() + "'",
                  c.Env());
    INFO(lang << ": " << r.out);
    const auto feedback = Column(db, "SELECT feedback FROM evaluations");
    REQUIRE(!feedback.empty());
    bool hunted = false;
    for (const auto& f : feedback) {
      INFO(f);
      if (f.find("HUNT walked=") == std::string::npos) continue;
      hunted = true;
      CHECK(f.find(marker + "-mine.txt") != std::string::npos);  // it did look, and finds its own file
      CHECK(f.find("found=1") != std::string::npos);             // and nothing else
      for (const auto& p : plants) CHECK_MESSAGE(f.find(p.string()) == std::string::npos, p.string());
    }
    CHECK(hunted);
  }
}

TEST_CASE("slurm: a job cancelled with scancel, and a node whose slurmd dies with its jobs, are resubmitted") {
  Cluster c("lost");
  if (!c.up()) return;
  Sleepy t("slurm-lost", 3);
  const fs::path log = t.root / "log";
  pid_t pid = Start(t.Args("--max-candidates 4 --evaluators 2 --executor slurm --heartbeat 1"), log, c.Env());
  INFO(Slurp(log));
  // The baseline is measured first; then two candidates run at once.
  REQUIRE(WaitFor(log, "evaluation slot(s)", 60));
  auto running = c.WaitRunning(1, 60);
  REQUIRE(!running.empty());
  CHECK(c.Slurm("scancel " + running.front()).code == 0);
  REQUIRE(WaitFor(log, "job " + running.front() + " CANCELLED without a result", 30));

  // The node is lost: slurmd and every job process on it die at once; the
  // controller notices (NODE_FAIL, tens of seconds), then slurmd comes back.
  running = c.WaitRunning(1, 60);
  REQUIRE(!running.empty());
  RunShell("'" + kClusterScript + "' slurmd-stop '" + c.dir.string() + "'");
  // '[s]': the pattern must not match the shell that runs pkill.
  RunShell("pkill -9 -f '[s]lurmstepd'; pkill -9 -f '[e]val-job " + t.root.string() + "'");
  const auto down_by = Clock::now() + std::chrono::seconds(120);
  while (c.Jobs("NODE_FAIL").empty() && Clock::now() < down_by) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  RunShell("'" + kClusterScript + "' slurmd-start '" + c.dir.string() + "'");
  const auto lost = c.Jobs("NODE_FAIL");
  REQUIRE(!lost.empty());
  CHECK(WaitFor(log, "job " + lost.front() + " NODE_FAIL without a result", 30));

  int status = 0;
  const auto end = Clock::now() + std::chrono::seconds(150);
  while (waitpid(pid, &status, WNOHANG) == 0 && Clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  if (Clock::now() >= end) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL("the run did not finish");
  }
  const std::string out = Slurp(log);
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(out.find("resubmitting (2 of 3)") != std::string::npos);
  CHECK(out.find("resubmitted after infrastructure failures") != std::string::npos);
  // Nothing lost, nothing counted twice, nothing charged to a candidate.
  CHECK(Count(t.db, "SELECT count(*) FROM candidates WHERE parent_id IS NOT NULL") == 4);
  CHECK(Count(t.db, "SELECT count(*) FROM candidates WHERE status='failed'") == 0);
  CHECK(Count(t.db, "SELECT count(*) FROM attempts WHERE stage IN ('infrastructure', 'run', 'compile')") == 0);
  CheckNothingTwice(t.db);
  CHECK(out.find("--max-candidates 4 reached") != std::string::npos);
}

TEST_CASE("slurm: kill -9 of ergon mid-run, then --resume collects the orphaned jobs instead of measuring again") {
  Cluster c("resume");
  if (!c.up()) return;
  Sleepy t("slurm-resume", 4);
  const fs::path log = t.root / "log";
  pid_t pid = Start(t.Args("--max-candidates 4 --evaluators 2 --executor slurm"), log, c.Env());
  INFO(Slurp(log));
  REQUIRE(WaitFor(log, "evaluation slot(s)", 60));
  // Two candidates' jobs running (the baseline's has finished by now).
  const auto orphans = c.WaitRunning(2, 60);
  REQUIRE(orphans.size() == 2);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  const auto before = Count(t.db, "SELECT count(*) FROM candidates");

  // No --executor: the run resumes the way it was started, spool and all.
  Ran r = Ergon(t.Args("--resume 1"), c.Env());
  INFO(r.out);
  CHECK(r.code == 0);
  CHECK(r.out.find("evaluates through Slurm") != std::string::npos);
  CHECK(r.out.find("collecting 2 evaluation(s) the previous process left") != std::string::npos);
  // The orphaned jobs' own measurements were recorded: their ids are in the
  // archive, and they were never submitted again.
  const auto measured = Column(t.db, "SELECT message FROM events WHERE kind='measured'");
  for (const auto& id : orphans) {
    int found = 0;
    for (const auto& m : measured) found += m.find("slurm job " + id + " ") != std::string::npos;
    CHECK_MESSAGE(found == 1, "job " << id);
  }
  CHECK(r.out.find("resubmitting") == std::string::npos);
  CHECK(before <= 1 + 2);
  CHECK(Count(t.db, "SELECT count(*) FROM candidates WHERE parent_id IS NOT NULL") == 4);
  CheckNothingTwice(t.db);
  // The agent calls behind the orphans were closed as lost by the resume,
  // then completed when their candidates landed: every candidate has its call.
  CHECK(Count(t.db, "SELECT count(DISTINCT candidate_id) FROM ledger WHERE outcome LIKE 'ok%'") == 4);
  CHECK(Count(t.db, "SELECT count(*) FROM ledger WHERE candidate_id IS NOT NULL AND outcome NOT LIKE 'ok%'") == 0);
}

TEST_CASE("slurm: --executor slurm without a controller fails at once and says why, and slurm flags need it") {
  Sleepy t("slurm-none", 1);
  // A configuration that names no controller: squeue fails at once.
  std::ofstream(t.root / "slurm.conf") << "ClusterName=nowhere\n";
  Ran r = Ergon(t.Args("--executor slurm"), "SLURM_CONF='" + (t.root / "slurm.conf").string() + "'");
  CHECK(r.code == 1);
  CHECK(r.out.find("squeue does not answer") != std::string::npos);
  CHECK(r.out.find("No SlurmctldHost defined") != std::string::npos);  // squeue's own words
  CHECK(!fs::exists(t.db));  // nothing written for a run that cannot evaluate
  Ran flag = Ergon(t.Args("--slurm-gres gpu:1"));
  CHECK(flag.code == 2);
  CHECK(flag.out.find("--slurm-gres needs --executor slurm") != std::string::npos);
}

TEST_CASE("slurm: the deadline cancels the run's own jobs, and only those") {
  Cluster c("cancel");
  if (!c.up()) return;
  // Someone else's work on the same cluster, under the same user.
  Ran other = c.Slurm("sbatch --parsable -o /dev/null --wrap 'sleep 300'");
  REQUIRE(other.code == 0);
  const std::string other_id = other.out.substr(0, other.out.find_first_of(";\n"));
  Sleepy t("slurm-cancel", 8);
  Ran r = Ergon(t.Args("--max-candidates 10 --evaluators 2 --executor slurm --max-time 14s"), c.Env());
  INFO(r.out);
  CHECK(r.code == 0);
  CHECK(r.out.find("--max-time 14s reached") != std::string::npos);
  CHECK(Count(t.db, "SELECT count(*) FROM attempts WHERE stage='cut_off'") >= 1);
  CHECK(Count(t.db, "SELECT count(*) FROM attempts WHERE stage='infrastructure'") == 0);
  // Nothing of the run's is left queued or running; the other job runs on.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  auto running = c.Jobs("RUNNING"), pending = c.Jobs("PENDING");
  CHECK(running.size() == 1);
  CHECK(pending.empty());
  if (!running.empty()) CHECK(running.front() == other_id);
  CHECK(!c.Jobs("CANCELLED").empty());
}

TEST_CASE("slurm: a job sbatch refuses is an infrastructure failure in sbatch's words, and --slurm-gres reaches it") {
  Cluster c("refused");
  if (!c.up()) return;
  Sleepy t("slurm-refused", 1);
  // This cluster has no GPUs: a job that asks for one is refused at submission.
  Ran r = Ergon(t.Args("--executor slurm --slurm-gres gpu:1 --max-candidates 2"), c.Env());
  INFO(r.out);
  CHECK(r.code == 1);
  CHECK(r.out.find("the baseline could not be measured on the cluster: gave up after 3 submissions") != std::string::npos);
  CHECK(r.out.find("sbatch failed") != std::string::npos);
  CHECK(r.out.find("gres") != std::string::npos);  // sbatch's own reason
  CHECK(Count(t.db, "SELECT count(*) FROM candidates") == 0);
}
