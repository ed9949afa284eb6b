// The enrichment engine: plans, deduplicates, prices, schedules and merges, so every input lead
// comes out exactly once, in input order, with each signal's status — while each company and
// person is looked up once and pipe0's capacity stays full.
#ifndef LEADENRICH_ENGINE_H_
#define LEADENRICH_ENGINE_H_

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "leadenrich/clock.h"
#include "leadenrich/config.h"
#include "leadenrich/lead.h"
#include "leadenrich/retry.h"
#include "leadenrich/sources.h"
#include "leadenrich/status.h"

namespace leadenrich {

class Pipe0Connection;  // pipe0.h
class Store;            // store.h
namespace internal {
class LookupFlights;
}

/// How records are sent to pipe0.
enum class RunMode {
  kAuto,   ///< sync batches for small runs, async batches for bulk (see EngineOptions)
  kSync,   ///< run/sync, batches of up to sync_batch_size
  kAsync,  ///< run + check polling, batches of up to async_batch_size
};
std::string_view to_string(RunMode m);
Result<RunMode> parse_run_mode(std::string_view name);

/// Lets another thread stop a run. Thread-safe.
class CancellationToken {
 public:
  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

 private:
  std::atomic<bool> cancelled_{false};
};

/// A snapshot of a run's progress, passed to the progress callback.
struct Progress {
  std::size_t leads_read = 0;
  std::size_t leads_done = 0;
  std::size_t bad_rows = 0;
  std::size_t lookups_planned = 0;  ///< distinct entity x signal lookups needing pipe0
  std::size_t lookups_done = 0;
  std::size_t cache_hits = 0;
  std::size_t requests = 0;
  std::size_t records_in_flight = 0;
  bool source_done = false;
};

/// Counts by signal and status, and what the run cost.
struct RunSummary {
  std::size_t leads = 0;
  std::size_t bad_rows = 0;
  std::size_t companies = 0;  ///< distinct company keys
  std::size_t people = 0;     ///< distinct person keys
  std::size_t leads_without_identity = 0;
  /// counts[signal][status]
  std::array<std::array<std::size_t, 6>, kSignalCount> counts{};
  std::size_t lookups = 0;        ///< entity x signal lookups sent to pipe0
  std::size_t cache_hits = 0;
  std::size_t requests = 0;       ///< pipe0 HTTP requests (runs, checks)
  std::size_t records_sent = 0;
  std::size_t retries = 0;
  std::size_t billed_lookups = 0; ///< lookups pipe0 bills (an output completed)
  double estimated_credits = 0;   ///< billed lookups priced with the spec table
  bool budget_exhausted = false;
  bool cancelled = false;
  std::chrono::milliseconds wall_time{0};
  std::vector<std::string> provider_run_ids;

