// Helper for archive_test: records attempts as fast as it can and prints
// "ack <id>" after each commit, until killed.
#include <cstdio>
#include <string>

#include "archive/archive.h"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  auto a = ergon::archive::Archive::Open(argv[1]);
  if (!a) {
    std::fprintf(stderr, "%s\n", a.error().c_str());
    return 1;
  }
  auto run = (*a)->BeginRun({0, "toy", "writer", "none", "{}", 0, 0, ergon::archive::RunStatus::kRunning});
  if (!run) return 1;
  for (long i = 0;; ++i) {
    ergon::archive::Attempt at;
    ergon::archive::Candidate c;
    c.run_id = *run;
    c.task = "toy";
    c.source = "int main() { return " + std::to_string(i) + "; }\n" + std::string(2000, 'x');
    c.hash = std::string(argv[2] ? argv[2] : "h") + std::to_string(i);
    c.intent = "writer attempt " + std::to_string(i);
    at.candidate = c;
    ergon::archive::Evaluation e;
    e.evaluator_version = "toy-1";
    e.meter = "wall";
    e.device = "cpu";
    e.suite = "dev";
    e.gate_passed = i % 3 == 0;
    e.fitness = static_cast<double>(i % 17);
    e.metrics.values["accuracy"] = 0.5 + static_cast<double>(i % 50) / 100;
    e.feedback = "feedback " + std::to_string(i);
    at.evaluations.push_back(e);
    at.objectives = {-e.metrics.values["accuracy"], static_cast<double>(i % 13)};
    at.cell = std::to_string(i % 7);
    ergon::archive::LedgerEntry l;
    l.run_id = *run;
    l.model = "writer";
    l.tokens_in = i;
    at.ledger = l;
    auto id = (*a)->Record(at);
    if (!id) {
      std::fprintf(stderr, "%s\n", id.error().c_str());
      return 1;
    }
    std::printf("ack %lld\n", static_cast<long long>(*id));
    std::fflush(stdout);
  }
}
