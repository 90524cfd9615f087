// The sandbox against the hostile gallery (tests/gallery/). Each test
// compiles one gallery program through the sandbox's compiler, runs it, and
// checks the outcome and that nothing of it survives.
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <csignal>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <doctest/doctest.h>

#include "sandbox/compiler.h"
#include "sandbox/sandbox.h"
#include "plants.h"
#include "test_sandbox.h"

namespace fs = std::filesystem;
using namespace ergon::sandbox;

namespace {

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string Token() {
  std::random_device rd;
  return "ergon-token-" + std::to_string(rd()) + std::to_string(rd());
}

// Processes whose command line mentions `token` (the candidate, or bwrap
// around it).
int Survivors(const std::string& token) {
  int n = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = ReadFile(e.path() / "cmdline");
    if (cmd.find(token) != std::string::npos) ++n;
  }
  return n;
}

struct Built {
  ScratchDir dir;
  std::string exe;
};

Built Build(const std::string& name) {
  auto dir = ScratchDir::Create(TestSandbox(), "ergon-test-");
  REQUIRE(dir.has_value());
  CompileRequest req;
  req.source = ReadFile(fs::path(ERGON_GALLERY_DIR) / name);
  REQUIRE_MESSAGE(!req.source.empty(), name);
  req.output_dir = dir->path();
  auto out = Compile(TestSandbox(), req);
  REQUIRE_MESSAGE(out.has_value(), (out ? "" : out.error()));
  REQUIRE_MESSAGE(out->ok, out->diagnostics);
  return {std::move(*dir), out->executable};
}

RunResult RunIt(const Built& b, const std::string& token, Limits limits, std::vector<std::string> extra = {},
                std::optional<std::string> stdin_data = {}) {
  RunSpec spec;
  spec.argv = {b.exe, token};
  spec.argv.insert(spec.argv.end(), extra.begin(), extra.end());
  spec.work_dir = b.dir.path();
  spec.limits = limits;
  spec.stdin_data = std::move(stdin_data);
  auto r = TestSandbox().Run(spec);
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error()));
  INFO(r->Describe());
  return *r;
}

Limits Quick(double wall = 2.0) {
  Limits l;
  l.wall_s = wall;
  l.cpu_s = 10;
  l.address_space = 512ull << 20;
  l.file_size = 8ull << 20;
  l.processes = 32;
  l.stdout_cap = 64 << 10;
  return l;
}

}  // namespace

TEST_CASE("the sandbox names its isolation - and it is bubblewrap here") {
  const Sandbox& sb = TestSandbox();
  MESSAGE("isolation: " << sb.DescribeIsolation());
  // On every machine ergon supports (Debian with bubblewrap installed), the
  // strongest level must be in force; a silent downgrade is a failure.
  CHECK(sb.level() == IsolationLevel::kBubblewrap);
  CHECK(sb.DescribeIsolation().find("bubblewrap") != std::string::npos);
}

TEST_CASE("a normal program: stdin in - stdout out - a clean environment") {
  ::setenv("ERGON_TEST_SECRET", "hunter2", 1);
  auto b = Build("echo.cpp");
  std::string token = Token();
  std::string input = "line one\nline two\n" + std::string(200000, 'z');  // bigger than a pipe buffer
  Limits l = Quick(10);
  l.stdout_cap = 1 << 20;
  RunResult r = RunIt(b, token, l, {}, input);
  CHECK(r.outcome == Outcome::kOk);
  CHECK(r.exit_code == 0);
  CHECK(r.stdout_text == input);
  CHECK(r.stderr_text.find("hunter2") == std::string::npos);
  CHECK(r.stderr_text.find("PATH=") != std::string::npos);
  CHECK(r.stderr_text.find("HOME=" + b.dir.path()) != std::string::npos);
  CHECK(r.isolation == TestSandbox().DescribeIsolation());
  CHECK(r.wall_s > 0);
  CHECK(Survivors(token) == 0);
}

