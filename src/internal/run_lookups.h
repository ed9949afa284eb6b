// A run's lookups as a whole: for each (entity, signal) a lead needs, answer it from the store,
// from an earlier lookup, from another run of the same Enricher, or refuse it (budget, a fatal
// error) — else own it: price it, give its entity a record and queue it. Then take each outcome
// (retrying transient failures after a backoff), cache it, share it with other runs, and fan it
// out to every lead waiting for it.
#ifndef LEADENRICH_INTERNAL_RUN_LOOKUPS_H_
#define LEADENRICH_INTERNAL_RUN_LOOKUPS_H_

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "internal/batch_tracker.h"
#include "internal/batcher.h"
#include "internal/delivery.h"
#include "internal/lease_watcher.h"
#include "internal/lookup_flights.h"
#include "internal/lookup_table.h"
#include "internal/plan.h"
#include "internal/prefetch.h"
#include "internal/retry_loop.h"
#include "internal/run.h"

namespace leadenrich::internal {

class RunLookups {
 public:
  RunLookups(const RunContext& ctx, Delivery& delivery, Batcher& batcher, RunSummary& summary, Progress& progress,
             std::shared_ptr<Mailbox> mailbox);

  /// Before a block of leads is admitted: reads, in one store call, every lookup their plans
  /// need that this run has not got (need() would read each alone).
  void prefetch(const std::vector<LeadPlan>& plans);
  /// Drops what the last prefetch() read and no lead took.
  void forget_prefetched() { prefetched_.clear(); }
  /// `lead` (read as `raw`, planned as `plan`) needs `s` of `entity`.
  void need(PendingLead& lead, Signal s, const std::string& entity, const RawLead& raw, const LeadPlan& plan);
  /// Queues the entities the leads read since the last call need sent (one record per entity,
  /// with every pipe it needs).
  void enqueue_fresh();

  /// Outcomes for `mask` of an entity; a transient failure with attempts left (when
  /// `may_retry`) is parked for a backoff instead.
  void conclude(const std::string& entity, Mask mask, const std::string& run_id, bool may_retry,
                const std::function<LookupOutcome(Signal)>& outcome_of);
  /// pipe0's answer for a finished batch: each record's fields merged per signal.
  void conclude_answer(const Batch& b, const BatchResponse& resp);
  /// Between these two, the answers concluded are set aside and then stored in one call
  /// (CacheHooks::put_many: one store transaction) before any is shared or handed to a lead:
  /// the run takes in every answer that has come at once, and a commit per answer cost more
  /// than the inserts. Once kMaxHeldLookups are set aside they are stored after the answer that
  /// reached it. Without these calls each answer is stored on its own.
  void hold_answers();
  void release_answers();
  /// A batch pipe0 provably did not take: the entities with re-sends left (the others fail
  /// with `st`); `attempt` is raised to the most re-sends among them.
  Group take_back(const Batch& b, const Status& st, int& attempt);
  /// Every lookup of `entities` x `mask` failed with `st`.
  void conclude_all(const std::vector<std::string>& entities, Mask mask, const Status& st, const std::string& run_id,
                    bool may_retry);
  void finish(const std::string& entity, Signal s, LookupOutcome outcome, const std::string& run_id);
  /// Another run's answer (or its giving up) for a lookup this run waits for.
  void on_landing(Landing& landing);
  /// Fails every lookup not yet done (cancellation, a stalled run).
  void fail_open(const Status& st);

  // ---- single flight across processes (when the store is shared: CacheHooks::acquire_leases) ----
  /// At send time: takes the leases of the groups' lookups in one call and returns what this
  /// process may send of each group. Lookups another process holds go to the lease watcher;
  /// lookups whose answer reached the cache meanwhile are answered from it; an entity left with
  /// part of its signals goes back to the batcher for those. A store error fails the groups
  /// (the run stops).
  std::vector<Group> lease(std::vector<Group> groups);
  /// Takes what the lease watcher found (when a poll is due).
  void poll_leases();
  std::optional<Clock::SteadyTime> next_lease_poll() const;
  /// Lookups waiting for another process's answer.
  std::size_t watching() const { return watcher_ ? watcher_->size() : 0; }

  LookupOutcome failed_outcome(Signal s, const Status& st) const;

