// Lookup leases on SQLite: the conformance suite over one store file that several store objects
// open, as several processes would; and a lone in-memory store, which shares nothing.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include <sqlite3.h>

#include <doctest/doctest.h>

#include "leadenrich/sqlite_store.h"
#include "unit/sqlite_fixture.h"
#include "unit/lease_conformance.h"
#include "unit/temp_dir.h"

using namespace leadenrich;

TEST_CASE("lookup leases on a SQLite store file") {
  testing::lease_conformance([] { return std::make_unique<testing::SqliteFixture>(); });
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

namespace {

CacheKey news_key(const std::string& entity) {
  const SignalSpec& spec = find_spec(default_signal_specs(), Signal::kNews);
  return CacheKey{Signal::kNews, entity, spec.pipe_id, config_hash(spec)};
}

}  // namespace

TEST_CASE("a killed process's leases on a SQLite file are taken over at once, not after the lease time") {
  testing::TempDir dir{"leadenrich_lease_kill"};
  SqliteStoreOptions o;
  o.path = dir.file("store.db");
  o.lease_time = std::chrono::hours(1);  // only the dead owner's released lock can free it in time
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    auto store = open_sqlite_store(o);
    bool ok = store.ok() && (*store)->acquire_lease(news_key("company:acme.com")).value_or(false);
    char c = ok ? '1' : '0';
    (void)!::write(ready[1], &c, 1);
    ::pause();  // killed here, holding its lease
    ::_exit(0);
  }
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  REQUIRE(c == '1');
  auto live = open_sqlite_store(o).value();
  CHECK_FALSE(live->acquire_lease(news_key("company:acme.com")).value());  // its owner is alive
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK(live->acquire_lease(news_key("company:acme.com")).value());
  CHECK_FALSE(live->leased_elsewhere(news_key("company:acme.com")).value());
  ::close(ready[0]);
  ::close(ready[1]);
  // The dead owner's lock file is gone once seen dead; only the live owner's is left.
  std::size_t lock_files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path)) {
    if (e.path().filename().string().find("-lease-") != std::string::npos) ++lock_files;
  }
  CHECK(lock_files == 1);
}

TEST_CASE("a lease of an owner that stopped renewing without dying is taken over once it expires") {
  testing::TempDir dir{"leadenrich_lease_expiry"};
  SqliteStoreOptions o;
  o.path = dir.file("store.db");
  auto live = open_sqlite_store(o).value();
  // A hung owner: no lock file to look at ('t': time only), a lease 400 ms from now.
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
  const SignalSpec& spec = find_spec(default_signal_specs(), Signal::kNews);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(o.path.c_str(), &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  std::string sql = "INSERT INTO lookup_leases VALUES ('news', 'company:acme.com', '" + spec.pipe_id + "', '" +
                    config_hash(spec) + "', 't-hung', " + std::to_string(now_ms.count() + 400) + ")";
  REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  CacheKey key = news_key("company:acme.com");
  auto until = std::chrono::system_clock::now();
  bool taken = false;
  while (!taken && std::chrono::system_clock::now() < until + std::chrono::seconds(20)) {
    taken = live->acquire_lease(key).value();
    if (!taken) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(taken);
  // Not before its expiry.
  CHECK(std::chrono::system_clock::now().time_since_epoch() >= now_ms + std::chrono::milliseconds(400));
}
