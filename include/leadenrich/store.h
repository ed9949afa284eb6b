// The store: a cache of signal values per entity with a freshness window per signal, and a
// journal of runs so a killed run resumes paying only for what it had not finished. SQLite is the
// embedded default (one machine); PostgreSQL is the shared one (a fleet of workers and server
// replicas), which also hands out lookup leases and a work queue for distributed runs.
#ifndef LEADENRICH_STORE_H_
#define LEADENRICH_STORE_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "leadenrich/json.h"
#include "leadenrich/lead.h"
#include "leadenrich/signals.h"
#include "leadenrich/status.h"

namespace leadenrich {

/// What a cached value answers: a signal of an entity, from a pipe with an output configuration.
struct CacheKey {
  Signal signal = Signal::kCompanyOverview;
  std::string entity;       ///< "company:acme.com" or "person:https://www.linkedin.com/in/x"
  std::string pipe_id;      ///< with @version: a new version is a new key
  std::string config_hash;  ///< config_hash(spec): renamed output fields are a new key
};

struct CacheEntry {
  SignalStatus status = SignalStatus::kFound;  ///< kFound or kNoResult only
  Json value;                                  ///< the signal's value as JSON; null for no_result
  std::string source;
  Timestamp fetched_at;
};

/// How long entries are believed: found values and "nothing exists" answers separately.
struct Freshness {
  std::chrono::seconds found{0};
  std::chrono::seconds no_result{0};
};
/// The spec's windows, or `max_age` for both when given.
Freshness freshness_for(const SignalSpec& spec, std::optional<std::chrono::seconds> max_age = std::nullopt);

/// A short stable hash of a spec's pipe id and output field names.
std::string config_hash(const SignalSpec& spec);

enum class RunState { kRunning, kFinished, kFailed, kCancelled };
std::string_view to_string(RunState s);

struct RunRecord {
  std::string id;
  RunState state = RunState::kRunning;
  std::string input;  ///< the input's fingerprint (what was enriched, with which signals)
  Timestamp created_at;
  Timestamp updated_at;
  std::size_t leads_done = 0;
};

/// A pipe0 async run accepted during a run and not yet known to be finished.
class WorkQueue;  // work_queue.h

struct PendingSubmission {
  std::string pipe0_run_id;
  std::vector<std::string> entities;  ///< record i+1 of the run is entities[i]
  std::vector<Signal> signals;
};

/// Thread-safe: a run writing while other threads or processes read is fine.
class Store {
 public:
  virtual ~Store() = default;

  // ---- cache ----
  /// The entry for `key` when younger than its status's window at `now`, else nullopt.
  virtual Result<std::optional<CacheEntry>> get(const CacheKey& key, Timestamp now, Freshness freshness) = 0;
  /// get() of several keys at one instant: element i answers keys[i], fresh by freshness[i]
  /// (the two are the same length). A run reads the lookups of a block of leads at once. This
  /// default calls get() for each and returns the first error; SQLite reads them all in one
  /// read transaction.
  virtual Result<std::vector<std::optional<CacheEntry>>> get_many(const std::vector<CacheKey>& keys, Timestamp now,
                                                                  const std::vector<Freshness>& freshness);
  /// Stores an entry. kInvalidArgument for anything but found or no_result: failures are never cached.
  virtual Status put(const CacheKey& key, const CacheEntry& entry) = 0;
  /// Stores several entries; ok when every one was stored. A run stores each pipe0 answer's
  /// lookups at once: a commit per entry costs more than the rest of the lookup. This default
  /// calls put() for each (and returns the first error); SQLite writes them in one transaction,
  /// all of them or, on error, none.
  virtual Status put_many(const std::vector<std::pair<CacheKey, CacheEntry>>& entries);
  /// Entries per signal name.
  virtual Result<std::vector<std::pair<std::string, std::size_t>>> cache_stats() = 0;