  /// The record sent for an entity.
  const Json::Object& inputs(const std::string& entity) const { return entities_.at(entity).inputs; }
  /// Its signals left flight (answered, or to be sent again: see mark_active).
  void release(const std::string& entity, Mask mask) { entities_.at(entity).active &= static_cast<Mask>(~mask); }
  void mark_active(const std::string& entity, Mask mask) { entities_.at(entity).active |= mask; }

  const Status& fatal() const { return fatal_; }
  void set_fatal(const Status& st) { fatal_ = st; }
  /// Lookups another run flies for this one.
  std::size_t standby() const { return standby_; }

 private:
  struct Entity {
    Json::Object inputs;
    Mask active = 0;  // signals queued, parked or in flight
    std::array<int, kSignalCount> failures{};  // answers "failed", per signal
    int resends = 0;  // batches pipe0 provably did not accept
    int open = 0;     // lookups not finished; at 0, with nothing active, it is forgotten
  };

  const SignalSpec& spec(Signal s) const { return ctx_.config->spec(s); }
  Lookup start(Lookup lk, Json::Object inputs);
  /// Shares a finished lookup with other runs and hands it to its leads.
  void land(Lookup& lk);
  void fan_out(Lookup& lk);
  /// LookupTable::settle(): a company's answers, which many leads share, stay in memory while
  /// the store would still give them back.
  void settle(Lookup& lk);
  /// The store's answers for `keys`, in one call when the hooks can.
  std::vector<std::optional<LookupOutcome>> read_all(const std::vector<LookupKey>& keys);
  /// The store's answer for a lookup: prefetched, else read now. Sets read_mark_.
  std::optional<LookupOutcome> read(Signal s, const std::string& entity);
  /// LookupFlights::land(), counting this run's own answers.
  void land_flight(const std::string& key, const std::optional<LookupOutcome>& outcome, const std::string& run_id);
  /// Answers other runs of the Enricher landed so far (LookupFlights::landings() less ours).
  std::uint64_t landed_by_others() const;
  /// Stores the lookups finish() set aside while concluding one answer, then lands them.
  void store_unsaved();
  /// Another process's answer for an owned lookup (it paid; to this run it is a cache hit).
  void answer_elsewhere(const std::string& entity, Signal s, LookupOutcome o);
  /// Lets go of the lookup's lease, if this process holds it.
  void end_lease(Lookup& lk);

  const RunContext& ctx_;
  const EngineOptions& opts_;
  Delivery& delivery_;
  Batcher& batcher_;
  RunSummary& summary_;
  Progress& progress_;
  std::shared_ptr<Mailbox> mailbox_;
  std::vector<std::string> company_inputs_;  // every input key the run's company pipes need
  std::vector<std::string> person_inputs_;

  // With a store, the company answers kept in memory (LookupTable): every signal of 2,048
  // companies, a few MiB.
  static constexpr std::size_t kKeptCompanyLookups = 8192;
  LookupTable table_;
  std::unordered_map<std::string, Entity> entities_;
  std::vector<std::pair<std::string, Mask>> fresh_;  // entity -> signals to enqueue
  std::size_t standby_ = 0;
  std::uint64_t own_landings_ = 0;  // answers this run landed (LookupFlights::landings() counts all)
  Prefetch prefetched_;
  std::uint64_t prefetch_mark_ = 0;  // landed_by_others() before the prefetch read the store
  std::uint64_t read_mark_ = 0;      // landed_by_others() before the store was read for the last read()
  CacheGet read_;                    // read(), for LookupTable::restore; empty without a store
  // Held lookups keep their values, and their store rows are built all at once: more held,
  // fewer transactions but a higher peak of memory (256 rather than 64: a million-lead stream
  // 0.1 MiB more, 97.7 MiB, and 3% less of our time with a store).
  static constexpr std::size_t kMaxHeldLookups = 256;
  bool holding_ = false;          // between hold_answers() and release_answers(); finish() sets answers aside
  std::vector<Lookup*> unsaved_;  // stored together by store_unsaved()
  std::unique_ptr<LeaseWatcher> watcher_;  // only when the store is shared
  double spent_ = 0;
  double reserved_ = 0;
  std::uint64_t jitter_ = 0x5eed;
  Status fatal_;
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_RUN_LOOKUPS_H_
