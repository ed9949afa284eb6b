// Time, injected: the real clock in production, a fake that never sleeps in tests.
#ifndef LEADENRICH_CLOCK_H_
#define LEADENRICH_CLOCK_H_

#include <chrono>
#include <memory>

#include "leadenrich/time.h"

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

}  // namespace leadenrich

#endif  // LEADENRICH_CLOCK_H_
