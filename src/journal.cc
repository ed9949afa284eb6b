#include "leadenrich/journal.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>

#include <fmt/format.h>

#include "leadenrich/clock.h"

namespace leadenrich {
namespace {

// Numbers good leads in input order (bad rows have no index: they are re-read and re-reported
// on a resume) and holds back those the journal already has.
class ResumeSource : public LeadSource {
 public:
  ResumeSource(LeadSource& inner, const std::map<std::size_t, EnrichedLead>& done) : inner_(inner), done_(done) {}
  std::optional<SourceItem> next() override {
    while (std::optional<SourceItem> item = inner_.next()) {
      if (!item->lead.ok()) return item;
      std::size_t index = next_index_++;
      if (done_.count(index) != 0) continue;
      passed_.push_back(index);
      return item;
    }
    return std::nullopt;
  }
  std::string describe() const override { return inner_.describe(); }
  /// The input index of the next lead the engine delivers (it delivers in input order).
  std::size_t pop_index() {
    std::size_t i = passed_.front();
    passed_.pop_front();
    return i;
  }

 private:
  LeadSource& inner_;
  const std::map<std::size_t, EnrichedLead>& done_;
  std::size_t next_index_ = 0;
  std::deque<std::size_t> passed_;
};

}  // namespace

bool unfinished_by_cancel(const EnrichedLead& lead) {
  for (Signal s : kAllSignals) {
    const SignalResult& r = lead.result(s);
    if (r.status == SignalStatus::kFailed && r.reason && r.reason->code == "cancelled") return true;
  }
  return false;
}

std::string describe_leads(const std::vector<RawLead>& leads, const std::vector<Signal>& signals) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a over each lead's JSON, one lead per line
  std::string text;
  for (const RawLead& lead : leads) {
    text.clear();
    to_json(lead).dump_to(text);
    text.push_back('\n');
    for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  }
  std::string names;
  for (Signal s : signals) names += (names.empty() ? "" : ",") + std::string(to_string(s));
  return fmt::format("{} leads given in memory (content {:016x}); signals {}", leads.size(), h, names);
}

Result<Plan> plan_journaled(Enricher& enricher, LeadSource& source, const JournalOptions& journal,
                            const EngineOptions& options) {
  const std::shared_ptr<Store>& store = enricher.store();
  if (!store) return failed_precondition("a journaled run needs a store");
  std::map<std::size_t, EnrichedLead> done;
  if (journal.resume) {
    Result<RunRecord> previous = store->run(*journal.resume);
    if (!previous.ok()) return previous.status();
    if (previous->input != journal.input) {
      return invalid_argument(fmt::format("run {} was over {}, not over this input ({})", *journal.resume,
                                          previous->input, journal.input));
    }
    Result<std::vector<std::pair<std::size_t, EnrichedLead>>> finished = store->run_leads(*journal.resume);
    if (!finished.ok()) return finished.status();
    for (auto& [index, lead] : *finished) done.emplace(index, EnrichedLead{});  // only which, not what
  }
  ResumeSource remaining(source, done);
  return enricher.plan(remaining, options);
}

