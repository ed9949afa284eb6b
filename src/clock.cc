#include "leadenrich/clock.h"

#include <mutex>
#include <thread>

namespace leadenrich {
namespace {

class SystemClock : public Clock {
 public:
  Timestamp now() const override {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  }
  SteadyTime steady_now() const override { return std::chrono::steady_clock::now(); }
  void sleep_for(std::chrono::milliseconds d) override { std::this_thread::sleep_for(d); }
};

}  // namespace

std::shared_ptr<Clock> system_clock() {
  static const std::shared_ptr<Clock> kClock = std::make_shared<SystemClock>();
  return kClock;
}

namespace testing {

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

}  // namespace testing
}  // namespace leadenrich
