// The run's intake: leads come from the source in blocks, are planned, have the lookups they
// need read from the store at once (one transaction for the block), and are admitted one by
// one: each enters delivery, in input order, and asks the run's lookups for every signal it
// needs. Bad rows are reported and skipped; a fatal source error ends the input.
#ifndef LEADENRICH_INTERNAL_INTAKE_H_
#define LEADENRICH_INTERNAL_INTAKE_H_

#include <functional>
#include <vector>

#include "internal/delivery.h"
#include "internal/flat_hash.h"
#include "internal/plan.h"
#include "internal/run.h"
#include "internal/run_lookups.h"

namespace leadenrich::internal {

class Intake {
 public:
  Intake(const RunContext& ctx, LeadSource& source, const BadRowSink& on_bad_row, Delivery& delivery,
         RunLookups& lookups, RunSummary& summary, Progress& progress);

  /// Reads and admits leads while fewer than the read-ahead wait in delivery, calling
  /// `admitted` after each (the run hands out the leads that are complete).
  void read(const std::function<void()>& admitted);
  /// Reads no more (the run was cancelled).
  void stop() { done_ = true; }

  /// The source has ended (or failed, or the intake stopped).
  bool done() const { return done_; }
  /// Whether another lead would be read now.
  bool has_room() const { return !done_ && delivery_.size() < read_ahead_; }
  /// The source's fatal error, if any.
  const Status& error() const { return error_; }
  /// Distinct companies and people admitted.
  std::size_t companies() const { return companies_.size(); }
  std::size_t people() const { return people_.size(); }

 private:
  // Leads read, and their lookups read from the store, at once.
  static constexpr std::size_t kBlock = 64;
  void read_block(std::size_t n);
  void admit(RawLead raw, LeadPlan plan);

  const RunContext& ctx_;
  LeadSource& source_;
  const BadRowSink& on_bad_row_;
  Delivery& delivery_;
  RunLookups& lookups_;
  RunSummary& summary_;
  Progress& progress_;
  std::size_t read_ahead_;
  std::vector<Signal> signals_;
  std::vector<RawLead> block_;  // read_block()'s leads and their plans
  std::vector<LeadPlan> plans_;
  FlatHashSet64 companies_;  // distinct keys, by a 64-bit hash
  FlatHashSet64 people_;
  bool done_ = false;
  Status error_;
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_INTAKE_H_
