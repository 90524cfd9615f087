// The Slurm executor: each evaluation is a batch job that runs
// `ergon eval-job DIR` on a node, in the same sandbox and under the same
// meter as a local evaluation, and leaves DIR/result.json in the spool (a
// folder every node sees). Only this process, on the head node, writes the
// archive.
//
// One poller thread asks squeue about every job of ours in one call, then
// looks for result files: the cost per poll does not grow with the jobs in
// flight. A job that ends without a result (cancelled, preempted, its node
// lost, never started) was the infrastructure's failure: it is resubmitted, at
// most max_submissions times in all, then reported as an infrastructure
// failure, never as the candidate's.
//
// Spool layout, per evaluation: spool/run-R/KEY/
//   request.json  what to measure (JobRequest)
//   note.json     the engine's note, for recording after a restart
//   job.sh        the batch script
//   jobs          one line per submission: the Slurm job id
//   result.json   the measurement (written by the job, whole)
//   error.txt     why the job could not measure (written by the job)
//   out-JOBID.txt the job's output
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/core.h>

#include "base/file.h"
#include "engine/executor/command.h"
#include "engine/executor/executor.h"
#include "engine/executor/job_files.h"
#include "engine/home.h"
#include "base/shell_quote.h"
#include "base/mutex.h"

