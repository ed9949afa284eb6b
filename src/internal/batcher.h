// The batcher: entities waiting to be sent, grouped by the set of pipes they need (one request
// carries one pipe set), parked while a retry waits out its backoff, and cut into batches no
// larger than the request kind allows and the room in flight permits. It also chooses sync or
// async by the records the run has planned (known so far), never by what it has already sent.
#ifndef LEADENRICH_INTERNAL_BATCHER_H_
#define LEADENRICH_INTERNAL_BATCHER_H_

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "internal/lookup_table.h"
#include "leadenrich/clock.h"
#include "leadenrich/engine.h"

namespace leadenrich::internal {

/// Entities to send together for the same signals.
struct Group {
  Mask mask = 0;
  std::vector<std::string> entities;
};

class Batcher {
 public:
  explicit Batcher(const EngineOptions& options) : options_(options) {}

  /// A new entity needs `mask` looked up (counts towards the planned records).
  void enqueue(const std::string& entity, Mask mask);
  /// A retry: `group` waits until `at`, then goes out before anything queued behind it.
  void park(Clock::SteadyTime at, Group group);
  /// Moves every parked group whose time has come back to the front of its queue.
  void unpark_due(Clock::SteadyTime now);
  /// The earliest parked time, if any.
  std::optional<Clock::SteadyTime> next_unpark() const;

  /// Whether the next batch goes sync. kAuto: sync until the planned records pass the
  /// threshold, then async for the rest of the run.
  bool next_is_sync();
  /// Records planned so far (each entity x pipe set once, retries not counted).
  std::size_t planned() const { return planned_; }
  /// Records queued (not parked).
  std::size_t queued() const { return queued_; }
  /// Records queued or parked.
  std::size_t waiting() const;

  /// Takes the next batch of at most `room` records for a request of that kind.
  std::optional<Group> take(std::size_t room, bool sync);
  /// Removes everything queued and parked (for cancellation or a fatal error).
  std::vector<Group> drain();

 private:
  const EngineOptions& options_;
  bool async_latched_ = false;  // kAuto: the plan passed the threshold
  std::map<Mask, std::deque<std::string>> queues_;
  std::multimap<Clock::SteadyTime, Group> parked_;
  std::size_t queued_ = 0;          // records in queues_
  std::size_t parked_records_ = 0;  // records in parked_
  std::size_t planned_ = 0;
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_BATCHER_H_
