#include "engine/record.h"

#include <cmath>
#include <fstream>

#include <fmt/core.h>

#include "evaluators/versions.h"

namespace ergon::engine {
namespace {
constexpr double kFailed = -1e300;  // fitness of an evaluation that did not run
}

std::string DeviceFor(const std::string& meter) {
  if (meter == "dally") return "static";
  if (meter == "cachemodel") return evaluators::kCachemodelDevice;
  if (meter == "nvml") return "gpu";
  std::ifstream cpu("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpu, line))
    if (line.rfind("model name", 0) == 0) return "host: " + line.substr(line.find(':') + 2);
  return "host";
}

Scored ScoreDally(const evaluators::DallyEvalReport& r, double gate_recovery) {
  Scored s;
  archive::Evaluation& e = s.evaluation;
  e.evaluator_version = evaluators::kDallyParityVersion;
  e.meter = "dally";
  e.device = DeviceFor("dally");
  e.suite = r.suite;
  e.status = r.ran ? "ok" : r.status;
  e.feedback = r.feedback.substr(0, 8192);
  if (r.ran) {
    e.metrics.cost = static_cast<double>(r.cost);
    e.metrics.recovery = r.recovery;
    e.metrics.wall_s = r.wall_s;
    e.metrics.components = fmt::format("{{\"lines\":{},\"instances\":{},\"correct\":{}}}", r.lines, r.instances, r.correct);
    e.gate_passed = r.recovery >= gate_recovery;
    e.fitness = -static_cast<double>(r.cost);
    s.objectives = {-r.recovery, static_cast<double>(r.cost)};
    s.cell = fmt::format("lines:2^{}", r.lines ? static_cast<int>(std::log2(static_cast<double>(r.lines))) : 0);
  } else {
    e.fitness = kFailed;
  }
  return s;
}

Scored ScoreLearner(const evaluators::LearnEvalReport& r) {
  Scored s;
  archive::Evaluation& e = s.evaluation;
  e.evaluator_version = evaluators::kSparseParityVersion;
  e.meter = r.meter;
  e.device = DeviceFor(r.meter);
  e.suite = r.suite;
  e.status = r.ran ? "ok" : r.status;
  e.feedback = r.feedback.substr(0, 8192);
  if (r.ran) {
    e.metrics.accuracy = r.accuracy;
    e.metrics.energy_j = r.energy_j;
    e.metrics.wall_s = r.wall_s;
    if (r.meter == "cachemodel")
      e.metrics.components = fmt::format(
          "{{\"instances\":{},\"instructions_j\":{:.17g},\"l1_j\":{:.17g},\"ll_j\":{:.17g},\"dram_j\":{:.17g},"
          "\"Ir\":{}}}",
          r.per_instance.size(), r.components.instructions_j, r.components.l1_j, r.components.ll_j,
          r.components.dram_j, r.counts.ir);
    else
      e.metrics.components = fmt::format("{{\"instances\":{}}}", r.per_instance.size());
    e.gate_passed = r.gate_passed;
    const double cost = r.energy_j ? *r.energy_j : r.wall_s;
    e.fitness = -cost;
    s.objectives = {-r.accuracy, cost, r.wall_s};
    s.cell = fmt::format("acc:{}|cpu:2^{}", static_cast<int>(r.accuracy * 20),
                         static_cast<int>(std::floor(std::log2(std::max(r.cpu_s, 1e-4) * 1e3))));
  } else {
    e.fitness = kFailed;
  }
  return s;
}

std::optional<double> MetricValue(const archive::Evaluation& e, const std::string& name) {
  if (name == "cost") return e.metrics.cost;
  if (name == "energy_j") return e.metrics.energy_j;
  if (name == "wall_s") return e.metrics.wall_s;
  if (name == "accuracy") return e.metrics.accuracy;
  if (name == "recovery") return e.metrics.recovery;
  return std::nullopt;
}

std::string MainMetric(const std::string& task, const archive::Evaluation& e) {
  if (task == "dally_parity") return "cost";
  return e.metrics.energy_j ? "energy_j" : "wall_s";
}

}  // namespace ergon::engine
