// Journaled runs: an enrichment over a store that a killed or interrupted process can continue,
// paying only for what it had not finished. One entry point for the command line, Python and
// any C++ caller: start (or resume by id), recover the pipe0 runs the earlier attempt had
// submitted, deliver every lead in input order (those the journal has, then the rest as they
// are enriched), record each as delivered, and finish the run's state.
#ifndef LEADENRICH_JOURNAL_H_
#define LEADENRICH_JOURNAL_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "leadenrich/engine.h"
#include "leadenrich/store.h"

namespace leadenrich {

/// What the run is known by before it starts enriching.
struct JournalStart {
  std::string run_id;
  bool resumed = false;
  std::size_t from_journal = 0;       ///< leads the journal already has (delivered without a lookup)
  std::size_t recovered_lookups = 0;  ///< from pipe0 runs the earlier attempt had submitted
  /// A new run only: an earlier run over the same input that did not finish and that no live
  /// process holds (so `--resume` would continue it).
  std::optional<RunRecord> unfinished;
};

struct JournalOptions {
  /// What the run enriches, for a person and for matching a resume: "file /data/leads.csv
  /// (5,120 bytes, modified 2026-11-25 02:00:00 UTC); signals news". Required.
  std::string input;
  /// Continue this run instead of starting a new one.
  std::optional<std::string> resume;
  /// Without `resume`: continue the newest unfinished run over `input`, when there is one.
  bool resume_unfinished = false;
  /// How long each accepted pipe0 run of the earlier attempt is waited for.
  std::chrono::milliseconds recover_timeout{std::chrono::minutes(5)};
  /// Leads recorded per journal transaction at most (also flushed at least once a second).
  std::size_t record_batch = 64;
  /// Called once the run is known, before enriching starts.
  std::function<void(const JournalStart&)> on_start;
};

struct JournaledSummary {
  std::string run_id;
  RunState state = RunState::kRunning;  ///< as finished in the journal
  RunSummary summary;                   ///< what this call enriched
  std::size_t from_journal = 0;         ///< leads delivered from the journal
  std::size_t recovered_lookups = 0;
  /// Leads the cancellation left with a lookup unanswered: neither delivered nor recorded, so a
  /// resume enriches them.
  std::size_t unfinished = 0;
  /// The first journal write that failed (the run was stopped there); ok otherwise.
  Status journal;
};

/// Runs `source` through `enricher` with its store's journal. `sink` receives every finished
/// lead once, in input order; after a cancellation, leads with a cancelled lookup are left out
/// (they are "unfinished") and the rest are still delivered. Bad rows go to `on_bad_row`.
/// A journal write failure stops the run (through `options.cancel` when given) and is returned
/// in `journal`. Errors before enriching: kNotFound (no such run), kInvalidArgument (the run was
/// over another input), kFailedPrecondition (no store; the run is still going in another
/// process); any other code is the store's. An error while enriching (the source failed) is
/// returned after the run is finished as failed.
Result<JournaledSummary> enrich_journaled(Enricher& enricher, LeadSource& source,
                                         const std::function<void(EnrichedLead&&)>& sink,
                                         const JournalOptions& journal, const EngineOptions& options = {},
                                         const std::function<void(const std::string&, const Status&)>& on_bad_row = nullptr);

/// A dry run of what resuming `journal.resume` would still do: the leads its journal does not
/// have. Sends, spends and records nothing. Errors as for enrich_journaled.
Result<Plan> plan_journaled(Enricher& enricher, LeadSource& source, const JournalOptions& journal,
                            const EngineOptions& options = {});

/// Whether a cancellation left a lookup of `lead` unanswered (a failed signal whose reason code
/// is "cancelled"): such a lead is not a result.
bool unfinished_by_cancel(const EnrichedLead& lead);

/// A readable fingerprint of a list of leads and signals for JournalOptions::input: the count
/// and a hash of the leads' content.
std::string describe_leads(const std::vector<RawLead>& leads, const std::vector<Signal>& signals);

}  // namespace leadenrich

#endif  // LEADENRICH_JOURNAL_H_
