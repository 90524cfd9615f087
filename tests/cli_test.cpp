// The `ergon` binary as a user runs it: real child processes.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "engine/home.h"

namespace fs = std::filesystem;

namespace {

struct Ran {
  int code;
  std::string out;
};

Ran Ergon(const std::string& args, const std::string& env = "", const std::string& cwd = "") {
  std::string cmd = (cwd.empty() ? "" : "cd '" + cwd + "' && ") + env + " '" + ERGON_BINARY + "' " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::string out;
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

}  // namespace

TEST_CASE("--help lists every subcommand and exits 0") {
  Ran r = Ergon("--help");
  CHECK(r.code == 0);
  for (const char* sub : {"tasks", "run", "eval", "score", "archive", "replay", "doctor"})
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

TEST_CASE("tasks --json is one parseable array") {
  Ran r = Ergon("tasks --json");
  REQUIRE(r.code == 0);
  auto j = nlohmann::json::parse(r.out);
  REQUIRE(j.is_array());
  REQUIRE(j.size() >= 2);
  CHECK(j[0]["name"] == "dally_parity");
  CHECK(j[0].contains("summary"));
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

TEST_CASE("commands of later issues say they are not built yet and exit 1") {
  Ran r = Ergon("replay 1");
  CHECK(r.code == 1);
  CHECK(r.out.find("not implemented yet") != std::string::npos);
}

TEST_CASE("ERGON_HOME overrides and a wrong one is a clear error") {
  fs::path home = fs::temp_directory_path() / "ergon-home-test";
  fs::remove_all(home);
  fs::create_directories(home / "evaluators" / "toy");
  std::ofstream(home / "evaluators" / "toy" / "task.json") << R"({"summary": "a toy task", "language": "cpp"})";
  Ran r = Ergon("tasks", "ERGON_HOME='" + home.string() + "'");
  CHECK(r.code == 0);
  CHECK(r.out.find("a toy task") != std::string::npos);
  CHECK(r.out.find("sparse_parity") == std::string::npos);

  std::ofstream(home / "evaluators" / "toy" / "task.json") << R"({"language": "cpp"})";
  Ran bad = Ergon("tasks", "ERGON_HOME='" + home.string() + "'");
  CHECK(bad.code == 1);
  CHECK(bad.out.find("missing string field \"summary\"") != std::string::npos);

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
  CHECK(zero.code == 0);  // it ran; it just recovers nothing
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
