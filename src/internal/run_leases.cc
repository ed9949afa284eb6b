// RunLookups' part in single flight across processes (store.h, lease_watcher.h): when the store
// is shared, a request's lookups are leased as it is sent; those another process holds wait for
// its answer in the cache instead of being paid for again.
#include "internal/run_lookups.h"

namespace leadenrich::internal {

std::vector<Group> RunLookups::lease(std::vector<Group> groups) {
  if (!watcher_) return groups;
  std::vector<LookupKey> keys;
  for (const Group& g : groups) {
    for (const std::string& entity : g.entities) {
      for (Signal s : kAllSignals) {
        if (g.mask & bit(s)) keys.push_back(LookupKey{s, entity});
      }
    }
  }
  if (keys.empty()) return groups;
  Result<std::vector<bool>> got = ctx_.cache.acquire_leases(keys);
  if (!got.ok() || got->size() != keys.size()) {
    Status st = got.ok() ? internal_error("the store answered the wrong number of lookup leases") : got.status();
    fatal_ = st;
    for (Group& g : groups) {
      for (const std::string& entity : g.entities) release(entity, g.mask);
      conclude_all(g.entities, g.mask, st, "", false);
      g.entities.clear();
    }
    return groups;
  }
  Clock::SteadyTime now = ctx_.clock->steady_now();
  // Leases taken now: another process may have stored the answer (ending its lease) since this
  // run missed it, so they are read again, all in one store call.
  std::vector<LookupKey> taken;
  std::vector<std::vector<Mask>> leased(groups.size());
  std::size_t k = 0;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const Group& g = groups[i];
    leased[i].assign(g.entities.size(), 0);
    for (std::size_t e = 0; e < g.entities.size(); ++e) {
      const std::string& entity = g.entities[e];
      for (Signal s : kAllSignals) {
        if (!(g.mask & bit(s))) continue;
        bool ours = (*got)[k++];
        Lookup* lk = table_.find(entity, s);
        if (lk == nullptr || lk->done) {
          if (ours && (lk == nullptr || !lk->leased)) ctx_.cache.release_lease(s, entity);  // nothing to send
          continue;
        }
        if (!ours) {
          lk->watching = true;
          watcher_->watch(LookupKey{s, entity}, now);
          continue;
        }
        lk->leased = true;
        leased[i][e] |= bit(s);
        taken.push_back(LookupKey{s, entity});
      }
    }
  }
  std::vector<std::optional<LookupOutcome>> stored = read_all(taken);
  std::vector<std::pair<LookupKey, LookupOutcome>> answered;
  std::size_t t = 0;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    Group& g = groups[i];
    std::vector<std::string> send_all;
    for (std::size_t e = 0; e < g.entities.size(); ++e) {
      std::string& entity = g.entities[e];
      Mask send = 0;
      for (Signal s : kAllSignals) {
        if (!(leased[i][e] & bit(s))) continue;
        if (std::optional<LookupOutcome>& hit = stored[t++]) {
          answered.emplace_back(LookupKey{s, entity}, std::move(*hit));
        } else {
          send |= bit(s);
        }
      }
      Mask not_sent = static_cast<Mask>(g.mask & ~send);
      if (not_sent != 0) release(entity, not_sent);
      if (send == g.mask) {
        send_all.push_back(std::move(entity));
      } else if (send != 0) {
        batcher_.park(now, Group{send, {entity}});  // its other signals are answered or watched
      }
    }
    g.entities = std::move(send_all);
  }
  for (auto& [key, outcome] : answered) answer_elsewhere(key.entity, key.signal, std::move(outcome));
  return groups;
}

void RunLookups::poll_leases() {
  if (!watcher_) return;
  LeaseWatcher::PollResult r = watcher_->poll(ctx_.clock->steady_now());
  if (!r.error.ok()) {
    fatal_ = r.error;
    for (const LookupKey& k : watcher_->watched()) finish(k.entity, k.signal, failed_outcome(k.signal, r.error), "");
    return;
  }
  for (LeaseWatcher::Answered& a : r.answered) answer_elsewhere(a.key.entity, a.key.signal, std::move(a.outcome));
  for (const LookupKey& k : r.taken) {
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
