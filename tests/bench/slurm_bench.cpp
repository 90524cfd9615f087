// `ergon_bench slurm`: what a Slurm job costs an evaluation. The same short
// run (dally_parity, serial, same seed) through the local executor and
// through a one-node Slurm cluster on this machine (tests/slurm/cluster.sh),
// each the whole `ergon run` command from a fresh shell. Fresh-suite verdicts
// draw new secrets, so the two runs may make different numbers of
// evaluations: the overhead is the difference of seconds per evaluation.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <fmt/core.h>
#include <sqlite3.h>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string Capture(const std::string& cmd, int* status) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  std::string out;
  if (!p) return out;
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int st = pclose(p);
  *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

long long CountEvaluations(const fs::path& db) {
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return -1;
  sqlite3_stmt* s = nullptr;
  long long n = -1;
  if (sqlite3_prepare_v2(raw, "SELECT count(*) FROM evaluations", -1, &s, nullptr) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW)
    n = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(raw);
  return n;
}

}  // namespace

int SlurmBench(const std::string& ergon, const std::string& source_dir) {
  const fs::path dir = fs::temp_directory_path() / ("ergon-bench-slurm-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string script = source_dir + "/tests/slurm/cluster.sh";
  int st = 0;
  const std::string started = Capture("'" + script + "' start '" + (dir / "cluster").string() + "'", &st);
  if (st != 0) {
    fmt::print("slurm: skipped: {}", started);
    Capture("'" + script + "' stop '" + (dir / "cluster").string() + "'", &st);
    fs::remove_all(dir);
    return 0;
  }
  const std::string env = "SLURM_CONF='" + started.substr(0, started.find('\n')) + "' ";
  const std::string run = "'" + ergon + "' run --task dally_parity --max-candidates 8 --evaluators 1 --proposals 1 --seed 2 ";
  auto timed = [&](const std::string& cmd, const fs::path& db) {
    int rc = 0;
    const auto t0 = Clock::now();
    const std::string out = Capture(cmd + "--db '" + db.string() + "'", &rc);
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (rc != 0) fmt::print("slurm: `{}` failed ({}):\n{}\n", cmd, rc, out.substr(out.size() > 2000 ? out.size() - 2000 : 0));
    return rc == 0 ? s : -1.0;
  };
  int rc = 0;
  double local = 0, slurm = 0;
  long long local_evals = 0, slurm_evals = 0;
  for (int rep = 0; rep < 2 && rc == 0; ++rep) {  // alternated: both see the same machine
    const fs::path a = dir / fmt::format("local{}.db", rep), b = dir / fmt::format("slurm{}.db", rep);
    const double l = timed(run, a), s = timed(env + run + "--executor slurm ", b);
    if (l < 0 || s < 0) {
      rc = 1;
      break;
    }
    local += l;
    slurm += s;
    local_evals += CountEvaluations(a);
    slurm_evals += CountEvaluations(b);
  }
  if (rc == 0 && local_evals > 0 && slurm_evals > 0) {
    const double per_local = local / static_cast<double>(local_evals);
    const double per_slurm = slurm / static_cast<double>(slurm_evals);
    fmt::print("slurm: a dally_parity run (8 candidates, one slot, seed 2), whole `ergon run`, 2 runs each\n");
    fmt::print("  local executor (baseline):  {:6.2f} s for {} evaluations = {:.3f} s each\n", local, local_evals,
               per_local);
    fmt::print("  slurm executor, one node:   {:6.2f} s for {} evaluations = {:.3f} s each  ({:.2f}x)  overhead "
               "{:.3f} s per evaluation\n", slurm, slurm_evals, per_slurm, per_slurm / per_local, per_slurm - per_local);
  }
  Capture("'" + script + "' stop '" + (dir / "cluster").string() + "'", &st);
  fs::remove_all(dir);
  return rc;
}
