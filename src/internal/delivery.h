// Delivery: leads wait here in input order until every lookup they need is answered, take each
// answer (the first lead to receive a billed lookup carries its cost), and leave in order, each
// exactly once, counted into the summary.
#ifndef LEADENRICH_INTERNAL_DELIVERY_H_
#define LEADENRICH_INTERNAL_DELIVERY_H_

#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "internal/lookup_table.h"
#include "leadenrich/clock.h"
#include "leadenrich/config.h"
#include "leadenrich/engine.h"

namespace leadenrich::internal {

using LeadSink = std::function<void(EnrichedLead&&)>;

struct PendingLead {
  std::size_t seq = 0;
  EnrichedLead lead;
  int pending = 0;  ///< lookups not yet answered
};

class Delivery {
 public:
  /// Up to `spare_leads` pending leads that left are kept to be filled again: the run's read-ahead,
  /// as many as it holds at once anyway (leads leave in bursts of hundreds).
  Delivery(const Config& config, Clock& clock, std::size_t spare_leads = 64)
      : config_(config), clock_(clock), spare_leads_(spare_leads) {}

  /// A lead enters at the back, empty, for the caller to fill; its sequence number is in `seq`.
  PendingLead& add();
  /// The same, with `lead` moved in.
  PendingLead& add(EnrichedLead lead);
  PendingLead& at(std::size_t seq) { return *leads_[seq - leads_.front()->seq]; }
  std::size_t size() const { return leads_.size(); }
  bool empty() const { return leads_.empty(); }

  /// Puts a lookup's answer on a lead (value, status, run id, and its cost when nobody carries
  /// it yet).
  void apply(PendingLead& lead, Lookup& lookup) const;
  /// apply() of a lookup no other lead will see (read back from the store for this lead): its
  /// value is moved into the lead instead of copied.
  void apply_once(PendingLead& lead, Lookup&& lookup) const;
  /// apply(), for a lead that was waiting for the lookup.
  void answer(std::size_t seq, Lookup& lookup);

  /// Hands every finished lead at the front to `sink`, in order; returns how many.
  std::size_t emit_ready(const LeadSink& sink, RunSummary& summary);

 private:
  const Config& config_;
  Clock& clock_;
  // A pending lead is some 2 KB: one allocation that size per lead made glibc sweep its small
  // free lists every time, so the leads that left are kept, emptied, and filled again.
  std::size_t spare_leads_;
  std::deque<std::unique_ptr<PendingLead>> leads_;
  std::vector<std::unique_ptr<PendingLead>> spare_;  // at most spare_leads_
  std::size_t next_seq_ = 0;
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_DELIVERY_H_
