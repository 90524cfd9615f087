#include "engine/executor/job_files.h"

#include <cstdio>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

namespace ergon::engine {
namespace {
using json = nlohmann::json;
}

std::string JobRequestJson(const JobRequest& r) {
  const auto& q = r.request;
  json j = {{"task", r.task},         {"tasks_dirs", r.tasks_dirs}, {"expected_version", r.expected_version},
            {"source", q.source},     {"language", q.language},     {"meter", q.meter},
            {"suite", q.suite},       {"instances", q.instances},   {"timeout_s", q.timeout_s}};
  return j.dump();
}

tl::expected<JobRequest, std::string> ParseJobRequest(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return tl::unexpected(std::string("request.json is not a JSON object"));
  try {
    JobRequest r;
    r.task = j.at("task").get<std::string>();
    r.tasks_dirs = j.at("tasks_dirs").get<std::vector<std::string>>();
    r.expected_version = j.at("expected_version").get<std::string>();
    r.request.source = j.at("source").get<std::string>();
    r.request.language = j.at("language").get<std::string>();
    r.request.meter = j.at("meter").get<std::string>();
    r.request.suite = j.at("suite").get<std::string>();
    r.request.instances = j.at("instances").get<std::size_t>();
    r.request.timeout_s = j.at("timeout_s").get<double>();
    return r;
  } catch (const json::exception& e) {
    return tl::unexpected(std::string("request.json: ") + e.what());
  }
}

std::string MeasurementJson(const evaluators::Measurement& m) {
  json j = {{"ran", m.ran},
            {"harness_error", m.harness_error},
            {"stage", m.stage},
            {"error", m.error},
            {"metrics", m.metrics},
            {"components", m.components},
            {"gate_passed", m.gate_passed},
            {"fitness", m.fitness},
            {"objectives", m.objectives},
            {"cell", m.cell},
            {"feedback", m.feedback},
            {"evaluator_version", m.evaluator_version},
            {"meter", m.meter},
            {"device", m.device},
            {"suite", m.suite},
            {"text", m.text},
            {"json", m.json},
            {"node", m.node},
            {"job", m.job}};
  // Invalid UTF-8 in a candidate's output must not lose the measurement.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

tl::expected<evaluators::Measurement, std::string> ParseMeasurement(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return tl::unexpected(std::string("result.json is not a JSON object"));
  try {
    evaluators::Measurement m;
    m.ran = j.at("ran").get<bool>();
    m.harness_error = j.at("harness_error").get<bool>();
    m.stage = j.at("stage").get<std::string>();
    m.error = j.at("error").get<std::string>();
    // JSON has no NaN: a NaN metric went out as null.
    for (const auto& [name, v] : j.at("metrics").items())
      m.metrics[name] = v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>();
    m.components = j.at("components").get<std::string>();
    m.gate_passed = j.at("gate_passed").get<bool>();
    m.fitness = j.at("fitness").is_null() ? -1e300 : j.at("fitness").get<double>();
    for (const auto& v : j.at("objectives"))
      m.objectives.push_back(v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>());
    m.cell = j.at("cell").get<std::string>();
    m.feedback = j.at("feedback").get<std::string>();
    m.evaluator_version = j.at("evaluator_version").get<std::string>();
    m.meter = j.at("meter").get<std::string>();
    m.device = j.at("device").get<std::string>();
    m.suite = j.at("suite").get<std::string>();
    m.text = j.at("text").get<std::string>();
    m.json = j.at("json").get<std::string>();
    m.node = j.at("node").get<std::string>();
    m.job = j.at("job").get<std::string>();
    return m;
  } catch (const json::exception& e) {
    return tl::unexpected(std::string("result.json: ") + e.what());
  }
}

std::string WriteWhole(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return "cannot write " + tmp;
    f << text;
    f.flush();
    if (!f) return "cannot write " + tmp + " (disk full?)";
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return "cannot rename " + tmp + " to " + path;
  return "";
}

}  // namespace ergon::engine
