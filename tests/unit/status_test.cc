#include "leadenrich/status.h"

#include <doctest/doctest.h>

using namespace leadenrich;

TEST_CASE("an ok Result gives its value and an ok status") {
  Result<int> r = 42;
  CHECK(r.ok());
  CHECK(*r == 42);
  CHECK(r.status().ok());
  CHECK(r.value_or(7) == 42);
}

TEST_CASE("value() on an error throws StatusError carrying the status") {
  Result<int> r = Status(StatusCode::kNotFound, "lead 9 not found").with_http_status(404).with_provider("aturiya");
  CHECK_FALSE(r.ok());
  CHECK(r.value_or(7) == 7);
  try {
    (void)r.value();
    FAIL("value() did not throw");
  } catch (const StatusError& e) {
    CHECK(e.status().code() == StatusCode::kNotFound);
    CHECK(e.status().http_status() == 404);
    CHECK(std::string(e.what()) == "not_found: lead 9 not found (HTTP 404, aturiya)");
  }
}

TEST_CASE("a Result built from an ok Status is an internal error, never a silent success") {
  Result<int> r = Status();
  CHECK_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInternal);
}

TEST_CASE("Status carries retry-after and the provider's error type") {
  Status s = Status(StatusCode::kResourceExhausted, "rate limited")
                 .with_retry_after(std::chrono::seconds(3))
                 .with_error_type("org-rate-limited");
  CHECK(s.retry_after() == std::chrono::milliseconds(3000));
  CHECK(s.error_type() == "org-rate-limited");
  CHECK(s.to_string() == "resource_exhausted: rate limited");
}

TEST_CASE("LEADENRICH_RETURN_IF_ERROR returns the first error") {
  auto step = [](bool fail) { return fail ? invalid_argument("bad") : Status(); };
  auto run = [&](bool fail_first) -> Status {
    LEADENRICH_RETURN_IF_ERROR(step(fail_first));
    LEADENRICH_RETURN_IF_ERROR(step(false));
    return not_found("reached the end");
  };
  CHECK(run(true).code() == StatusCode::kInvalidArgument);
  CHECK(run(false).code() == StatusCode::kNotFound);
}
