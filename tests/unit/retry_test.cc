// Retry policies on a fake clock: backoff bounds, limits, Retry-After, idempotency.
#include <doctest/doctest.h>

#include "internal/retry_loop.h"
#include "leadenrich/retry.h"
#include "leadenrich/testing/fake_clock.h"
#include "leadenrich/testing/fake_transport.h"

using namespace leadenrich;
using namespace std::chrono_literals;

namespace {

HttpOutcome response(int status, std::string retry_after = "") {
  HttpOutcome o;
  HttpResponse r{status, {}, ""};
  if (!retry_after.empty()) r.headers.add("Retry-After", retry_after);
  o.response = r;
  return o;
}

HttpOutcome failure(TransportFailure f) {
  HttpOutcome o;
  o.response = Status(StatusCode::kUnavailable, "x");
  o.failure = f;
  return o;
}

}  // namespace

TEST_CASE("backoff grows exponentially, is capped, and jitter only shortens it") {
  testing::FakeClock clock;
  RetryPolicy p;
  p.limits.max_attempts = 10;
  p.limits.max_elapsed = 10h;
  p.backoff = {100ms, 1000ms, 2.0, 0.5};
  RetryState state(p, Idempotency::kIdempotent, clock, 7);
  const long long ceilings[] = {100, 200, 400, 800, 1000, 1000};
  for (long long ceiling : ceilings) {
    auto d = state.next_delay(response(503));
    REQUIRE(d.has_value());
    CHECK(d->count() <= ceiling);
    CHECK(d->count() >= ceiling / 2);
  }
}

TEST_CASE("attempts and elapsed time limit the retries") {
  testing::FakeClock clock;
  RetryPolicy p;
  p.limits.max_attempts = 3;
  RetryState state(p, Idempotency::kIdempotent, clock, 1);
  CHECK(state.next_delay(response(500)).has_value());
  CHECK(state.next_delay(response(500)).has_value());
  CHECK_FALSE(state.next_delay(response(500)).has_value());
  CHECK(state.attempts() == 3);

  RetryPolicy q;
  q.limits.max_elapsed = 1s;
  q.backoff.initial = 400ms;
  q.backoff.jitter = 0;
  RetryState timed(q, Idempotency::kIdempotent, clock, 1);
  CHECK(timed.next_delay(response(502)) == 400ms);
  clock.advance(700ms);
  CHECK_FALSE(timed.next_delay(response(502)).has_value());  // 700 + 800 would pass 1 s
}

TEST_CASE("Retry-After in seconds or as an HTTP date is honoured, and a too-long one stops") {
  testing::FakeClock clock(parse_timestamp("2015-10-21T07:28:00Z").value());
  CHECK(parse_retry_after("3", clock.now()) == 3000ms);
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", clock.now()) == 30000ms);
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", clock.now()) == 0ms);
  CHECK(parse_retry_after("soon", clock.now()) == std::nullopt);
  RetryPolicy p;
  p.backoff.jitter = 0;
  RetryState state(p, Idempotency::kIdempotent, clock, 1);
  CHECK(state.next_delay(response(429, "9")) == 9000ms);
  RetryState too_long(p, Idempotency::kIdempotent, clock, 1);
  CHECK_FALSE(too_long.next_delay(response(429, "3600")).has_value());
}

TEST_CASE("what may be sent again depends on whether the request may have been accepted") {
  CHECK(may_retry(response(503), Idempotency::kCreatesRun));
  CHECK(may_retry(response(429), Idempotency::kCreatesRun));
  CHECK_FALSE(may_retry(response(500), Idempotency::kCreatesRun));
  CHECK_FALSE(may_retry(response(502), Idempotency::kCreatesRun));
  CHECK(may_retry(failure(TransportFailure::kNotSent), Idempotency::kCreatesRun));
  CHECK_FALSE(may_retry(failure(TransportFailure::kConnectionLost), Idempotency::kCreatesRun));
  CHECK_FALSE(may_retry(failure(TransportFailure::kTimeout), Idempotency::kCreatesRun));
  CHECK(may_retry(failure(TransportFailure::kTimeout), Idempotency::kIdempotent));
  CHECK(may_retry(response(500), Idempotency::kIdempotent));
  for (int s : {400, 401, 403, 404, 409, 422}) CHECK_FALSE(may_retry(response(s), Idempotency::kIdempotent));
  CHECK_FALSE(may_retry(failure(TransportFailure::kCancelled), Idempotency::kIdempotent));
}

TEST_CASE("send_with_retry returns the last outcome and sleeps only on the clock") {
  testing::FakeClock clock;
  testing::FakeTransport t;
  t.push_response(503, "busy");
  t.push_response(503, "busy");
  t.push_response(200, "ok");
  RetryPolicy p;
  int attempts = 0;
  HttpOutcome o = send_with_retry(t, HttpRequest{}, p, Idempotency::kIdempotent, clock, &attempts);
  CHECK(o.response->status == 200);
  CHECK(attempts == 3);
  CHECK(clock.slept() > 0ms);
  t.push_response(404, "no");
  CHECK(send_with_retry(t, HttpRequest{}, p, Idempotency::kIdempotent, clock, &attempts).response->status == 404);
  CHECK(attempts == 1);
}
