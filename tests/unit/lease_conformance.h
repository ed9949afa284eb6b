// Lookup leases (single flight across processes, store.h) as every shared Store must hand them
// out: the suite runs on each backend through a SharedStoreFixture, each open() being another
// owner as another process would be.
#ifndef LEADENRICH_TESTS_UNIT_LEASE_CONFORMANCE_H_
#define LEADENRICH_TESTS_UNIT_LEASE_CONFORMANCE_H_

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "leadenrich/store.h"
#include "unit/shared_store_fixture.h"

namespace leadenrich::testing {

namespace lease_detail {

inline CacheKey lease_key(Signal s, const std::string& entity) {
  const SignalSpec& spec = find_spec(default_signal_specs(), s);
  return CacheKey{s, entity, spec.pipe_id, config_hash(spec)};
}

// Polls `take` until it answers true; gives up (false) after a bound far beyond any lease time
// the suite uses, so a store that never lets go fails instead of hanging.
template <typename F>
bool eventually(F take) {
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < give_up) {
    if (take()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace lease_detail

inline void lease_conformance(const SharedStoreFactory& factory) {
  using lease_detail::lease_key;
  using namespace std::chrono_literals;
  std::unique_ptr<SharedStoreFixture> fixture = factory();
  INFO("backend: " << fixture->backend());
  const CacheKey acme = lease_key(Signal::kNews, "company:acme.com");
  const CacheKey globex = lease_key(Signal::kNews, "company:globex.com");

  SUBCASE("a shared store says leases mean something") {
    auto a = fixture->open();
    CHECK(a->shares_leases());
  }

  SUBCASE("the first owner takes a lease, the second is refused and sees it held elsewhere") {
    auto a = fixture->open();
    auto b = fixture->open();
    REQUIRE(a->acquire_lease(acme).value());
    CHECK_FALSE(b->acquire_lease(acme).value());
    CHECK(b->leased_elsewhere(acme).value());
    CHECK_FALSE(a->leased_elsewhere(acme).value());  // its own lease is not "elsewhere"
    CHECK(a->acquire_lease(acme).value());           // taking its own lease again is fine
    CHECK(b->acquire_lease(globex).value());         // other keys are free
  }

  SUBCASE("a released lease is free for another owner") {
    auto a = fixture->open();
    auto b = fixture->open();
    REQUIRE(a->acquire_lease(acme).value());
    REQUIRE(a->release_lease(acme).ok());
    CHECK_FALSE(b->leased_elsewhere(acme).value());
    CHECK(b->acquire_lease(acme).value());
    // Releasing a lease one does not hold changes nothing.
    REQUIRE(a->release_lease(acme).ok());
    CHECK(a->leased_elsewhere(acme).value());
  }

  SUBCASE("storing the answer ends the lease: the other owner sees the answer, then may take the key") {
    auto a = fixture->open();
    auto b = fixture->open();
    REQUIRE(a->acquire_lease(acme).value());
    Timestamp now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    CacheEntry entry{SignalStatus::kFound, Json::parse(R"({"summary":"## News"})").value(), "news@1", now};
    REQUIRE(a->put(acme, entry).ok());
    CHECK_FALSE(b->leased_elsewhere(acme).value());
    auto seen = b->get(acme, now, freshness_for(find_spec(default_signal_specs(), Signal::kNews)));
    REQUIRE(seen.ok());
    REQUIRE(seen->has_value());
    CHECK((*seen)->value == entry.value);
    CHECK(b->acquire_lease(acme).value());

    // put_many ends every lease it answers, and only those.
    REQUIRE(a->acquire_lease(globex).value());
    const CacheKey initech = lease_key(Signal::kNews, "company:initech.com");
    REQUIRE(a->acquire_lease(initech).value());
    REQUIRE(a->put_many({{globex, entry}}).ok());
    CHECK_FALSE(b->leased_elsewhere(globex).value());
    CHECK(b->leased_elsewhere(initech).value());
  }

  SUBCASE("acquire_leases answers each key in order") {
    auto a = fixture->open();
    auto b = fixture->open();
    const CacheKey funding = lease_key(Signal::kFunding, "company:acme.com");
    REQUIRE(a->acquire_lease(globex).value());
    std::vector<bool> got = b->acquire_leases({acme, globex, funding}).value();
    CHECK(got == std::vector<bool>{true, false, true});
    std::vector<bool> back = a->acquire_leases({acme, globex, funding}).value();
    CHECK(back == std::vector<bool>{false, true, false});
    CHECK(b->acquire_leases({}).value().empty());
  }

  // A store may notice sooner that the owner is gone (SQLite does, through a file lock); the
  // lease time is the latest.
  SUBCASE("an owner gone without releasing: its leases expire after the lease time and another takes them") {
    constexpr auto kLease = 300ms;
    auto b = fixture->open(kLease);
    {
      auto a = fixture->open(kLease);
      REQUIRE(a->acquire_leases({acme, globex}).value() == std::vector<bool>{true, true});
      // `a` is destroyed here as a killed process would stop: without releasing anything.
    }
    CHECK(lease_detail::eventually([&] { return b->acquire_leases({acme, globex}).value() == std::vector<bool>{true, true}; }));
    CHECK_FALSE(b->leased_elsewhere(acme).value());
  }

  SUBCASE("a live owner's lease is renewed past the lease time") {
    // Renewed every third of the lease: a whole second lets a loaded machine (a parallel build,
    // ctest -j) delay a renewal by most of a second without the lease lapsing.
    constexpr auto kLease = 1000ms;
    auto a = fixture->open(kLease);
    auto b = fixture->open(kLease);
    REQUIRE(a->acquire_lease(acme).value());
    std::this_thread::sleep_for(3 * kLease);
    CHECK_FALSE(b->acquire_lease(acme).value());
    CHECK(b->leased_elsewhere(acme).value());
  }
}

}  // namespace leadenrich::testing

#endif  // LEADENRICH_TESTS_UNIT_LEASE_CONFORMANCE_H_
