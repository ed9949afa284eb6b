// Delivery: leads wait here in input order until every lookup they need is answered, take each
// answer (the first lead to receive a billed lookup carries its cost), and leave in order, each
// exactly once, counted into the summary.
#ifndef LEADENRICH_INTERNAL_DELIVERY_H_
#define LEADENRICH_INTERNAL_DELIVERY_H_

#include <array>
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
  Delivery(const Config& config, Clock& clock) : config_(config), clock_(clock) {}

  /// A lead enters at the back, empty, for the caller to fill; its sequence number is in `seq`.
  /// It stays at its address until it leaves.
  PendingLead& add();
  /// The same, with `lead` moved in.
  PendingLead& add(EnrichedLead lead);
  PendingLead& at(std::size_t seq) {
    std::size_t i = seq - slab_seq_;
    return slabs_[i / kSlabLeads]->leads[i % kSlabLeads];
  }
  std::size_t size() const { return next_seq_ - front_seq_; }
  bool empty() const { return size() == 0; }

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
  // A pending lead is some 2 KB, and glibc sweeps its small free lists whenever a block of 1 KiB
  // or more is asked for: one allocation per lead cost more than the rest of its bookkeeping.
  // Leads live in slabs of 64 instead, in input order (they leave in that order too). A slab
  // is mapped from the kernel and handed back when its last lead has left (the last one is kept
  // for the next 64): from the heap, slabs raised a million-lead stream's peak by 2 MiB, and
  // keeping every emptied lead instead by 3.
  static constexpr std::size_t kSlabLeads = 64;
  struct Slab {
    std::array<PendingLead, kSlabLeads> leads;
    static void* operator new(std::size_t bytes);
    static void operator delete(void* p, std::size_t bytes);
  };

  const Config& config_;
  Clock& clock_;
  std::deque<std::unique_ptr<Slab>> slabs_;
  std::unique_ptr<Slab> spare_;  // the last slab emptied, used again for the next
  std::size_t slab_seq_ = 0;     // seq of slabs_.front()->leads[0]
  std::size_t front_seq_ = 0;    // the next lead to leave
  std::size_t next_seq_ = 0;     // the next lead to enter
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_DELIVERY_H_
