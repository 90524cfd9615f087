// `ergon run` end to end: a real HTTP server on 127.0.0.1 speaking the
// OpenAI and Anthropic wire formats, scripted to misbehave; and kill -9 of a
// run followed by --resume.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <httplib.h>
#include <sqlite3.h>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "archive/archive.h"
#include "run_ergon.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {


std::string Slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

struct Db {
  fs::path path;
  explicit Db(const std::string& name) {
    path = fs::temp_directory_path() / ("ergon-search-" + name + "-" + std::to_string(::getpid()) + ".db");
    Clean();
  }
  ~Db() { Clean(); }
  void Clean() {
    for (const char* e : {"", "-wal", "-shm"}) fs::remove(path.string() + e);
  }
};

// Scripted replies, one per request, in order; the last repeats.
enum class Act { kEdit, kEditCoef, kWholeFile, kProse, kBadJson, kTruncated, k429, k500, kSlow, kNoUsage, k401 };

class MockLlm {
 public:
  explicit MockLlm(std::deque<Act> script) : script_(std::move(script)) {
    const std::string baseline = Slurp(fs::path(ERGON_SOURCE_DIR) / "evaluators/dally_parity/baseline.cpp");
    edit_ = "I will use 15 slots: enough for rank 17, and fewer subsets to search.\n"
            "<<<<<<< SEARCH\n// KNOB slots 16 range 14 20 int\nconstexpr int kSlots = 16;\n=======\n"
            "// KNOB slots 15 range 14 20 int\nconstexpr int kSlots = 15;\n>>>>>>> REPLACE\n";
    // Applies to every parent so far (none changes coef_bits): a script that
    // ends with it makes a new candidate whichever parent is sampled.
    edit_coef_ = "Fewer coefficient bits.\n<<<<<<< SEARCH\n// KNOB coef_bits 7 range 6 7 int\nconstexpr int kCoefBits = 7;\n"
                 "=======\n// KNOB coef_bits 6 range 6 7 int\nconstexpr int kCoefBits = 6;\n>>>>>>> REPLACE\n";
    std::string whole = baseline;
    whole.replace(whole.find("constexpr long kInputBase = 2000;"), 33, "constexpr long kInputBase = 1000;");
    whole.replace(whole.find("// KNOB input_base 2000"), 23, "// KNOB input_base 1000");
    whole_ = "Here is the whole program with inputs placed lower.\n```cpp\n" + whole + "```\n";
    auto handler = [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); };
    server_.Post("/v1/chat/completions", handler);
    server_.Post("/v1/messages", handler);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 100 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~MockLlm() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<std::pair<std::string, json>> requests() {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }
  std::vector<std::chrono::steady_clock::time_point> times() {
    std::lock_guard<std::mutex> l(mu_);
    return times_;
  }

 private:
  void Handle(const httplib::Request& req, httplib::Response& res) {
    Act act;
    {
      std::lock_guard<std::mutex> l(mu_);
      json body = json::parse(req.body, nullptr, false);
      requests_.emplace_back(req.path + " key=" + req.get_header_value(req.path == "/v1/messages" ? "x-api-key" : "Authorization"), body);
      times_.push_back(std::chrono::steady_clock::now());
      act = script_.front();
      if (script_.size() > 1) script_.pop_front();
    }
    const bool anthropic = req.path == "/v1/messages";
    auto reply = [&](const std::string& text, bool usage) {
      json j;
      if (anthropic) j = {{"content", json::array({{{"type", "text"}, {"text", text}}})}};
      else j = {{"choices", json::array({{{"message", {{"role", "assistant"}, {"content", text}}}}})}};
      if (usage) j["usage"] = anthropic ? json{{"input_tokens", 1000}, {"output_tokens", 100}}
                                        : json{{"prompt_tokens", 1000}, {"completion_tokens", 100}};
      res.set_content(j.dump(), "application/json");
    };
    switch (act) {
      case Act::kEdit: reply(edit_, true); break;
      case Act::kEditCoef: reply(edit_coef_, true); break;
      case Act::kWholeFile: reply(whole_, true); break;
      case Act::kProse: reply("I think fewer slots might help, maybe try 15.", true); break;
      case Act::kNoUsage: reply(edit_, false); break;
      case Act::kBadJson: res.set_content("{this is not json", "application/json"); break;
      case Act::kTruncated: res.set_content(R"({"choices": [{"message": {"content": "<<<<<<< SEA)", "application/json"); break;
      case Act::k429:
        res.status = 429;
        res.set_header("Retry-After", retry_after_);
        res.set_content(R"({"error": "rate limited"})", "application/json");
        break;
      case Act::k500:
        res.status = 500;
        res.set_content("internal error", "text/plain");
        break;
      case Act::kSlow:
        std::this_thread::sleep_for(std::chrono::milliseconds(2500));
        reply(edit_, true);
        break;
      case Act::k401:
        res.status = 401;
        res.set_content(R"({"error": "invalid api key"})", "application/json");
        break;
    }
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::deque<Act> script_;
  std::vector<std::pair<std::string, json>> requests_;
  std::vector<std::chrono::steady_clock::time_point> times_;
  std::string edit_, edit_coef_, whole_;

 public:
  std::string retry_after_ = "1";
};

std::string fmt_args(int port, const std::string& db) {
  return "run --task dally_parity --agent openai --model test-model --base-url http://127.0.0.1:" + std::to_string(port) +
         "/v1 --max-candidates 3 --evaluators 1 --islands 1 --agent-timeout 1.5 --agent-backoff 0.2 --price-in 1 "
         "--price-out 2 --db '" + db + "'";
}

}  // namespace