TEST_CASE("exit codes and crashes are reported as such") {
  auto b = Build("exit_code.cpp");
  RunResult r = RunIt(b, Token(), Quick());
  CHECK(r.outcome == Outcome::kExitCode);
  CHECK(r.exit_code == 3);
  CHECK(r.Describe().find("exit code 3") != std::string::npos);
  CHECK(r.Describe().find("failing on purpose") != std::string::npos);

  auto c = Build("crash.cpp");
  RunResult s = RunIt(c, Token(), Quick());
  CHECK(s.outcome == Outcome::kSignal);
  CHECK(s.signal == SIGSEGV);
  CHECK(s.Describe().find("SIGSEGV") != std::string::npos);
}

TEST_CASE("gallery: an infinite loop times out and dies") {
  auto b = Build("loop.cpp");
  std::string token = Token();
  auto t0 = std::chrono::steady_clock::now();
  RunResult r = RunIt(b, token, Quick(1.0));
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(r.outcome == Outcome::kTimeout);
  CHECK(r.wall_s >= 1.0);
  CHECK(took < 3.0);
  CHECK(r.Describe().find("timeout") != std::string::npos);
  CHECK(Survivors(token) == 0);
}

TEST_CASE("gallery: a sleeper times out (wall clock - not CPU)") {
  auto b = Build("sleeper.cpp");
  std::string token = Token();
  RunResult r = RunIt(b, token, Quick(0.5));
  CHECK(r.outcome == Outcome::kTimeout);
  CHECK(r.user_s < 0.5);
  CHECK(Survivors(token) == 0);
}

TEST_CASE("gallery: CPU limit is reported as a CPU limit") {
  auto b = Build("cpu_burn.cpp");
  Limits l = Quick(10);
  l.cpu_s = 1;
  RunResult r = RunIt(b, Token(), l);
  CHECK(r.outcome == Outcome::kCpuLimit);
  CHECK(r.user_s + r.sys_s >= 0.9);
  CHECK(r.wall_s < 5);
}

TEST_CASE("gallery: a fork bomb is contained and nothing survives") {
  auto b = Build("fork_bomb.cpp");
  std::string token = Token();
  RunResult r = RunIt(b, token, Quick(1.5));
  CHECK((r.outcome == Outcome::kTimeout || r.outcome == Outcome::kSignal || r.outcome == Outcome::kCpuLimit));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(Survivors(token) == 0);
  // The host can still start processes.
  pid_t p = fork();
  if (p == 0) _exit(0);
  REQUIRE(p > 0);
  int st = 0;
  waitpid(p, &st, 0);
  CHECK(WIFEXITED(st));
}

TEST_CASE("gallery: a memory hog hits the memory limit") {
  auto b = Build("memory_hog.cpp");
  Limits l = Quick(10);
  l.address_space = 256ull << 20;
  RunResult r = RunIt(b, Token(), l);
  CHECK(r.outcome == Outcome::kMemoryLimit);
  CHECK(r.max_rss_kb < 300 * 1024);
}

TEST_CASE("gallery: an output flood is cut at the cap - fast") {
  auto b = Build("flood.cpp");
  std::string token = Token();
  Limits l = Quick(10);
  l.stdout_cap = 100000;
  RunResult r = RunIt(b, token, l);
  CHECK(r.outcome == Outcome::kOutputLimit);
  CHECK(r.stdout_truncated);
  CHECK(r.stdout_text.size() == 100000);
  CHECK(r.wall_s < 5);
  CHECK(Survivors(token) == 0);
}

TEST_CASE("gallery: a file flood stops at the file-size limit") {
  auto b = Build("file_flood.cpp");
  Limits l = Quick(10);
  l.file_size = 1 << 20;
  RunResult r = RunIt(b, Token(), l);
  CHECK(r.outcome == Outcome::kOutputLimit);
  CHECK(fs::file_size(fs::path(b.dir.path()) / "big.bin") <= (1u << 20));
}

