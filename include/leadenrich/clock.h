// Time, injected: the real clock in production, a fake that never sleeps in tests.
#ifndef LEADENRICH_CLOCK_H_
#define LEADENRICH_CLOCK_H_

#include <chrono>
#include <memory>

#include "leadenrich/signals.h"

namespace leadenrich {

/// Wall time (for timestamps), monotonic time (for deadlines and backoff) and waiting.
/// Implementations are thread-safe.
class Clock {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  /// UTC wall time.
  virtual Timestamp now() const = 0;
  /// Monotonic time.
  virtual SteadyTime steady_now() const = 0;
  /// Blocks the calling thread for `d` (a fake clock advances its time instead).
  virtual void sleep_for(std::chrono::milliseconds d) = 0;
};

/// The system clock; sleeps for real.
std::shared_ptr<Clock> system_clock();

namespace testing {

/// A clock that starts at a fixed time and only moves when told to (or when slept on).
class FakeClock : public Clock {
 public:
  explicit FakeClock(Timestamp start = Timestamp{std::chrono::milliseconds{1'764'000'000'000}});
  Timestamp now() const override;
  SteadyTime steady_now() const override;
  /// Advances time by `d` and returns at once.
  void sleep_for(std::chrono::milliseconds d) override;
  void advance(std::chrono::milliseconds d) { sleep_for(d); }
  /// Total time slept through sleep_for.
  std::chrono::milliseconds slept() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace testing
}  // namespace leadenrich

#endif  // LEADENRICH_CLOCK_H_