Result<JournaledSummary> enrich_journaled(Enricher& enricher, LeadSource& source,
                                         const std::function<void(EnrichedLead&&)>& sink,
                                         const JournalOptions& journal, const EngineOptions& options,
                                         const std::function<void(const std::string&, const Status&)>& on_bad_row) {
  const std::shared_ptr<Store>& store = enricher.store();
  if (!store) return failed_precondition("a journaled run needs a store");
  if (journal.input.empty()) return invalid_argument("a journaled run needs a description of its input");
  std::shared_ptr<Clock> clock = system_clock();

  // Which run: the one asked for, an unfinished one over the same input, or a new one.
  JournalStart start;
  std::optional<std::string> resume = journal.resume;
  if (!resume) {
    Result<std::optional<RunRecord>> unfinished = store->find_unfinished_run(journal.input);
    if (!unfinished.ok()) return unfinished.status();
    if (journal.resume_unfinished && unfinished->has_value()) {
      resume = (*unfinished)->id;
    } else {
      start.unfinished = std::move(unfinished).value();
    }
  }
  std::map<std::size_t, EnrichedLead> done;
  if (resume) {
    Result<RunRecord> previous = store->run(*resume);
    if (!previous.ok()) return previous.status();
    if (previous->input != journal.input) {
      return invalid_argument(fmt::format("run {} was over {}, not over this input ({})", *resume, previous->input,
                                          journal.input));
    }
    LEADENRICH_RETURN_IF_ERROR(store->claim_run(*resume));
    Result<std::vector<std::pair<std::size_t, EnrichedLead>>> finished = store->run_leads(*resume);
    if (!finished.ok()) {
      store->release_run(*resume);
      return finished.status();
    }
    for (auto& [index, lead] : *finished) done.emplace(index, std::move(lead));
    start.run_id = *resume;
    start.resumed = true;
    start.from_journal = done.size();
    // What the earlier attempt had submitted and pipe0 accepted is checked, never sent again.
    Result<std::size_t> recovered = enricher.recover_submissions(start.run_id, journal.recover_timeout);
    if (recovered.ok()) start.recovered_lookups = *recovered;
  } else {
    Result<std::string> begun = store->begin_run(journal.input, clock->now());
    if (!begun.ok()) return begun.status();
    start.run_id = *begun;
    Status claimed = store->claim_run(start.run_id);
    if (!claimed.ok()) {
      ignore_error(store->finish_run(start.run_id, RunState::kFailed, clock->now()),
                   "the claim's error is the one to report; an unfinished run is resumable anyway");
      return claimed;
    }
  }
  if (journal.on_start) journal.on_start(start);

  JournaledSummary out;
  out.run_id = start.run_id;
  out.recovered_lookups = start.recovered_lookups;

  EngineOptions eopts = options;
  eopts.journal_run_id = start.run_id;
  if (!eopts.cancel) eopts.cancel = std::make_shared<CancellationToken>();

  // Delivered leads are recorded in batches: one transaction per lead costs more than the lead.
  std::vector<std::pair<std::size_t, EnrichedLead>> batch;
  auto last_flush = std::chrono::steady_clock::now();
  auto flush = [&] {
    last_flush = std::chrono::steady_clock::now();
    if (batch.empty() || !out.journal.ok()) return;
    Status st = store->record_leads(start.run_id, batch, clock->now());
    batch.clear();
    if (!st.ok()) {
      out.journal = st;
      eopts.cancel->cancel();  // a run that cannot be journaled must not go on spending
    }
  };
  auto done_cursor = done.begin();
  auto deliver_done_before = [&](std::size_t index) {
    for (; done_cursor != done.end() && done_cursor->first < index; ++done_cursor) {
      sink(std::move(done_cursor->second));
      ++out.from_journal;
    }
  };
  ResumeSource indexed(source, done);
  auto engine_sink = [&](EnrichedLead&& lead) {
    std::size_t index = indexed.pop_index();
    deliver_done_before(index);
    if (unfinished_by_cancel(lead)) {
      ++out.unfinished;  // not a result: never journaled, never delivered
      return;
    }
    if (out.journal.ok()) batch.emplace_back(index, lead);
    sink(std::move(lead));
    std::size_t limit = std::max<std::size_t>(1, journal.record_batch);
    if (batch.size() >= limit || std::chrono::steady_clock::now() - last_flush >= std::chrono::seconds(1)) flush();
  };
  Result<RunSummary> summary = enricher.enrich(indexed, engine_sink, eopts, on_bad_row);
  deliver_done_before(SIZE_MAX);  // finished leads past the point where the run stopped
  flush();

  RunState state = RunState::kFinished;
  if (!summary.ok() || !out.journal.ok()) {
    state = RunState::kFailed;
  } else if (summary->cancelled || out.unfinished > 0) {
    state = RunState::kCancelled;
  }
  Status finished = store->finish_run(start.run_id, state, clock->now());
  if (!finished.ok() && out.journal.ok()) out.journal = finished;
  store->release_run(start.run_id);
  out.state = state;
  if (!summary.ok()) return summary.status();
  out.summary = std::move(summary).value();
  return out;
}

}  // namespace leadenrich
