#include "internal/lease_watcher.h"

#include <algorithm>

namespace leadenrich::internal {

void LeaseWatcher::watch(const LookupKey& key, Clock::SteadyTime now) {
  if (watched_.empty()) {
    interval_ = kFirstPoll;
    due_ = now + interval_;
  }
  watched_.try_emplace(Key{key.entity, key.signal}, true);
}

void LeaseWatcher::forget(const LookupKey& key) { watched_.erase(Key{key.entity, key.signal}); }

std::vector<LookupKey> LeaseWatcher::watched() const {
  std::vector<LookupKey> out;
  out.reserve(watched_.size());
  for (const auto& [k, unused] : watched_) out.push_back(LookupKey{k.second, k.first});
  return out;
}

std::optional<Clock::SteadyTime> LeaseWatcher::next_poll() const {
  if (watched_.empty()) return std::nullopt;
  return due_;
}

LeaseWatcher::PollResult LeaseWatcher::poll(Clock::SteadyTime now) {
  PollResult out;
  if (watched_.empty() || now < due_) return out;
  std::vector<LookupKey> missing;
  for (const auto& [k, unused] : watched_) {
    if (std::optional<LookupOutcome> hit = hooks_.get(k.second, k.first)) {
      out.answered.push_back(Answered{LookupKey{k.second, k.first}, std::move(*hit)});
    } else {
      missing.push_back(LookupKey{k.second, k.first});
    }
  }
  if (!missing.empty()) {
    Result<std::vector<bool>> got = hooks_.acquire_leases(missing);
    if (!got.ok()) {
      out.answered.clear();
      out.error = got.status();
      return out;
    }
    for (std::size_t i = 0; i < missing.size(); ++i) {
      if (i >= got->size() || !(*got)[i]) continue;
      // The owner may have stored the answer (which ends its lease) between the read above and
      // this lease: read again before paying for it.
      if (std::optional<LookupOutcome> hit = hooks_.get(missing[i].signal, missing[i].entity)) {
        hooks_.release_lease(missing[i].signal, missing[i].entity);
        out.answered.push_back(Answered{missing[i], std::move(*hit)});
      } else {
        out.taken.push_back(missing[i]);
      }
    }
  }
  for (const Answered& a : out.answered) forget(a.key);
  for (const LookupKey& k : out.taken) forget(k);
  bool progress = !out.answered.empty() || !out.taken.empty();
  interval_ = progress ? kFirstPoll : std::min(interval_ * 2, kMaxPoll);
  due_ = now + interval_;
  return out;
}

}  // namespace leadenrich::internal