  // ---- run journal ----
  /// Starts a run over `input`; returns its id ("run_20261125T020000Z_ab12cd").
  virtual Result<std::string> begin_run(const std::string& input, Timestamp now) = 0;
  /// kNotFound for an unknown id.
  virtual Result<RunRecord> run(const std::string& run_id) = 0;
  /// The newest run over `input` that did not finish and that no live process holds, if any.
  virtual Result<std::optional<RunRecord>> find_unfinished_run(const std::string& input) = 0;
  virtual Result<std::vector<RunRecord>> list_runs() = 0;
  /// Records a finished lead as the run delivers it (index = position in the input). This
  /// default is record_leads() of the one lead.
  virtual Status record_lead(const std::string& run_id, std::size_t index, const EnrichedLead& lead, Timestamp now);
  /// Records several finished leads in one transaction: all of them or, on error, none.
  virtual Status record_leads(const std::string& run_id, const std::vector<std::pair<std::size_t, EnrichedLead>>& leads,
                              Timestamp now) = 0;
  /// The leads a run recorded, by input index.
  virtual Result<std::vector<std::pair<std::size_t, EnrichedLead>>> run_leads(const std::string& run_id) = 0;
  virtual Status finish_run(const std::string& run_id, RunState state, Timestamp now) = 0;

  /// Marks `run_id` as being worked on by this process until release_run (or until the process
  /// ends: a killed process lets go by itself), so no other process resumes it or is pointed at
  /// it. kFailedPrecondition when another process, or another claim in this one, holds it.
  virtual Status claim_run(const std::string& run_id) = 0;
  virtual void release_run(const std::string& run_id) = 0;
  /// Whether a live process holds `run_id` (claim_run) right now.
  virtual Result<bool> run_claimed(const std::string& run_id) = 0;

  /// Records an accepted async pipe0 run before it is polled, so a restart checks it instead of
  /// submitting its records again; forget_submission once its results are in.
  virtual Status record_submission(const std::string& run_id, const PendingSubmission& submission) = 0;
  virtual Status forget_submission(const std::string& run_id, const std::string& pipe0_run_id) = 0;
  virtual Result<std::vector<PendingSubmission>> pending_submissions(const std::string& run_id) = 0;

  // ---- last result per lead (the runtime API's GET /v1/leads/{id}/enrichment) ----
  /// Replaces the saved result of the lead's lead_id. kInvalidArgument without a lead_id.
  virtual Status save_lead_result(const EnrichedLead& lead, Timestamp now) = 0;
  /// The saved result as to_json(EnrichedLead) text (parse_enriched_lead reads it), or nullopt.
  virtual Result<std::optional<std::string>> lead_result(const std::string& lead_id) = 0;

  // ---- single flight across processes (a store several processes share) ----
  // Of the processes that need a lookup missing from the cache, the one holding its lease pays
  // for it; the others wait for the answer to appear in the cache. A lease belongs to this store
  // object (its owner) until release_lease(), until put()/put_many() stores an answer under the
  // key (which ends the lease), or until the owner stops renewing it: the store renews the leases
  // it holds in the background, so a killed process's leases expire after the store's lease time.
  // A store that one process uses alone has nobody to share with: these defaults take every lease.

  /// Whether leases mean anything here (another process may hold one).
  virtual bool shares_leases() const { return false; }
  /// True: this owner holds the lease on `key` now (taken, or already its own). False: another
  /// owner holds an unexpired lease on it.
  virtual Result<bool> acquire_lease(const CacheKey& key);
  /// acquire_lease for each key, in one round trip where the store can (a run takes the leases
  /// of a whole pipe0 request at once): element i answers keys[i]. This default calls
  /// acquire_lease for each.
  virtual Result<std::vector<bool>> acquire_leases(const std::vector<CacheKey>& keys);
  /// Lets go of this owner's lease on `key` (nothing when it holds none).
  virtual Status release_lease(const CacheKey& key);
  /// Whether another owner holds an unexpired lease on `key` right now.
  virtual Result<bool> leased_elsewhere(const CacheKey& key);

  // ---- distributed runs ----
  /// The work queue through which processes share a run's leads; null when this store has none.
  virtual WorkQueue* work_queue() { return nullptr; }

 protected:
  /// For find_unfinished_run: the first of `runs` (newest first) that no live process holds.
  Result<std::optional<RunRecord>> first_unclaimed(std::vector<RunRecord>& runs);
};

/// Status::provider() of every error a store returns, so callers can tell a damaged, locked or
/// misplaced store file from an unreachable API.
inline constexpr std::string_view kStoreProvider = "store";

}  // namespace leadenrich

#endif  // LEADENRICH_STORE_H_
