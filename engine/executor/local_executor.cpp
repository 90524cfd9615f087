// The local executor: evaluations in this process's sandbox, as `ergon run`
// always did. Nothing outlives the process, so there are no orphans.
#include <atomic>

#include "engine/evaluate.h"
#include "engine/executor/executor.h"

namespace ergon::engine {
namespace {

class LocalExecutor final : public Executor {
 public:
  explicit LocalExecutor(const sandbox::Sandbox* sandbox) : sandbox_(sandbox) {}
  std::string name() const override { return "local"; }
  evaluators::Measurement Measure(const evaluators::Task& task, const std::string& /*key*/,
                                  const evaluators::TaskEvalRequest& request, const std::string& /*note*/) override {
    running_.fetch_add(1);
    evaluators::Measurement m = Evaluate(task, request, sandbox_).m;
    running_.fetch_sub(1);
    done_.fetch_add(1);
    return m;
  }
  void Recorded(const std::string& /*key*/) override {}
  std::vector<Unfinished> Orphans() override { return {}; }
  bool KeepsNotes() const override { return false; }
  void Cancel() override { sandbox_->Cancel(); }
  ExecutorCounts Counts() const override { return {0, running_.load(), done_.load(), 0}; }

 private:
  const sandbox::Sandbox* sandbox_;
  std::atomic<int> running_{0}, done_{0};
};

}  // namespace

std::unique_ptr<Executor> MakeLocalExecutor(const sandbox::Sandbox* sandbox) {
  return std::make_unique<LocalExecutor>(sandbox);
}

}  // namespace ergon::engine
