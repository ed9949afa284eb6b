// The store conformance suite (store_conformance.h) on SQLite: a store file in a fresh directory.
#include <doctest/doctest.h>

#include "leadenrich/sqlite_store.h"
#include "unit/shared_store_fixture.h"
#include "unit/store_conformance.h"
#include "unit/temp_dir.h"

using namespace leadenrich;

namespace {

class SqliteFixture : public testing::SharedStoreFixture {
 public:
  std::shared_ptr<Store> open(std::chrono::milliseconds lease_time = std::chrono::seconds(30)) override {
    SqliteStoreOptions o;
    o.path = dir_.file("store.db");
    o.lease_time = lease_time;
    Result<std::shared_ptr<Store>> s = open_sqlite_store(o);
    REQUIRE_MESSAGE(s.ok(), s.status().to_string());
    return *s;
  }
  std::string backend() const override { return "sqlite"; }

 private:
  testing::TempDir dir_;
};

}  // namespace

TEST_CASE("store conformance: sqlite") {
  testing::conformance::run_all([] { return std::make_unique<SqliteFixture>(); });
}
