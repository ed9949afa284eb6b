#include "internal/delivery.h"

#include <sys/mman.h>

#include <algorithm>
#include <new>

namespace leadenrich::internal {

void* Delivery::Slab::operator new(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return p;
}

void Delivery::Slab::operator delete(void* p, std::size_t bytes) { ::munmap(p, bytes); }

PendingLead& Delivery::add() {
  std::size_t i = next_seq_ - slab_seq_;
  if (i == slabs_.size() * kSlabLeads) {
    slabs_.push_back(spare_ ? std::move(spare_) : std::make_unique<Slab>());  // a spare slab was emptied as its leads left
  }
  PendingLead& p = slabs_[i / kSlabLeads]->leads[i % kSlabLeads];
  p.seq = next_seq_++;
  p.pending = 0;
  return p;
}

PendingLead& Delivery::add(EnrichedLead lead) {
  PendingLead& p = add();
  p.lead = std::move(lead);
  return p;
}

void Delivery::apply_once(PendingLead& p, Lookup&& lk) const {
  bool found = lk.outcome.result.status == SignalStatus::kFound;
  SignalValue value = found ? std::move(lk.outcome.value) : SignalValue();
  apply(p, lk);  // everything but the value (moved out above: it copies nothing)
  if (found) apply_value(p.lead, lk.signal, std::move(value));
}

void Delivery::apply(PendingLead& p, Lookup& lk) const {
  std::size_t i = idx(lk.signal);
  SignalResult r = lk.outcome.result;
  r.from_cache = lk.from_cache;
  p.lead.results[i] = std::move(r);
  if (lk.outcome.result.status == SignalStatus::kFound) apply_value(p.lead, lk.signal, lk.outcome.value);
  std::vector<std::string>& ids = p.lead.provider_run_ids;
  if (!lk.run_id.empty() && std::find(ids.begin(), ids.end(), lk.run_id) == ids.end()) ids.push_back(lk.run_id);
  if (lk.outcome.billed && !lk.attributed && !lk.from_cache) {
    lk.attributed = true;
    ++p.lead.billed_lookups;
    p.lead.estimated_credits += config_.spec(lk.signal).credits_per_lookup;
  }
}

void Delivery::answer(std::size_t seq, Lookup& lk) {
  PendingLead& p = at(seq);
  apply(p, lk);
  --p.pending;
}

std::size_t Delivery::emit_ready(const LeadSink& sink, RunSummary& summary) {
  std::size_t n = 0;
  while (!empty() && at(front_seq_).pending == 0) {
    EnrichedLead& e = at(front_seq_).lead;
    update_signal_lists(e);
    Timestamp t = clock_.now();
    e.quality_score = compute_quality_score(e, config_.signal_specs, t);
    e.enriched_at = t;
    for (Signal s : kAllSignals) ++summary.counts[idx(s)][static_cast<std::size_t>(e.result(s).status)];
    ++summary.leads;
    ++n;
    sink(std::move(e));
    e = EnrichedLead();  // what the sink left in it goes now, as it would with the lead
    ++front_seq_;
    if (front_seq_ - slab_seq_ == kSlabLeads) {  // the front slab's last lead has left
      spare_ = std::move(slabs_.front());
      slabs_.pop_front();
      slab_seq_ += kSlabLeads;
    }
  }
  return n;
}

}  // namespace leadenrich::internal
