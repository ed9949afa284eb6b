// Distributed runs: one run's leads enriched by several processes that share a store. The
// submitter journals the run and cuts its input into chunks in the store's work queue
// (work_queue.h); workers anywhere claim chunks, enrich them and journal the leads; the
// submitter works too while it waits, then writes every lead in input order and finishes the run.
// A worker that dies stops renewing its claim, and its chunk is claimed again; a lead already
// journaled is never enriched again.
#ifndef LEADENRICH_DISTRIBUTED_H_
#define LEADENRICH_DISTRIBUTED_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "leadenrich/engine.h"
#include "leadenrich/sources.h"
#include "leadenrich/status.h"
#include "leadenrich/store.h"

namespace leadenrich {

/// What a worker needs to enrich exactly as the submitter asked, stored with the run as JSON.
struct DistributedSpec {
  static constexpr int kVersion = 1;
  std::vector<Signal> signals;
  std::optional<std::chrono::seconds> max_age;
  RunMode mode = RunMode::kAuto;
  bool sandbox = false;  ///< mark results as sandbox data

  /// {"version":1,"signals":[...],"max_age_seconds":N|null,"mode":"auto","sandbox":false}
  std::string to_json_text() const;
  /// kInvalidArgument for text that is not a spec, or one from a newer leadenrich.
  static Result<DistributedSpec> parse(std::string_view text);
};

/// The spec of a run with these engine options. kInvalidArgument for a budget: each worker
/// would spend up to it, so a budget cannot bound a distributed run.
Result<DistributedSpec> distributed_spec(const EngineOptions& options);

struct SubmitOptions {
  /// What the run enriches (JournalOptions::input): a resume must be over the same input.
  std::string input;
  /// Continue this run: add the chunks the killed submitter had not added.
  std::optional<std::string> resume;
  std::size_t chunk_size = 200;  ///< leads per chunk
  std::function<void(const std::string& location, const Status&)> on_bad_row;
};

struct Submitted {
  std::string run_id;
  bool resumed = false;
  std::size_t chunks = 0;     ///< in the queue now
  std::size_t leads = 0;      ///< in those chunks
  std::size_t added = 0;      ///< leads this call added
  std::size_t bad_rows = 0;
  /// A new run: an earlier run over the same input that did not finish and that no process
  /// holds (a submitter stopped before collecting it), which `--resume` would have continued.
  std::optional<RunRecord> unfinished;
};

/// Begins (or resumes) the run, adds `source`'s good leads in chunks, numbered in input order,
/// and seals it. The run is claimed (Store::claim_run) by this store object until finish_
/// distributed or release_run. Errors: kFailedPrecondition (no work queue; the run is held by a
/// live process), kNotFound (no such run), kInvalidArgument (a run over another input), a source
/// failure (the run is left resumable), or the store's.
Result<Submitted> submit_distributed(Store& store, LeadSource& source, const DistributedSpec& spec,
                                     const SubmitOptions& options);

/// One chunk a worker is done with.
struct ChunkReport {
  std::string run_id;
  std::size_t chunk = 0;
  std::size_t leads = 0;     ///< enriched and journaled now
  std::size_t skipped = 0;   ///< already journaled by an earlier holder
  enum Outcome { kDone, kReleased, kLost } outcome = kDone;
};

struct WorkerOptions {
  std::string worker_id;  ///< empty: "host:pid"
  std::chrono::milliseconds lease{30'000};  ///< renewed every lease / 3
  std::optional<std::string> run_id;        ///< only this run's chunks
  /// Return when there is no chunk to claim right now (else wait for more).
  bool exit_when_idle = false;
  /// With run_id: return once that run is sealed and every chunk is done, or it is no longer
  /// running.
  bool until_run_done = false;
  std::chrono::milliseconds poll{250};  ///< waiting for a chunk
  /// Stops the worker gently: the chunk at hand is finished (its lookups may be paid already:
  /// cancelling them would pay for them again elsewhere), then run_worker returns.
  std::shared_ptr<CancellationToken> stop;
  /// Stops the worker now: the chunk at hand is cancelled, what it finished is journaled and the
  /// rest goes back to the queue for another worker; then run_worker returns.
  std::shared_ptr<CancellationToken> abandon;
  /// Per-chunk engine options (progress, ...); signals, max_age, mode, sandbox come from the spec.
  EngineOptions engine;
  std::function<void(const ChunkReport&)> on_chunk;
};

struct WorkerSummary {
  std::size_t chunks_done = 0;
  std::size_t chunks_released = 0;
  std::size_t chunks_lost = 0;
  std::size_t leads = 0;
  bool stopped = false;
};

/// Claims, enriches, journals and completes chunks until told to stop or, by the options, idle.
/// A chunk whose renewal says another worker took it is dropped unjournaled. Errors: the store's
/// (a journal write that failed releases the chunk first).
Result<WorkerSummary> run_worker(Enricher& enricher, const WorkerOptions& options);

struct CollectSummary {
  std::size_t leads = 0;  ///< delivered
  RunSummary totals;      ///< counted from the delivered leads (leads, counts, billing)
  WorkerSummary worked;   ///< what this process enriched itself
  bool stopped = false;   ///< stopped before the run was done: nothing delivered, run left running
};

/// The submitter's wait: works on the run's chunks (worker options as given, run_id and
/// until_run_done set) until every chunk is done, then calls `sink` with every journaled lead in
/// input order and finishes the run. When stopped first, delivers nothing and leaves the run
/// running, for workers to go on with and a `--resume` to collect.
Result<CollectSummary> collect_distributed(Enricher& enricher, const std::string& run_id,
                                           const std::function<void(EnrichedLead&&)>& sink,
                                           WorkerOptions options = {});

}  // namespace leadenrich

#endif  // LEADENRICH_DISTRIBUTED_H_
