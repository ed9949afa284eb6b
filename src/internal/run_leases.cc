// RunLookups' part in single flight across processes (store.h, lease_watcher.h): when the store
// is shared, a request's lookups are leased as it is sent; those another process holds wait for
// its answer in the cache instead of being paid for again.
#include "internal/run_lookups.h"

namespace leadenrich::internal {

Group RunLookups::lease(Group g) {
  if (!watcher_ || g.entities.empty()) return g;
  std::vector<Signal> signals;
  for (Signal s : kAllSignals) {
    if (g.mask & bit(s)) signals.push_back(s);
  }
  std::vector<LeaseKey> keys;
  keys.reserve(g.entities.size() * signals.size());
  for (const std::string& entity : g.entities) {
    for (Signal s : signals) keys.push_back(LeaseKey{s, entity});
  }
  Result<std::vector<bool>> got = ctx_.cache.acquire_leases(keys);
  if (!got.ok() || got->size() != keys.size()) {
    Status st = got.ok() ? internal_error("the store answered the wrong number of lookup leases") : got.status();
    fatal_ = st;
    for (const std::string& entity : g.entities) release(entity, g.mask);
    conclude_all(g.entities, g.mask, st, "", false);
    return Group{g.mask, {}};
  }
  Clock::SteadyTime now = ctx_.clock->steady_now();
  Group out{g.mask, {}};
  std::vector<std::pair<LeaseKey, LookupOutcome>> answered;
  std::size_t k = 0;
  for (std::string& entity : g.entities) {
    Mask send = 0, elsewhere = 0;
    for (Signal s : signals) {
      bool ours = (*got)[k++];
      Lookup* lk = table_.find(entity, s);
      if (lk == nullptr || lk->done) {
        if (ours && (lk == nullptr || !lk->leased)) ctx_.cache.release_lease(s, entity);  // nothing to send
        continue;
      }
      if (!ours) {
        elsewhere |= bit(s);
        lk->watching = true;
        watcher_->watch(LeaseKey{s, entity}, now);
        continue;
      }
      lk->leased = true;
      // Another process may have stored the answer (ending its lease) since this run missed it.
      if (std::optional<LookupOutcome> hit = ctx_.cache.get(s, entity)) {
        answered.emplace_back(LeaseKey{s, entity}, std::move(*hit));
      } else {
        send |= bit(s);
      }
    }
    Mask not_sent = static_cast<Mask>(g.mask & ~send);
    if (not_sent != 0) release(entity, not_sent);
    if (send == g.mask) {
      out.entities.push_back(std::move(entity));
    } else if (send != 0) {
      batcher_.park(now, Group{send, {entity}});  // its other signals are answered or watched
    }
  }
  for (auto& [key, outcome] : answered) answer_elsewhere(key.entity, key.signal, std::move(outcome));
  return out;
}

void RunLookups::poll_leases() {
  if (!watcher_) return;
  LeaseWatcher::PollResult r = watcher_->poll(ctx_.clock->steady_now());
  if (!r.error.ok()) {
    fatal_ = r.error;
    for (const LeaseKey& k : watcher_->watched()) finish(k.entity, k.signal, failed_outcome(k.signal, r.error), "");
    return;
  }
  for (LeaseWatcher::Answered& a : r.answered) answer_elsewhere(a.key.entity, a.key.signal, std::move(a.outcome));
  for (const LeaseKey& k : r.taken) {
    Lookup* lk = table_.find(k.entity, k.signal);
    if (lk == nullptr || lk->done) {
      ctx_.cache.release_lease(k.signal, k.entity);
      continue;
    }
    // Its owner let go without an answer (it failed, or died and the lease expired): this
    // process holds the lease now and sends the lookup itself.
    lk->watching = false;
    lk->leased = true;
    mark_active(k.entity, bit(k.signal));
    batcher_.park(ctx_.clock->steady_now(), Group{bit(k.signal), {k.entity}});
  }
}

std::optional<Clock::SteadyTime> RunLookups::next_lease_poll() const {
  return watcher_ ? watcher_->next_poll() : std::nullopt;
}

void RunLookups::answer_elsewhere(const std::string& entity, Signal s, LookupOutcome o) {
  Lookup* lk = table_.find(entity, s);
  if (lk == nullptr || lk->done) return;
  if (o.result.status == SignalStatus::kFound || o.result.status == SignalStatus::kNoResult) {
    // Another process paid for it: to this run's leads it is a cache hit, billed to nobody here.
    o.billed = false;
    lk->from_cache = true;
    lk->answered_elsewhere = true;
    if (summary_.lookups > 0) --summary_.lookups;
    ++summary_.cache_hits;
    ++progress_.cache_hits;
  }
  finish(entity, s, std::move(o), "");
}

void RunLookups::end_lease(Lookup& lk) {
  if (!lk.leased) return;
  lk.leased = false;
  ctx_.cache.release_lease(lk.signal, lk.entity);
}

}  // namespace leadenrich::internal