TEST_CASE("openai wire format: the run survives every failure and records each call") {
  MockLlm llm({Act::k429, Act::kEdit, Act::kProse, Act::kWholeFile, Act::kBadJson, Act::kTruncated, Act::k500,
               Act::kSlow, Act::kNoUsage, Act::kEdit, Act::kEditCoef});
  Db db("openai");
  Ran r = Ergon(fmt_args(llm.port(), db.path.string()), "OPENAI_API_KEY=sk-test");
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("--max-candidates 3 reached") != std::string::npos);
  auto a = ergon::archive::Archive::OpenReadOnly(db.path.string());
  REQUIRE(a.has_value());
  auto totals = (*a)->Totals(1).value();
  CHECK(totals.candidates == 3);  // the budget holds exactly
  // Every completed call is in the ledger, with its outcome.
  auto ledger = (*a)->Ledger().value();
  const ergon::archive::LedgerSummary* openai = nullptr;
  for (const auto& l : ledger)
    if (l.model == "openai/test-model") openai = &l;
  REQUIRE(openai != nullptr);
  CHECK(openai->failures >= 2);       // bad JSON, truncated body
  CHECK(openai->tokens_in >= 3000);   // usage read from the responses
  CHECK(openai->cost_usd > 0);        // priced with --price-in/--price-out
  // Most early attempts were invalid: the circuit breaker may have backed off
  // to the offline agent, whose calls are in the ledger under their own name.
  for (const auto& l : ledger) CHECK((l.model == "openai/test-model" || l.model == "offline/offline"));
  // Prose is an edit failure sent back to the agent in the same conversation.
  auto reqs = llm.requests();
  bool repaired = false;
  for (const auto& [path, body] : reqs) {
    CHECK(path.find("Bearer sk-test") != std::string::npos);
    if (body.contains("messages") && body["messages"].size() >= 4) repaired = true;
  }
  CHECK(repaired);
  REQUIRE(!reqs.empty());
  const std::string first_user = reqs.front().second["messages"][1]["content"];
  CHECK(first_user.find("constexpr int kSlots = 16;") != std::string::npos);  // the parent's source
  Ran failures = Ergon("archive search 'no SEARCH/REPLACE block' --json --db '" + db.path.string() + "'");
  CHECK(json::parse(failures.out).size() >= 1);

  // One vocabulary: the run's summary line and `archive runs` (text and
  // JSON) count the same outcomes in the same words.
  const std::regex summary(R"((\d+) candidates \((\d+) passed the gate, (\d+) failed the gate, (\d+) did not run\); )"
                           R"((\d+) attempts left none \((\d+) invalid, (\d+) duplicates, (\d+) not novel, (\d+) cut off, )"
                           R"((\d+) lost\))");
  std::smatch m;
  REQUIRE(std::regex_search(r.out, m, summary));
  Ran runs = Ergon("archive runs --json --db '" + db.path.string() + "'");
  REQUIRE(runs.code == 0);
  const json run1 = json::parse(runs.out).at(0);
  const char* keys[] = {"passed_gate", "failed_gate", "did_not_run", "invalid", "duplicate", "not_novel", "cut_off", "lost"};
  const int groups[] = {2, 3, 4, 6, 7, 8, 9, 10};
  for (int k = 0; k < 8; ++k) CHECK(run1["outcomes"][keys[k]].get<int>() == std::stoi(m[groups[k]]));
  CHECK(run1["candidates"].get<int>() == std::stoi(m[1]));
  CHECK(std::stoi(m[1]) == 3);
  CHECK(std::stoi(m[6]) >= 2);  // prose, bad JSON, a truncated body: invalid attempts
  Ran text = Ergon("archive runs --db '" + db.path.string() + "'");
  CHECK(text.out.find(m.str(0)) != std::string::npos);
}

