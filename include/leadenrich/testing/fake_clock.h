// A Clock for tests: it starts at a fixed time and only moves when told to, so code that waits
// or backs off runs at once and deterministically.
#ifndef LEADENRICH_TESTING_FAKE_CLOCK_H_
#define LEADENRICH_TESTING_FAKE_CLOCK_H_

#include <chrono>
#include <memory>

#include "leadenrich/clock.h"
#include "leadenrich/time.h"

namespace leadenrich::testing {

/// A clock that starts at a fixed time and only moves when told to (or when slept on).
/// Thread-safe.
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

}  // namespace leadenrich::testing

#endif  // LEADENRICH_TESTING_FAKE_CLOCK_H_
