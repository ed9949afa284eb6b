// RunLookups' reads of the store: a block of leads' lookups at once before the leads are
// admitted (Prefetch), one lookup at a time otherwise, and several at once when leases are taken.
#include "internal/run_lookups.h"

namespace leadenrich::internal {

void RunLookups::prefetch(const std::vector<LeadPlan>& plans) {
  prefetched_.clear();
  if (!ctx_.cache.get_many) return;
  std::vector<LookupKey> keys;
  for (const LeadPlan& plan : plans) {
    for (Signal s : kAllSignals) {
      const std::string& entity = plan.entity[idx(s)];
      if (!entity.empty() && table_.find(entity, s) == nullptr && !table_.kept(entity, s)) {
        keys.push_back(LookupKey{s, entity});
      }
    }
  }
  prefetch_mark_ = landed_by_others();
  prefetched_.read(ctx_.cache, keys);
}

std::optional<LookupOutcome> RunLookups::read(Signal s, const std::string& entity) {
  std::optional<LookupOutcome> out;
  if (prefetched_.take(entity, s, out)) {
    read_mark_ = prefetch_mark_;
    return out;
  }
  read_mark_ = landed_by_others();
  return ctx_.cache.get(s, entity);
}

std::vector<std::optional<LookupOutcome>> RunLookups::read_all(const std::vector<LookupKey>& keys) {
  if (keys.empty()) return {};
  if (ctx_.cache.get_many) {
    std::vector<std::optional<LookupOutcome>> got = ctx_.cache.get_many(keys);
    if (got.size() == keys.size()) return got;
  }
  std::vector<std::optional<LookupOutcome>> out;
  out.reserve(keys.size());
  for (const LookupKey& key : keys) out.push_back(ctx_.cache.get(key.signal, key.entity));
  return out;
}

}  // namespace leadenrich::internal
