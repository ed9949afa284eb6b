#include "internal/flights.h"

#include <algorithm>
#include <utility>

namespace leadenrich::internal {

Flights::Ticket::Ticket(Ticket&& other) noexcept
    : flights_(std::exchange(other.flights_, nullptr)), owned_(std::move(other.owned_)), waited_(other.waited_) {}

Flights::Ticket& Flights::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    land();
    flights_ = std::exchange(other.flights_, nullptr);
    owned_ = std::move(other.owned_);
    waited_ = other.waited_;
  }
  return *this;
}

Flights::Ticket::~Ticket() { land(); }

void Flights::Ticket::land() {
  if (flights_ == nullptr) return;
  {
    std::lock_guard lock(flights_->mu_);
    for (const std::string& key : owned_) flights_->flying_.erase(key);
  }
  flights_->landed_.notify_all();
  flights_ = nullptr;
  owned_.clear();
}

Flights::Ticket Flights::board(std::vector<std::string> keys) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  Ticket ticket;
  ticket.flights_ = this;
  std::unique_lock lock(mu_);
  for (std::string& key : keys) {
    auto it = flying_.find(key);
    if (it != flying_.end()) {
      ++ticket.waited_;
      std::uint64_t id = it->second;
      landed_.wait(lock, [&] {
        auto now = flying_.find(key);
        return now == flying_.end() || now->second != id;
      });
      continue;
    }
    flying_.emplace(key, ++next_id_);
    ticket.owned_.push_back(std::move(key));
  }
  return ticket;
}

}  // namespace leadenrich::internal
