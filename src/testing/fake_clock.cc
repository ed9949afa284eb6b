#include "leadenrich/testing/fake_clock.h"

#include <mutex>

namespace leadenrich::testing {

struct FakeClock::State {
  mutable std::mutex mu;
  Timestamp wall;
  std::chrono::milliseconds elapsed{0};
  std::chrono::milliseconds slept{0};
};

FakeClock::FakeClock(Timestamp start) : state_(std::make_shared<State>()) { state_->wall = start; }

Timestamp FakeClock::now() const {
  std::lock_guard lock(state_->mu);
  return state_->wall + state_->elapsed;
}

Clock::SteadyTime FakeClock::steady_now() const {
  std::lock_guard lock(state_->mu);
  return SteadyTime{} + std::chrono::hours(1) + state_->elapsed;
}

void FakeClock::sleep_for(std::chrono::milliseconds d) {
  if (d.count() <= 0) return;
  std::lock_guard lock(state_->mu);
  state_->elapsed += d;
  state_->slept += d;
}

std::chrono::milliseconds FakeClock::slept() const {
  std::lock_guard lock(state_->mu);
  return state_->slept;
}

}  // namespace leadenrich::testing
