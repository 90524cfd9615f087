#include "evaluators/learning/learn_report.h"

#include <filesystem>
#include <fstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace ergon::evaluators::learning {

void TakeMeasurement(MeteredRun& ran, InstanceOutcome& out) {
  out.wall_s = ran.run.wall_s;
  out.cpu_s = ran.run.user_s + ran.run.sys_s;
  out.energy_j = ran.energy_j;
  out.counts = ran.counts;
  out.components = ran.components;
  out.profile = std::move(ran.profile);
  out.idle_w = ran.nvml.idle_w;
  out.idle_subtracted_j = ran.nvml.idle_subtracted_j;
  out.update_period_s = ran.nvml.update_period_s;
  out.window_s = ran.nvml.window_s;
  out.slack_s = ran.nvml.slack_s;
}

void Summarise(LearnEvalReport& r, double gate) {
  const double n = static_cast<double>(r.per_instance.size());
  double energy = 0;
  for (const auto& o : r.per_instance) {
    r.accuracy += o.accuracy / n;
    r.wall_s += o.wall_s / n;
    r.cpu_s += o.cpu_s / n;
    if (o.energy_j) energy += *o.energy_j / n;
    r.components.AddMean(o.components, n);
    r.profile.AddMean(o.profile, n);
    r.counts += o.counts;
  }
  if (r.meter != "wall") r.energy_j = energy;
  r.gate_passed = r.accuracy >= gate;
}

tl::expected<std::vector<int>, std::string> ReadPredictedLabels(const std::string& path, int rows, int classes) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) return tl::unexpected(std::string("no predictions.txt written"));
  if (fs::file_size(path, ec) > static_cast<std::uintmax_t>(rows) * 8 + 64)
    return tl::unexpected(std::string("predictions.txt is far too large"));
  std::ifstream f(path);
  std::vector<int> out;
  std::string line;
  int n = 0;
  while (std::getline(f, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    int v = -1;
    if (!line.empty() && line.size() <= 6 && line.find_first_not_of("0123456789") == std::string::npos) v = std::stoi(line);
    if (v < 0 || v >= classes)
      return tl::unexpected(fmt::format("predictions.txt line {}: expected a label from 0 to {}", n, classes - 1));
    out.push_back(v);
  }
  if (static_cast<int>(out.size()) != rows)
    return tl::unexpected(fmt::format("predictions.txt has {} rows; the test set has {}", out.size(), rows));
  return out;
}

std::string LearnReportJson(const LearnEvalReport& r, const std::string& task) {
  nlohmann::json j;
  j["status"] = r.ran ? "ok" : r.status;
  j["stage"] = r.stage;
  j["task"] = task;
  j["meter"] = r.meter;
  j["suite"] = r.suite;
  j["accuracy"] = r.accuracy;
  j["gate_passed"] = r.gate_passed;
  j["energy_j"] = r.energy_j ? nlohmann::json(*r.energy_j) : nlohmann::json(nullptr);
  j["wall_s"] = r.wall_s;
  j["cpu_s"] = r.cpu_s;
  j["instances"] = r.per_instance.size();
  j["compile_s"] = r.compile_s;
  if (r.meter == "cachemodel") {
    j["components"] = {{"instructions_j", r.components.instructions_j},
                       {"l1_j", r.components.l1_j},
                       {"ll_j", r.components.ll_j},
                       {"dram_j", r.components.dram_j}};
    j["counts"] = {{"Ir", r.counts.ir},     {"Dr", r.counts.dr},     {"Dw", r.counts.dw},
                   {"I1mr", r.counts.i1mr}, {"D1mr", r.counts.d1mr}, {"D1mw", r.counts.d1mw},
                   {"ILmr", r.counts.ilmr}, {"DLmr", r.counts.dlmr}, {"DLmw", r.counts.dlmw},
                   {"processes", r.counts.processes}};
  }
  nlohmann::json per = nlohmann::json::array();
  for (const auto& o : r.per_instance) {
    nlohmann::json e = {{"accuracy", o.accuracy}, {"wall_s", o.wall_s}, {"cpu_s", o.cpu_s}};
    e["energy_j"] = o.energy_j ? nlohmann::json(*o.energy_j) : nlohmann::json(nullptr);
    if (r.meter == "nvml") {
      e["idle_w"] = o.idle_w;
      e["idle_subtracted_j"] = o.idle_subtracted_j;
      e["update_period_s"] = o.update_period_s;
      e["window_s"] = o.window_s;
      e["slack_s"] = o.slack_s;
    }
    per.push_back(e);
  }
  j["per_instance"] = per;
  j["feedback"] = r.feedback.substr(0, 4096);
  j["isolation"] = r.isolation;
  return j.dump();
}

}  // namespace ergon::evaluators::learning