  std::size_t count(Signal s, SignalStatus st) const {
    return counts[static_cast<std::size_t>(s)][static_cast<std::size_t>(st)];
  }
};

/// A dry run: what a run would look up and cost, spending nothing.
struct Plan {
  std::size_t leads = 0;
  std::size_t bad_rows = 0;
  std::size_t companies = 0;
  std::size_t people = 0;
  std::size_t leads_without_identity = 0;
  std::array<std::size_t, kSignalCount> lookups{};     ///< per signal, after dedupe and cache
  std::array<std::size_t, kSignalCount> cache_hits{};  ///< per signal
  std::array<std::size_t, kSignalCount> skipped{};     ///< per signal, missing input
  std::size_t records = 0;          ///< pipe0 input records the run would send
  double estimated_credits = 0;     ///< upper bound: every lookup billed
};

struct EngineOptions {
  /// Signals to look up; empty means the config's enabled signals.
  std::vector<Signal> signals;
  RunMode mode = RunMode::kAuto;
  /// kAuto sends sync batches until the records planned so far (every entity the run has read
  /// that needs a lookup) pass this, then async batches for the rest of the run.
  std::size_t auto_async_threshold = 2000;
  /// Records per request; both are capped at pipe0's 100.
  std::size_t sync_batch_size = 9;
  std::size_t async_batch_size = 100;
  /// A ceiling on records submitted and not yet answered; 0 (the default) means none: the
  /// engine learns the org's capacity from pipe0's answers (X-Task-Priority, X-P1/P2-Capacity)
  /// and keeps just under its P1 capacity, backing off when runs are admitted at P2. Before the
  /// first answer it sends at most 20 records (the smallest plan's P1 capacity); with more work
  /// queued (and mode not kSync) that first request is an async run, whose admission answer
  /// comes back at once. Without capacity headers the window grows by what is answered, up to the
  /// ceiling when set, else 200.
  std::size_t max_records_in_flight = 0;
  /// Leads read ahead of the oldest unfinished one (bounds memory when streaming).
  std::size_t read_ahead = 5000;
  RetryPolicy retry;
  /// Lookups answered failed for a transient reason (a provider error, a 5xx, a timeout) are
  /// sent again after the retry policy's backoff, up to its max_attempts per lookup — counted
  /// apart from re-sends of requests pipe0 provably did not accept. Permanent reasons (invalid
  /// input, an unmet requirement, credits) are never retried. False: no such retries.
  bool retry_failed_at_end = true;
  /// Polling of async runs: the first check near the latency observed so far (poll_initial
  /// before any is known), then growing by 1.5x up to the maximum.
  std::chrono::milliseconds poll_initial{1000};
  std::chrono::milliseconds poll_max{3000};
  /// A run's pipe0 job that has not finished by then is reported failed (its id is kept).
  std::chrono::milliseconds run_deadline{600'000};
  /// Hard budget in credits; nullopt for none. Lookups that would pass it are budget_exhausted.
  std::optional<double> budget_credits;
  /// Cache age override for every signal (the specs' freshness otherwise).
  std::optional<std::chrono::seconds> max_age;
  /// With a store: the journal run under which accepted async pipe0 runs are recorded before
  /// they are polled (so a restart checks them instead of submitting again). Empty: none.
  std::string journal_run_id;
  /// Mark every result as sandbox data.
  bool sandbox = false;
  /// Called on the engine's thread after each lead is done and on each completion; keep it quick.
  std::function<void(const Progress&)> progress;
  /// Cancelling ends the run within about 100 ms: every lookup still waiting (queued, waiting
  /// out a retry, in flight, polled, or shared with another run) ends failed with reason code
  /// "cancelled" — never cached — and every lead read so far is delivered.
  std::shared_ptr<CancellationToken> cancel;
};

/// Enriches leads through a pipe0 connection, with an optional store for caching and journaling.
/// Thread-safe: enrich_one may be called from many threads at once; each enrich() call runs on
/// the calling thread and may run concurrently with others. Concurrent calls that need the same
/// (entity, signal) share one pipe0 lookup and its answer: it is billed once, to one lead.
class Enricher {
 public:
  /// `store` may be null (no cache, no journal); `clock` null means the system clock.
  Enricher(Config config, std::shared_ptr<Pipe0Connection> pipe0, std::shared_ptr<Store> store = nullptr,
           std::shared_ptr<Clock> clock = nullptr);

  /// Reads every lead from `source` and calls `sink` once per lead, in input order. Bad rows
  /// are reported through `on_bad_row` (location, error) and counted, never fatal.
  /// Returns the summary; an error only when the source itself failed (kUnavailable, ...) — the
  /// leads read before that were still delivered.
  Result<RunSummary> enrich(LeadSource& source, const std::function<void(EnrichedLead&&)>& sink,
                            const EngineOptions& options = {},
                            const std::function<void(const std::string&, const Status&)>& on_bad_row = nullptr);

  /// Convenience: a list in, a list out (same order, same length, bad leads marked failed;
  /// after cancellation, leads never read are marked failed with reason code "cancelled").
  Result<std::vector<EnrichedLead>> enrich(const std::vector<RawLead>& leads, const EngineOptions& options = {});

  /// The runtime path: one small sync request for this lead only (or none, when the store
  /// answers everything). Returns kInvalidArgument for a lead without lead_id.
  Result<EnrichedLead> enrich_one(const RawLead& lead, const EngineOptions& options = {});

  /// A dry run: keys, dedupe and cache hits; spends nothing and sends nothing.
  Result<Plan> plan(LeadSource& source, const EngineOptions& options = {});

  /// For a resumed run: checks the async pipe0 runs journaled under `journal_run_id` (never
  /// submitting them again), caches their results and forgets them. Returns how many lookups
  /// were recovered. Needs a store; kFailedPrecondition without one.
  Result<std::size_t> recover_submissions(const std::string& journal_run_id, std::chrono::milliseconds timeout);

  const Config& config() const { return config_; }
  /// The cache and journal; null without one.
  const std::shared_ptr<Store>& store() const { return store_; }

  /// Lookups one call of this Enricher answered for another call running at the same time (the
  /// second call waited for the first one's answer instead of paying for it again).
  std::uint64_t shared_lookups() const;

 private:
  Config config_;
  std::shared_ptr<Pipe0Connection> pipe0_;
  std::shared_ptr<Store> store_;
  std::shared_ptr<Clock> clock_;
  std::shared_ptr<internal::LookupFlights> flights_;
};

}  // namespace leadenrich

#endif  // LEADENRICH_ENGINE_H_
