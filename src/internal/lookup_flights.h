// Single flight per lookup across the runs of one Enricher: the first run that needs an
// (entity, signal) looks it up; every other run that needs it meanwhile waits for that answer
// instead of paying for it again. Each run is told through its own mailbox.
#ifndef LEADENRICH_INTERNAL_LOOKUP_FLIGHTS_H_
#define LEADENRICH_INTERNAL_LOOKUP_FLIGHTS_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "internal/merge.h"
#include "internal/pipe0_port.h"

namespace leadenrich::internal {

/// A lookup another run finished. No outcome: that run gave up on it (it was cancelled), so
/// the waiting run must claim it again.
struct Landing {
  std::string key;
  std::optional<LookupOutcome> outcome;
  std::string run_id;
};

/// A pipe0 answer for one of the run's batches.
struct BatchEvent {
  std::size_t batch = 0;
  Result<BatchResponse> response = Status(StatusCode::kUnknown, "no response");
};

/// Where transport threads and other runs leave what a run waits for. Shared, so a late
/// callback after the run ended (after cancellation, say) writes into a mailbox nobody reads.
struct Mailbox {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<BatchEvent> events;
  std::deque<Landing> landings;

  void post(BatchEvent e);
  void post(Landing l);
};

class LookupFlights {
 public:
  using Waiter = std::function<void(Landing)>;

  /// True: nobody flies `key`, the caller now does and must land() it. False: another run flies
  /// it; `waiter` is called exactly once, when it lands.
  bool claim(const std::string& key, Waiter waiter);

  /// The flier's answer (nullopt when it gave up) goes to every waiter; the key is free again.
  void land(const std::string& key, const std::optional<LookupOutcome>& outcome, const std::string& run_id);

  /// Keys in flight (for tests).
  std::size_t flying() const;

  /// How many answers were landed so far, over the Enricher's life. A run that read a miss from
  /// the store and then claims the key need not read it again when nobody else landed anything
  /// since: every landed answer was stored before it landed.
  std::uint64_t landings() const { return landings_.load(); }

  /// A waiting run took a landed answer instead of paying for its own lookup.
  void note_shared() { shared_.fetch_add(1, std::memory_order_relaxed); }
  /// How many times that happened, over the Enricher's life.
  std::uint64_t shared() const { return shared_.load(std::memory_order_relaxed); }

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::vector<Waiter>> flying_;
  std::atomic<std::uint64_t> shared_{0};
  std::atomic<std::uint64_t> landings_{0};
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_LOOKUP_FLIGHTS_H_
