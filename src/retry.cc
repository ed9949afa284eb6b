#include "internal/retry_loop.h"
#include "leadenrich/retry.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <random>

namespace leadenrich {
namespace {

// IMF-fixdate: "Wed, 21 Oct 2015 07:28:00 GMT".
std::optional<Timestamp> parse_http_date(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::size_t comma = s.find(", ");
  if (comma == std::string_view::npos) return std::nullopt;
  s.remove_prefix(comma + 2);
  if (s.size() < 20) return std::nullopt;
  auto num = [&](std::size_t pos, std::size_t len) -> int {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  int day = num(0, 2);
  std::string_view mon = s.substr(3, 3);
  int year = num(7, 4);
  int hh = num(12, 2), mm = num(15, 2), ss = num(18, 2);
  auto it = std::find(kMonths.begin(), kMonths.end(), mon);
  if (day < 0 || year < 0 || hh < 0 || mm < 0 || ss < 0 || it == kMonths.end()) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year{year},
                                  std::chrono::month{static_cast<unsigned>(it - kMonths.begin() + 1)},
                                  std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  return Timestamp{std::chrono::sys_days{ymd} + std::chrono::hours{hh} + std::chrono::minutes{mm} +
                   std::chrono::seconds{ss}};
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value, Timestamp now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    if (value.size() > 9) return std::chrono::milliseconds(std::chrono::hours(24 * 365));
    long long seconds = std::stoll(std::string(value));
    return std::chrono::milliseconds(seconds * 1000);
  }
  std::optional<Timestamp> at = parse_http_date(value);
  if (!at) return std::nullopt;
  if (*at <= now) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(*at - now);
}

bool is_transient_http_status(int status) {
  return status == 408 || status == 425 || status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

bool may_retry(const HttpOutcome& outcome, Idempotency idempotency) {
  if (outcome.response.ok()) {
    int status = outcome.response->status;
    if (idempotency == Idempotency::kCreatesRun) return status == 429 || status == 503;
    return is_transient_http_status(status);
  }
  switch (outcome.failure) {
    case TransportFailure::kNotSent: return true;
    case TransportFailure::kTimeout:
    case TransportFailure::kConnectionLost: return idempotency == Idempotency::kIdempotent;
    case TransportFailure::kNone:
    case TransportFailure::kCancelled: return false;
  }
  return false;
}

RetryState::RetryState(const RetryPolicy& policy, Idempotency idempotency, const Clock& clock, std::uint64_t seed)
    : policy_(policy), idempotency_(idempotency), clock_(clock), start_(clock.steady_now()),
      rng_(seed != 0 ? seed : (static_cast<std::uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}()) {}

std::chrono::milliseconds backoff_delay(const BackoffPolicy& policy, int attempt, double unit) {
  double delay = static_cast<double>(policy.initial.count());
  double maximum = static_cast<double>(policy.maximum.count());
  for (int i = 1; i < attempt && delay < maximum; ++i) delay *= policy.multiplier;
  delay = std::min(delay, maximum);
  double jitter = std::clamp(policy.jitter, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<long long>(delay * (1.0 - jitter * std::clamp(unit, 0.0, 1.0))));
}

double next_unit(std::uint64_t& state) {
  // xorshift64*: a small, fast generator; jitter needs spread, not cryptographic strength.
  if (state == 0) state = 0x9e3779b97f4a7c15ULL;
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return static_cast<double>((state * 2685821657736338717ULL) >> 11) / static_cast<double>(1ULL << 53);
}

std::chrono::milliseconds RetryState::backoff(int attempt) {
  return backoff_delay(policy_.backoff, attempt, next_unit(rng_));
}

std::optional<std::chrono::milliseconds> RetryState::next_delay(const HttpOutcome& outcome) {
  ++attempts_;
  if (outcome.response.ok() && outcome.response->status < 400) return std::nullopt;
  if (!may_retry(outcome, idempotency_)) return std::nullopt;
  if (attempts_ >= policy_.limits.max_attempts) return std::nullopt;
  std::chrono::milliseconds delay = backoff(attempts_);
  if (outcome.response.ok()) {
    if (std::optional<std::string> ra = outcome.response->headers.get("Retry-After")) {
      if (std::optional<std::chrono::milliseconds> wait = parse_retry_after(*ra, clock_.now())) {
        if (*wait > policy_.max_retry_after) return std::nullopt;
        delay = std::max(delay, *wait);
      }
    }
  }
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.steady_now() - start_);
  if (elapsed + delay > policy_.limits.max_elapsed) return std::nullopt;
  return delay;
}

HttpOutcome send_with_retry(HttpTransport& transport, const HttpRequest& request, const RetryPolicy& policy,
                            Idempotency idempotency, Clock& clock, int* attempts) {
  RetryState state(policy, idempotency, clock);
  while (true) {
    HttpOutcome outcome = transport.send(request);
    std::optional<std::chrono::milliseconds> delay = state.next_delay(outcome);
    if (!delay) {
      if (attempts != nullptr) *attempts = state.attempts();
      return outcome;
    }
    clock.sleep_for(*delay);
  }
}

}  // namespace leadenrich
