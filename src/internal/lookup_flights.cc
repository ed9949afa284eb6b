#include "internal/lookup_flights.h"

namespace leadenrich::internal {

void Mailbox::post(BatchEvent e) {
  std::lock_guard lock(mu);
  events.push_back(std::move(e));
  cv.notify_one();
}

void Mailbox::post(Landing l) {
  std::lock_guard lock(mu);
  landings.push_back(std::move(l));
  cv.notify_one();
}

bool LookupFlights::claim(const std::string& key, Waiter waiter) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = flying_.try_emplace(key);
  if (!inserted) it->second.push_back(std::move(waiter));
  return inserted;
}

void LookupFlights::land(const std::string& key, const std::optional<LookupOutcome>& outcome,
                         const std::string& run_id) {
  std::vector<Waiter> waiters;
  {
    std::lock_guard lock(mu_);
    auto it = flying_.find(key);
    if (it == flying_.end()) return;
    waiters = std::move(it->second);
    flying_.erase(it);
    if (outcome) ++landings_;
  }
  // Outside the lock: a waiter only posts to a mailbox, but must never be able to call back in.
  for (Waiter& w : waiters) w(Landing{key, outcome, run_id});
}

std::size_t LookupFlights::flying() const {
  std::lock_guard lock(mu_);
  return flying_.size();
}

}  // namespace leadenrich::internal
