#include "base/digest.h"
#include "evaluators/dally_boards/harness/task.h"

#include <array>
#include <chrono>
#include <cmath>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "evaluators/dally/board.h"
#include "evaluators/dally/board_search.h"
#include "evaluators/dally/isa.h"
#include "evaluators/dally/optimize.h"
#include "evaluators/versions.h"
#include "genome/genome.h"

namespace ergon::evaluators {
namespace {

using json = nlohmann::json;

// The order's lower bound is a flow over every lifetime: 0.64 s for the
// 16x16 record's 10,058 ops on these machines, against 0.7 ms for the check
// itself. It is worth that for an agent's prompt; past this many ops it is
// not computed for each evaluation (`optimize-ir` still reports it).
constexpr std::size_t kBoundMaxOps = 20000;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

class DallyBoardTask : public Task {
 public:
  DallyBoardTask(TaskSpec spec, dally::Board board) : Task(std::move(spec)), board_(board) {}

  std::string Version() const override { return fmt::format("{} {}", kDallyBoardVersion, board_.Name()); }

  // The dally meter; a checked board has no suite, so dev and fresh are the
  // same check (the loop's fresh re-check of a new best is then a repeat).
  std::string CheckRequest(const TaskEvalRequest& q) const override {
    if (!q.meter.empty() && q.meter != "dally")
      return fmt::format("task {} is measured by the dally meter only (got --meter {})", spec().name, q.meter);
    if (q.suite != "dev" && q.suite != "fresh")
      return fmt::format("task {} is checked, not sampled: its suites are dev and fresh, the same check (got '{}')",
                         spec().name, q.suite);
    return {};
  }

  Measurement Evaluate(const sandbox::Sandbox& /*sandbox*/, const TaskEvalRequest& q) const override {
    const auto t0 = std::chrono::steady_clock::now();
    Measurement m;
    m.evaluator_version = Version();
    m.meter = "dally";
    m.device = DeviceFor("dally");
    m.suite = q.suite;
    dally::IrCostProfile profile;
    auto program = dally::CompileIr(q.source, LineCap(), &profile);
    if (!program) return Refused(m, "ir", program.error().Describe());
    auto checked = dally::CheckBoard(board_, *program);
    if (!checked) return Refused(m, "check", checked.error().Describe());
    const double check_s = Seconds(t0);
    m.ran = true;
    m.metrics = {{"cost", static_cast<double>(checked->cost)}, {"exact", 1.0},
                 {"lines", static_cast<double>(checked->lines)}};
    json profile_json = json::parse(profile.Json(8));
    std::uint64_t bound = 0;
    if (program->ops.size() <= kBoundMaxOps) {
      bound = OrderBound(*program);
      profile_json["lower_bound"] = bound;
      m.metrics["lower_bound"] = static_cast<double>(bound);
    }
    m.components = json{{"lines", checked->lines}, {"ops", program->ops.size()}, {"patterns", checked->patterns},
                        {"ir_profile", profile_json}}
                       .dump();
    m.cell = fmt::format("ops:2^{}", static_cast<int>(std::log2(static_cast<double>(program->ops.size() + 1))));
    m.text = fmt::format("cost {}  correct ({})  lines {}{}  checked in {:.1f} ms", dally::WithCommas(checked->cost),
                         What(*checked), checked->lines,
                         bound ? fmt::format("  order's lower bound {}", dally::WithCommas(bound)) : "", check_s * 1e3);
    m.json = json{{"task", spec().name}, {"board", board_.Name()}, {"cost", checked->cost}, {"correct", true},
                  {"lines", checked->lines}, {"ops", program->ops.size()}, {"patterns", checked->patterns},
                  {"lower_bound", bound}, {"check_s", check_s}}
                 .dump();
    Judge(m);
    return m;
  }