namespace ergon::engine {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr double kSlurmCommandTimeoutS = 60;

// States in which a job may still produce its result.
bool Active(const std::string& state) {
  static const std::set<std::string> kActive = {"PENDING",   "RUNNING",  "CONFIGURING", "COMPLETING", "REQUEUED",
                                                "RESIZING",  "SUSPENDED", "SIGNALING",  "STAGE_OUT",  "REQUEUE_FED",
                                                "REQUEUE_HOLD", "RESV_DEL_HOLD", "SPECIAL_EXIT"};
  return kActive.count(state) > 0;
}

// Pending for a reason that no wait will cure.
bool Hopeless(const std::string& reason) {
  for (const char* r : {"BadConstraints", "PartitionConfig", "InvalidAccount", "InvalidQOS", "JobHeldAdmin",
                        "PartitionTimeLimit", "PartitionNodeLimit", "QOSJobLimit", "DependencyNeverSatisfied"})
    if (reason.find(r) != std::string::npos) return true;
  return false;
}

std::string ReadSmall(const fs::path& p) { return base::ReadFile(p.string()).value_or(""); }

std::vector<std::string> SplitSpaces(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

struct JobState {
  std::string state, node, reason;
};

class SlurmExecutor final : public Executor {
 public:
  explicit SlurmExecutor(SlurmOptions o) : o_(std::move(o)), run_dir_(fs::path(o_.spool) / fmt::format("run-{}", o_.run_id)) {
    poller_ = std::thread([this] { PollLoop(); });
  }
  ~SlurmExecutor() override {
    {
      base::MutexLock l(&mu_);
      stopping_ = true;
    }
    cv_.SignalAll();
    poller_.join();
  }

  std::string name() const override { return "slurm"; }

  evaluators::Measurement Measure(const evaluators::Task& task, const std::string& key,
                                  const evaluators::TaskEvalRequest& request, const std::string& note) override {
    std::shared_ptr<Entry> e;
    bool mine = false;
    {
      base::MutexLock l(&mu_);
      auto it = entries_.find(key);
      if (it == entries_.end()) {
        e = std::make_shared<Entry>();
        e->dir = run_dir_ / key;
        e->version = task.Version();
        entries_[key] = e;
        mine = true;
      } else {
        e = it->second;  // another slot asked for the same evaluation: share its job
      }
      ++e->waiters;
    }
    if (mine) Start(*e, task, request, note);
    base::MutexLock l(&mu_);
    cv_.SignalAll();
    while (!e->done && !cancelled_) cv_.Wait();
    evaluators::Measurement m;
    if (e->done) {
      m = e->m;
    } else {
      m.stage = "cut_off";
      m.error = fmt::format("the run stopped: slurm job {} cancelled", e->job_id);
      m.job = "slurm job " + e->job_id;
    }
    if (--e->waiters == 0) entries_.erase(key);
    return m;
  }

  void Recorded(const std::string& key) override {
    std::error_code ec;
    fs::remove_all(run_dir_ / key, ec);
  }

  std::vector<Unfinished> Orphans() override {
    std::vector<std::pair<fs::file_time_type, Unfinished>> found;
    std::error_code ec;
    for (const auto& d : fs::directory_iterator(run_dir_, ec)) {
      const fs::path note = d.path() / "note.json";
      if (!fs::exists(note, ec)) continue;
      found.push_back({fs::last_write_time(note, ec), {d.path().filename().string(), ReadSmall(note)}});
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<Unfinished> out;
    for (auto& f : found) out.push_back(std::move(f.second));
    return out;
  }

  void Cancel() override {
    std::vector<std::string> ids;
    {
      base::MutexLock l(&mu_);
      if (cancelled_) return;
      cancelled_ = true;
      for (const auto& [key, e] : entries_)
        if (!e->done && !e->job_id.empty()) ids.push_back(e->job_id);
    }
    cv_.SignalAll();
    // Only our own jobs, by id: never the user's other work.
    if (!ids.empty()) {
      std::vector<std::string> argv = {"scancel"};
      argv.insert(argv.end(), ids.begin(), ids.end());
      (void)RunCommand(argv, kSlurmCommandTimeoutS);
    }
  }

  ExecutorCounts Counts() const override {
    base::MutexLock l(&mu_);
    ExecutorCounts c;
    for (const auto& [key, e] : entries_) {
      if (e->done) continue;
      if (e->state.empty() || e->state == "PENDING" || e->state == "REQUEUED") ++c.queued;
      else ++c.running;
    }
    c.done = done_;
    c.resubmitted = resubmitted_;
    return c;
  }

 private:
  struct Entry {
    fs::path dir;
    std::string version;  // the head's evaluator version for the task
    std::string job_id;   // the newest submission
    int submissions = 0;
    std::string state;    // squeue's, "" until seen
    Clock::time_point submitted;
    std::string history;  // earlier submissions and how they ended
    bool done = false;
    evaluators::Measurement m;
    int waiters = 0;
  };

  // A new evaluation is written and submitted; one a previous process left
  // (same key) is adopted: its result, or its job.
  void Start(Entry& e, const evaluators::Task& task, const evaluators::TaskEvalRequest& request, const std::string& note) {
    std::error_code ec;
    const std::string jobs = ReadSmall(e.dir / "jobs");
    if (fs::exists(e.dir / "result.json", ec) || !jobs.empty()) {
      const auto ids = SplitSpaces(jobs);
      base::MutexLock l(&mu_);
      e.submissions = std::max<int>(1, static_cast<int>(ids.size()));
      if (!ids.empty()) e.job_id = ids.back();
      e.submitted = Clock::now();
      e.history = "collected from an earlier process";
      return;
    }
    fs::create_directories(e.dir, ec);
    JobRequest jr{task.spec().name, o_.tasks_dirs, task.Version(), request};
    std::string why = WriteWhole((e.dir / "request.json").string(), JobRequestJson(jr));
    if (why.empty()) why = WriteWhole((e.dir / "note.json").string(), note.empty() ? "{}" : note);
    if (why.empty()) {
      // ERGON_HOME: the job finds the same task folders and templates as the
      // head, whatever its working directory.
      why = WriteWhole((e.dir / "job.sh").string(),
                       fmt::format("#!/bin/sh\n# an ergon evaluation (ergon run --executor slurm); the head node reads "
                                   "result.json\nERGON_HOME={}\nexport ERGON_HOME\nexec {} eval-job {}\n",
                                   base::ShellQuote(o_.home), base::ShellQuote(o_.ergon), base::ShellQuote(e.dir.string())));
    }
    if (!why.empty()) {
      Finish(e, Infrastructure("the spool: " + why));
      return;
    }
    Submit(e);
  }

  // sbatch, without mu_ held; what it did lands in e under mu_.
  void Submit(Entry& e) {
    // --no-requeue: a job lost with its node comes back to ergon, whose own
    // bounded resubmission is the one policy (and is counted and recorded).
    std::vector<std::string> argv = {"sbatch", "--parsable", "--no-requeue", "--job-name=ergon-r" + std::to_string(o_.run_id),
                                     "--output=" + (e.dir / "out-%j.txt").string(), "--chdir=" + e.dir.string()};
    if (!o_.partition.empty()) argv.push_back("--partition=" + o_.partition);
    if (!o_.gres.empty()) argv.push_back("--gres=" + o_.gres);
    for (auto& a : SplitSpaces(o_.extra_args)) argv.push_back(a);
    argv.push_back((e.dir / "job.sh").string());
    {
      base::MutexLock l(&mu_);
      if (cancelled_) return;  // the run stopped first: nothing new goes out
    }
    const CommandResult r = RunCommand(argv, kSlurmCommandTimeoutS);
    std::string id = r.output.substr(0, r.output.find_first_of(";\n"));
    const bool ok = r.status == 0 && !id.empty() && id.find_first_not_of("0123456789") == std::string::npos;
    if (ok) {
      std::ofstream(e.dir / "jobs", std::ios::app) << id << "\n";
    }
    // The id lands under the lock that Cancel() reads ids under: either
    // Cancel sees it, or this sees the cancel and scancels it itself.
    bool late = false;
    {
      base::MutexLock l(&mu_);
      ++e.submissions;
      e.submitted = Clock::now();
      e.state.clear();
      if (ok) {
        e.job_id = id;
        late = cancelled_;
      } else {
        std::string said = r.timed_out ? "timed out" : r.output.substr(0, 300);
        while (!said.empty() && (said.back() == '\n' || said.back() == ' ')) said.pop_back();
        e.history += fmt::format("{}sbatch failed: {}", e.history.empty() ? "" : "; ", said);
        e.job_id.clear();
      }
    }
    if (late) (void)RunCommand({"scancel", id}, kSlurmCommandTimeoutS);
  }

  static evaluators::Measurement Infrastructure(const std::string& why) {
    evaluators::Measurement m;
    m.stage = "infrastructure";
    m.error = why;
    m.infrastructure_error = true;
    return m;
  }

  void Finish(Entry& e, evaluators::Measurement m) {
    base::MutexLock l(&mu_);
    e.m = std::move(m);
    e.done = true;
    ++done_;
    cv_.SignalAll();
  }

  // squeue once for all our jobs: id -> state, node, reason. nullopt when
  // the controller does not answer (then nothing is judged lost).
  std::optional<std::map<std::string, JobState>> Queue() {
    const CommandResult r = RunCommand({"squeue", "-h", "--states=all", "-o", "%i|%T|%N|%r",
                                        "--user=" + std::to_string(::getuid())}, kSlurmCommandTimeoutS);
    if (r.status != 0) return std::nullopt;
    std::map<std::string, JobState> q;
    std::istringstream in(r.output);
    for (std::string line; std::getline(in, line);) {
      std::vector<std::string> f;
      std::size_t at = 0;
      for (int i = 0; i < 3; ++i) {
        const auto bar = line.find('|', at);
        if (bar == std::string::npos) break;
        f.push_back(line.substr(at, bar - at));
        at = bar + 1;
      }
      if (f.size() == 3) q[f[0]] = {f[1], f[2], line.substr(at)};
    }
    return q;
  }

  // Results are looked for often (a stat per job in flight); squeue, which
  // costs the controller, is asked less often, only to find lost jobs.
  void PollLoop() {
    int silent_polls = 0;
    auto next_queue = Clock::now();
    for (;;) {
      std::vector<std::shared_ptr<Entry>> open;
      {
        base::MutexLock l(&mu_);
        cv_.WaitFor(std::chrono::duration<double>(o_.poll_s));
        if (stopping_) return;
        if (cancelled_) continue;
        for (const auto& [key, e] : entries_)
          if (!e->done && e->submissions > 0) open.push_back(e);
      }
      if (open.empty()) continue;
      if (Clock::now() < next_queue) {
        for (const auto& e : open) CollectResult(*e);
        continue;
      }
      next_queue = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.queue_poll_s));
      const auto queue = Queue();
      if (!queue) {
        if (++silent_polls % 60 == 1)
          fmt::print(stderr, "\nergon run: squeue does not answer; waiting for the Slurm controller\n");
        continue;
      }
      silent_polls = 0;
      for (const auto& e : open) Judge(*e, *queue);
    }
  }

  void CollectResult(Entry& e) {
    std::string job_id, version;
    {
      base::MutexLock l(&mu_);
      job_id = e.job_id;
      version = e.version;
    }
    if (auto m = ReadResult(e, job_id, version)) Finish(e, std::move(*m));
  }

  // One evaluation after a poll: finished, still going, or lost.
  void Judge(Entry& e, const std::map<std::string, JobState>& queue) {
    std::string job_id, version;
    {
      base::MutexLock l(&mu_);
      job_id = e.job_id;
      version = e.version;
    }
    const auto it = job_id.empty() ? queue.end() : queue.find(job_id);
    const JobState seen = it == queue.end() ? JobState{} : it->second;
    // squeue was asked before the result was looked for: a job it saw end
    // had written its result (if any) by then.
    if (auto m = ReadResult(e, job_id, version)) {
      Finish(e, std::move(*m));
      return;
    }
    if (Active(seen.state)) {
      const bool stuck = seen.state == "PENDING" && Hopeless(seen.reason);
      base::MutexLock l(&mu_);
      e.state = seen.state;
      if (!stuck) return;
    } else if (!job_id.empty() && seen.state.empty()) {
      // Not listed: just submitted and not yet visible, or long gone. Give a
      // new job a moment before calling it lost.
      base::MutexLock l(&mu_);
      if (Clock::now() - e.submitted < std::chrono::seconds(10)) return;
    }
    std::string error = ReadSmall(e.dir / "error.txt");
    if (error.empty() && !job_id.empty()) {  // the job's own last words, if it left any
      error = ReadSmall(e.dir / ("out-" + job_id + ".txt"));
      if (error.size() > 300) error = "..." + error.substr(error.size() - 300);
      while (!error.empty() && error.back() == '\n') error.pop_back();
    }
    if (!job_id.empty() && Active(seen.state)) (void)RunCommand({"scancel", job_id}, kSlurmCommandTimeoutS);
    // Without a job id, sbatch refused it (and history says why).
    std::string ending = job_id.empty() ? ""
                       : fmt::format("job {} {}{}", job_id, seen.state.empty() ? "vanished" : seen.state,
                                     Active(seen.state) ? " (" + seen.reason + ")" : " without a result");
    if (!error.empty()) ending += ": " + error.substr(0, 300);
    int submissions = 0;
    {
      base::MutexLock l(&mu_);
      if (!ending.empty()) e.history += (e.history.empty() ? "" : "; ") + ending;
      if (ending.empty()) ending = "sbatch refused the job";
      submissions = e.submissions;
      if (cancelled_) return;
    }
    std::error_code ec;
    fs::remove(e.dir / "error.txt", ec);
    if (submissions < o_.max_submissions) {
      fmt::print(stderr, "\nergon run: {}: resubmitting ({} of {})\n", ending, submissions + 1, o_.max_submissions);
      {
        base::MutexLock l(&mu_);
        ++resubmitted_;
      }
      Submit(e);
      return;
    }
    std::string history;
    {
      base::MutexLock l(&mu_);
      history = e.history;
    }
    Finish(e, Infrastructure(fmt::format("gave up after {} submissions: {}", submissions, history)));
  }

  // The job's measurement, if it left one.
  std::optional<evaluators::Measurement> ReadResult(Entry& e, const std::string& job_id, const std::string& version) {
    const std::string text = ReadSmall(e.dir / "result.json");
    if (text.empty()) return std::nullopt;
    auto m = ParseMeasurement(text);
    if (!m) return Infrastructure(fmt::format("job {} left an unreadable result: {}", job_id, m.error()));
    // Never mix results of another evaluator version silently.
    if (m->evaluator_version != version && m->ran)
      return Infrastructure(fmt::format("job {} on {} measured with evaluator {}, this run uses {}: not mixed",
                                        m->job, m->node, m->evaluator_version, version));
    base::MutexLock l(&mu_);
    if (!e.history.empty()) m->job += " (earlier: " + e.history + ")";
    return *m;
  }

  const SlurmOptions o_;
  const fs::path run_dir_;
  mutable base::Mutex mu_;
  base::CondVar cv_{&mu_};  // an entry finished, cancel, stop, a new entry
  // Evaluations in flight by key; Entry fields are guarded by mu_ too.
  std::map<std::string, std::shared_ptr<Entry>> entries_ GUARDED_BY(mu_);
  bool cancelled_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  int done_ GUARDED_BY(mu_) = 0;
  int resubmitted_ GUARDED_BY(mu_) = 0;
  std::thread poller_;
};

}  // namespace

