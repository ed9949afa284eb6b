// The PostgreSQL store on a real server (scripts/with_postgres.sh sets LEADENRICH_TEST_POSTGRES):
// the store conformance suite, then what only a shared store does: lookup leases between store
// objects, renewal and expiry, the work queue under several workers, the first open of a new
// database from several threads, and errors that never show the password.
#include <libpq-fe.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "leadenrich/open_store.h"
#include "leadenrich/postgresql_store.h"
#include "leadenrich/work_queue.h"
#include "unit/postgresql_fixture.h"
#include "unit/shared_store_fixture.h"
#include "unit/lease_conformance.h"
#include "unit/store_conformance.h"
#include "unit/work_queue_conformance.h"

using namespace leadenrich;
using namespace std::chrono_literals;
using testing::conformance::key;
using testing::conformance::t0;
using testing::admin;
using testing::PostgresqlFixture;

namespace {

RawLead raw(std::size_t i) {
  RawLead l;
  l.lead_id = "l" + std::to_string(i);
  l.email = "x@c" + std::to_string(i) + ".com";
  return l;
}

// Polls `done` until it holds or a generous deadline passes (never a timing threshold).
template <typename F>
bool eventually(F done) {
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

}  // namespace

TEST_CASE("store conformance: postgresql") {
  testing::conformance::run_all([] { return std::make_unique<PostgresqlFixture>(); });
}

TEST_CASE("lease conformance: postgresql") {
  testing::lease_conformance([] { return std::make_unique<PostgresqlFixture>(); });
}

TEST_CASE("work queue conformance: postgresql") {
  testing::work_queue_conformance([] { return std::make_unique<PostgresqlFixture>(); });
}

TEST_CASE("postgresql: a lookup lease belongs to one store object until put, release or expiry") {
  PostgresqlFixture db;
  auto a = db.open();
  auto b = db.open();
  CacheKey k = key(Signal::kNews, "company:acme.com");
  CacheKey other = key(Signal::kNews, "company:other.com");
  CHECK(a->shares_leases());
  CHECK(a->acquire_lease(k).value());
  CHECK(a->acquire_lease(k).value());  // already its own
  CHECK_FALSE(b->acquire_lease(k).value());
  CHECK(b->leased_elsewhere(k).value());
  CHECK_FALSE(a->leased_elsewhere(k).value());
  CHECK(b->acquire_leases({k, other, k}).value() == std::vector<bool>{false, true, false});

  // Storing the answer ends the lease: the next one to miss may take it.
  REQUIRE(a->put(k, {SignalStatus::kFound, Json("v"), "p", t0()}).ok());
  CHECK_FALSE(b->leased_elsewhere(k).value());
  CHECK(b->acquire_lease(k).value());
  CHECK_FALSE(a->acquire_lease(k).value());

  // Releasing hands it over; releasing someone else's does nothing.
  REQUIRE(a->release_lease(other).ok());
  CHECK(a->leased_elsewhere(other).value());
  REQUIRE(b->release_lease(other).ok());
  CHECK(a->acquire_lease(other).value());
}

TEST_CASE("postgresql: owners racing for overlapping leases each get a key or not, never both") {
  PostgresqlFixture db;
  std::vector<std::shared_ptr<Store>> owners = {db.open(), db.open()};
  std::vector<CacheKey> keys;
  for (int i = 0; i < 60; ++i) keys.push_back(key(Signal::kNews, "company:race" + std::to_string(i) + ".com"));
  constexpr int kThreadsPerOwner = 3;
  // held[owner][thread][key]
  std::vector<std::vector<std::vector<bool>>> held(2, std::vector<std::vector<bool>>(kThreadsPerOwner));
  std::vector<std::string> errors;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (std::size_t o = 0; o < 2; ++o) {
    for (int t = 0; t < kThreadsPerOwner; ++t) {
      threads.emplace_back([&, o, t] {
        // Each thread asks in its own order: rows are locked in key order whatever the request's.
        std::vector<std::size_t> order(keys.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::shuffle(order.begin(), order.end(), std::mt19937(static_cast<unsigned>(o * 10 + static_cast<std::size_t>(t))));
        std::vector<CacheKey> request;
        for (std::size_t i : order) request.push_back(keys[i]);
        Result<std::vector<bool>> got = owners[o]->acquire_leases(request);
        std::lock_guard lock(mu);
        if (!got.ok()) {
          errors.push_back(got.status().to_string());
          return;
        }
        std::vector<bool> by_key(keys.size());
        for (std::size_t i = 0; i < order.size(); ++i) by_key[order[i]] = (*got)[i];
        held[o][static_cast<std::size_t>(t)] = by_key;
      });
    }
  }
  for (auto& t : threads) t.join();
  REQUIRE(errors.empty());
  for (std::size_t k = 0; k < keys.size(); ++k) {
    std::vector<bool> any(2, false);
    for (std::size_t o = 0; o < 2; ++o) {
      for (const auto& seen : held[o]) any[o] = any[o] || seen[k];
    }
    // Nobody released: once one owner held a key, the other could never take it.
    CHECK(any[0] != any[1]);
    CHECK(owners[0]->leased_elsewhere(keys[k]).value() == any[1]);
    CHECK(owners[1]->leased_elsewhere(keys[k]).value() == any[0]);
  }
}

TEST_CASE("postgresql: a live owner's leases are renewed; a dead owner's expire and are taken over") {
  PostgresqlFixture db;
  // A whole second (renewed every third): a loaded machine may delay a renewal by most of it.
  auto owner = db.open(1000ms);
  auto waiter = db.open();
  CacheKey k = key(Signal::kFunding, "company:acme.com");
  REQUIRE(owner->acquire_lease(k).value());
  // Several lease times pass while the owner lives: its renewals keep the lease.
  std::this_thread::sleep_for(3000ms);
  CHECK(waiter->leased_elsewhere(k).value());
  CHECK_FALSE(waiter->acquire_lease(k).value());
  owner.reset();  // killed: nobody renews or releases
  CHECK(eventually([&] { return waiter->acquire_lease(k).value(); }));
  CHECK_FALSE(waiter->leased_elsewhere(k).value());
}

TEST_CASE("postgresql: a killed process's leases are taken at once, long before they expire") {
  PostgresqlFixture db;
  db.open();  // create the schema before the child does
  CacheKey k = key(Signal::kTechStack, "company:killed.com");
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(ready[0]);
    PostgresqlStoreOptions o;
    o.conninfo = db.uri();
    o.lease_time = std::chrono::minutes(10);
    Result<std::shared_ptr<Store>> s = open_postgresql_store(o);
    char ok = s.ok() && (*s)->acquire_lease(k).value_or(false) ? 'y' : 'n';
    (void)!::write(ready[1], &ok, 1);
    ::pause();  // until killed
    ::_exit(0);
  }
  ::close(ready[1]);
  char ok = 'n';
  REQUIRE(::read(ready[0], &ok, 1) == 1);
  ::close(ready[0]);
  REQUIRE(ok == 'y');
  auto survivor = db.open(std::chrono::minutes(10));
  CHECK(survivor->leased_elsewhere(k).value());
  CHECK_FALSE(survivor->acquire_lease(k).value());
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  // The lease has ten minutes left; the server saw the process go.
  CHECK(eventually([&] { return survivor->acquire_lease(k).value(); }));
  CHECK_FALSE(survivor->leased_elsewhere(k).value());
}

TEST_CASE("postgresql: workers on two store objects never get the same chunk") {
  PostgresqlFixture db;
  auto submitter = db.open();
  WorkQueue* queue = submitter->work_queue();
  REQUIRE(queue != nullptr);
  std::string run = submitter->begin_run("distributed input", t0()).value();
  REQUIRE(queue->create_distributed(run, R"({"signals":["news"]})").ok());
  Status again = queue->create_distributed(run, "{}");
  CHECK(again.code() == StatusCode::kAborted);
  CHECK(again.provider() == kStoreProvider);
  constexpr std::size_t kChunks = 30, kPerChunk = 4;
  std::vector<WorkChunk> chunks;
  for (std::size_t c = 0; c < kChunks; ++c) {
    WorkChunk chunk{run, c, {}};
    for (std::size_t i = 0; i < kPerChunk; ++i) chunk.leads.emplace_back(c * kPerChunk + i, raw(c * kPerChunk + i));
    chunks.push_back(std::move(chunk));
  }
  REQUIRE(queue->add_chunks(run, {chunks.begin(), chunks.begin() + 10}).ok());
  REQUIRE(queue->add_chunks(run, {chunks.begin() + 10, chunks.end()}).ok());
  REQUIRE(queue->seal(run).ok());
  CHECK(queue->add_chunks(run, {chunks[0]}).code() == StatusCode::kFailedPrecondition);
  auto summary = queue->distributed_run(run).value();
  REQUIRE(summary.has_value());
  CHECK(summary->sealed);
  CHECK(summary->chunks == kChunks);
  CHECK(summary->leads == kChunks * kPerChunk);
  REQUIRE(queue->open_distributed_runs().value().size() == 1);

  std::vector<std::shared_ptr<Store>> stores = {db.open(), db.open()};
  std::mutex mu;
  std::multiset<std::size_t> claimed;
  std::vector<std::string> errors;
  std::vector<std::thread> workers;
  for (int w = 0; w < 6; ++w) {
    workers.emplace_back([&, w] {
      WorkQueue* q = stores[static_cast<std::size_t>(w) % 2]->work_queue();
      std::string name = "worker-" + std::to_string(w);
      while (true) {
        Result<std::optional<WorkChunk>> got = q->claim_chunk(name, 30s);
        std::lock_guard lock(mu);
        if (!got.ok()) {
          errors.push_back(got.status().to_string());
          return;
        }
        if (!got->has_value()) return;
        const WorkChunk& chunk = **got;
        claimed.insert(chunk.chunk);
        if (chunk.leads != chunks[chunk.chunk].leads) errors.push_back(fmt::format("chunk {} came back changed", chunk.chunk));
        if (Status st = q->complete_chunk(run, chunk.chunk, name); !st.ok()) errors.push_back(st.to_string());
      }
    });
  }
  for (auto& t : workers) t.join();
  CHECK(errors.empty());
  CHECK(claimed.size() == kChunks);
  CHECK(std::set<std::size_t>(claimed.begin(), claimed.end()).size() == kChunks);  // none twice
  CHECK(queue->distributed_run(run).value()->done == kChunks);
  std::vector<ChunkInfo> infos = queue->chunks(run).value();
  CHECK(infos.size() == kChunks);
  for (const ChunkInfo& c : infos) {
    CHECK(c.state == ChunkState::kDone);
    CHECK(c.claims == 1);
    CHECK(c.first_index == c.chunk * kPerChunk);
  }
  REQUIRE(submitter->finish_run(run, RunState::kFinished, t0() + 1s).ok());
  CHECK(queue->open_distributed_runs().value().empty());
}

TEST_CASE("postgresql: a chunk whose worker stopped renewing is claimed again, and the first worker is told") {
  PostgresqlFixture db;
  auto a = db.open();
  auto b = db.open();
  std::string run = a->begin_run("input", t0()).value();
  REQUIRE(a->work_queue()->create_distributed(run, "{}").ok());
  REQUIRE(a->work_queue()->add_chunks(run, {WorkChunk{run, 0, {{0, raw(0)}}}}).ok());
  auto first = a->work_queue()->claim_chunk("w1", 200ms, run).value();
  REQUIRE(first.has_value());
  std::optional<WorkChunk> second;
  CHECK(eventually([&] {
    second = b->work_queue()->claim_chunk("w2", 30s, run).value();
    return second.has_value();
  }));
  REQUIRE(second.has_value());
  CHECK(second->chunk == 0);
  CHECK(a->work_queue()->renew_chunk(run, 0, "w1", 30s).code() == StatusCode::kFailedPrecondition);
  CHECK(a->work_queue()->complete_chunk(run, 0, "w1").code() == StatusCode::kFailedPrecondition);
  REQUIRE(b->work_queue()->renew_chunk(run, 0, "w2", 30s).ok());
  auto info = b->work_queue()->chunks(run).value();
  REQUIRE(info.size() == 1);
  CHECK(info[0].claims == 2);
  CHECK(info[0].worker == "w2");
  CHECK(info[0].state == ChunkState::kWorking);
  REQUIRE(b->work_queue()->release_chunk(run, 0, "w2").ok());
  CHECK(b->work_queue()->chunks(run).value()[0].state == ChunkState::kQueued);
  auto third = a->work_queue()->claim_chunk("w3", 30s).value();
  REQUIRE(third.has_value());
  REQUIRE(a->work_queue()->complete_chunk(run, 0, "w3").ok());
  CHECK_FALSE(b->work_queue()->claim_chunk("w4", 30s).value().has_value());
}

TEST_CASE("postgresql: connections the server dropped are replaced without an error") {
  PostgresqlFixture db;
  auto store = db.open();
  CacheKey k = key(Signal::kNews, "company:acme.com");
  REQUIRE(store->put(k, {SignalStatus::kFound, Json("v"), "p", t0()}).ok());
  // A server restart or failover, as the store's sessions see it.
  admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + db.name() + "'");
  Result<std::optional<CacheEntry>> got = store->get(k, t0(), freshness_for(testing::conformance::spec(Signal::kNews)));
  REQUIRE_MESSAGE(got.ok(), got.status().to_string());
  CHECK(got->has_value());
  CHECK(store->put(key(Signal::kNews, "company:b.com"), {SignalStatus::kFound, Json("v"), "p", t0()}).ok());
}

