// A proposer thread: the loop reads as its four steps.
#include <algorithm>
#include <thread>

#include <fmt/core.h>

#include "engine/evaluate.h"
#include "engine/meta_summary.h"
#include "engine/prompt_parts.h"
#include "engine/search_loop.h"
#include "genome/diff.h"
#include "genome/edit.h"

namespace ergon::engine::search {
namespace {
// Calls in a row that reach no usable answer (each already retried with
// backoff) before the run stops, or with --fallback-offline backs off.
constexpr int kAgentErrorsToStop = 5;
}  // namespace

void Search::Proposer(int index) {
  std::uint64_t local_seed;
  {
    base::MutexLock l(&s_.mu);
    local_seed = s_.rng() ^ static_cast<std::uint64_t>(index);
  }
  std::mt19937_64 rng(local_seed);
  // This proposer's own read connection: parents, inspirations and prompts
  // are read without holding anything another thread waits on.
  auto reader = archive::Archive::OpenReadOnly(o_.db);
  if (!reader) {
    base::MutexLock l(&s_.mu);
    if (!s_.fatal) s_.stop_reason = "a proposer could not read the archive: " + reader.error();
    s_.fatal = true;
    s_.cv.SignalAll();
    return;
  }
  archive::Archive& db = **reader;
  for (;;) {
    const auto engine0 = Clock::now();
    double agent_time = 0;  // inside this stretch, not engine work

    // 1. Sample a parent, inspirations and recent failures.
    Pick pick;
    const Sampled sampled = SampleParent(db, rng, pick);
    if (sampled == Sampled::kDone) return;
    if (sampled == Sampled::kWait) {
      // The budget is full of attempts in flight: wait for one to land.
      base::MutexLock l(&s_.mu);
      s_.cv.WaitFor(std::chrono::seconds(1));
      continue;
    }
    // The attempt holds a place against the candidate budget until an
    // evaluation slot takes it over or it fails.
    struct InFlight {
      Shared& s;
      bool handed_off = false;
      ~InFlight() {
        if (handed_off) return;
        base::MutexLock l(&s.mu);
        --s.in_flight;
        s.cv.SignalAll();
      }
    } in_flight{s_};
    auto parent = genome::Genome::Parse(pick.parent.candidate.source);
    if (!parent) {
      base::MutexLock l(&s_.mu);
      RecordFailure(pick.parent_id, "parent", parent.error(), "", nullptr);
      continue;
    }
    // Recombination needs knobs; megabyte generated sources have none (and
    // were not even read: see kBigSource).
    std::vector<genome::Genome> inspirations;
    for (const auto& r : pick.inspirations)
      if (!r.candidate.source.empty())
        if (auto g = genome::Genome::Parse(r.candidate.source)) inspirations.push_back(*g);

    // 2. Render the prompt.
    auto conversation = RenderPrompt(db, pick, !parent->knobs().empty());
    if (!conversation) {
      base::MutexLock l(&s_.mu);
      s_.fatal = true;
      s_.stop_reason = conversation.error();
      s_.cv.SignalAll();
      return;
    }

    // 3. Propose and apply; edit failures and copies of archived candidates
    // go back to the agent a few times.
    auto proposed = ProposeChild(db, pick, *parent, inspirations, std::move(*conversation), rng, agent_time);
    if (!proposed) {
      BackOffIfFailing(pick.use_offline);
      continue;
    }
    proposed->reintroduced = Reintroduced(db, pick, proposed->child.source());

    // 4. Hand the child to an evaluation slot.
    {
      base::MutexLock l(&s_.mu);
      s_.engine_s += std::chrono::duration<double>(Clock::now() - engine0).count() - agent_time;
    }
    if (!Enqueue(pick, std::move(*proposed))) return;
    in_flight.handed_off = true;
  }
}

Search::Sampled Search::SampleParent(archive::Archive& db, std::mt19937_64& rng, Pick& pick) {
  {
    // The place against the budget, the island and the agent are claimed
    // under the lock; the archive is read after it, on this proposer's own
    // connection.
    base::MutexLock l(&s_.mu);
    if (!BudgetLeft()) return Sampled::kDone;
    // Hard candidate budget: attempts in flight count against it until they
    // land (or fail, freeing their place).
    if (s_.start.candidates + s_.new_candidates + s_.in_flight >= o_.max_candidates) return Sampled::kWait;
    pick.island = s_.next_island++ % std::max(o_.islands, 1);
    if (s_.offline_fallback > 0) {
      --s_.offline_fallback;
      pick.use_offline = true;
    }
    pick.agent = ChooseAgent();
    ++s_.in_flight;
  }
  switch (o_.strategy) {
    case Strategy::kIndependent:
      pick.parent_id = baseline_id_;
      break;
    case Strategy::kHillclimb:
      pick.parent_id = BestSoFar(db);
      break;
    case Strategy::kEvolve:
      // An island with nothing in it yet starts from the best so far, and its
      // child lands in this island.
      if (auto p = db.SampleParent(o_.task, pick.island, rng, scope_); p && *p) pick.parent_id = **p;
      else pick.parent_id = BestSoFar(db);
      break;
  }
  auto row = db.Get(pick.parent_id);
  if (!row || !*row) {
    base::MutexLock l(&s_.mu);
    --s_.in_flight;
    s_.cv.SignalAll();
    return Sampled::kDone;
  }
  pick.parent = std::move(**row);
  // Only evolve shows other candidates; independent shows nothing of the
  // archive, not even the failures of the baseline's other children.
  if (o_.strategy == Strategy::kEvolve)
    if (auto ins = db.SampleInspirations(o_.task, pick.parent_id, 3, rng, scope_))
      for (auto id : *ins)
        if (auto r = db.Get(id, kBigSource); r && *r) pick.inspirations.push_back(std::move(**r));
  if (o_.strategy != Strategy::kIndependent)
    if (auto f = db.RecentFailures(pick.parent_id, 3, scope_)) pick.failures = *f;
  // Children of a migrant land in this island: make sure it is a member
  // (before the child lands: the recorder writes in the order given).
  if (pick.parent.candidate.island != pick.island)
    recorder_->Post([id = pick.parent_id, island = pick.island](archive::Archive& a) {
      if (auto shared = a.Share(id, island); !shared)
        fmt::print(stderr, "\nergon run: note: candidate {} was not shared into island {}: {}\n", id, island,
                   shared.error());
    });
  return Sampled::kGot;
}

Reintroduction Search::Reintroduced(archive::Archive& db, const Pick& pick, const std::string& child) {
  const std::string& metric = task_->spec().minimise;
  std::vector<LineageStep> steps;
  archive::Row cur = pick.parent;
  while (steps.size() < 8 && cur.candidate.parent && !cur.candidate.source.empty()) {
    std::optional<archive::Row> up;
    if (auto r = db.Get(*cur.candidate.parent, kBigSource); r && *r) up = std::move(**r);
    if (!up || up->candidate.source.empty()) break;
    LineageStep step;
    step.id = cur.candidate.id;
    step.after = cur.candidate.source;
    step.before = up->candidate.source;
    if (cur.best) step.metric = cur.best->metrics.Get(metric);
    steps.push_back(std::move(step));
    cur = std::move(*up);
  }
  return CountReintroduced(pick.parent.candidate.source, child, steps);
}

std::int64_t Search::BestSoFar(archive::Archive& db) const {
  if (auto top = db.Top(o_.task, "fitness", 1, false, scope_); top && !top->empty())
    return top->front().candidate.id;
  return baseline_id_;
}

tl::expected<std::vector<Message>, std::string> Search::RenderPrompt(archive::Archive& db, const Pick& pick,
                                                                     bool has_knobs) {
  const evaluators::TaskSpec& spec = task_->spec();
  PromptInput in;
  in.spec = &spec;
  in.task_facts = task_facts_;
  if (has_knobs)
    in.knob_rule = "Lines commented `// KNOB name value range lo hi` declare a tunable number whose value is the "
                   "literal in the code: change the literal freely, and ergon updates the comment to match.";
  in.parent = pick.parent;
  in.failures = pick.failures;
  if (baseline_ && baseline_->best)
    if (auto v = baseline_->best->metrics.Get(spec.minimise)) in.baseline = Landmark{baseline_->candidate.id, *v};
  if (pick.parent.candidate.reintroduced > 0)
    if (auto ev = db.CandidateEvents(pick.parent.candidate.id, "reintroduced"); ev && !ev->empty())
      in.parent_note = "Note: " + ev->back().message;
  if (o_.strategy != Strategy::kIndependent) {
    in.meta = MetaDigest(db);
    if (auto top = db.Top(o_.task, spec.minimise, 1, false, scope_); top && !top->empty() && top->front().best)
      if (auto v = top->front().best->metrics.Get(spec.minimise)) in.best = Landmark{top->front().candidate.id, *v};
  }
  for (const auto& r : pick.inspirations) {
    PromptInput::Inspiration i;
    i.child = r;
    if (r.candidate.parent)
      if (auto pr = db.Get(*r.candidate.parent, kBigSource); pr && *pr) i.parent = **pr;
    i.too_big = r.candidate.source_bytes > kBigSource || (i.parent && i.parent->candidate.source_bytes > kBigSource);
    in.inspirations.push_back(std::move(i));
  }
  const auto vars = PromptVars(in);
  auto system = Prompt("system.txt", vars);
  if (!system) return tl::unexpected(system.error());
  auto user = Prompt("mutate.txt", vars);
  if (!user) return tl::unexpected(user.error());
  return std::vector<Message>{{"system", *system}, {"user", *user}};
}

std::optional<Proposed> Search::ProposeChild(archive::Archive& db, const Pick& pick, const genome::Genome& parent,
                                             const std::vector<genome::Genome>& inspirations,
                                             std::vector<Message> conversation, std::mt19937_64& rng,
                                             double& agent_time) {
  AgentRequest req;
  req.task = o_.task;
  req.parent = &parent;
  for (const auto& g : inspirations) req.inspirations.push_back(&g);
  req.conversation = std::move(conversation);
  req.seed = rng();
  Agent& agent = pick.use_offline ? *offline_ : *agents_[pick.agent];
  genome::EditPolicy policy;
  policy.allow_whole_file = task_->spec().whole_file;
  req.cancel = &cancel_;
  bool bandit_on = false;
  {
    base::MutexLock l(&s_.mu);
    bandit_on = bandit_ && !pick.use_offline;
  }
  for (int turn = 0; turn <= o_.repair_turns; ++turn) {
    // The call is in the ledger before it is made: a kill during it leaves
    // it there as lost.
    const std::int64_t call_id = recorder_->Call([&](archive::Archive& a) {
      auto id = a.BeginCall(s_.run_id, LedgerName(agent));
      if (!id) fmt::print(stderr, "\nergon run: note: the agent call was not entered in the ledger: {}\n", id.error());
      return id ? *id : std::int64_t{0};
    }).get();
    if (bandit_on) {
      base::MutexLock l(&s_.mu);
      bandit_->AddCall(pick.agent);
    }
    const auto a0 = Clock::now();
    auto reply = agent.Propose(req);
    const double took = std::chrono::duration<double>(Clock::now() - a0).count();
    agent_time += took;
    archive::LedgerEntry led = reply ? Ledger(agent, &*reply, nullptr) : Ledger(agent, nullptr, &reply.error());
    led.id = call_id;
    {
      base::MutexLock l(&s_.mu);
      s_.agent_s += took;
      ++s_.calls;
      s_.tokens += led.tokens_in + led.tokens_out;
      s_.cost += led.cost_usd;
      if (bandit_ && !pick.use_offline) bandit_->AddCost(pick.agent, led.cost_usd);
      if (!reply) {
        if (CuttingOff()) {  // the stop cut the call off: not the agent's failure
          RecordFailure(pick.parent_id, "cut_off", reply.error().message, "", &led);
          return std::nullopt;
        }
        RecordFailure(pick.parent_id, "agent", reply.error().message, "", &led);
        s_.recent.push_back(false);
        ++s_.agent_errors_in_a_row;
        if (reply.error().fatal || (reply.error().unreachable && !o_.fallback_offline && !pick.use_offline)) {
          s_.fatal = true;
          s_.stop_reason = "agent error: " + reply.error().message;
          s_.cv.SignalAll();
        } else if (s_.agent_errors_in_a_row >= kAgentErrorsToStop && !pick.use_offline && o_.agent != "offline" &&
                   !o_.fallback_offline && !s_.fatal) {
          // An agent that cannot be reached (each call already retried with
          // backoff) is a failed night, not a quiet fallback.
          s_.fatal = true;
          s_.stop_reason = fmt::format("the {} agent failed {} calls in a row (each retried); last: {}", o_.agent,
                                       s_.agent_errors_in_a_row, reply.error().message);
          s_.cv.SignalAll();
        }
        return std::nullopt;
      }
      if (!pick.use_offline) s_.agent_errors_in_a_row = 0;
    }
    // The edit (with its closest-match search) runs outside the lock. A
    // program the agent built whole is taken as it is, not parsed out of text.
    auto applied = reply->program ? genome::ApplyProposal(parent, genome::Proposal{{}, *reply->program}, policy)
                                  : genome::ApplyProposal(parent, reply->text, policy);
    std::string stage, why;
    if (applied) {
      // 3b. A copy of an archived candidate, exact or near, is refused
      // unevaluated, and the agent hears which one it repeats.
      const auto same = ExistingCopy(db, applied->Hash());
      const auto near = !same && novelty_ && applied->source().size() <= kBigSource
                            ? novelty_->NearCopy(applied->source())
                            : std::nullopt;
      if (!same && !near) return Proposed{*applied, *reply, led};
      if (same) {
        stage = "duplicate";
        why = fmt::format("the edited program is the same as candidate {}, already evaluated. Propose a different "
                          "change.", *same);
      } else {
        stage = "novelty";
        why = fmt::format("not novel: the edited program is a near-copy of candidate {} (normalised-token similarity "
                          "{:.4f}, at least the threshold {:g}: {}). Propose a change to what the program computes.",
                          near->id, near->similarity, novelty_->threshold(),
                          near->similarity >= 1 ? "it differs only in comments, spacing or layout"
                                                : "it differs in very few tokens");
      }
    } else {
      stage = std::string("edit/") + genome::EditErrorName(applied.error().kind);
      why = applied.error().message;
    }
    auto repair = Prompt("repair.txt", {{"error", why}});
    {
      base::MutexLock l(&s_.mu);
      RecordFailure(pick.parent_id, stage, why, reply->text, &led);
      s_.recent.push_back(false);
      if (!repair) {  // checked at the start; a template changed under a running night
        s_.fatal = true;
        s_.stop_reason = repair.error();
        s_.cv.SignalAll();
        return std::nullopt;
      }
    }
    req.conversation.push_back({"assistant", reply->text});
    req.conversation.push_back({"user", *repair});
    req.seed = rng();
  }
  return std::nullopt;
}

std::string Search::MetaDigest(archive::Archive& db) {
  {
    // One proposer claims the rebuild; the others use the digest as it is.
    base::MutexLock l(&s_.mu);
    const std::int64_t made = s_.start.candidates + s_.new_candidates;
    if (o_.meta_every <= 0 || made < o_.meta_every || made - s_.meta_built_at < o_.meta_every) return s_.meta;
    s_.meta_built_at = made - made % o_.meta_every;
  }
  auto children = db.RecentOutcomes(o_.task, 50, scope_);
  auto stages = db.RecentFailureStages(o_.task, 50, scope_);
  std::string meta;
  if (children && stages) {
    meta = MetaSummary(*children, *stages, task_->spec().minimise);
    // Kept with the run, so what the prompts said can be read back.
    archive::Attempt note;
    note.events.push_back({s_.run_id, "meta_summary", std::nullopt, meta});
    recorder_->Post([note = std::move(note)](archive::Archive& a) {
      if (auto r = a.Record(note); !r) fmt::print(stderr, "\nergon run: note: the digest was not recorded: {}\n", r.error());
    });
  }
  base::MutexLock l(&s_.mu);
  if (children && stages) s_.meta = std::move(meta);
  return s_.meta;
}

std::size_t Search::ChooseAgent() {
  if (!bandit_) return 0;
  return bandit_->Choose(s_.rng);
}

void Search::BackOffIfFailing(bool used_offline) {
  base::MutexLock l(&s_.mu);
  while (s_.recent.size() > 10) s_.recent.pop_front();
  if (!o_.fallback_offline) return;  // falling back is the user's choice
  const int bad = static_cast<int>(std::count(s_.recent.begin(), s_.recent.end(), false));
  if (s_.recent.size() >= 10 && bad >= 8 && !used_offline && o_.agent != "offline" && s_.offline_fallback == 0) {
    fmt::print(stderr, "\nergon run: {} of the last 10 attempts were invalid; backing off to the offline agent "
               "for the next 5 proposals (--fallback-offline)\n", bad);
    s_.offline_fallback = 5;
    ++fallbacks_;
  }
}

std::optional<std::int64_t> Search::ExistingCopy(archive::Archive& db, const std::string& hash) {
  auto dup = db.FindByHash(o_.task, hash);
  if (!dup || !*dup) return std::nullopt;
  return **dup;
}

bool Search::Enqueue(const Pick& pick, Proposed p) {
  // Proposals are kept slightly ahead of evaluations, not far.
  base::MutexLock l(&s_.mu);
  const std::size_t cap = static_cast<std::size_t>(evaluators_) + 1;
  while (s_.queue.size() >= cap && !s_.fatal && !s_.stop) s_.cv.Wait();
  if (s_.fatal) return false;
  if (s_.stop) {  // proposed (and perhaps paid for) but never evaluated: kept as an attempt
    RecordFailure(pick.parent_id, "cut_off", "the run stopped before this proposal was evaluated", p.reply.text,
                  &p.ledger);
    return false;
  }
  Job job;
  job.parent_id = pick.parent_id;
  job.island = pick.island;
  job.generation = pick.parent.candidate.generation + 1;
  job.source = p.child.source();
  job.hash = p.child.Hash();
  job.reply = std::move(p.reply);
  job.ledger = p.ledger;
  job.parent_gate = pick.parent.best && pick.parent.best->gate_passed;
  job.parent_fitness = pick.parent.best ? pick.parent.best->fitness : 0;
  job.reintroduced = p.reintroduced;
  s_.queue.push_back(std::move(job));
  s_.cv.SignalAll();
  return true;
}

}  // namespace ergon::engine::search
