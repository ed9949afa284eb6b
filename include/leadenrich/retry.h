// Retry as small separate policies: how many attempts and how long, how to back off. The clients
// apply them to each call (the loop itself is internal): Pipe0Options, AturiyaOptions and
// EngineOptions each take a RetryPolicy.
#ifndef LEADENRICH_RETRY_H_
#define LEADENRICH_RETRY_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "leadenrich/clock.h"
#include "leadenrich/transport.h"

namespace leadenrich {

/// When to give up.
struct RetryLimits {
  int max_attempts = 5;                            ///< including the first
  std::chrono::milliseconds max_elapsed{120'000};  ///< from the first attempt
};

/// Truncated exponential backoff with jitter: delay n = min(max, initial * multiplier^(n-1)),
/// then a random fraction `jitter` of it is taken off ("equal jitter" when 0.5).
struct BackoffPolicy {
  std::chrono::milliseconds initial{500};
  std::chrono::milliseconds maximum{30'000};
  double multiplier = 2.0;
  double jitter = 0.5;  ///< 0 = none, 1 = full jitter
};

/// The delay before attempt `attempt + 1` (attempt >= 1): min(maximum, initial * multiplier^(attempt-1)),
/// less the fraction `jitter * unit` of it, where `unit` is a uniform random number in [0, 1).
/// The one backoff formula: the clients' retries and the engine's re-sends both use it.
std::chrono::milliseconds backoff_delay(const BackoffPolicy& policy, int attempt, double unit);

struct RetryPolicy {
  RetryLimits limits;
  BackoffPolicy backoff;
  /// A provider's Retry-After longer than this is not waited for: the call fails instead.
  std::chrono::milliseconds max_retry_after{120'000};
};

}  // namespace leadenrich

#endif  // LEADENRICH_RETRY_H_