std::string SlurmProblem() {
  const CommandResult probe = RunCommand({"squeue", "-h", "-o", "%i", "--user=" + std::to_string(::getuid())}, 30);
  if (probe.status == 0) return "";
  std::string said = probe.output.substr(0, 300);
  while (!said.empty() && said.back() == '\n') said.pop_back();
  if (probe.timed_out) said += (said.empty() ? "" : "; ") + std::string("no answer in 30 s");
  return fmt::format("--executor slurm: squeue does not answer ({}); is this a Slurm submit host, and is SLURM_CONF "
                     "right?", said);
}

tl::expected<std::unique_ptr<Executor>, std::string> MakeSlurmExecutor(const SlurmOptions& options) {
  SlurmOptions o = options;
  // Jobs start in their own folders: every path they see is absolute.
  o.spool = fs::absolute(o.spool).lexically_normal().string();
  if (o.ergon.empty()) {
    std::error_code ec;
    o.ergon = fs::read_symlink("/proc/self/exe", ec).string();
    if (ec) return tl::unexpected(std::string("cannot find this ergon binary (/proc/self/exe)"));
  }
  if (auto why = SlurmProblem(); !why.empty()) return tl::unexpected(why);
  std::error_code ec;
  const fs::path run_dir = fs::path(o.spool) / fmt::format("run-{}", o.run_id);
  fs::create_directories(run_dir, ec);
  if (ec) return tl::unexpected(fmt::format("--spool {}: {}", o.spool, ec.message()));
  const fs::path probe_file = run_dir / ".writable";
  if (auto why = WriteWhole(probe_file.string(), "ok"); !why.empty())
    return tl::unexpected(fmt::format("--spool {}: {}", o.spool, why));
  fs::remove(probe_file, ec);
  return std::unique_ptr<Executor>(std::make_unique<SlurmExecutor>(std::move(o)));
}

}  // namespace ergon::engine