TEST_CASE("gallery: no network - not even the host's loopback") {
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(ls >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  REQUIRE(bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(listen(ls, 4) == 0);
  socklen_t len = sizeof a;
  getsockname(ls, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);

  auto b = Build("connect.cpp");
  RunResult r = RunIt(b, Token(), Quick(), {std::to_string(port)});
  CHECK(r.stdout_text.find("CONNECTED") == std::string::npos);
  CHECK(r.outcome == Outcome::kExitCode);
  // And the listener saw nobody.
  fcntl(ls, F_SETFL, O_NONBLOCK);
  CHECK(accept(ls, nullptr, nullptr) < 0);
  close(ls);
}

TEST_CASE("gallery: writes outside the work dir never appear") {
  auto b = Build("write_outside.cpp");
  auto outside = ScratchDir::Create(TestSandbox(), "ergon-outside-");  // even one nobody may write
  REQUIRE(outside.has_value());
  std::string target1 = outside->path() + "/pwned.txt";
  std::string target2 = fs::path(b.dir.path()).parent_path().string() + "/ergon-pwned-" + Token();
  std::string target3 = "/etc/ergon-pwned";
  RunResult r = RunIt(b, Token(), Quick(), {target1, target2, target3, "inside.txt"});
  CHECK(r.outcome == Outcome::kOk);
  CHECK(!fs::exists(target1));
  CHECK(!fs::exists(target2));
  CHECK(!fs::exists(target3));
  // The work dir itself is writable.
  CHECK(fs::exists(fs::path(b.dir.path()) / "inside.txt"));
}

TEST_CASE("gallery: a candidate walking the filesystem finds nothing of the host but its toolchain") {
  if (geteuid() != 0) {
    MESSAGE("skipped: needs root to plant files in /srv, /opt, /var and /usr/share");
    return;
  }
  const std::string token = Token();
  const std::string marker = "ergonmark" + token.substr(12);
  // World-readable plants where a person keeps things: a second copy of a
  // task folder (its harness), their home, /srv, /opt, /var/tmp, an
  // archive's folder, a spool, a data set under /usr/share, the current
  // directory.
  std::vector<fs::path> dirs = {fs::current_path() / ("ergon-task-copy-" + token),
                                fs::path("/home") / ("ergon-person-" + token),
                                fs::temp_directory_path() / ("ergon-archive-" + token),
                                fs::path("/usr/share") / ("ergon-dataset-" + token)};
  std::vector<fs::path> plants = {dirs[0] / (marker + "-prepare.py"), dirs[1] / (marker + "-notes.txt"),
                                  fs::path("/srv") / (marker + ".txt"), fs::path("/opt") / (marker + ".txt"),
                                  fs::path("/var/tmp") / (marker + ".txt"), dirs[2] / (marker + ".db"),
                                  fs::path("/var/spool") / (marker + "-job.req"), dirs[3] / (marker + "-train.idx"),
                                  fs::current_path() / (marker + "-cwd.txt")};
  const Plants planted(dirs, plants, "secret labels: 0110\n");
  // What the run may see: its work dir, and a folder it is given read-only.
  auto visible = ScratchDir::Create(TestSandbox(), "ergon-visible-");
  REQUIRE(visible.has_value());
  ::chmod(visible->path().c_str(), 0755);
  std::ofstream(visible->path() + "/" + marker + "-visible.txt") << "given\n";
  ::chmod((visible->path() + "/" + marker + "-visible.txt").c_str(), 0644);

  for (Language language : {Language::kCpp, Language::kCuda}) {
    if (!FindCompiler(language)) {
      MESSAGE("skipped for CUDA: no nvcc here");
      continue;
    }
    auto dir = ScratchDir::Create(TestSandbox(), "ergon-test-");
    REQUIRE(dir.has_value());
    CompileRequest req;
    req.source = ReadFile(fs::path(ERGON_GALLERY_DIR) / "hunt_markers.cpp");
    req.language = language;
    req.output_dir = dir->path();
    req.timeout_s = 300;
    auto built = Compile(TestSandbox(), req);
    REQUIRE_MESSAGE(built.has_value(), (built ? "" : built.error()));
    REQUIRE_MESSAGE(built->ok, built->diagnostics);
    std::ofstream(dir->path() + "/" + marker + "-mine.txt") << "mine\n";
    RunSpec spec;
    spec.argv = {built->executable, token, marker};
    for (const auto& p : plants) spec.argv.push_back(p.string());
    spec.work_dir = dir->path();
    spec.read_only_paths = {visible->path()};
    spec.limits = Quick(60);
    auto r = TestSandbox().Run(spec);
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error()));
    INFO(r->Describe() << "\n" << r->stdout_text);
    CHECK(r->outcome == Outcome::kOk);
    // It did look (its own file and the one it was given are found) ...
    CHECK(r->stdout_text.find(marker + "-mine.txt: mine") != std::string::npos);
    CHECK(r->stdout_text.find(marker + "-visible.txt: given") != std::string::npos);
    // ... and found nothing else.
    CHECK(r->stdout_text.find("secret labels") == std::string::npos);
    for (const auto& p : plants) CHECK_MESSAGE(r->stdout_text.find(p.string()) == std::string::npos, p.string());
  }
}

