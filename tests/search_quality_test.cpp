// Search quality (issue 14), end to end through `ergon run` against a real
// HTTP server on 127.0.0.1 that answers as the model each request names:
// the prompt carries the parent's energy profile and the energy model; the
// model bandit sends calls to the model whose proposals win, and keeps its
// state across kill -9 and --resume; a near-copy is refused before it is
// evaluated; a candidate that fails the cascade never reaches the slow meter.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "run_ergon.h"
#include "sleepy_task.h"
#include "slurp.h"
#include "chat_reply.h"
#include "countdown_task.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// The line of `text` that starts with `head` (empty if none).
std::string LineStarting(const std::string& text, const std::string& head) {
  auto at = text.find(head);
  if (at == std::string::npos) return "";
  return text.substr(at, text.find('\n', at) - at);
}

// An OpenAI-style server whose answer depends on the request's model:
//   good      the whole program with the parent's number 37 lower (a win)
//   broken    prose without an edit (an edit failure)
//   copycat   the parent again with a comment and new spacing (a near-copy),
//             then, told so, a real change
//   copier    near-copies only, whatever it is told
//   back      from any parent but the baseline, the baseline again (an exact
//             copy), then, told so, a real change
//   crasher   a program that aborts
//   profiled  (sparse_parity) an edit that makes the learner crash, so the
//             cascade stops it and no second cachemodel run is needed
class ModelServer {
 public:
  ModelServer() {
    server_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      const json body = json::parse(req.body, nullptr, false);
      const std::string model = body.value("model", "");
      std::string user, last;
      if (body.contains("messages"))
        for (const auto& m : body["messages"]) {
          if (m.value("role", "") == "user" && user.empty()) user = m.value("content", "");
          last = m.value("content", "");
        }
      {
        std::lock_guard<std::mutex> l(mu_);
        calls_.push_back({model, body});
      }
      std::string text;
      const int cost = CostInPrompt(user);
      if (model == "good") {
        text = "Write a smaller number.\n```cpp\n" +
               Countdown::Source(cost - 37, SleepInPrompt(user),
                                 static_cast<int>(NumberAfter(user, "// pad lines: ").value_or(0))) +
               "```\n";
      } else if (model == "broken") {
        text = "Perhaps a smaller number would help; I am not sure which.";
      } else if (model == "copycat") {
        if (last.find("not novel") != std::string::npos) {
          text = "A real change this time.\n```cpp\n" + Countdown::Source(cost - 1) + "```\n";
        } else {
          std::string same = Countdown::Source(cost);
          same.replace(same.find("int main() {"), 12, "// the entry point\nint   main()\n{");
          text = "Tidy the layout.\n```cpp\n" + same + "```\n";
        }
      } else if (model == "copier") {  // near-copies, whatever it is told
        std::string same = Countdown::Source(cost);
        same.replace(same.find("int main() {"), 12, "// the entry point\nint   main()\n{");
        text = "Tidy the layout.\n```cpp\n" + same + "```\n";
      } else if (model == "back") {
        if (last.find("the same as candidate") != std::string::npos)
          text = "Then one less.\n```cpp\n" + Countdown::Source(cost - 1) + "```\n";
        else if (cost < 1000)
          text = "Back to the start.\n```cpp\n" + Countdown::Source(1000) + "```\n";
        else
          text = "Smaller.\n```cpp\n" + Countdown::Source(cost - 37) + "```\n";
      } else if (model == "slow" && slow_answered() > 0) {
        text = "Nothing more to say.";  // only the first answer is slow to apply
      } else if (model == "slow") {
        // A long SEARCH that matches nothing: the closest-match search over a
        // long program takes seconds.
        text = "Rewrite the padding.\n<<<<<<< SEARCH\n";
        for (int i = 0; i < 600; ++i) text += "// quite different text, line " + std::to_string(i) + ", not in it\n";
        text += "=======\n// gone\n>>>>>>> REPLACE\n";
        std::lock_guard<std::mutex> l(mu_);
        slow_answered_ = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
      } else if (model == "crasher") {
        text = "Crash.\n```cpp\n#include <cstdlib>\nint main() { std::abort(); }\n```\n";
      } else if (model == "profiled") {
        text = "Stop at once.\n```cpp\n#include <cstdlib>\nint main() { std::abort(); }\n```\n";
      }
      res.set_content(ChatReply(text), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 100 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~ModelServer() {
    server_.stop();
    thread_.join();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  std::vector<std::pair<std::string, json>> calls() {
    std::lock_guard<std::mutex> l(mu_);
    return calls_;
  }
  double slow_answered() {  // unix seconds of the first "slow" answer
    std::lock_guard<std::mutex> l(mu_);
    return slow_answered_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<std::pair<std::string, json>> calls_;
  double slow_answered_ = 0;
};

std::string Agent(const ModelServer& s) {
  return "--agent openai --base-url " + s.Url() + " --price-in 1 --price-out 2 --agent-timeout 20 --agent-backoff 0.1 ";
}

std::map<std::string, json> LedgerByModel(const fs::path& db) {
  Ran r = Ergon("archive ledger --json --db '" + db.string() + "'");
  REQUIRE(r.code == 0);
  std::map<std::string, json> out;
  for (const auto& l : json::parse(r.out)) out[l["model"].get<std::string>()] = l;
  return out;
}

}  // namespace

TEST_CASE("the prompt for a sparse_parity parent names its hot spots with their shares, and the energy model") {
  ModelServer server;
  const fs::path db = fs::temp_directory_path() / ("ergon-quality-prompt-" + std::to_string(::getpid()) + ".db");
  for (const char* e : {"", "-wal", "-shm"}) fs::remove(db.string() + e);
  Ran r = Ergon("run --task sparse_parity --model profiled " + Agent(server) +
                "--instances 1 --max-candidates 1 --evaluators 1 --islands 1 --repair-turns 0 --db '" + db.string() + "'",
                "OPENAI_API_KEY=sk-test");
  INFO(r.out);
  REQUIRE(r.code == 0);
  auto calls = server.calls();
  REQUIRE(!calls.empty());
  const json& msgs = calls.front().second["messages"];
  const std::string system = msgs[0]["content"], user = msgs[1]["content"];
  // The energy model, with its constants, and how the candidate is built and run.
  CHECK(system.find("5 pJ per instruction") != std::string::npos);
  CHECK(system.find("1600 pJ per L1 miss") != std::string::npos);
  CHECK(system.find("10240 pJ per last-level miss") != std::string::npos);
  CHECK(system.find("g++ -O2 -g1 -std=c++20") != std::string::npos);
  CHECK(system.find("n=20") != std::string::npos);
  CHECK(system.find("KNOB") != std::string::npos);
  // The parent's standing and its hot spots: the function and lines, with shares.
  CHECK(user.find("This program is the baseline") != std::string::npos);
  CHECK(user.find("where the energy goes") != std::string::npos);
  const auto main_share = NumberAfter(user, "function main: ");
  REQUIRE(main_share.has_value());
  CHECK(*main_share > 50);  // the learner's own loop is most of it
  const std::string hot_line = LineStarting(user, "  line ");
  CHECK(hot_line.find("% (instructions ") != std::string::npos);
  CHECK(hot_line.find("%, L1 ") != std::string::npos);
  CHECK(hot_line.find("`") != std::string::npos);  // the line quoted
  CHECK(r.out.find("1 new candidates") != std::string::npos);
  // `archive show` prints the same profile.
  Ran show = Ergon("archive show 1 --db '" + db.string() + "'");
  CHECK(show.out.find("where the energy goes") != std::string::npos);
  CHECK(show.out.find("function main:") != std::string::npos);
  for (const char* e : {"", "-wal", "-shm"}) fs::remove(db.string() + e);
}

TEST_CASE("--agent-param sends sampling settings in every request, and a bad one is a usage error") {
  ModelServer server;
  Countdown task("params");
  Ran r = Ergon(task.Args("--model good " + Agent(server) +
                          "--agent-param temperature=0.2 --agent-param reasoning_effort=high "
                          "--agent-param max_tokens=777 --max-candidates 2 --evaluators 1 --proposals 1 --islands 1"),
                "OPENAI_API_KEY=sk-test");
  INFO(r.out);
  REQUIRE(r.code == 0);
  auto calls = server.calls();
  REQUIRE(!calls.empty());
  for (const auto& [path, body] : calls) {
    CHECK(body["temperature"] == 0.2);
    CHECK(body["reasoning_effort"] == "high");
    CHECK(body["max_tokens"] == 777);
  }
  Ran bad = Ergon(task.Args("--model good " + Agent(server) + "--agent-param model=other --max-candidates 1"),
                  "OPENAI_API_KEY=sk-test");
  CHECK(bad.code == 2);
  CHECK(bad.out.find("--agent-param model=other: ergon sets 'model' itself") != std::string::npos);
  Ran offline = Ergon(task.Args("--agent offline --agent-param temperature=0.2 --max-candidates 1"));
  CHECK(offline.code == 2);
  CHECK(offline.out.find("--agent-param needs --agent openai or anthropic") != std::string::npos);
}

TEST_CASE("two models, one winning and one broken: the bandit sends most later calls to the winner") {
  ModelServer server;
  Countdown task("bandit");
  Ran r = Ergon(task.Args("--model good --model broken " + Agent(server) +
                          "--max-candidates 8 --evaluators 1 --proposals 1 --islands 1 --repair-turns 0 --seed 3"),
                "OPENAI_API_KEY=sk-test");
  INFO(r.out);
  REQUIRE(r.code == 0);
  auto calls = server.calls();
  REQUIRE(calls.size() >= 10);
  int good_later = 0, later = 0;
  for (std::size_t i = 4; i < calls.size(); ++i) {
    ++later;
    good_later += calls[i].first == "good";
  }
  CHECK(good_later * 10 >= later * 7);  // at least 70% of the calls after the first four
  auto led = LedgerByModel(task.db);
  REQUIRE(led.count("openai/good"));
  REQUIRE(led.count("openai/broken"));
  CHECK(led["openai/good"]["wins"].get<int>() >= 6);
  CHECK(led["openai/broken"]["wins"].get<int>() == 0);
  CHECK(led["openai/good"]["calls"].get<int>() > led["openai/broken"]["calls"].get<int>());
  // The summary names calls, spend and wins per model.
  CHECK(r.out.find("spend: openai/good") != std::string::npos);
  const std::string broken = LineStarting(r.out, "spend: openai/broken");
  CHECK(broken.find(" calls ") != std::string::npos);
  CHECK(broken.find(" 0 wins") != std::string::npos);
}

TEST_CASE("the bandit's state survives kill -9 and --resume: it is the archive's ledger") {
  ModelServer server;
  Countdown task("bandit-resume");
  const fs::path log = task.root / "first.log";
  const std::string common = "--model good --model broken " + Agent(server) +
                             "--evaluators 1 --proposals 1 --islands 1 --repair-turns 0 --seed 4 ";
  pid_t pid = Start(task.Args(common + "--max-candidates 14"), log, "OPENAI_API_KEY=sk-test");
  // Let it make a few candidates, then kill it without warning.
  bool some = false;
  for (int i = 0; i < 600 && !some; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (fs::exists(task.db)) some = Count(task.db, "SELECT count(*) FROM candidates WHERE parent_id IS NOT NULL") >= 4;
  }
  REQUIRE(some);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  const auto before = LedgerByModel(task.db);
  REQUIRE(before.count("openai/good"));
  // New bests the kill left awaiting their verdict: the resumed run judges
  // them first (countdown's fresh suite always agrees), and only then reads
  // the bandit from the ledger, so each is a win it knows.
  const std::int64_t judged_wins = Count(task.db, "SELECT count(*) FROM candidates c JOIN ledger l ON l.candidate_id = c.id "
                                         "WHERE c.status = 'pending' AND l.model = 'openai/good'");
  const std::size_t calls_before = server.calls().size();
  Ran r = Ergon(task.Args(common + "--resume 1"), "OPENAI_API_KEY=sk-test");
  INFO(Slurp(log));
  INFO(r.out);
  REQUIRE(r.code == 0);
  // It starts from what the ledger held (in-flight calls became "lost" calls).
  const std::string state = LineStarting(r.out, "ergon run: model bandit, from the archive: ");
  REQUIRE(!state.empty());
  auto led_now = LedgerByModel(task.db);
  CHECK(state.find("openai/good " + std::to_string(before.at("openai/good")["calls"].get<int>()) + " calls") !=
        std::string::npos);
  CHECK(state.find(std::to_string(before.at("openai/good")["wins"].get<int>() + judged_wins) + " wins") !=
        std::string::npos);
  // And keeps sending the resumed run's calls to the winner.
  auto calls = server.calls();
  int good = 0, after = 0;
  for (std::size_t i = calls_before; i < calls.size(); ++i) {
    ++after;
    good += calls[i].first == "good";
  }
  REQUIRE(after > 0);
  CHECK(good * 10 >= after * 7);
  CHECK(Count(task.db, "SELECT count(*) FROM candidates WHERE parent_id IS NOT NULL") == 14);
}

TEST_CASE("a near-copy is refused before evaluation, and the agent is told which candidate it resembles") {
  ModelServer server;
  Countdown task("novelty");
  Ran r = Ergon(task.Args("--model copycat " + Agent(server) +
                          "--max-candidates 1 --evaluators 1 --proposals 1 --islands 1 --repair-turns 1"),
                "OPENAI_API_KEY=sk-test");
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("1 not novel") != std::string::npos);
  // Recorded as an attempt, at the novelty stage, naming the baseline.
  CHECK(Count(task.db, "SELECT count(*) FROM attempts WHERE stage='novelty' AND error LIKE '%near-copy of candidate 1 %'") == 1);
  // Never evaluated: the only evaluations are the baseline's and the real change's.
  CHECK(Count(task.db, "SELECT count(*) FROM candidates WHERE source LIKE '%the entry point%'") == 0);
  CHECK(Count(task.db, "SELECT count(*) FROM candidates WHERE parent_id IS NOT NULL") == 1);
  // The repair turn told the model.
  auto calls = server.calls();
  REQUIRE(calls.size() >= 2);
  const json& msgs = calls[1].second["messages"];
  CHECK(msgs.back()["content"].get<std::string>().find("near-copy of candidate 1") != std::string::npos);
}

TEST_CASE("a candidate that fails the cascade never runs under the cache meter, and the stage is recorded") {
  ModelServer server;
  Countdown task("cascade", "cachemodel");
  Ran r = Ergon(task.Args("--model crasher " + Agent(server) +
                          "--max-candidates 1 --evaluators 1 --proposals 1 --islands 1 --repair-turns 0"),
                "OPENAI_API_KEY=sk-test");
  INFO(r.out);
  REQUIRE(r.code == 0);
  // The baseline ran under the cache meter (on dev, and on a fresh suite for
  // the headline); the crasher only under the wall meter.
  CHECK(Count(task.db, "SELECT count(*) FROM evaluations e JOIN candidates c ON c.id=e.candidate_id "
                       "WHERE c.parent_id IS NULL AND e.meter='cachemodel' AND e.suite='dev'") == 1);
  CHECK(Count(task.db, "SELECT count(*) FROM evaluations e JOIN candidates c ON c.id=e.candidate_id "
                       "WHERE c.parent_id IS NOT NULL AND e.meter='cachemodel'") == 0);
  CHECK(Count(task.db, "SELECT count(*) FROM evaluations e JOIN candidates c ON c.id=e.candidate_id "
                       "WHERE c.parent_id IS NOT NULL AND e.meter='wall' AND e.status LIKE '%cascade%'") == 1);
  CHECK(Count(task.db, "SELECT count(*) FROM events WHERE kind='failure' AND message LIKE 'cascade/run:%'") == 1);
}

TEST_CASE("the candidate budget reached: a new best's fresh-suite verdict finishes, however long past the grace") {
  // Each evaluation takes 2 s, the grace 0.2 s: the verdict used to be cut
  // off, leaving the run's best "pending".
  ModelServer server;
  Countdown task("verdict", "wall", 2000);
  Ran r = Ergon(task.Args("--model good " + Agent(server) +
                          "--max-candidates 1 --evaluators 1 --proposals 1 --islands 1 --grace 0.2"),
                "OPENAI_API_KEY=sk-test");
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(Count(task.db, "SELECT count(*) FROM candidates WHERE status='pending'") == 0);
  // The child's verdict (the baseline's own fresh figure is apart).
  CHECK(Count(task.db, "SELECT count(*) FROM evaluations e JOIN candidates c ON c.id=e.candidate_id "
                       "WHERE e.suite='fresh' AND c.parent_id IS NOT NULL") == 1);
  CHECK(r.out.find(" 0 cut off") != std::string::npos);
}

TEST_CASE("every --meta-every candidates, later prompts carry the digest of what helped") {
  ModelServer server;
  Countdown task("digest");
  Ran r = Ergon(task.Args("--model good " + Agent(server) +
                          "--max-candidates 5 --meta-every 3 --evaluators 1 --proposals 1 --islands 1"),
                "OPENAI_API_KEY=sk-test");
  INFO(r.out);
  REQUIRE(r.code == 0);
  auto calls = server.calls();
  REQUIRE(calls.size() >= 5);
  const std::string first = calls.front().second["messages"][1]["content"];
  const std::string last = calls.back().second["messages"][1]["content"];
  CHECK(first.find("What the search has learned so far:\n(nothing yet)") != std::string::npos);
  CHECK(last.find("Of the last 3 children: 3 beat their parent") != std::string::npos);
  CHECK(last.find("Changes that helped most:") != std::string::npos);
  CHECK(last.find("cost -") != std::string::npos);
  CHECK(Count(task.db, "SELECT count(*) FROM events WHERE kind='meta_summary'") == 1);
}

TEST_CASE("an exact copy of an archived candidate goes back to the agent, naming it, and is never evaluated") {
  ModelServer server;
  Countdown task("duplicate");
  Ran r = Ergon(task.Args("--model back " + Agent(server) +
                          "--max-candidates 2 --evaluators 1 --proposals 1 --islands 1 --repair-turns 1 --seed 1"),
                "OPENAI_API_KEY=sk-test");
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(Count(task.db, "SELECT count(*) FROM attempts WHERE stage='duplicate' AND error LIKE '%same as candidate 1,%'") >= 1);
  bool told = false;
  for (const auto& [model, body] : server.calls())
    told = told || body["messages"].back()["content"].get<std::string>().find("the same as candidate 1,") != std::string::npos;
  CHECK(told);
  CHECK(Count(task.db, "SELECT count(*) FROM candidates WHERE parent_id IS NOT NULL") == 2);
}

TEST_CASE("an edit's closest-match search runs outside the archive lock: others record meanwhile") {
  // Issue 15's review finding: the lock was held through ApplyProposal, whose
  // closest-match search is quadratic in the region. Here one model's SEARCH
  // misses a 2,000-line program (seconds of searching) while the other
  // model's candidates are evaluated; they must land during that search.
  ModelServer server;
  Countdown task("lock", "wall", 0, 2000);
  Ran r = Ergon(task.Args("--model good --model slow " + Agent(server) +
                          "--max-candidates 4 --evaluators 1 --proposals 2 --islands 1 --repair-turns 0 --seed 5"),
                "OPENAI_API_KEY=sk-test");
  INFO(r.out);
  REQUIRE(r.code == 0);
  const double answered = server.slow_answered();
  REQUIRE(answered > 0);
  // The slow model's failed edit was recorded when its search ended.
  const std::int64_t ended_ms =
      Count(task.db, "SELECT CAST(min(created_at) * 1000 AS INTEGER) FROM attempts WHERE stage='edit/no_match'");
  const double search_s = ended_ms / 1000.0 - answered;
  INFO("closest-match search took " << search_s << " s");
  REQUIRE(search_s > 0.5);  // long enough for others to finish work meanwhile
  // Candidates recorded while it searched.
  const std::int64_t during = Count(
      task.db, "SELECT count(*) FROM candidates WHERE parent_id IS NOT NULL AND created_at > " +
                   std::to_string(answered + 0.05) + " AND created_at < " + std::to_string(ended_ms / 1000.0 - 0.05));
  CHECK(during >= 1);
}

TEST_CASE("a model that only ever proposes near-copies trips the circuit breaker instead of spinning for ever") {
  ModelServer server;
  Countdown task("copier");
  Ran r = Ergon(task.Args("--model copier " + Agent(server) +
                          "--max-candidates 1 --evaluators 1 --proposals 1 --islands 1 --repair-turns 0"),
                "OPENAI_API_KEY=sk-test");
  INFO(r.out);
  CHECK(r.out.find("too many failed attempts (circuit breaker)") != std::string::npos);
  CHECK(Count(task.db, "SELECT count(*) FROM attempts WHERE stage='novelty'") >= 30);
  CHECK(Count(task.db, "SELECT count(*) FROM candidates WHERE parent_id IS NOT NULL") == 0);
}