TEST_CASE("anthropic wire format: a good edit lands - and 401 stops the run with a clear error") {
  {
    MockLlm llm({Act::kEdit, Act::kWholeFile});
    Db db("anthropic");
    Ran r = Ergon("run --task dally_parity --agent anthropic --model claude-test --base-url http://127.0.0.1:" +
                      std::to_string(llm.port()) + " --max-candidates 2 --evaluators 1 --islands 1 --db '" +
                      db.path.string() + "'",
                  "ANTHROPIC_API_KEY=ak-test");
    INFO(r.out);
    REQUIRE(r.code == 0);
    auto reqs = llm.requests();
    REQUIRE(!reqs.empty());
    CHECK(reqs.front().first.find("/v1/messages key=ak-test") != std::string::npos);
    CHECK(reqs.front().second.contains("system"));
    CHECK(reqs.front().second["messages"][0]["role"] == "user");
    auto a = ergon::archive::Archive::OpenReadOnly(db.path.string());
    CHECK((*a)->Totals(1).value().candidates == 2);
  }
  {
    MockLlm llm({Act::k401});
    Db db("unauthorised");
    Ran r = Ergon("run --task dally_parity --agent openai --model test-model --base-url http://127.0.0.1:" +
                      std::to_string(llm.port()) + "/v1 --max-candidates 2 --evaluators 1 --db '" + db.path.string() + "'",
                  "OPENAI_API_KEY=bad");
    CHECK(r.code == 1);
    CHECK(r.out.find("OPENAI_API_KEY") != std::string::npos);
    CHECK(llm.requests().size() == 1);  // no retries on 401
  }
}

TEST_CASE("kill -9 mid-run then --resume: nothing lost - nothing counted twice") {
  Db db("resume");
  const std::string args = "run --task dally_parity --max-candidates 6 --evaluators 1 --seed 5 --db '" + db.path.string() + "'";
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execl("/bin/sh", "sh", "-c", (std::string("exec '") + ERGON_BINARY + "' " + args).c_str(), nullptr);
    _exit(127);
  }
  // Wait until two candidates of run 1 have landed, then kill -9.
  std::int64_t before = 0;
  for (int i = 0; i < 600 && before < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (auto a = ergon::archive::Archive::OpenReadOnly(db.path.string()))
      if (auto t = (*a)->Totals(1)) before = t->candidates;
  }
  kill(pid, SIGKILL);
  int st = 0;
  waitpid(pid, &st, 0);
  REQUIRE(before >= 2);
  std::int64_t after_kill = 0;
  {
    auto a = ergon::archive::Archive::OpenReadOnly(db.path.string());
    REQUIRE(a.has_value());
    CHECK((*a)->IntegrityCheck().value() == "ok\n");
    after_kill = (*a)->Totals(1).value().candidates;
  }
  REQUIRE(after_kill < 6);
  Ran r = Ergon(args + " --resume 1");
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("resuming run 1") != std::string::npos);
  auto a = ergon::archive::Archive::OpenReadOnly(db.path.string());
  auto totals = (*a)->Totals(1).value();
  CHECK(totals.candidates == 6);  // the budget continued from where it was
  auto all = (*a)->List({1, "dally_parity", std::nullopt, 0}).value();
  std::set<std::string> hashes;
  for (const auto& row : all) hashes.insert(row.candidate.hash);
  CHECK(hashes.size() == all.size());  // no candidate twice
  CHECK((*a)->Runs().value().size() == 1);
  // Every agent call is in the ledger once, none left "in flight".
  auto ledger = (*a)->Ledger().value();
  REQUIRE(ledger.size() == 1);
  CHECK(ledger[0].calls >= 6);
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open_v2(db.path.string().c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st2 = nullptr;
  sqlite3_prepare_v2(raw, "SELECT count(*) FROM ledger WHERE outcome='in_flight'", -1, &st2, nullptr);
  REQUIRE(sqlite3_step(st2) == SQLITE_ROW);
  CHECK(sqlite3_column_int(st2, 0) == 0);
  sqlite3_finalize(st2);
  sqlite3_close(raw);
}