TEST_CASE("gallery: a root-only file of the host cannot be read") {
  if (geteuid() != 0) {
    MESSAGE("skipped: needs root to create a file the sandbox uid cannot read");
    return;
  }
  auto b = Build("read_secret.cpp");
  fs::path secret = fs::path("/root") / ("ergon-secret-" + Token());
  {
    std::ofstream f(secret);
    f << "the hidden seed is 42";
  }
  fs::permissions(secret, fs::perms::owner_read | fs::perms::owner_write);
  RunResult r = RunIt(b, Token(), Quick(), {secret.string()});
  fs::remove(secret);
  CHECK(r.stdout_text.find("hidden seed") == std::string::npos);
  CHECK(r.outcome == Outcome::kExitCode);
}

TEST_CASE("gallery: a child detached with setsid dies with the run") {
  auto b = Build("setsid_child.cpp");
  std::string token = Token();
  RunResult r = RunIt(b, token, Quick(5));
  CHECK(r.outcome == Outcome::kOk);
  CHECK(r.stdout_text == "parent done\n");
  CHECK(r.wall_s < 2.0);  // we did not wait for the orphan
  CHECK(Survivors(token) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(!fs::exists(fs::path(b.dir.path()) / "survived.txt"));
}

TEST_CASE("a missing work dir is a host error - not a candidate outcome") {
  RunSpec spec;
  spec.argv = {"/bin/true"};
  spec.work_dir = "/nonexistent/ergon";
  auto r = TestSandbox().Run(spec);
  REQUIRE(!r.has_value());
  CHECK(r.error().find("/nonexistent/ergon") != std::string::npos);
}

TEST_CASE("compile errors come back as diagnostics - capped") {
  auto dir = ScratchDir::Create(TestSandbox(), "ergon-test-");
  REQUIRE(dir.has_value());
  CompileRequest req;
  req.source = "int main() { return undefined_name; }\n";
  req.output_dir = dir->path();
  req.diagnostics_cap = 4096;
  auto out = Compile(TestSandbox(), req);
  REQUIRE(out.has_value());
  CHECK(!out->ok);
  CHECK(out->diagnostics.find("undefined_name") != std::string::npos);
  CHECK(out->diagnostics.size() < 4096 + 200);
}

TEST_CASE("the compiler runs sandboxed: #include of a root-only file fails") {
  if (geteuid() != 0) {
    MESSAGE("skipped: needs root");
    return;
  }
  fs::path secret = fs::path("/root") / ("ergon-secret-" + Token() + ".h");
  {
    std::ofstream f(secret);
    f << "int leaked = 1;\n";
  }
  fs::permissions(secret, fs::perms::owner_read | fs::perms::owner_write);
  auto dir = ScratchDir::Create(TestSandbox(), "ergon-test-");
  REQUIRE(dir.has_value());
  CompileRequest req;
  req.source = "#include \"" + secret.string() + "\"\nint main() { return leaked; }\n";
  req.output_dir = dir->path();
  auto out = Compile(TestSandbox(), req);
  fs::remove(secret);
  REQUIRE(out.has_value());
  CHECK(!out->ok);
}

TEST_CASE("precompiled headers: only the system headers a source includes first") {
  CHECK(LeadingSystemIncludes("// a learner\n\n#include <vector>\n#include <cstdio>  // printf\nint x;\n#include <map>\n") ==
        std::vector<std::string>{"vector", "cstdio"});
  CHECK(LeadingSystemIncludes("/* block\n comment */\n#include <cmath>\n") == std::vector<std::string>{"cmath"});
  CHECK(LeadingSystemIncludes("  #  include   <bits/stdc++.h>\n") == std::vector<std::string>{"bits/stdc++.h"});
  // Anything before the includes could change what they mean: none then.
  CHECK(LeadingSystemIncludes("#define _GLIBCXX_DEBUG\n#include <vector>\n").empty());
  CHECK(LeadingSystemIncludes("#pragma GCC optimize(\"O3\")\n#include <vector>\n").empty());
  // A local header ends the block; odd names are not taken.
  CHECK(LeadingSystemIncludes("#include <vector>\n#include \"mine.h\"\n#include <map>\n") ==
        std::vector<std::string>{"vector"});
  CHECK(LeadingSystemIncludes("#include <../../etc/passwd>\n").empty());
  CHECK(LeadingSystemIncludes("#include </etc/passwd>\n").empty());
  CHECK(LeadingSystemIncludes("#include <vector> int x;\n").empty());
}

TEST_CASE("precompiled headers: the same program with and without them - and no header it did not include") {
  const std::string src =
      "// a learner\n#include <algorithm>\n#include <cstdio>\n#include <vector>\n"
      "int main() { std::vector<int> v = {3, 1, 2}; std::sort(v.begin(), v.end()); "
      "std::printf(\"%d%d%d\\n\", v[0], v[1], v[2]); }\n";
  SandboxOptions o;
  o.precompiled_headers = true;
  auto made = Sandbox::Create(o);
  REQUIRE(made.has_value());
  const Sandbox& sb = *made;
  std::string printed[2], binary[2];
  for (int with = 0; with < 2; ++with) {
    auto dir = ScratchDir::Create(sb, "ergon-test-");
    REQUIRE(dir.has_value());
    CompileRequest req;
    req.source = src;
    req.output_dir = dir->path();
    req.precompiled_headers = with == 1;
    auto out = Compile(sb, req);
    REQUIRE(out.has_value());
    REQUIRE_MESSAGE(out->ok, out->diagnostics);
    binary[with] = ReadFile(out->executable);
    RunSpec spec;
    spec.argv = {out->executable};
    spec.work_dir = dir->path();
    spec.limits = Quick(5);
    auto r = sb.Run(spec);
    REQUIRE(r.has_value());
    printed[with] = r->stdout_text;
  }
  CHECK(printed[0] == "123\n");
  CHECK(printed[1] == printed[0]);
  CHECK(binary[1] == binary[0]);  // byte for byte: archived energies replay the same
  // The header was built once, for exactly these headers, and is reused.
  const std::vector<std::string> flags = {"-O2", "-std=c++20", "-pipe"};
  const std::string pch = sb.pch().For(sb, FindCompiler(Language::kCpp).value(), flags,
                                                 {"algorithm", "cstdio", "vector"});
  REQUIRE(!pch.empty());
  CHECK(fs::exists(pch + "/ergon_pch.h.gch"));
  CHECK(ReadFile(fs::path(pch) / "ergon_pch.h").find("#include <map>") == std::string::npos);
  // A source that forgot <vector> fails as it would under plain g++: the
  // header it gets holds only what it included.
  auto dir = ScratchDir::Create(sb, "ergon-test-");
  REQUIRE(dir.has_value());
  CompileRequest bad;
  bad.source = "#include <cstdio>\nint main() { std::vector<int> v; std::printf(\"%zu\", v.size()); }\n";
  bad.output_dir = dir->path();
  auto out = Compile(sb, bad);
  REQUIRE(out.has_value());
  CHECK(!out->ok);
  CHECK(out->diagnostics.find("vector") != std::string::npos);
  // A sandbox made without the option builds none.
  auto plain_dir = ScratchDir::Create(TestSandbox(), "ergon-test-");
  REQUIRE(plain_dir.has_value());
  CompileRequest plain;
  plain.source = src;
  plain.output_dir = plain_dir->path();
  auto plain_out = Compile(TestSandbox(), plain);
  REQUIRE(plain_out.has_value());
  CHECK(plain_out->ok);
  CHECK(ReadFile(plain_out->executable) == binary[0]);
}

TEST_CASE("fallback levels are named honestly and still enforce the watchdog") {
  SandboxOptions o;
  o.force_level = IsolationLevel::kRlimitsOnly;
  auto sb = Sandbox::Create(o);
  REQUIRE(sb.has_value());
  CHECK(sb->DescribeIsolation().find("NO network") != std::string::npos);
  auto b = Build("sleeper.cpp");
  std::string token = Token();
  RunSpec spec;
  spec.argv = {b.exe, token};
  spec.work_dir = b.dir.path();
  spec.limits = Quick(0.5);
  auto r = sb->Run(spec);
  REQUIRE(r.has_value());
  CHECK(r->outcome == Outcome::kTimeout);
  CHECK(r->isolation.find("NO network") != std::string::npos);
  CHECK(Survivors(token) == 0);

  if (geteuid() == 0) {
    SandboxOptions u;
    u.force_level = IsolationLevel::kUnshare;
    auto us = Sandbox::Create(u);
    REQUIRE_MESSAGE(us.has_value(), (us ? "" : us.error()));
    auto c = Build("setsid_child.cpp");
    std::string t2 = Token();
    spec.argv = {c.exe, t2};
    spec.work_dir = c.dir.path();
    spec.limits = Quick(5);
    auto r2 = us->Run(spec);
    REQUIRE(r2.has_value());
    CHECK(r2->outcome == Outcome::kOk);
    CHECK(Survivors(t2) == 0);  // the pid namespace took the orphan down
  }
}

TEST_CASE("gallery: CPU work hidden in an orphaned child is counted - and the child dies") {
  auto b = Build("fork_worker.cpp");
  std::string token = Token();
  RunResult r = RunIt(b, token, Quick(5));
  CHECK(r.outcome == Outcome::kOk);
  CHECK(r.user_s + r.sys_s >= 0.4);  // the child's ~0.6 s, not the parent's ~0
  CHECK(Survivors(token) == 0);
}

TEST_CASE("a command that does not exist is an exit code with the reason") {
  auto dir = ScratchDir::Create(TestSandbox(), "ergon-test-");
  REQUIRE(dir.has_value());
  RunSpec spec;
  spec.argv = {"/nonexistent/program"};
  spec.work_dir = dir->path();
  auto r = TestSandbox().Run(spec);
  REQUIRE(r.has_value());
  CHECK(r->outcome == Outcome::kExitCode);
  CHECK(r->exit_code == 127);
  CHECK(r->stderr_text.find("/nonexistent/program") != std::string::npos);
}

TEST_CASE("Cancel cuts off a run in progress at once, refuses later runs, and reaches copies of the sandbox") {
  auto made = Sandbox::Create();
  REQUIRE(made.has_value());
  const Sandbox box = *made;
  const Sandbox copy = box;  // what a task holds: the same sandbox
  auto b = Build("sleeper.cpp");
  const std::string token = Token();
  RunSpec spec;
  spec.argv = {b.exe, token};
  spec.work_dir = b.dir.path();
  spec.limits = Quick(30);
  std::optional<RunResult> got;
  std::thread runner([&] {
    auto r = copy.Run(spec);
    REQUIRE(r.has_value());
    got = *r;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto t0 = std::chrono::steady_clock::now();
  box.Cancel();
  runner.join();
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE(got.has_value());
  CHECK(got->outcome == Outcome::kCancelled);
  CHECK(took < 1.0);
  CHECK(got->Describe().find("cut off") != std::string::npos);
  CHECK(Survivors(token) == 0);
  auto later = box.Run(spec);
  REQUIRE(later.has_value());
  CHECK(later->outcome == Outcome::kCancelled);
  CHECK(later->wall_s == 0);
  // Other sandboxes are untouched.
  CHECK(!TestSandbox().cancelled());
}

TEST_CASE("concurrent runs do not share a process cap: a fork bomb in one leaves another able to start") {
  if (!TestSandbox().drops_privileges()) {
    MESSAGE("SKIPPED (visible): not root, so every run has the user's own uid and cap");
    return;
  }
  auto bomb = Build("fork_bomb.cpp");
  auto echo = Build("echo.cpp");
  const std::string token = Token();
  std::optional<RunResult> bombed;
  std::thread t([&] { bombed = RunIt(bomb, token, Quick(3.0)); });
  // Let the bomb fill its cap (32 processes), then start a small program.
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  RunResult r = RunIt(echo, Token(), Quick(5.0), {}, std::string("hello\n"));
  t.join();
  CHECK(r.outcome == Outcome::kOk);
  REQUIRE(bombed.has_value());
  CHECK(bombed->outcome != Outcome::kOk);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(Survivors(token) == 0);
}

namespace {

// Runs the gallery's echo program, built at `exe`, in `work`: it must say back
// what it is told.
void CheckEchoes(const std::string& exe, const std::string& work, std::vector<std::string> read_only) {
  RunSpec spec;
  spec.argv = {exe};
  spec.work_dir = work;
  spec.read_only_paths = std::move(read_only);
  spec.stdin_data = "ok\n";
  spec.limits = Quick(5.0);
  auto r = TestSandbox().Run(spec);
  REQUIRE(r.has_value());
  INFO(r->Describe(), "\n", r->stderr_text);
  CHECK(r->outcome == Outcome::kOk);
  CHECK(r->stdout_text == "ok\n");
}

}  // namespace

TEST_CASE("a program built under one pool uid runs under another (its build folder is opened for reading)") {
  if (!TestSandbox().drops_privileges()) {
    MESSAGE("SKIPPED (visible): not root, so every run has the user's own uid");
    return;
  }
  // Hold the first uid while compiling, so the compiler runs under a pool uid.
  auto sleeper = Build("sleeper.cpp");
  std::thread hold([&] { RunIt(sleeper, Token(), Quick(2.0)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto echo = Build("echo.cpp");
  hold.join();
  // Now the first uid is free again: the program runs under it, from a
  // read-only build folder owned by the compiler's uid.
  auto work = ScratchDir::Create(TestSandbox(), "ergon-test-");
  REQUIRE(work.has_value());
  CheckEchoes(echo.exe, work->path(), {echo.dir.path()});
}

TEST_CASE("a program built under a pool uid runs in the same folder under the first uid") {
  // What every generator and learner does: compile into a folder, run there.
  // The compile handed the folder to a pool uid; the run must take it back
  // (it did not when its uid was the first one: bwrap could not chdir).
  if (!TestSandbox().drops_privileges()) {
    MESSAGE("SKIPPED (visible): not root, so every run has the user's own uid");
    return;
  }
  auto work = ScratchDir::Create(TestSandbox(), "ergon-test-");
  REQUIRE(work.has_value());
  auto sleeper = Build("sleeper.cpp");
  std::thread hold([&] { RunIt(sleeper, Token(), Quick(2.0)); });  // holds the first uid
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CompileRequest c;
  c.source = ReadFile(fs::path(ERGON_GALLERY_DIR) / "echo.cpp");
  c.output_dir = work->path();
  auto built = Compile(TestSandbox(), c);
  hold.join();
  REQUIRE(built.has_value());
  REQUIRE(built->ok);
  CheckEchoes(built->executable, work->path(), {});
}

namespace {

// Answers each line the command writes with the count of lines so far, and
// keeps what it was told.
class CountingPeer : public StdioPeer {
 public:
  explicit CountingPeer(int rounds) : rounds_(rounds) {}
  std::string Opening() override { return std::to_string(rounds_) + "\n"; }
  std::string Answer(std::string_view bytes) override {
    std::string out;
    for (char c : bytes) {
      heard_ += c;
      if (c == '\n' && answered_ < rounds_) out += std::to_string(++answered_) + "\n";
    }
    return out;
  }
  bool Finished() const override { return answered_ >= rounds_; }
  std::string heard_;
  int answered_ = 0;

 private:
  int rounds_;
};

RunResult RunWithPeer(const std::string& script, StdioPeer& peer, Limits limits) {
  auto dir = ScratchDir::Create(TestSandbox(), "ergon-test-");
  REQUIRE(dir.has_value());
  RunSpec spec;
  spec.argv = {"/bin/sh", "-c", script};
  spec.work_dir = dir->path();
  spec.limits = limits;
  spec.peer = &peer;
  auto r = TestSandbox().Run(spec);
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error()));
  INFO(r->Describe());
  return *r;
}

}  // namespace

TEST_CASE("a peer answers the command on stdin - turn by turn - then closes it") {
  CountingPeer peer(3);
  RunResult r = RunWithPeer(
      "read n; i=0; while [ $i -lt $n ]; do echo \"q$i\"; read a; echo \"a$a\" >&2; i=$((i+1)); done; "
      "if read z; then echo \"more:$z\" >&2; else echo EOF >&2; fi",
      peer, Quick(10));
  CHECK(r.outcome == Outcome::kOk);
  CHECK(peer.heard_ == "q0\nq1\nq2\n");
  CHECK(r.stderr_text == "a1\na2\na3\nEOF\n");
  CHECK(r.stdout_text.empty());  // stdout went to the peer
}

TEST_CASE("a peer's command that reads ahead waits - and is cut off at the time limit") {
  CountingPeer peer(3);
  // Two reads before its first line: the second answer never comes.
  RunResult r = RunWithPeer("read n; read a; echo never", peer, Quick(1.5));
  CHECK(r.outcome == Outcome::kTimeout);
  CHECK(peer.heard_.empty());
  CHECK(peer.answered_ == 0);
}

TEST_CASE("a peer's command that floods stdout hits the output cap") {
  CountingPeer peer(1000000000);
  Limits l = Quick(20);
  l.stdout_cap = 1 << 20;
  const auto t0 = std::chrono::steady_clock::now();
  RunResult r = RunWithPeer("while :; do echo flood; done", peer, l);
  CHECK(r.outcome == Outcome::kOutputLimit);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(15));
}

TEST_CASE("a peer's command that closes stdin early leaves ergon standing (no SIGPIPE)") {
  CountingPeer peer(100000);
  // Answers pile up unread after stdin is closed.
  RunResult r = RunWithPeer("exec 0<&-; i=0; while [ $i -lt 2000 ]; do echo x; i=$((i+1)); done", peer, Quick(10));
  CHECK(r.outcome == Outcome::kOk);
  CHECK(peer.answered_ == 2000);
}

TEST_CASE("sandboxes made while other threads start processes: never 'Text file busy'") {
  // Each Sandbox copies its shim; a process forked elsewhere while the copy
  // is open for writing holds it open until it execs, and exec of the copy
  // then fails with ETXTBSY. Making sandboxes while another thread spawns
  // processes must still always work.
  std::atomic<bool> done{false};
  auto spawn = [&] {
    while (!done) {
      pid_t pid = ::fork();
      if (pid == 0) {
        ::usleep(2000);  // a child sets up (limits, namespaces) before it execs
        ::execl("/bin/true", "true", nullptr);
        ::_exit(127);
      }
      int st = 0;
      ::waitpid(pid, &st, 0);
    }
  };
  std::vector<std::thread> spawners;
  for (int i = 0; i < 4; ++i) spawners.emplace_back(spawn);
  int failures = 0;
  std::string last_error;
  for (int i = 0; i < 40; ++i) {
    auto sb = Sandbox::Create();
    if (!sb) {
      ++failures;
      last_error = sb.error();
    }
  }
  done = true;
  for (auto& t : spawners) t.join();
  CHECK_MESSAGE(failures == 0, last_error);
}
