// One enrichment run: the loop that reads and plans leads, then drives the parts that look them
// up and hand them out — the lookup table (lookup_table.h), single flight across runs
// (lookup_flights.h), the batcher (batcher.h), the capacity controller (capacity.h), the batch
// tracker (batch_tracker.h) and delivery (delivery.h).
#ifndef LEADENRICH_INTERNAL_RUN_H_
#define LEADENRICH_INTERNAL_RUN_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "internal/delivery.h"
#include "internal/lookup_flights.h"
#include "internal/merge.h"
#include "internal/pipe0_port.h"
#include "leadenrich/clock.h"
#include "leadenrich/config.h"
#include "leadenrich/engine.h"
#include "leadenrich/sources.h"

namespace leadenrich::internal {

/// The cache as the run sees it: a found / no_result outcome for a signal of an entity.
/// One finished lookup to store (CacheHooks::put_many); the pointers outlive the call.
struct CachePut {
  Signal signal = Signal::kCompanyOverview;
  const std::string* entity = nullptr;
  const LookupOutcome* outcome = nullptr;
};

/// A lookup by what it asks: a signal of an entity.
struct LookupKey {
  Signal signal = Signal::kCompanyOverview;
  std::string entity;
};

struct CacheHooks {
  std::function<std::optional<LookupOutcome>(Signal, const std::string& entity)> get;
  /// get() of several lookups at one instant (one store transaction), element i answering
  /// lookups[i]. Set whenever get is.
  std::function<std::vector<std::optional<LookupOutcome>>(const std::vector<LookupKey>&)> get_many;
  /// Returns true when the outcome was stored (a later get() will return it while fresh).
  std::function<bool(Signal, const std::string& entity, const LookupOutcome&)> put;
  /// Several at once (a pipe0 answer's lookups, in one store transaction): whether each was
  /// stored, in order. When empty the run calls put() for each.
  std::function<std::vector<bool>(const std::vector<CachePut>&)> put_many;
  /// An async pipe0 run was accepted for these entities and signals (journal it before polling).
  std::function<void(const std::string& pipe0_run_id, const std::vector<std::string>& entities,
                     const std::vector<Signal>& signals)> submitted;
  /// Its results are in (and cached): the journal can forget it.
  std::function<void(const std::string& pipe0_run_id)> settled;
  /// Set only when other processes share the store (Store::shares_leases): takes the leases of
  /// a request's lookups in one call, element i answering lookups[i] (true: this process holds
  /// it and may send it). An error is the store's, already noted as its fault.
  std::function<Result<std::vector<bool>>(const std::vector<LookupKey>&)> acquire_leases;
  /// Lets go of a lease this process holds (the lookup ended without an answer to store).
  std::function<void(Signal, const std::string& entity)> release_lease;
};

struct RunContext {
  const Config* config = nullptr;
  Pipe0Port* pipe0 = nullptr;  ///< null for a dry run
  Clock* clock = nullptr;
  CacheHooks cache;            ///< empty functions when there is no store
  const EngineOptions* options = nullptr;
  /// Lookups in flight across the runs of one Enricher; null: this run alone.
  LookupFlights* flights = nullptr;
};

using BadRowSink = std::function<void(const std::string& location, const Status& status)>;

/// Runs the whole pipeline over `source` on the calling thread.
Result<RunSummary> run_enrichment(const RunContext& ctx, LeadSource& source, const LeadSink& sink,
                                  const BadRowSink& on_bad_row);

/// Plans without sending anything.
Result<Plan> plan_enrichment(const RunContext& ctx, LeadSource& source);

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_RUN_H_
