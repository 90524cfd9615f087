// `ergon serve` as a user meets it: a real archive made by a real offline run,
// the real server process on 127.0.0.1, real HTTP, and a real headless
// Chromium for the pages (tests/browser/chromium.h). Screenshots of every
// view land in the build folder (ERGON_SCREENSHOTS).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <filesystem>
#include <fstream>
#include <thread>

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "archive/archive.h"
#include "run_ergon.h"
#include "slurp.h"
#include "tests/browser/chromium.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// What a hostile agent could put in the archive: markup in the intent, the
// source, the feedback and the errors.
const std::string kIntentAttack = "<img src=x onerror=\"window.__pwned=1\"> zebrafish <script>window.__pwned=2</script>";
const std::string kSourceAttack = "// </code></pre><script>window.__pwned=3</script>\nint main() { return 0; }\n";
const std::string kErrorAttack = "<svg onload=\"window.__pwned=4\">compile failed</svg>";

// A folder with an archive from a real offline run (sparse_parity, wall meter,
// 4 candidates: about 15 s on 2 cores), plus one hostile run.
struct Fixture {
  fs::path root, db;
  std::int64_t hostile_id = 0;
  explicit Fixture(const std::string& name) {
    root = fs::temp_directory_path() / ("ergon-serve-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root);
    db = root / "night.db";
    Ran r = Ergon("run --task sparse_parity --agent offline --max-candidates 4 --meter wall --db '" + db.string() + "'");
    REQUIRE_MESSAGE(r.code == 0, r.out);
    AddHostileRun();
  }
  ~Fixture() { fs::remove_all(root); }

  void AddHostileRun() {
    auto a = ergon::archive::Archive::Open(db.string());
    REQUIRE(a);
    auto run = (*a)->BeginRun({0, "sparse_parity", "openai", "evil<b>model</b>", "{}", 0, 0, ergon::archive::RunStatus::kRunning});
    REQUIRE(run);
    ergon::archive::Attempt at;
    ergon::archive::Candidate c;
    c.run_id = *run;
    c.task = "sparse_parity";
    c.parent = 1;
    c.source = kSourceAttack;
    c.hash = "hostile-source";
    c.intent = kIntentAttack;
    at.candidate = c;
    ergon::archive::Evaluation e;
    e.evaluator_version = "sparse_parity/test";
    e.meter = "wall";
    e.device = "cpu";
    e.suite = "dev";
    e.status = "ok";
    e.feedback = "<script>window.__pwned=5</script>";
    e.metrics.values = {{"accuracy", 0.4}, {"wall_s", 0.5}};
    at.evaluations.push_back(e);
    at.objectives = {-0.4, 0.5};
    ergon::archive::LedgerEntry l;
    l.run_id = *run;
    l.model = "evil<b>model</b>";
    l.outcome = "error";
    l.error = kErrorAttack;
    at.ledger = l;
    auto id = (*a)->Record(at);
    REQUIRE(id);
    hostile_id = *id;
    ergon::archive::Attempt failed;
    failed.failure = ergon::archive::FailedAttempt{*run, 1, "compile", kErrorAttack, "<iframe src=x>"};
    REQUIRE((*a)->Record(failed));
    REQUIRE((*a)->EndRun(*run, ergon::archive::RunStatus::kDone));
  }
};

// `ergon serve` in the background; the port it printed.
struct Server {
  pid_t pid = -1;
  int port = 0;
  std::string log_path;
  explicit Server(const fs::path& db, const std::string& more = "") {
    log_path = db.string() + ".serve.log";
    pid = ::fork();
    if (pid == 0) {
      int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::string cmd = std::string("exec '") + ERGON_BINARY + "' serve --port 0 --db '" + db.string() + "' " + more;
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
      ::_exit(127);
    }
    for (int i = 0; i < 100 && port == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::string log = Slurp(log_path);
      auto at = log.find("http://");
      if (at == std::string::npos) continue;
      auto colon = log.find(':', at + 7), slash = log.find('/', at + 7);
      if (colon != std::string::npos && slash != std::string::npos && colon < slash)
        port = std::stoi(log.substr(colon + 1, slash - colon - 1));
    }
    REQUIRE_MESSAGE(port > 0, Slurp(log_path));
  }
  // SIGTERM stops it cleanly (exit 0).
  int Stop() {
    if (pid <= 0) return -1;
    ::kill(pid, SIGTERM);
    int st = 0;
    ::waitpid(pid, &st, 0);
    pid = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  ~Server() { Stop(); }
  std::string Url(const std::string& path = "/") const { return "http://127.0.0.1:" + std::to_string(port) + path; }
};

struct Got {
  int status = 0;
  std::string body;
  json j;
};

Got Get(const Server& s, const std::string& path) {
  httplib::Client c("127.0.0.1", s.port);
  c.set_read_timeout(10, 0);
  auto r = c.Get(path.c_str());
  Got g;
  if (!r) return g;
  g.status = r->status;
  g.body = r->body;
  g.j = json::parse(r->body, nullptr, false);
  return g;
}

json ArchiveJson(const Fixture& f, const std::string& args) {
  Ran r = Ergon("archive " + args + " --json --db '" + f.db.string() + "'");
  REQUIRE_MESSAGE(r.code == 0, r.out);
  return json::parse(r.out);
}

}  // namespace

TEST_CASE("serve: the API returns what `ergon archive --json` returns, and the views' aggregates") {
  Fixture f("api");
  Server s(f.db);

  // Runs: the same objects, with the aggregates the runs view needs added.
  Got runs = Get(s, "/api/runs");
  REQUIRE(runs.status == 200);
  json cli_runs = ArchiveJson(f, "runs");
  REQUIRE(runs.j.size() == cli_runs.size());
  for (std::size_t i = 0; i < cli_runs.size(); ++i) {
    json served = runs.j[i];
    REQUIRE(served.contains("stats"));
    served.erase("stats");
    CHECK(served == cli_runs[i]);
  }
  const json& st = runs.j[0]["stats"];
  CHECK(st["candidates"] == 4);  // --max-candidates 4, the baseline not counted
  // The outcomes as `archive runs --json` counts them (one vocabulary).
  CHECK(st["outcomes"] == cli_runs[0]["outcomes"]);
  CHECK(st["outcomes"]["passed_gate"].get<int>() + st["outcomes"]["failed_gate"].get<int>() +
            st["outcomes"]["did_not_run"].get<int>() == 4);
  CHECK(st["state"] == "done");
  CHECK(st["metric"] == "wall_s");
  REQUIRE(st.contains("best"));
  CHECK(st["best_vs_baseline"].get<double>() > 0);

  // Candidates, one candidate, lineage, front, ledger, search: as the CLI prints them.
  Got list = Get(s, "/api/candidates?limit=100");
  CHECK(list.j == ArchiveJson(f, "list --limit 100"));
  Got page = Get(s, "/api/candidates?limit=2&offset=1");
  REQUIRE(page.j.size() == 2);
  CHECK(page.j[0]["id"] == list.j[1]["id"]);
  const std::int64_t best = st["best"]["id"].get<std::int64_t>();
  Got one = Get(s, "/api/candidates/" + std::to_string(best));
  json cli_one = ArchiveJson(f, "show " + std::to_string(best));
  for (const auto& [k, v] : cli_one.items()) CHECK_MESSAGE(one.j[k] == v, k);
  CHECK(one.j["replay"] == "ergon replay " + std::to_string(best) + " --db " + f.db.string());
  // A child (the best may be the baseline): the agent call that made it, its diff.
  Got child = Get(s, "/api/candidates/2");
  CHECK(child.j["ledger"].size() == 1);
  CHECK(child.j["ledger"][0]["model"] == "offline/offline");
  CHECK(child.j["parent_diff"].get<std::string>().find("@@") != std::string::npos);
  CHECK(Get(s, "/api/lineage/" + std::to_string(best)).j == ArchiveJson(f, "lineage " + std::to_string(best)));
  CHECK(Get(s, "/api/pareto?task=sparse_parity").j == ArchiveJson(f, "pareto --task sparse_parity"));
  CHECK(Get(s, "/api/ledger").j == ArchiveJson(f, "ledger"));
  CHECK(Get(s, "/api/search?q=zebrafish").j == ArchiveJson(f, "search zebrafish"));

  // Progress: every evaluation of run 1, the best line only falling.
  Got prog = Get(s, "/api/runs/1/progress");
  REQUIRE(prog.status == 200);
  CHECK(prog.j["total"].get<int>() >= 5);  // baseline + 4 (+ fresh-suite adjudications)
  CHECK(prog.j["points"].size() == prog.j["total"].get<std::size_t>());
  double last = 1e300;
  for (const auto& b : prog.j["best"]) {
    CHECK(b["v"].get<double>() < last);
    last = b["v"].get<double>();
  }
  Got later = Get(s, "/api/runs/1/progress?after=" + std::to_string(prog.j["last"].get<std::int64_t>()));
  CHECK(later.j["total"] == 0);  // nothing new since
  Got thin = Get(s, "/api/runs/1/progress?max=10");
  CHECK(thin.j["total"] == prog.j["total"]);

  // Children of the baseline include the hostile candidate; scatter has every candidate.
  Got kids = Get(s, "/api/children/1");
  bool found = false;
  for (const auto& k : kids.j) found |= k["id"] == f.hostile_id;
  CHECK(found);
  Got scatter = Get(s, "/api/scatter?task=sparse_parity");
  CHECK(scatter.j["points"].size() == list.j.size());
  CHECK(scatter.j["x_metric"] == "accuracy");
  Got tl = Get(s, "/api/ledger/timeline?bucket=60");
  CHECK(tl.j["buckets"].size() >= 2);  // ok calls and the hostile error
  CHECK(Get(s, "/api/tasks").j[0]["name"] == "sparse_parity");
  CHECK(s.Stop() == 0);
}

TEST_CASE("serve: read-only, GET only, nothing outside its assets, bad input named") {
  Fixture f("safety");
  const std::string before = Slurp(f.db);
  Server s(f.db);
  for (const char* path : {"/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd",
                           "/app.js/../../../../etc/passwd", "//etc/passwd", "/index.html%00.js", "/night.db",
                           "/api/../night.db", "/.%2e/.%2e/proc/self/environ", "/CMakeLists.txt", "/assets/app.js"}) {
    Got g = Get(s, path);
    CHECK_MESSAGE(g.status == 404, path);
    CHECK(g.body.find("root:") == std::string::npos);
    CHECK(g.body.find("SQLite format") == std::string::npos);
  }
  CHECK(Get(s, "/").status == 200);
  CHECK(Get(s, "/app.js").body.find("innerHTML =") == std::string::npos);
  httplib::Client c("127.0.0.1", s.port);
  CHECK(c.Post("/api/runs", "{}", "application/json")->status == 405);
  CHECK(c.Put("/api/candidates/1", "x", "text/plain")->status == 405);
  CHECK(c.Delete("/api/candidates/1")->status == 405);
  CHECK(c.Patch("/", "x", "text/plain")->status == 405);
  auto head = c.Get("/");
  REQUIRE(head);
  CHECK(head->get_header_value("Content-Security-Policy").find("script-src 'self'") != std::string::npos);
  CHECK(head->get_header_value("X-Content-Type-Options") == "nosniff");

  for (const char* bad : {"/api/candidates?limit=x", "/api/candidates?limit=0", "/api/candidates?status=bogus",
                          "/api/runs/1/progress?after=-1", "/api/search?q=", "/api/scatter",
                          "/api/ledger/timeline?bucket=0"}) {
    Got g = Get(s, bad);
    CHECK_MESSAGE(g.status == 400, bad);
    CHECK(g.j.contains("error"));
  }
  CHECK(Get(s, "/api/candidates/999999").status == 404);
  CHECK(Get(s, "/api/runs/999/progress").status == 404);
  CHECK(Get(s, "/api/nope").status == 404);
  CHECK(s.Stop() == 0);
  CHECK(Slurp(f.db) == before);  // served, never written

  // A missing archive is an error, and nothing is created.
  Ran missing = Ergon("serve --port 0 --db '" + (f.root / "typo.db").string() + "'");
  CHECK(missing.code == 1);
  CHECK(missing.out.find("no such archive") != std::string::npos);
  CHECK(!fs::exists(f.root / "typo.db"));
  // Anything but loopback is said loudly, and asks every request for the
  // token printed once at start.
  Server open(f.db, "--host 0.0.0.0");
  const std::string log = Slurp(open.log_path);
  CHECK(log.find("WARNING: listening on 0.0.0.0") != std::string::npos);
  const auto at = log.find("?token=");
  REQUIRE(at != std::string::npos);
  const std::string token = log.substr(at + 7, 32);
  CHECK(token.find_first_not_of("0123456789abcdef") == std::string::npos);
  for (const char* path : {"/", "/app.js", "/api/runs", "/api/candidates/1"}) {
    Got g = Get(open, path);
    CHECK_MESSAGE(g.status == 403, path);
    CHECK(g.body.find("hostile") == std::string::npos);
    CHECK_MESSAGE(Get(open, std::string(path) + "?token=" + std::string(32, '0')).status == 403, path);
  }
  {
    httplib::Client client("127.0.0.1", open.port);
    auto r = client.Get(("/api/runs?token=" + token).c_str());
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->get_header_value("Set-Cookie").find("ergon_token=" + token) == 0);
    CHECK(r->get_header_value("Set-Cookie").find("HttpOnly") != std::string::npos);
    // The page's own requests carry the cookie; scripts may send a Bearer header.
    CHECK(client.Get("/api/runs", {{"Cookie", "ergon_token=" + token}})->status == 200);
    CHECK(client.Get("/api/runs", {{"Authorization", "Bearer " + token}})->status == 200);
    CHECK(client.Get("/api/runs", {{"Cookie", "ergon_token=x" + token.substr(1)}})->status == 403);
    // Still read-only with the token.
    CHECK(client.Post(("/api/runs?token=" + token).c_str(), "{}", "application/json")->status == 405);
  }
  CHECK(open.Stop() == 0);
  // On loopback no token is asked for.
  Server local(f.db);
  CHECK(Slurp(local.log_path).find("?token=") == std::string::npos);
  CHECK(Get(local, "/api/runs").status == 200);
  CHECK(local.Stop() == 0);
  Ran help = Ergon("serve --help");
  CHECK(help.out.find("--port") != std::string::npos);
  CHECK(help.out.find("127.0.0.1") != std::string::npos);
}

