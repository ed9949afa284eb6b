// The batch tracker: what a failed request means, which lookup failures are worth another try,
// and when async runs are checked (near the latency it has seen).
#include <doctest/doctest.h>

#include "internal/batch_tracker.h"
#include "internal/pipe0_wire.h"
#include "leadenrich/pipe0.h"

using namespace leadenrich;
using namespace leadenrich::internal;
using namespace std::chrono_literals;

namespace {
Batch batch(std::size_t records, bool sync, Clock::SteadyTime sent = {}) {
  Batch b;
  b.mask = bit(Signal::kNews);
  for (std::size_t i = 0; i < records; ++i) b.entities.push_back("c" + std::to_string(i));
  b.sync = sync;
  b.sent = sent;
  return b;
}
}  // namespace

TEST_CASE("a request pipe0 provably did not take is sent again; an accepted run is only ever polled") {
  Clock::SteadyTime t{};
  Batch fresh = batch(1, true);
  CHECK(judge_failure(Status(StatusCode::kResourceExhausted, "429"), fresh, t, 1min) == Verdict::kResend);
  CHECK(judge_failure(Status(StatusCode::kUnavailable, "503").with_http_status(503), fresh, t, 1min) == Verdict::kResend);
  CHECK(judge_failure(Status(StatusCode::kUnavailable, "reset").with_error_type(std::string(kPipe0NotSent)), fresh, t, 1min) ==
        Verdict::kResend);
  // A 502 or a timeout after sending: maybe accepted, so not re-sent as such, but worth a retry.
  CHECK(judge_failure(Status(StatusCode::kUnavailable, "502").with_http_status(502), fresh, t, 1min) == Verdict::kRetry);
  CHECK(judge_failure(Status(StatusCode::kDeadlineExceeded, "timeout"), fresh, t, 1min) == Verdict::kRetry);
  CHECK(judge_failure(invalid_argument("bad"), fresh, t, 1min) == Verdict::kFinal);
  CHECK(judge_failure(Status(StatusCode::kUnauthenticated, "key"), fresh, t, 1min) == Verdict::kFatal);
  CHECK(judge_failure(Status(StatusCode::kFailedPrecondition, "credits"), fresh, t, 1min) == Verdict::kFatal);

  Batch accepted = batch(1, false);
  accepted.run_id = "run1";
  CHECK(judge_failure(Status(StatusCode::kResourceExhausted, "429"), accepted, t, 1min) == Verdict::kPollAgain);
  CHECK(judge_failure(Status(StatusCode::kDataLoss, "cut"), accepted, t, 1min) == Verdict::kPollAgain);
  CHECK(judge_failure(Status(StatusCode::kNotFound, "gone"), accepted, t, 1min) == Verdict::kFinal);
  CHECK(judge_failure(Status(StatusCode::kUnavailable, "503"), accepted, t + 2min, 1min) == Verdict::kFinal);
}

TEST_CASE("transient lookup failures are retried; what asking again cannot change is not") {
  CHECK(is_transient(Reason{"ProviderError", "retry later"}));
  CHECK(is_transient(Reason{"unavailable", "503"}));
  CHECK(is_transient(Reason{"data_loss", "no record"}));
  CHECK(is_transient(std::nullopt));
  CHECK_FALSE(is_transient(Reason{"RequirementUnmet", "no profile_url"}));
  CHECK_FALSE(is_transient(Reason{"InvalidInput", "not a URL"}));
  CHECK_FALSE(is_transient(Reason{"CreditBalanceInsufficient", ""}));
  CHECK_FALSE(is_transient(Reason{"invalid_argument", "400"}));
  CHECK_FALSE(is_transient(Reason{"cancelled", "the run was cancelled"}));
  CHECK_FALSE(is_transient(Reason{"missing_output", ""}));
}

TEST_CASE("records in flight follow what is added and taken; taking a batch drops its poll") {
  EngineOptions o;
  BatchTracker t(o);
  std::size_t a = t.add(batch(9, true));
  std::size_t b = t.add(batch(5, false));
  CHECK(t.records_in_flight() == 14);
  t.schedule_poll(b, Clock::SteadyTime{});
  CHECK(t.next_poll());
  Batch taken = t.take(b);
  CHECK(taken.entities.size() == 5);
  CHECK(t.records_in_flight() == 9);
  CHECK_FALSE(t.next_poll());
  CHECK(t.ids() == std::vector<std::size_t>{a});
  CHECK(t.find(b) == nullptr);
}

TEST_CASE("the first check of an async run comes near the latency seen, then soon after, then growing") {
  EngineOptions o;
  o.poll_initial = 1000ms;
  o.poll_max = 3000ms;
  BatchTracker t(o);
  Clock::SteadyTime t0{};
  std::size_t a = t.add(batch(3, false, t0));
  t.schedule_poll(a, t0);
  CHECK(*t.next_poll() == t0 + 1000ms);  // nothing seen yet: poll_initial
  // A sync run answers in 300 ms: the waiting check moves near it.
  std::size_t s = t.add(batch(9, true, t0));
  t.observe(*t.find(s), t0 + 300ms, true);
  CHECK(t.latency() == 300ms);
  CHECK(*t.next_poll() == t0 + 300ms);
  CHECK(t.due_polls(t0 + 300ms) == std::vector<std::size_t>{a});
  // Not done at that check: it takes longer; the next check comes soon.
  t.observe(*t.find(a), t0 + 300ms, false);
  CHECK(*t.latency() > 300ms);
  t.schedule_poll(a, t0 + 300ms);
  CHECK(*t.next_poll() == t0 + 375ms);
  t.due_polls(t0 + 375ms);
  t.schedule_poll(a, t0 + 375ms);
  CHECK(*t.next_poll() > t0 + 375ms + 75ms);
}

TEST_CASE("async runs found done at their first check pull the estimate down") {
  EngineOptions o;
  BatchTracker t(o);
  Clock::SteadyTime t0{};
  std::optional<std::chrono::milliseconds> last;
  for (int i = 0; i < 6; ++i) {
    std::size_t a = t.add(batch(3, false, t0));
    t.schedule_poll(a, t0);
    Clock::SteadyTime at = *t.next_poll();
    t.due_polls(at);
    t.observe(*t.find(a), at, true);
    t.take(a);
    if (last) CHECK(*t.latency() < *last);
    last = t.latency();
  }
  CHECK(*last < 200ms);
}
