// The `cli` agent: a coding-agent command line (e.g. `claude -p`,
// `codex exec`) run in a scratch workspace holding the candidate and the task
// description, with the prompt on stdin, under a time limit. The edited
// candidate file is the proposal. The command is the user's own trusted tool:
// it keeps the user's environment and network (it has to reach its model),
// runs in its own process group with a watchdog, and sees only the scratch
// folder as its working directory.
#include <atomic>
#include <chrono>
#include <thread>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "engine/agents/reply.h"

#include <fmt/core.h>

#include "engine/agents/agent.h"
#include "sandbox/sandbox.h"

namespace ergon::engine {
namespace {

class CliAgent : public Agent {
 public:
  CliAgent(std::string command, double timeout_s) : command_(std::move(command)), timeout_s_(timeout_s) {}
  std::string name() const override { return "cli"; }
  std::string model() const override { return command_.substr(0, command_.find(' ')); }

  tl::expected<AgentReply, AgentError> Propose(const AgentRequest& q) override {
    if (!q.parent) return tl::unexpected(AgentError{"cli agent: no parent"});
    sandbox::SandboxOptions so;
    so.force_level = sandbox::IsolationLevel::kRlimitsOnly;  // it needs the network
    so.uid = ::getuid();
    so.gid = ::getgid();
    so.uid_pool = 1;  // the user's own tool, as the user
    auto sb = sandbox::Sandbox::Create(so);
    if (!sb) return tl::unexpected(AgentError{"cli agent: " + sb.error(), true});
    auto dir = sandbox::ScratchDir::Create(*sb, "ergon-cli-agent-");
    if (!dir) return tl::unexpected(AgentError{"cli agent: " + dir.error()});
    const std::string file = dir->path() + "/candidate.cpp";
    std::string prompt;
    for (const auto& m : q.conversation) prompt += (m.role == "system" ? "" : "\n\n") + m.content;
    prompt += "\n\nEdit the file candidate.cpp in the current directory in place; it holds the current program. "
              "TASK.md describes the task.\n";
    {
      std::ofstream(file) << q.parent->source();
      std::ofstream(dir->path() + "/TASK.md") << (q.conversation.empty() ? "" : q.conversation.front().content);
    }
    sandbox::RunSpec spec;
    spec.argv = {"/bin/sh", "-c", command_};
    spec.work_dir = dir->path();
    spec.stdin_data = prompt;
    spec.inherit_environment = true;
    spec.limits.wall_s = timeout_s_;
    spec.limits.cpu_s = timeout_s_;
    spec.limits.address_space = 0;
    spec.limits.processes = 0;
    spec.limits.stdout_cap = 1 << 20;
    const auto t0 = std::chrono::steady_clock::now();
    // The run being cut off ends the command too.
    std::atomic<bool> finished{false};
    std::thread watch([&] {
      while (!finished.load()) {
        if (q.cancel && q.cancel->load()) {
          sb->Cancel();
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
    auto ran = sb->Run(spec);
    finished.store(true);
    watch.join();
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!ran) return tl::unexpected(AgentError{"cli agent: " + ran.error()});
    if (!ran->ok()) {
      AgentError e{fmt::format("cli agent `{}`: {}", command_, ran->Describe())};
      e.latency_s = took;
      return tl::unexpected(e);
    }
    std::ifstream f(file);
    std::stringstream edited;
    edited << f.rdbuf();
    AgentReply r;
    r.model = model();
    r.latency_s = took;
    r.usage_reported = false;  // a CLI does not report tokens to us
    auto said = ReadIdea(ran->stdout_text);
    r.idea = said.idea;
    r.intent = said.intent;
    r.text = r.intent + "\n```cpp\n" + edited.str() + (edited.str().empty() || edited.str().back() == '\n' ? "" : "\n") + "```\n";
    return r;
  }

 private:
  std::string command_;
  double timeout_s_;
};

}  // namespace

std::unique_ptr<Agent> MakeCliAgent(const std::string& command, double timeout_s) {
  return std::make_unique<CliAgent>(command, timeout_s);
}

}  // namespace ergon::engine