TEST_CASE("serve: every view in headless Chromium, live updates, links, and escaping") {
  Fixture f("browser");
  Server s(f.db);
  ergon::testing::Chromium b;
  REQUIRE_MESSAGE(b.ok(), b.error());
  const fs::path shots = ERGON_SCREENSHOTS;
  auto open_view = [&](const std::string& hash) {
    // Within the page a navigation is a hash change: mark the old view stale
    // first, so the wait below sees the new one finish.
    b.Eval("document.getElementById('view') && (document.getElementById('view').dataset.ready = '0')");
    b.Navigate(s.Url("/#/" + hash));
    REQUIRE_MESSAGE(b.WaitFor("document.getElementById('view') && document.getElementById('view').dataset.ready === '1'"),
                    hash);
  };
  auto text = [&](const std::string& selector) {
    json v = b.Eval("(document.querySelector(" + json(selector).dump() + ") || {}).textContent || ''");
    return v.is_string() ? v.get<std::string>() : std::string();
  };
  auto count = [&](const std::string& selector) {
    return b.Eval("document.querySelectorAll(" + json(selector).dump() + ").length").get<int>();
  };

  // Runs: both runs, the offline one done with its candidates.
  open_view("runs");
  CHECK(count("#view tbody tr") == 2);
  CHECK(text("#view tbody").find("sparse_parity") != std::string::npos);
  CHECK(text("#view tbody").find("evil<b>model</b>") != std::string::npos);  // as text
  CHECK(count("#view b") == 0);
  CHECK(text("#view thead").find("passed the gate") != std::string::npos);  // outcome.h's words
  CHECK(text("#view thead").find("valid") == std::string::npos);
  CHECK(b.Screenshot((shots / "runs.png").string()));
  // A link between views: the run's link opens its progress.
  b.Eval("document.querySelector('a.run-link[href=\"#/run/1\"]').click()");
  REQUIRE(b.WaitFor("location.hash === '#/run/1' && document.getElementById('view').dataset.ready === '1'"));

  // Progress: every evaluation drawn, and it updates while a run writes.
  const int before = std::stoi(text("#eval-count"));
  CHECK(before >= 5);
  CHECK(count("#view svg circle") + count("#view svg rect.pt") == before);
  CHECK(count("#view path.best-line") == 1);
  CHECK(b.Screenshot((shots / "progress.png").string()));
  Ran more = Ergon("run --task sparse_parity --agent offline --meter wall --resume 1 --max-candidates 5 --db '" + f.db.string() + "'");
  REQUIRE_MESSAGE(more.code == 0, more.out);
  CHECK_MESSAGE(b.WaitFor("Number(document.getElementById('eval-count').textContent) > " + std::to_string(before),
                          std::chrono::seconds(10)),
                "the progress view did not update by itself");
  CHECK(b.Eval("location.hash").get<std::string>() == "#/run/1");  // no reload, same view

  // Front: points with the front drawn; clicking a point opens its candidate.
  open_view("front/sparse_parity");
  CHECK(count("#view svg circle") >= 5);
  CHECK(count("#view svg circle.pt-front") >= 1);
  CHECK(b.Screenshot((shots / "front.png").string()));
  b.Eval("document.querySelector('#view svg circle.pt-front').dispatchEvent(new MouseEvent('click'))");
  REQUIRE(b.WaitFor("location.hash.startsWith('#/candidate/') && document.getElementById('view').dataset.ready === '1'"));

  // Lineage: the tree from the baseline, the path to the best open.
  open_view("lineage");
  REQUIRE(b.WaitFor("document.querySelector('#tree details.target') !== null"));
  CHECK(b.WaitFor("document.querySelectorAll('#tree details').length >= 2"));  // children load as nodes open
  CHECK(text("#tree").find("#1") != std::string::npos);
  CHECK(b.Screenshot((shots / "lineage.png").string()));

  // Candidate: source, diff against its parent, replay command, evaluations, calls.
  open_view("candidate/2");
  CHECK(text("#replay") == "ergon replay 2 --db " + f.db.string());
  CHECK(text("#source").find("main") != std::string::npos);
  CHECK(count("#diff") == 1);
  CHECK(count("#view table") >= 2);
  CHECK(b.Screenshot((shots / "candidate.png").string()));

  // Ledger and search.
  open_view("ledger");
  CHECK(text("#view").find("offline/offline") != std::string::npos);
  CHECK(text("#view").find("offline/offline spend / tokens") != std::string::npos);  // per hour, by model
  CHECK(text("#view").find("error calls") != std::string::npos);                     // and by outcome
  CHECK(b.Screenshot((shots / "ledger.png").string()));
  open_view("search/zebrafish");
  CHECK(text("#hit-count") == "1 hits");
  CHECK(b.Screenshot((shots / "search.png").string()));

  // Escaping: the hostile candidate's markup is shown as text, never made.
  open_view("candidate/" + std::to_string(f.hostile_id));
  CHECK(text("#intent") == kIntentAttack);
  CHECK(text("#source").find("</code></pre><script>") != std::string::npos);
  CHECK(text("#view").find(kErrorAttack) != std::string::npos);
  CHECK(count("#view img, #view script, #view svg[onload], #view iframe") == 0);
  CHECK(b.Eval("window.__pwned === undefined").get<bool>());
  CHECK(b.Eval("document.title").get<std::string>() == "ergon");
  CHECK(b.Screenshot((shots / "hostile.png").string()));
  open_view("search/compile");  // the failed attempt's error and proposal
  CHECK(count("#view img, #view script, #view svg, #view iframe") == 0);
  CHECK(b.Eval("window.__pwned === undefined").get<bool>());
  CHECK(s.Stop() == 0);
}

