// The batch tracker: the requests a run has out, their poll times, and the judgement of what an
// answer means — done, poll again, send again (pipe0 provably did not accept it), or failed. It
// learns pipe0's latency from finished runs so the first poll of an async run comes near it.
#ifndef LEADENRICH_INTERNAL_BATCH_TRACKER_H_
#define LEADENRICH_INTERNAL_BATCH_TRACKER_H_

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "internal/lookup_table.h"
#include "internal/pipe0_port.h"
#include "leadenrich/clock.h"
#include "leadenrich/engine.h"

namespace leadenrich::internal {

struct Batch {
  Mask mask = 0;
  std::vector<std::string> entities;  ///< record id = index + 1
  bool sync = true;
  std::string run_id;
  Clock::SteadyTime sent{};
  std::size_t in_flight_at_send = 0;  ///< the run's records in flight when sent, these included
  bool admitted = false;              ///< its admission answer has been read
  bool journaled = false;             ///< recorded as submitted (CacheHooks::submitted)
  int polls = 0;
  std::chrono::milliseconds poll_interval{0};
};

/// What to do after a request failed.
enum class Verdict {
  kResend,     ///< provably not accepted (429, 503, never sent): send the records again later
  kPollAgain,  ///< a check of an accepted run failed: ask again, never re-submit
  kRetry,      ///< failed, worth another try per lookup (5xx after acceptance, timeouts)
  kFinal,      ///< failed for good (invalid request, run not found)
  kFatal,      ///< every further request would fail the same way (key, credits): stop spending
};
Verdict judge_failure(const Status& st, const Batch& b, Clock::SteadyTime now, std::chrono::milliseconds deadline);

/// Whether a lookup answered failed is worth asking again. Not for what cannot change by
/// asking: invalid input, an unmet requirement, credits, keys, a pipe that does not give the
/// output, a run that is gone, cancellation or the budget.
bool is_transient(const std::optional<Reason>& reason);

/// True for "completed", "failed", "canceled"/"cancelled".
bool is_terminal(const std::string& run_status);

class BatchTracker {
 public:
  explicit BatchTracker(const EngineOptions& options) : options_(options) {}

  std::size_t add(Batch b);
  Batch* find(std::size_t id);
  /// Removes a batch, returning it; its records leave flight.
  Batch take(std::size_t id);
  std::vector<std::size_t> ids() const;
  std::size_t records_in_flight() const { return records_in_flight_; }

  /// Schedules the batch's next check, the first near pipe0's observed latency, later ones
  /// growing 1.5x up to poll_max.
  void schedule_poll(std::size_t id, Clock::SteadyTime now);
  /// Batches whose poll time has come (removed from the schedule).
  std::vector<std::size_t> due_polls(Clock::SteadyTime now);
  std::optional<Clock::SteadyTime> next_poll() const;

  /// An answer for `b` (finished or not) feeds the latency estimate: a sync run's round trip,
  /// or what an async run's first check says.
  void observe(const Batch& b, Clock::SteadyTime now, bool finished);
  std::optional<std::chrono::milliseconds> latency() const { return latency_; }

 private:
  const EngineOptions& options_;
  std::unordered_map<std::size_t, Batch> batches_;
  std::multimap<Clock::SteadyTime, std::size_t> polls_;
  std::size_t next_id_ = 0;
  std::size_t records_in_flight_ = 0;
  std::optional<std::chrono::milliseconds> latency_;
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_BATCH_TRACKER_H_