TEST_CASE("postgresql: four threads opening a new database at once all succeed") {
  for (int round = 0; round < 4; ++round) {
    PostgresqlFixture db;
    std::atomic<bool> go{false};
    std::vector<std::string> errors(4);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < 4; ++i) {
      threads.emplace_back([&, i] {
        while (!go.load()) std::this_thread::yield();
        Result<std::shared_ptr<Store>> s = open_store(db.uri());
        if (!s.ok()) errors[i] = s.status().to_string();
      });
    }
    go = true;
    for (auto& t : threads) t.join();
    for (const std::string& e : errors) CHECK(e == "");
  }
}

TEST_CASE("postgresql: a database a newer leadenrich wrote is refused") {
  PostgresqlFixture db;
  db.open();
  PGconn* c = PQconnectdb(db.uri().c_str());
  PQclear(PQexec(c, "UPDATE leadenrich.schema_version SET version = 99"));
  PQfinish(c);
  Result<std::shared_ptr<Store>> s = open_store(db.uri());
  CHECK(s.status().code() == StatusCode::kFailedPrecondition);
  CHECK(s.status().provider() == kStoreProvider);
  CHECK(s.status().message().find("upgrade leadenrich") != std::string::npos);
}

TEST_CASE("postgresql: an unreachable server is one error naming it, never its password") {
  std::string uri = "postgresql://u:secret@127.0.0.1:1/x";
  Result<std::shared_ptr<Store>> s = open_store(uri);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == StatusCode::kUnavailable);
  CHECK(s.status().provider() == kStoreProvider);
  CHECK(s.status().message().find("secret") == std::string::npos);
  CHECK(s.status().message().find("postgresql://u:***@127.0.0.1:1/x") != std::string::npos);
  CHECK(s.status().message().find('\n') == std::string::npos);
  CHECK(store_display_name(uri) == "postgresql://u:***@127.0.0.1:1/x");
  CHECK(store_display_name("postgres://u@h/db?password=secret&sslmode=disable") ==
        "postgres://u@h/db?password=***&sslmode=disable");
  CHECK(store_display_name("/var/lib/store.db") == "/var/lib/store.db");
  CHECK(open_store("postgresql://u:secret@[bad").status().message().find("secret") == std::string::npos);
}
