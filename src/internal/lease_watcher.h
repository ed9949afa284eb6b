// Lookups another process holds the lease on (single flight across processes, store.h): this
// process does not send them but watches the cache for their answers. One poll reads the cache
// for every watched lookup and asks for the leases of those still missing in one call, backing
// off from 50 ms to 500 ms while nothing changes. An answer found is handed out as cached (the
// other process paid for it); a lease that came free without an answer (its owner failed, or
// died and the lease expired) is now this process's, which sends the lookup itself.
#ifndef LEADENRICH_INTERNAL_LEASE_WATCHER_H_
#define LEADENRICH_INTERNAL_LEASE_WATCHER_H_

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "internal/run.h"
#include "leadenrich/clock.h"

namespace leadenrich::internal {

class LeaseWatcher {
 public:
  static constexpr std::chrono::milliseconds kFirstPoll{50};
  static constexpr std::chrono::milliseconds kMaxPoll{500};

  struct Answered {
    LookupKey key;
    LookupOutcome outcome;  ///< as the cache holds it (from_cache), or a failed read
  };
  struct PollResult {
    std::vector<Answered> answered;  ///< no longer watched
    std::vector<LookupKey> taken;     ///< this process holds the lease now and must send it; no longer watched
    Status error;                    ///< the store failed: nothing changed (the hooks noted the fault)
  };

  /// Uses `hooks`' get, acquire_leases and release_lease, which must outlive the watcher.
  explicit LeaseWatcher(const CacheHooks& hooks) : hooks_(hooks) {}

  /// Starts watching (nothing when already watched). The first poll after a quiet spell comes
  /// kFirstPoll after `now`.
  void watch(const LookupKey& key, Clock::SteadyTime now);
  /// Stops watching (the lookup ended some other way: cancelled, failed).
  void forget(const LookupKey& key);

  bool empty() const { return watched_.empty(); }
  std::size_t size() const { return watched_.size(); }
  std::vector<LookupKey> watched() const;
  /// When the next poll is due; nullopt when nothing is watched.
  std::optional<Clock::SteadyTime> next_poll() const;

  /// Polls when due (else returns nothing).
  PollResult poll(Clock::SteadyTime now);

 private:
  using Key = std::pair<std::string, Signal>;  // entity, signal: ordered, so a poll's reads go in key order

  const CacheHooks& hooks_;
  std::map<Key, bool> watched_;  // value unused; a map keeps it simple and ordered
  std::chrono::milliseconds interval_ = kFirstPoll;
  Clock::SteadyTime due_{};
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_LEASE_WATCHER_H_
