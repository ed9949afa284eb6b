// A database that several store objects share, as several processes would: the fixture behind
// the conformance suites that every Store implementation runs (SQLite and PostgreSQL alike).
#ifndef LEADENRICH_TESTS_UNIT_SHARED_STORE_FIXTURE_H_
#define LEADENRICH_TESTS_UNIT_SHARED_STORE_FIXTURE_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "leadenrich/store.h"

namespace leadenrich::testing {

class SharedStoreFixture {
 public:
  virtual ~SharedStoreFixture() = default;
  /// A new store object over this fixture's database: another owner of leases and claims, as
  /// another process would be. Fails the test (doctest REQUIRE) when it cannot open.
  virtual std::shared_ptr<Store> open(std::chrono::milliseconds lease_time = std::chrono::seconds(30)) = 0;
  /// What the backend is called in test names ("sqlite", "postgresql").
  virtual std::string backend() const = 0;
};

/// A new, empty database on each call.
using SharedStoreFactory = std::function<std::unique_ptr<SharedStoreFixture>()>;

}  // namespace leadenrich::testing

#endif  // LEADENRICH_TESTS_UNIT_SHARED_STORE_FIXTURE_H_
