// Single flight across runs: the first claimant flies a lookup, the others get its landing.
#include <doctest/doctest.h>

#include "internal/lookup_flights.h"

using namespace leadenrich;
using namespace leadenrich::internal;

TEST_CASE("the first claim flies; later claims wait and each gets the landing once") {
  LookupFlights f;
  std::vector<Landing> got;
  CHECK(f.claim("acme.com\x1f" "news", [&](Landing l) { got.push_back(l); }));
  CHECK_FALSE(f.claim("acme.com\x1f" "news", [&](Landing l) { got.push_back(l); }));
  CHECK_FALSE(f.claim("acme.com\x1f" "news", [&](Landing l) { got.push_back(l); }));
  CHECK(f.claim("globex.io\x1f" "news", [&](Landing l) { got.push_back(l); }));
  CHECK(f.flying() == 2);
  LookupOutcome o;
  o.result.status = SignalStatus::kFound;
  o.billed = true;
  f.land("acme.com\x1f" "news", o, "run_1");
  REQUIRE(got.size() == 2);
  CHECK(got[0].outcome->result.status == SignalStatus::kFound);
  CHECK(got[1].run_id == "run_1");
  CHECK(f.flying() == 1);
  // Free again: the next claim flies.
  CHECK(f.claim("acme.com\x1f" "news", [&](Landing l) { got.push_back(l); }));
  f.land("acme.com\x1f" "news", std::nullopt, "");
  CHECK(got.size() == 2);  // nobody waited
}

TEST_CASE("a flier that gives up lands no outcome, so a waiter claims it again") {
  LookupFlights f;
  std::optional<Landing> got;
  REQUIRE(f.claim("k", [](Landing) {}));
  REQUIRE_FALSE(f.claim("k", [&](Landing l) { got = l; }));
  f.land("k", std::nullopt, "");
  REQUIRE(got);
  CHECK_FALSE(got->outcome);
  CHECK(f.claim("k", [](Landing) {}));
}

TEST_CASE("a mailbox keeps batch answers and landings apart, in order") {
  Mailbox m;
  m.post(BatchEvent{3, Status(StatusCode::kUnavailable, "x")});
  m.post(Landing{"k", std::nullopt, ""});
  m.post(BatchEvent{4, Status(StatusCode::kUnavailable, "y")});
  CHECK(m.events.size() == 2);
  CHECK(m.events.front().batch == 3);
  CHECK(m.landings.size() == 1);
}

TEST_CASE("landings counts the answers landed from flights, not the give-ups nor keys nobody flew") {
  LookupFlights f;
  CHECK(f.landings() == 0);
  LookupOutcome o;
  o.result.status = SignalStatus::kNoResult;
  REQUIRE(f.claim("a", [](Landing) {}));
  f.land("a", o, "run_1");
  CHECK(f.landings() == 1);
  REQUIRE(f.claim("b", [](Landing) {}));
  f.land("b", std::nullopt, "");  // gave up: nothing was stored
  f.land("never-claimed", o, "");
  CHECK(f.landings() == 1);
}