TEST_CASE("serve: the phylogeny and a study of 10,000 candidates in Chromium within 2 s: records, ideas, ticks") {
  // A made-up study of 10,000 candidates over two orders of magnitude of
  // energy: 2 arms x 5 seeds, each run's children from random earlier
  // candidates of its own (or the baseline), one of 14 ideas, one of 3
  // models; the records (each new best in order) are known here.
  const fs::path root = fs::temp_directory_path() / ("ergon-serve-phylo-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  const fs::path db = root / "big.db";
  std::vector<std::int64_t> records;
  {
    auto a = ergon::archive::Archive::Open(db.string());
    REQUIRE(a);
    std::vector<std::int64_t> runs;
    for (int r = 0; r < 10; ++r) {
      const json settings = {{"seed", 1 + r / 2}, {"strategy", r % 2 ? "independent" : "evolve"}, {"isolated", true},
                             {"study", {{"name", "big"}, {"arm", r % 2 ? "independent" : "evolve"}, {"seed", 1 + r / 2}}}};
      auto run = (*a)->BeginRun({0, "sparse_parity", "openai", "m0,m1,m2", settings.dump(), 0, 0, ergon::archive::RunStatus::kRunning});
      REQUIRE(run);
      runs.push_back(*run);
    }
    std::mt19937_64 rng(5);
    std::vector<double> value;                     // by candidate id - 1
    std::vector<std::vector<std::int64_t>> mine(10);  // each run's candidates
    double best = 1e300;
    for (int i = 0; i < 10000; ++i) {
      const int r = i == 0 ? 0 : (i - 1) % 10;
      ergon::archive::Attempt at;
      ergon::archive::Candidate c;
      c.run_id = runs[static_cast<std::size_t>(r)];
      c.task = "sparse_parity";
      if (i > 0) {
        auto& own = mine[static_cast<std::size_t>(r)];
        const std::size_t pick = rng() % (own.size() + 1);
        c.parent = pick == own.size() ? 1 : own[pick];
      }
      c.source = "int main() { return " + std::to_string(i) + "; }\n";
      c.hash = "h" + std::to_string(i);
      c.idea = i == 0 ? "" : "idea " + std::to_string(rng() % 14);
      at.candidate = c;
      const double parent_v = i == 0 ? 1.0 : value[static_cast<std::size_t>(*c.parent - 1)];
      const double v = i == 0 ? 1.0 : parent_v * std::exp((static_cast<double>(rng() % 1000) / 1000.0 - 0.52) * 0.6);
      const double clamped = std::clamp(v, 0.01, 3.0);
      value.push_back(clamped);
      ergon::archive::Evaluation e;
      e.evaluator_version = "sparse_parity/test";
      e.meter = "wall";
      e.suite = "dev";
      e.gate_passed = true;
      e.fitness = -clamped;
      e.metrics.values = {{"accuracy", 1.0}, {"energy_j", clamped}};
      at.evaluations.push_back(e);
      at.objectives = {-1.0, clamped};
      if (i > 0) {
        ergon::archive::LedgerEntry l;
        l.run_id = c.run_id;
        l.model = "m" + std::to_string(rng() % 3);
        at.ledger = l;
      }
      auto id = (*a)->Record(at);
      REQUIRE(id);
      if (i > 0) mine[static_cast<std::size_t>(r)].push_back(*id);
      if (clamped < best) {
        best = clamped;
        records.push_back(*id);
      }
    }
    for (auto run : runs) REQUIRE((*a)->EndRun(run, ergon::archive::RunStatus::kDone));
  }
  Server s(db);
  const Got api = Get(s, "/api/phylogeny?task=sparse_parity");
  REQUIRE(api.status == 200);
  REQUIRE(api.j["nodes"].size() == 10000);
  std::vector<std::int64_t> api_records;
  for (const auto& r : api.j["records"]) api_records.push_back(r["id"]);
  CHECK(api_records == records);
  CHECK(api.j["ideas"].size() == 15);  // 14 ideas and the baseline's none
  CHECK(api.j["models"].size() == 4);  // 3 models and the baseline's none

  ergon::testing::Chromium b;
  REQUIRE_MESSAGE(b.ok(), b.error());
  b.Navigate(s.Url("/#/runs"));
  REQUIRE(b.WaitFor("document.getElementById('view') && document.getElementById('view').dataset.ready === '1'"));
  b.Eval("document.getElementById('view').dataset.ready = '0'");
  const auto t0 = std::chrono::steady_clock::now();
  b.Navigate(s.Url("/#/phylogeny/sparse_parity"));
  REQUIRE(b.WaitFor("document.getElementById('view').dataset.ready === '1' && !!document.getElementById('phylo')"));
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("phylogeny of 10,000 candidates: drawn in " << took << " s");
  CHECK(took < 2.0);
  CHECK(b.Eval("document.getElementById('phylo').dataset.nodes").get<std::string>() == "10000");
  CHECK(b.Eval("document.querySelectorAll('#view table tbody tr').length").get<int>() ==
        static_cast<int>(records.size()));
  CHECK(b.Eval("document.querySelectorAll('#ideas-legend li').length").get<int>() == 10);
  CHECK(b.Eval("document.querySelectorAll('path.record-line').length").get<int>() == 1);
  // The energy spans 300x: a log axis, its ticks at 1, 2 or 5 times a power
  // of ten; the order of evaluation in steps of 1, 2 or 5 times one.
  auto numbers = [&](const std::string& anchor) {
    const json texts = b.Eval("[...document.querySelectorAll('svg.overlay text[text-anchor=\"" + anchor +
                              "\"]')].map(t => t.textContent)");
    std::vector<double> out;
    for (const auto& t : texts) {
      std::string v = t.get<std::string>();
      v.erase(std::remove(v.begin(), v.end(), ','), v.end());
      char* end = nullptr;
      const double x = std::strtod(v.c_str(), &end);
      if (end != v.c_str() && *end == '\0') out.push_back(x);  // not an axis title
    }
    return out;
  };
  auto one_two_five = [](double v) {
    const double m = v / std::pow(10, std::floor(std::log10(v) + 1e-9));
    return std::fabs(m - 1) < 1e-6 || std::fabs(m - 2) < 1e-6 || std::fabs(m - 5) < 1e-6;
  };
  const auto y = numbers("end"), x = numbers("middle");
  REQUIRE(y.size() >= 3);
  for (double v : y) CHECK_MESSAGE(one_two_five(v), "y tick " << v);
  REQUIRE(x.size() >= 3);
  for (std::size_t i = 1; i < x.size(); ++i) CHECK(x[i] - x[i - 1] == doctest::Approx(x[1] - x[0]));
  CHECK(one_two_five(x[1] - x[0]));
  CHECK(b.Eval("document.getElementById('view').textContent").get<std::string>().find("(log)") != std::string::npos);
  CHECK(b.Screenshot((fs::path(ERGON_SCREENSHOTS) / "phylogeny.png").string()));
  // A click on the first record's node opens that candidate.
  b.Eval(R"js((() => {
    const d = document.querySelector('path.record-line').getAttribute('d');
    const [x, y] = d.slice(1).split(/[HV]/)[0].split(',').map(Number);
    const svg = document.querySelector('svg.overlay'), box = svg.getBoundingClientRect();
    svg.dispatchEvent(new MouseEvent('click', {clientX: box.left + x, clientY: box.top + y, bubbles: true}));
  })())js");
  // Its view finishes loading before the next navigation: a load still in
  // flight would mark the view ready under the study's URL.
  CHECK(b.WaitFor("location.hash === '#/candidate/" + std::to_string(records.front()) +
                  "' && document.getElementById('view').dataset.ready === '1'"));
  // The study's chart over the same 10,000 candidates.
  b.Eval("document.getElementById('view').dataset.ready = '0'");
  const auto t1 = std::chrono::steady_clock::now();
  b.Navigate(s.Url("/#/study/sparse_parity/big"));
  REQUIRE(b.WaitFor("location.hash === '#/study/sparse_parity/big' && document.getElementById('view').dataset.ready "
                    "=== '1' && !!document.querySelector('path.arm-median')"));
  const double study_took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  MESSAGE("a study of 10 runs and 10,000 candidates: drawn in " << study_took << " s");
  INFO(b.Eval("document.getElementById('view').textContent").get<std::string>().substr(0, 300));
  CHECK(study_took < 2.0);
  CHECK(b.Eval("document.querySelectorAll('path.arm-median').length").get<int>() == 2);
  CHECK(b.Eval("document.querySelectorAll('path.arm-band').length").get<int>() == 2);
  CHECK(b.Eval("document.getElementById('view').textContent").get<std::string>().find("evolve vs independent") !=
        std::string::npos);
  CHECK(b.Screenshot((fs::path(ERGON_SCREENSHOTS) / "study-10k.png").string()));
  s.Stop();
  fs::remove_all(root);
}

