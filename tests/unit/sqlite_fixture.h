// A SQLite store file in a temporary directory: the SharedStoreFixture the conformance suites run
// SQLite with. Each open() is a new store object on the same file, as another process would be.
#ifndef LEADENRICH_TESTS_UNIT_SQLITE_FIXTURE_H_
#define LEADENRICH_TESTS_UNIT_SQLITE_FIXTURE_H_

#include <chrono>
#include <memory>
#include <string>

#include <doctest/doctest.h>

#include "leadenrich/sqlite_store.h"
#include "unit/shared_store_fixture.h"
#include "unit/temp_dir.h"

namespace leadenrich::testing {

class SqliteFixture : public SharedStoreFixture {
 public:
  std::shared_ptr<Store> open(std::chrono::milliseconds lease_time = std::chrono::seconds(30)) override {
    SqliteStoreOptions o;
    o.path = dir_.file("store.db");
    o.lease_time = lease_time;
    Result<std::shared_ptr<Store>> store = open_sqlite_store(o);
    REQUIRE_MESSAGE(store.ok(), store.status().to_string());
    return std::move(store).value();
  }
  std::string backend() const override { return "sqlite"; }

 private:
  TempDir dir_{"leadenrich_fixture"};
};

}  // namespace leadenrich::testing

#endif  // LEADENRICH_TESTS_UNIT_SQLITE_FIXTURE_H_
