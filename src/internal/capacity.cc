#include "internal/capacity.h"

#include <algorithm>

namespace leadenrich::internal {

CapacityController::CapacityController(std::size_t ceiling) : ceiling_(ceiling) {}

std::size_t CapacityController::limit() const {
  std::size_t window = blind_;
  if (estimate_) {
    // Just under the estimate: a 2% margin (at least a record) absorbs answers that raced.
    std::size_t target = *estimate_ - std::min(*estimate_, std::max<std::size_t>(1, *estimate_ / 50));
    window = static_cast<std::size_t>(static_cast<double>(target) * backoff_);
  }
  if (ceiling_ > 0) window = std::min(window, ceiling_);
  return std::max<std::size_t>(1, window);
}

void CapacityController::on_admission(std::size_t in_flight_at_send, std::size_t records, const Admission& a) {
  if (a.p2_left && *a.p2_left <= 0) hold_ = true;
  bool below_p1 = a.priority && *a.priority >= 2;
  if (!a.p1_left) {
    if (!below_p1) {
      // No capacity headers: grow like a slow start, by what was answered, up to the ceiling
      // when one is set (the best knowledge there is), else a moderate maximum.
      blind_ = std::min(ceiling_ > 0 ? ceiling_ : kBlindMaximum, blind_ + records);
    } else {
      blind_ = std::max<std::size_t>(1, blind_ / 2);
    }
    return;
  }
  // Admitted at P2: pipe0 counted more than P1 in flight, so what this client had is an upper
  // bound of its share.
  std::size_t sample = below_p1 ? in_flight_at_send - std::min(in_flight_at_send, records)
                                : in_flight_at_send + static_cast<std::size_t>(std::max(0, *a.p1_left));
  samples_[sample_count_++ % samples_.size()] = std::max<std::size_t>(1, sample);
  if (below_p1) {
    backoff_ = std::max(0.5, backoff_ * 0.8);
  } else if (*a.p1_left > 0) {
    backoff_ = std::min(1.0, backoff_ + 0.05);
  }
  recompute();
}

void CapacityController::recompute() {
  std::size_t n = std::min(sample_count_, samples_.size());
  estimate_ = *std::min_element(samples_.begin(), samples_.begin() + static_cast<std::ptrdiff_t>(n));
}

}  // namespace leadenrich::internal