TEST_CASE("cli agent: a coding-agent command edits the candidate in a scratch folder") {
  Db db("cli");
  Ran r = Ergon(std::string("run --task dally_parity --agent cli --command \"sh ") + ERGON_SOURCE_DIR +
                "/tests/agents/fake_cli_agent.sh\" --max-candidates 1 --evaluators 1 --islands 1 --db '" +
                db.path.string() + "'");
  INFO(r.out);
  REQUIRE(r.code == 0);
  auto a = ergon::archive::Archive::OpenReadOnly(db.path.string());
  REQUIRE(a.has_value());
  auto rows = (*a)->List({1, "dally_parity", std::nullopt, 0}).value();
  REQUIRE(rows.size() == 2);  // the baseline and the cli agent's child
  auto child = (*a)->Get(rows.front().candidate.id).value();
  REQUIRE(child.has_value());
  CHECK(child->candidate.source.find("constexpr int kSlots = 15;") != std::string::npos);
  CHECK(rows.front().candidate.intent == "Use 15 slots instead of 16.");
  CHECK(rows.front().candidate.status == ergon::archive::CandidateStatus::kEvaluated);
  Ran missing = Ergon("run --task dally_parity --agent cli --db '" + db.path.string() + "'");
  CHECK(missing.code == 2);
  CHECK(missing.out.find("--command") != std::string::npos);
}

