// The retry loop behind the public policies (retry.h): what may be re-sent, Retry-After, and
// the attempts of one call.
// Not installed: declarations that used to be public keep the leadenrich namespace, so callers
// only change their #include. Unit tests may include this header.
#ifndef LEADENRICH_INTERNAL_RETRY_LOOP_H_
#define LEADENRICH_INTERNAL_RETRY_LOOP_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "leadenrich/clock.h"
#include "leadenrich/retry.h"
#include "leadenrich/time.h"
#include "leadenrich/transport.h"

namespace leadenrich {

/// A uniform number in [0, 1) from a 64-bit generator state (xorshift64*), advancing the state.
double next_unit(std::uint64_t& state);

/// Whether a request may be sent twice without harm.
enum class Idempotency {
  kIdempotent,  ///< GET, check, validate: retry on any transient failure
  kCreatesRun,  ///< POST that starts billed work: retry only when provably not accepted
};

/// Parses a Retry-After header: delta-seconds ("3") or an HTTP date; nullopt when unreadable.
/// A date in the past gives zero.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value, Timestamp now);

/// True for HTTP statuses that are worth another try: 408 (not from pipe0 sync runs, which the
/// pipe0 client handles), 425, 429, 500, 502, 503, 504.
bool is_transient_http_status(int status);

/// Whether `outcome` of a request with `idempotency` may be re-sent. For kCreatesRun: only a
/// connection that was never made, a 429, or a 503 (the contract's "before processing").
bool may_retry(const HttpOutcome& outcome, Idempotency idempotency);

/// The attempts of one call. Thread-compatible (one call, one state).
class RetryState {
 public:
  RetryState(const RetryPolicy& policy, Idempotency idempotency, const Clock& clock,
             std::uint64_t seed = 0);

  /// After an attempt's outcome: the delay before the next attempt, or nullopt to stop
  /// (success, a final failure, or the policy spent). Honours Retry-After when present.
  std::optional<std::chrono::milliseconds> next_delay(const HttpOutcome& outcome);

  int attempts() const { return attempts_; }

 private:
  std::chrono::milliseconds backoff(int attempt);

  RetryPolicy policy_;
  Idempotency idempotency_;
  const Clock& clock_;
  Clock::SteadyTime start_;
  int attempts_ = 0;
  std::uint64_t rng_;
};

/// Sends `request` through `transport`, retrying per `policy`, sleeping on `clock`.
/// Returns the last outcome; its `attempts` count is written to `attempts` when not null.
HttpOutcome send_with_retry(HttpTransport& transport, const HttpRequest& request, const RetryPolicy& policy,
                            Idempotency idempotency, Clock& clock, int* attempts = nullptr);

}  // namespace leadenrich

#endif  // LEADENRICH_INTERNAL_RETRY_LOOP_H_
