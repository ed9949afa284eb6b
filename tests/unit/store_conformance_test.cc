// The store conformance suite (store_conformance.h) on SQLite: a store file in a fresh directory.
#include <doctest/doctest.h>

#include "leadenrich/sqlite_store.h"
#include "unit/sqlite_fixture.h"
#include "unit/store_conformance.h"

using namespace leadenrich;

TEST_CASE("store conformance: sqlite") {
  testing::conformance::run_all([] { return std::make_unique<testing::SqliteFixture>(); });
}