TEST_CASE("a refused connection stops the run in seconds with the reason; a 500 still backs off") {
  // A port bound but not listening, held for the test: connecting is refused.
  const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(sock >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const int port = ntohs(addr.sin_port);
  struct Close {
    int fd;
    ~Close() { ::close(fd); }
  } closer{sock};
  Db db("refused");
  const auto t0 = std::chrono::steady_clock::now();
  Ran r = Ergon("run --task dally_parity --agent openai --model test-model --base-url http://127.0.0.1:" +
                    std::to_string(port) + "/v1 --max-candidates 3 --evaluators 1 --islands 1 --db '" +
                    db.path.string() + "'",
                "OPENAI_API_KEY=sk-test");
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO(r.out);
  CHECK(r.code == 1);
  CHECK(r.out.find("cannot reach http://127.0.0.1:" + std::to_string(port) + "/v1/chat/completions") !=
        std::string::npos);
  CHECK(r.out.find("check --base-url") != std::string::npos);
  // The baseline's evaluation is most of it; the agent's part is seconds
  // (it was 81 s of retries before).
  MESSAGE("refused endpoint: the run ended after " << took << " s");
  CHECK(took < 30);
}

TEST_CASE("an API key given in the environment reaches the model and no file ergon writes") {
  const fs::path dir = fs::temp_directory_path() / ("ergon-keys-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string marker = "sk-ergon-marker-" + std::to_string(::getpid()) + "-never-on-disk";
  const std::string keys = "OPENAI_API_KEY='" + marker + "' ANTHROPIC_API_KEY='" + marker + "' ";
  MockLlm llm({Act::kEdit, Act::kWholeFile});
  const std::string common = " --max-candidates 2 --evaluators 1 --islands 1 --db '" + (dir / "keys.db").string() + "'";
  Ran openai = Ergon("run --task dally_parity --agent openai --model test-model --base-url http://127.0.0.1:" +
                         std::to_string(llm.port()) + "/v1" + common,
                     keys, dir.string());
  INFO(openai.out);
  REQUIRE(openai.code == 0);
  Ran anthropic = Ergon("run --task dally_parity --agent anthropic --model claude-test --base-url http://127.0.0.1:" +
                            std::to_string(llm.port()) + common,
                        keys, dir.string());
  INFO(anthropic.out);
  REQUIRE(anthropic.code == 0);
  Ran cli = Ergon(std::string("run --task dally_parity --agent cli --command \"sh ") + ERGON_SOURCE_DIR +
                      "/tests/agents/fake_cli_agent.sh\"" + common,
                  keys, dir.string());
  INFO(cli.out);
  REQUIRE(cli.code == 0);
  // The model was given the key, by both wire formats ...
  bool bearer = false, x_api_key = false;
  for (const auto& [what, body] : llm.requests()) {
    bearer = bearer || what == "/v1/chat/completions key=Bearer " + marker;
    x_api_key = x_api_key || what == "/v1/messages key=" + marker;
  }
  CHECK(bearer);
  CHECK(x_api_key);
  // ... and no file of the runs holds it: archive, WAL, run files, exports.
  std::size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    ++files;
    CHECK_MESSAGE(Slurp(e.path()).find(marker) == std::string::npos, e.path().string());
  }
  CHECK(files >= 1);
  CHECK(openai.out.find(marker) == std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("several proposers and evaluation slots: the budget holds exactly, nothing twice, every call accounted") {
  Db db("parallel");
  Ran r = Ergon("run --task linear_regression --meter wall --agent offline --max-candidates 9 --proposals 3 "
                "--evaluators 3 --islands 3 --seed 7 --db '" + db.path.string() + "'");
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("3 proposal(s) in flight, 3 evaluation slot(s)") != std::string::npos);
  auto a = ergon::archive::Archive::OpenReadOnly(db.path.string());
  REQUIRE(a.has_value());
  CHECK((*a)->IntegrityCheck().value() == "ok\n");
  auto totals = (*a)->Totals(1).value();
  CHECK(totals.candidates == 9);  // the baseline is not the run's candidate; 9 new exactly
  auto all = (*a)->List({1, "linear_regression", std::nullopt, 0}).value();
  std::set<std::string> hashes;
  for (const auto& row : all) {
    hashes.insert(row.candidate.hash);
    if (row.candidate.parent) {
      auto parent = (*a)->Get(*row.candidate.parent, 0).value();
      REQUIRE(parent.has_value());
      CHECK(row.candidate.generation == parent->candidate.generation + 1);
    }
  }
  CHECK(hashes.size() == all.size());
  // One ledger row per agent call, none left in flight, each candidate's call once.
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open_v2(db.path.string().c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  auto count = [&](const char* sql) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(raw, sql, -1, &s, nullptr);
    REQUIRE(sqlite3_step(s) == SQLITE_ROW);
    const auto n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
  };
  CHECK(count("SELECT count(*) FROM ledger WHERE outcome='in_flight'") == 0);
  CHECK(count("SELECT count(*) FROM ledger WHERE candidate_id IS NOT NULL") == 9);
  CHECK(count("SELECT count(DISTINCT candidate_id) FROM ledger WHERE candidate_id IS NOT NULL") == 9);
  CHECK(count("SELECT count(*) FROM ledger") == count("SELECT count(*) FROM attempts") + 9);
  sqlite3_close(raw);
}

TEST_CASE("Retry-After is a floor: the next try waits at least what the server asked") {
  Db db("retry");
  MockLlm llm({Act::k429, Act::kEdit});
  llm.retry_after_ = "2";
  Ran r = Ergon("run --task dally_parity --agent openai --model gpt-4o-mini --base-url http://127.0.0.1:" +
                    std::to_string(llm.port()) + "/v1 --max-candidates 1 --evaluators 1 --islands 1 "
                    "--agent-backoff 0.05 --db '" + db.path.string() + "'",
                "OPENAI_API_KEY=sk-test");
  INFO(r.out);
  REQUIRE(r.code == 0);
  auto t = llm.times();
  REQUIRE(t.size() >= 2);
  CHECK(std::chrono::duration<double>(t[1] - t[0]).count() >= 2.0);
}

TEST_CASE("archive export of a short offline dally_parity run's best is a complete submission, its numbers computed") {
  Db db("submission");
  Ran run = Ergon("run --task dally_parity --max-candidates 2 --evaluators 1 --seed 5 --db '" + db.path.string() + "'");
  INFO(run.out);
  REQUIRE(run.code == 0);
  Ran top = Ergon("archive --db '" + db.path.string() + "' top --by cost --limit 1 --json");
  const json best = json::parse(top.out, nullptr, false);
  REQUIRE((best.is_array() && best.size() == 1));
  const std::int64_t id = best[0]["id"].get<std::int64_t>();
  const fs::path kit = fs::temp_directory_path() / ("ergon-submission-kit-" + std::to_string(::getpid()));
  fs::remove_all(kit);
  Ran ex = Ergon("archive --db '" + db.path.string() + "' export " + std::to_string(id) + " -o '" + kit.string() + "'");
  INFO(ex.out);
  REQUIRE(ex.code == 0);
  for (const char* f : {"program.ir", "candidate.cpp", "REPORT.md", "README.md"}) CHECK_MESSAGE(fs::exists(kit / f), f);
  const std::string report = Slurp(kit / "REPORT.md");
  INFO(report);
  // The report's numbers are the scorer's, on the IR the kit holds.
  Ran dev = Ergon("score '" + (kit / "program.ir").string() + "' --suite dev --json");
  const json d = json::parse(dev.out, nullptr, false);
  REQUIRE(d.is_object());
  char cost[32];
  std::snprintf(cost, sizeof cost, "%llu", static_cast<unsigned long long>(d["cost"].get<std::uint64_t>()));
  std::string with_commas;
  for (std::size_t i = 0, n = std::strlen(cost); i < n; ++i) {
    if (i && (n - i) % 3 == 0) with_commas += ',';
    with_commas += cost[i];
  }
  CHECK(report.find("**Cost:** " + with_commas + "\n") != std::string::npos);
  CHECK(report.find("| `dev` | 1024 | " + std::to_string(d["correct"].get<int>()) + " |") != std::string::npos);
  // Two audit suites, keyed by the IR's own hash; the hash is the file's.
  const Ran sum = RunShell("sha256sum '" + (kit / "program.ir").string() + "'");
  REQUIRE(sum.out.size() >= 64);
  const std::string hex = sum.out.substr(0, 64);
  CHECK(report.find("`" + hex + "`") != std::string::npos);
  CHECK(report.find("| `audit-" + hex.substr(0, 16) + "` | 2048 |") != std::string::npos);
  CHECK(report.find("| `audit-" + hex.substr(16, 16) + "` | 2048 |") != std::string::npos);
  CHECK(report.find("## Opcode counts") != std::string::npos);
  CHECK(report.find("- candidate " + std::to_string(id) + " ") != std::string::npos);  // the lineage starts at it
  CHECK(report.find("the task's baseline") != std::string::npos);                    // and ends at the baseline
  fs::remove_all(kit);
}

TEST_CASE("a transformed dally_parity generator is handed over whole, kept once in blobs, and read back as written") {
  Db db("blobs");
  // One proposer and one slot: seed 5 transforms once in six candidates.
  Ran run = Ergon("run --task dally_parity --agent offline --max-candidates 6 --evaluators 1 --proposals 1 --seed 5 "
                  "--db '" + db.path.string() + "'");
  INFO(run.out);
  REQUIRE(run.code == 0);
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open_v2(db.path.string().c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(raw,
                     "SELECT c.id, c.source_bytes, length(c.source), length(c.edit), c.edit, b.bytes FROM candidates c "
                     "LEFT JOIN blobs b ON b.hash = c.source_blob WHERE c.source_bytes >= ?",
                     -1, &st, nullptr);
  sqlite3_bind_int64(st, 1, static_cast<sqlite3_int64>(ergon::archive::kBlobBytes));
  std::vector<std::pair<std::int64_t, std::int64_t>> big;  // id, bytes
  while (sqlite3_step(st) == SQLITE_ROW) {
    const std::string edit = reinterpret_cast<const char*>(sqlite3_column_text(st, 4));
    CHECK(sqlite3_column_int64(st, 2) == 0);  // the row holds no copy
    CHECK(sqlite3_column_int64(st, 5) == sqlite3_column_int64(st, 1));
    CHECK(sqlite3_column_int64(st, 3) < 300);  // the megabytes were not fenced into the reply
    CHECK(edit.find("handed over as it is") != std::string::npos);
    big.emplace_back(sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
  }
  sqlite3_finalize(st);
  sqlite3_close(raw);
  REQUIRE(!big.empty());
  auto a = ergon::archive::Archive::OpenReadOnly(db.path.string());
  REQUIRE(a.has_value());
  for (const auto& [id, bytes] : big) {
    auto row = (*a)->Get(id).value();
    REQUIRE(row.has_value());
    CHECK(static_cast<std::int64_t>(row->candidate.source.size()) == bytes);
    CHECK(row->candidate.source.find("ergon-origin-base64-begin") != std::string::npos);  // a transformed generator
  }
}
