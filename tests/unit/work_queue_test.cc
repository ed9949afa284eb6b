// The work queue conformance suite (work_queue_conformance.h) on SQLite: two store objects over
// one file, as two processes on one machine would use it.
#include <doctest/doctest.h>

#include "leadenrich/sqlite_store.h"
#include "unit/sqlite_fixture.h"
#include "unit/work_queue_conformance.h"

using namespace leadenrich;

TEST_CASE("sqlite: the work queue conformance suite") {
  testing::work_queue_conformance([] { return std::make_unique<testing::SqliteFixture>(); });
}

TEST_CASE("sqlite: an in-memory store has a work queue too") {
  SqliteStoreOptions o;
  o.path = ":memory:";
  std::shared_ptr<Store> store = open_sqlite_store(o).value();
  REQUIRE(store->work_queue() != nullptr);
  std::string run_id = testing::wq::distributed(*store, 2, 1);
  CHECK(store->work_queue()->claim_chunk("w", std::chrono::seconds(1)).value().has_value());
}