  std::string AgentFacts(const std::string& /*meter*/) const override {
    const dally::InstructionSet isa = board_.Isa();
    std::string f = fmt::format(
        "The candidate is the IR program itself, read and checked by trusted code (no compiler, nothing runs). "
        "Board: {}. Instruction set {}: {}. Line 1 lists the input addresses, comma-separated; the last line lists "
        "the output addresses; each line between is one op, `op dest, src, src` (the short form `op d, s` means "
        "`op d, d, s`).\n",
        board_.Describe(), dally::InstructionSetName(isa), dally::InstructionSetOps(isa));
    if (board_.kind == dally::Board::Kind::kMatmul)
      f += fmt::format(
          "Inputs: A row-major ({0} values) then B row-major ({0} values), at addresses the program chooses; "
          "outputs: C = A*B row-major. Correct means equal to A*B for all integer inputs (checked as a polynomial "
          "identity, not on sample matrices); a "
          "mul whose operands' degrees sum above 2 is refused.\n",
          board_.n * board_.n);
    else
      f += fmt::format(
          "Inputs: the {0} bits at addresses 1..{0} (fixed); one output, 1 if the pattern is a palindrome, else 0. "
          "Correct means right on all {1} patterns (values wrap at 8 bits).\n",
          board_.n, 1u << board_.n);
    f += "Cost (dally): every operand read of address a costs ceil(sqrt(a)); each output is read once more at the end; "
         "writes and arithmetic are free. So keep the most-read values at the lowest addresses while they live, "
         "reuse dead addresses, and read each value as few times as possible. A layout cannot beat the order's "
         "lower bound: past it, change the order of the ops or the algorithm.\n";
    return f;
  }

  std::string TransformIdea() const override { return "in-process step: flow layout and annealing"; }
  SourceTransform MakeTransform(const sandbox::Sandbox* /*sandbox*/) const override {
    const dally::Board board = board_;
    const std::size_t cap = LineCap();
    dally::BoardStepOptions o;
    o.moves = static_cast<std::uint64_t>(Param("search_moves", 5000));
    o.placed_moves = static_cast<std::uint64_t>(Param("search_placed_moves", static_cast<double>(o.placed_moves)));
    o.temp_first = Param("search_temp_first", o.temp_first);
    o.temp_last = Param("search_temp_last", o.temp_last);
    o.sideways = true;  // the archive keeps a population: a dearer neighbour is a place to search from
    return [board, cap, o](const std::string& source, std::uint64_t seed) -> tl::expected<std::string, std::string> {
      auto program = dally::CompileIr(source, cap);
      if (!program) return tl::unexpected(program.error().Describe());
      if (auto ok = dally::CheckBoard(board, *program); !ok)
        return tl::unexpected("the parent is not a correct program: " + ok.error().Describe());
      dally::BoardStepOptions step_options = o;
      step_options.seed = seed;
      auto step = dally::ImproveBoardProgram(board, *program, step_options);
      if (!step) return tl::unexpected(step.error());
      return step->text;
    };
  }

  std::map<std::string, std::string> ExportFiles(const std::string& source, const std::string& /*language*/) const override {
    return {{"program.ir", source},
            {"RUN.txt", fmt::format("The candidate is the IR program. Check and score it as ergon does:\n"
                                    "ergon score program.ir --tier {}\n",
                                    board_.Name())}};
  }