TEST_CASE("serve: a study's anytime curves, each arm's median and band, and its rank test, in Chromium") {
  // A small real study: matmul 4x4 from the naive product, 2 arms x 2 seeds.
  const fs::path root = fs::temp_directory_path() / ("ergon-serve-study-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "naive4");
  std::ofstream(root / "naive4" / "task.json") << R"({
  "summary": "matmul 4x4 from the naive product", "language": "ir", "dally": {"board": "matmul4x4"},
  "description": "C = A*B for 4x4 integer matrices, cheapest IR.",
  "objectives": {"gate": {"metric": "exact", "min": 1}, "minimise": "cost"}, "meter": "dally",
  "metrics": ["cost", "exact"], "params": {"search_moves": 0, "search_placed_moves": 20000},
  "edits": {"whole_file": true}
})";
  fs::copy_file(fs::path(ERGON_DALLY_DATA) / "matmul" / "naive_4x4.ir", root / "naive4" / "baseline.ir");
  const fs::path db = root / "study.db";
  Ran r = Ergon("study --task naive4 --tasks '" + root.string() + "' --db '" + db.string() +
                "' --name small --seeds 2 --max-candidates 4 --evaluators 1 --proposals 1");
  REQUIRE_MESSAGE(r.code == 0, r.out);
  Server s(db, "--tasks '" + root.string() + "'");
  const Got list = Get(s, "/api/studies");
  REQUIRE(list.status == 200);
  REQUIRE(list.j.size() == 1);
  CHECK(list.j[0]["name"] == "small");
  CHECK(list.j[0]["runs"] == 4);
  CHECK(Get(s, "/api/study?task=naive4&name=nosuch").status == 404);
  CHECK(Get(s, "/api/study?task=naive4").status == 400);
  ergon::testing::Chromium b;
  REQUIRE_MESSAGE(b.ok(), b.error());
  b.Navigate(s.Url("/#/studies"));
  REQUIRE(b.WaitFor("document.getElementById('view').dataset.ready === '1' && !!document.querySelector('a.study-link')"));
  b.Eval("document.getElementById('view').dataset.ready = '0'; document.querySelector('a.study-link').click()");
  REQUIRE(b.WaitFor("location.hash === '#/study/naive4/small' && document.getElementById('view').dataset.ready === '1'"));
  CHECK(b.Eval("document.querySelectorAll('path.arm-median').length").get<int>() == 2);
  CHECK(b.Eval("document.querySelectorAll('path.arm-band').length").get<int>() == 2);
  CHECK(b.Eval("document.querySelectorAll('#arms-legend li').length").get<int>() == 2);
  const std::string text = b.Eval("document.getElementById('view').textContent").get<std::string>();
  CHECK(text.find("evolve vs independent") != std::string::npos);
  CHECK(text.find("candidates evaluated") != std::string::npos);
  CHECK(b.Screenshot((fs::path(ERGON_SCREENSHOTS) / "study.png").string()));
  s.Stop();
  fs::remove_all(root);
}
