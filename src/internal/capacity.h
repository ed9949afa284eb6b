// How many records to keep in flight, learned from pipe0's answers. Every run-creating response
// says at which priority the run was admitted (X-Task-Priority) and how many records the org may
// still submit at P1 (X-P1-Capacity): the records this client had in flight when it sent that run
// plus that remainder estimate the org's P1 capacity. The controller keeps in flight just under
// the lowest recent estimate (other clients of the org lower it; late answers only raise it),
// backs off multiplicatively when runs are admitted at P2 or worse, recovers while P1 has room,
// and holds submissions when P2 is exhausted (pipe0's advice: let runs finish).
#ifndef LEADENRICH_INTERNAL_CAPACITY_H_
#define LEADENRICH_INTERNAL_CAPACITY_H_

#include <array>
#include <cstddef>
#include <optional>

namespace leadenrich::internal {

/// What an admission answer said (any part may be missing).
struct Admission {
  std::optional<int> priority;
  std::optional<int> p1_left;
  std::optional<int> p2_left;
};

class CapacityController {
 public:
  /// Before anything is known: the smallest pipe0 plan's P1 capacity, so a first wave never
  /// lands at P2 whatever the plan.
  static constexpr std::size_t kInitialWindow = 20;
  /// Without capacity headers the window grows by what is answered, up to the ceiling or else this.
  static constexpr std::size_t kBlindMaximum = 200;

  /// `ceiling`: never more than this in flight; 0 for none.
  explicit CapacityController(std::size_t ceiling);

  /// Records that may be in flight now (at least 1).
  std::size_t limit() const;
  /// True once an admission answer carried P1 capacity.
  bool learned() const { return estimate_.has_value(); }
  /// True when pipe0 said P2 is exhausted: send nothing more until a run finishes.
  bool hold() const { return hold_; }

  /// A run was admitted; `in_flight_at_send` counts this client's records in flight when it was
  /// sent, itself included; `records` is its size.
  void on_admission(std::size_t in_flight_at_send, std::size_t records, const Admission& a);
  /// A run finished (its records left flight).
  void on_release() { hold_ = false; }

  /// The current estimate of the org's P1 capacity, if learned.
  std::optional<std::size_t> estimate() const { return estimate_; }

 private:
  void recompute();

  std::size_t ceiling_;
  std::array<std::size_t, 8> samples_{};  // the last estimates, a ring
  std::size_t sample_count_ = 0;
  std::optional<std::size_t> estimate_;
  double backoff_ = 1.0;  // multiplies the estimate; below 1 after admissions at P2
  std::size_t blind_ = kInitialWindow;
  bool hold_ = false;
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_CAPACITY_H_