  bool HasSubmissionKit() const override { return true; }
  tl::expected<std::map<std::string, std::string>, std::string> SubmissionFiles(
      const sandbox::Sandbox& /*sandbox*/, const std::string& source, const SubmissionAbout& about) const override {
    auto program = dally::CompileIr(source, LineCap());
    if (!program) return tl::unexpected("invalid IR: " + program.error().Describe());
    auto checked = dally::CheckBoard(board_, *program);
    if (!checked) return tl::unexpected("not a correct program: " + checked.error().Describe());
    const std::uint64_t bound = OrderBound(*program);
    std::array<std::size_t, 13> ops{};
    for (const auto& op : program->ops) ++ops[static_cast<std::size_t>(op.code)];
    const std::string sha = base::Sha256Hex(source);
    std::string r = fmt::format("# {}: {}\n\n", board_.Describe(), about.title);
    r += "**Found by:** ergon (an automated search; see the lineage below)  \n";
    r += fmt::format("**Date:** {}  \n**Cost:** {}  \n", about.date, dally::WithCommas(checked->cost));
    r += fmt::format("**IR lines:** {} ({} operations)  \n**IR:** [`program.ir`](program.ir)\n\n",
                     dally::WithCommas(checked->lines), dally::WithCommas(program->ops.size()));
    r += "## Result\n\n";
    r += fmt::format("Correct: {}, checked by ergon's {} checker (instruction set {}). Static read cost **{}**.\n",
                     What(*checked), board_.Name(), dally::InstructionSetName(board_.Isa()),
                     dally::WithCommas(checked->cost));
    if (bound)
      r += fmt::format("No address layout of this program's instruction order costs less than {} (a min-cost-flow "
                       "bound).\n",
                       dally::WithCommas(bound));
    r += "\n## Opcode counts\n\n| opcode | count |\n|---|---:|\n";
    for (std::size_t i = 0; i < ops.size(); ++i)
      if (ops[i]) r += fmt::format("| `{}` | {} |\n", dally::OpName(static_cast<dally::OpCode>(i)), ops[i]);
    r += "\n## Method\n\n" + (about.method.empty() ? std::string("(no intent recorded)") : about.method) + "\n\n";
    r += "## Lineage (newest first)\n\n";
    for (const auto& l : about.lineage) r += "- " + l + "\n";
    r += fmt::format("\n## Reproduce\n\n```sh\nsha256sum program.ir   # {}\nergon score program.ir --tier {}\n```\n\n",
                     sha, board_.Name());
    r += fmt::format("SHA-256 of the IR (as submitted, every byte): `{}`.\n", sha);
    return std::map<std::string, std::string>{{"program.ir", source}, {"REPORT.md", r}};
  }

 private:
  double Param(const char* name, double fallback) const {
    auto it = spec().params.find(name);
    return it == spec().params.end() ? fallback : it->second;
  }
  // No layout of the program's instruction order costs less (the
  // optimiser's flow bound; its rewritten program is not wanted here).
  std::uint64_t OrderBound(const dally::IrProgram& program) const {
    dally::OptimizeStats st;
    dally::OptimizeOptions layout;
    layout.fixed_inputs = board_.FixedInputs();
    dally::OptimizeIr(program, &st, layout);
    return st.lower_bound;
  }
  std::size_t LineCap() const { return static_cast<std::size_t>(Param("line_cap", 1000000)); }

  // How the check covered every input (dally/matmul.h says why a random
  // point suffices), or "all 64 patterns".
  static std::string What(const dally::BoardScore& s) {
    return s.patterns ? fmt::format("all {} patterns", s.patterns)
                      : "for all integer inputs: the polynomial identity, at a secret random point mod a 62-bit prime";
  }

  Measurement Refused(Measurement m, const char* stage, std::string why) const {
    m.ran = false;
    m.stage = stage;
    m.error = std::move(why);
    m.feedback = m.error;
    m.text = m.error;
    m.json = json{{"task", spec().name}, {"board", board_.Name()}, {"correct", false}, {"stage", stage},
                  {"error", m.error}}
                 .dump();
    Judge(m);
    return m;
  }

  dally::Board board_;
};

}  // namespace

std::unique_ptr<Task> MakeDallyBoardTask(const TaskSpec& spec) {
  if (spec.language != "ir") return nullptr;
  auto board = dally::ParseBoard(spec.dally_board);
  if (!board) return nullptr;
  return std::make_unique<DallyBoardTask>(spec, *board);
}

}  // namespace ergon::evaluators
