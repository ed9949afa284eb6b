// Lookup leases on SQLite: the conformance suite over one store file that several store objects
// open, as several processes would; and a lone in-memory store, which shares nothing.
#include <doctest/doctest.h>

#include "leadenrich/sqlite_store.h"
#include "unit/lease_conformance.h"
#include "unit/temp_dir.h"

using namespace leadenrich;

namespace {

class SqliteFileFixture : public testing::SharedStoreFixture {
 public:
  std::shared_ptr<Store> open(std::chrono::milliseconds lease_time) override {
    SqliteStoreOptions o;
    o.path = dir_.file("store.db");
    o.lease_time = lease_time;
    Result<std::shared_ptr<Store>> store = open_sqlite_store(o);
    REQUIRE_MESSAGE(store.ok(), store.status().message());
    return *store;
  }
  std::string backend() const override { return "sqlite"; }

 private:
  testing::TempDir dir_{"leadenrich_lease"};
};

}  // namespace

TEST_CASE("lookup leases on a SQLite store file") {
  testing::lease_conformance([] { return std::make_unique<SqliteFileFixture>(); });
}

TEST_CASE("an in-memory SQLite store shares no leases: every lease is its own") {
  SqliteStoreOptions o;
  o.path = ":memory:";
  auto store = open_sqlite_store(o).value();
  CHECK_FALSE(store->shares_leases());
  const SignalSpec& spec = find_spec(default_signal_specs(), Signal::kNews);
  CacheKey key{Signal::kNews, "company:acme.com", spec.pipe_id, config_hash(spec)};
  CHECK(store->acquire_lease(key).value());
  CHECK(store->acquire_leases({key, key}).value() == std::vector<bool>{true, true});
  CHECK_FALSE(store->leased_elsewhere(key).value());
}
