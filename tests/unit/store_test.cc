// The SQLite store with real files: keys, reopening, migration, damaged files, locks and two
// processes at once. What every store does is in store_conformance.h (store_conformance_test.cc).
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <doctest/doctest.h>

#include "leadenrich/engine.h"
#include "leadenrich/pipe0.h"
#include "leadenrich/sqlite_store.h"
#include "leadenrich/store.h"
#include "leadenrich/testing/fake_transport.h"
#include "unit/forwarding_store.h"
#include "unit/temp_dir.h"

using namespace leadenrich;
using namespace std::chrono_literals;

namespace {

using testing::TempDir;

std::shared_ptr<Store> open(const std::string& path) {
  SqliteStoreOptions o;
  o.path = path;
  return open_sqlite_store(o).value();
}

Timestamp t0() { return parse_timestamp("2026-11-25T00:00:00Z").value(); }
const SignalSpec& spec(Signal s) { return find_spec(default_signal_specs(), s); }
CacheKey key(Signal s, std::string entity) { return CacheKey{s, std::move(entity), spec(s).pipe_id, config_hash(spec(s))}; }

}  // namespace

TEST_CASE("a new pipe version or output configuration is a new key") {
  TempDir dir;
  auto store = open(dir.file("store.db"));
  REQUIRE(store->put(key(Signal::kNews, "company:acme.com"), {SignalStatus::kFound, Json("v"), "p", t0()}).ok());
  CacheKey other = key(Signal::kNews, "company:acme.com");
  other.pipe_id = "company:newssummary:website@2";
  CHECK_FALSE(store->get(other, t0(), freshness_for(spec(Signal::kNews)))->has_value());
  SignalSpec renamed = spec(Signal::kNews);
  renamed.outputs[0].names = {"news_md"};
  CHECK(config_hash(renamed) != config_hash(spec(Signal::kNews)));
  CHECK(config_hash(spec(Signal::kNews)) == config_hash(spec(Signal::kNews)));
}

TEST_CASE("values survive closing and reopening the file") {
  TempDir dir;
  std::string path = dir.file("nested/dir/store.db");
  REQUIRE(open(path)->put(key(Signal::kTechStack, "company:a.com"), {SignalStatus::kFound, Json("v"), "p", t0()}).ok());
  auto again = open(path);
  CHECK(again->get(key(Signal::kTechStack, "company:a.com"), t0(), freshness_for(spec(Signal::kTechStack)))->has_value());
  auto stats = again->cache_stats().value();
  REQUIRE(stats.size() == 1);
  CHECK(stats[0] == std::pair<std::string, std::size_t>{"tech_stack", 1});
}

TEST_CASE("a version-1 store is migrated on open and keeps its cache") {
  TempDir dir;
  std::string path = dir.file("old.db");
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    const char* v1 =
        "CREATE TABLE cache (signal TEXT NOT NULL, entity TEXT NOT NULL, pipe_id TEXT NOT NULL, config_hash TEXT NOT NULL,"
        " status TEXT NOT NULL, value TEXT NOT NULL, source TEXT NOT NULL, fetched_at INTEGER NOT NULL,"
        " PRIMARY KEY (signal, entity, pipe_id, config_hash));"
        "PRAGMA user_version = 1;";
    REQUIRE(sqlite3_exec(db, v1, nullptr, nullptr, nullptr) == SQLITE_OK);
    CacheKey k = key(Signal::kNews, "company:old.com");
    std::string insert = "INSERT INTO cache VALUES ('news', 'company:old.com', '" + k.pipe_id + "', '" + k.config_hash +
                         "', 'found', '{\"summary\":\"old\"}', 'p', " +
                         std::to_string(t0().time_since_epoch().count()) + ")";
    REQUIRE(sqlite3_exec(db, insert.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = open(path);
  CHECK(store->get(key(Signal::kNews, "company:old.com"), t0(), freshness_for(spec(Signal::kNews)))->has_value());
  CHECK(store->begin_run("input", t0()).ok());  // the v2 tables exist now
  CHECK(store->lead_result("lead_1").ok());       // and the v3 one
}

TEST_CASE("damaged, foreign and newer files give one clear error, never a crash") {
  TempDir dir;
  std::string garbage = dir.file("garbage.db");
  std::ofstream(garbage) << std::string(4096, 'x');
  auto r = [&](const std::string& p) {
    SqliteStoreOptions o;
    o.path = p;
    return open_sqlite_store(o);
  };
  Result<std::shared_ptr<Store>> g = r(garbage);
  CHECK(g.status().code() == StatusCode::kDataLoss);
  CHECK(g.status().message().find(garbage) != std::string::npos);

  std::string foreign = dir.file("foreign.db");
  sqlite3* db = nullptr;
  sqlite3_open(foreign.c_str(), &db);
  sqlite3_exec(db, "CREATE TABLE invoices (id INTEGER)", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  CHECK(r(foreign).status().message().find("not a leadenrich store") != std::string::npos);

  std::string newer = dir.file("newer.db");
  sqlite3_open(newer.c_str(), &db);
  sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  CHECK(r(newer).status().code() == StatusCode::kFailedPrecondition);

  // A real store cut in half.
  std::string cut = dir.file("cut.db");
  {
    auto s = open(cut);
    for (int i = 0; i < 300; ++i) {
      REQUIRE(s->put(key(Signal::kNews, "company:c" + std::to_string(i) + ".com"),
                     {SignalStatus::kFound, Json(std::string(200, 'n')), "p", t0()}).ok());
    }
  }
  std::filesystem::remove(cut + "-wal");
  std::filesystem::remove(cut + "-shm");
  std::filesystem::resize_file(cut, std::filesystem::file_size(cut) / 2);
  Result<std::shared_ptr<Store>> c = r(cut);
  bool reported = !c.ok();
  if (!c.ok()) {
    CHECK(c.status().code() == StatusCode::kDataLoss);
  } else {
    // SQLite may open a file whose header survived; the lost pages must then read as errors.
    for (int i = 0; i < 300; ++i) {
      auto got = (*c)->get(key(Signal::kNews, "company:c" + std::to_string(i) + ".com"), t0(), freshness_for(spec(Signal::kNews)));
      if (!got.ok()) {
        CHECK(got.status().code() == StatusCode::kDataLoss);
        CHECK(got.status().message().find(cut) != std::string::npos);
        reported = true;
        break;
      }
    }
  }
  CHECK(reported);
}

TEST_CASE("two processes write and read one store at once without corrupting it") {
  TempDir dir;
  std::string path = dir.file("shared.db");
  open(path);  // create and migrate once
  constexpr int kPerProcess = 200;
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    auto store = open(path);
    int failures = 0;
    for (int i = 0; i < kPerProcess; ++i) {
      failures += store->put(key(Signal::kNews, "company:child" + std::to_string(i) + ".com"),
                             {SignalStatus::kFound, Json("c"), "p", t0()}).ok() ? 0 : 1;
      ignore_error(store->get(key(Signal::kNews, "company:parent" + std::to_string(i) + ".com"), t0(),
                              freshness_for(spec(Signal::kNews))),
                   "reads only contend with the other process's writes; the writes are checked");
    }
    ::_exit(failures == 0 ? 0 : 1);
  }
  auto store = open(path);
  int failures = 0;
  for (int i = 0; i < kPerProcess; ++i) {
    failures += store->put(key(Signal::kNews, "company:parent" + std::to_string(i) + ".com"),
                           {SignalStatus::kFound, Json("p"), "p", t0()}).ok() ? 0 : 1;
    ignore_error(store->get(key(Signal::kNews, "company:child" + std::to_string(i) + ".com"), t0(),
                            freshness_for(spec(Signal::kNews))),
                 "reads only contend with the other process's writes; the writes are checked");
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK(failures == 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  auto stats = open(path)->cache_stats().value();
  REQUIRE(stats.size() == 1);
  CHECK(stats[0].second == 2 * kPerProcess);
}

namespace {

// A store with `n` cache entries of ~2 KB, closed (checkpointed) so the file holds every page.
void fill(const std::string& path, int n) {
  auto s = open(path);
  for (int i = 0; i < n; ++i) {
    REQUIRE(s->put(key(Signal::kNews, "company:c" + std::to_string(i) + ".com"),
                   {SignalStatus::kFound, Json(std::string(2000, 'n')), "p", t0()}).ok());
  }
}

// Overwrites 4 KiB in the middle of the file, on a page boundary.
void damage_middle(const std::string& path) {
  auto size = std::filesystem::file_size(path);
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(size / 2 / 4096 * 4096));
  std::string garbage(4096, '\0');
  for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 131 + 7) % 251);
  f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
}

bool mentions(const Status& st, const std::string& text) { return st.message().find(text) != std::string::npos; }

}  // namespace

TEST_CASE("a store with 4 KiB of garbage in the middle is refused at open, naming the path and the way out") {
  TempDir dir;
  std::string path = dir.file("store.db");
  fill(path, 400);
  REQUIRE(std::filesystem::file_size(path) > 400 * 2000);
  damage_middle(path);
  SqliteStoreOptions o;
  o.path = path;
  Result<std::shared_ptr<Store>> r = open_sqlite_store(o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kDataLoss);
  CHECK(r.status().provider() == kStoreProvider);
  CHECK(mentions(r.status(), path));
  CHECK(mentions(r.status(), "move it aside"));
  CHECK(mentions(r.status(), "--no-cache"));
}

TEST_CASE("reads of a damaged store are errors naming the path, never misses") {
  TempDir dir;
  std::string path = dir.file("store.db");
  fill(path, 400);
  damage_middle(path);
  SqliteStoreOptions o;
  o.path = path;
  o.check_on_open = false;  // as if the damage came after the open
  auto store = open_sqlite_store(o).value();
  int errors = 0, hits = 0;
  for (int i = 0; i < 400; ++i) {
    auto got = store->get(key(Signal::kNews, "company:c" + std::to_string(i) + ".com"), t0(), freshness_for(spec(Signal::kNews)));
    if (!got.ok()) {
      ++errors;
      CHECK(got.status().code() == StatusCode::kDataLoss);
      CHECK(got.status().provider() == kStoreProvider);
      CHECK(mentions(got.status(), path));
    } else if (got->has_value()) {
      ++hits;
    }
  }
  CHECK(errors > 0);
  CHECK(errors + hits == 400);  // what was written is either read or reported, never a silent miss
}

namespace {

// A store whose cache cannot be read (as a damaged file reads); everything else works.
class UnreadableCache : public testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<std::optional<CacheEntry>> get(const CacheKey&, Timestamp, Freshness) override { return damaged(); }
  Result<std::vector<std::optional<CacheEntry>>> get_many(const std::vector<CacheKey>&, Timestamp,
                                                          const std::vector<Freshness>&) override {
    return damaged();
  }
  static Status damaged() {
    return Status(StatusCode::kDataLoss, "store x.db is damaged (read the cache: database disk image is malformed)")
        .with_provider(std::string(kStoreProvider));
  }
};

}  // namespace

TEST_CASE("a cache read error stops the run with the store's error and sends nothing to pipe0") {
  auto transport = std::make_shared<testing::FakeTransport>();
  transport->set_handler([](const HttpRequest&) {
    HttpOutcome o;
    o.response = HttpResponse{500, {}, "{}"};
    return o;
  });
  Pipe0Options po;
  po.base_url = "http://127.0.0.1:9";
  po.api_key = Secret("k");
  auto pipe0 = make_pipe0_connection(po, transport).value();
  auto store = std::make_shared<UnreadableCache>(open_sqlite_store(SqliteStoreOptions{":memory:"}).value());
  Enricher enricher(Config{}, pipe0, store);
  std::vector<RawLead> leads;
  for (int i = 0; i < 300; ++i) {
    RawLead l;
    l.lead_id = "l" + std::to_string(i);
    l.email = "x@c" + std::to_string(i) + ".com";
    leads.push_back(l);
  }
  auto source = make_vector_source(leads);
  std::size_t delivered = 0;
  Result<RunSummary> run = enricher.enrich(*source, [&](EnrichedLead&&) { ++delivered; }, EngineOptions{});
  REQUIRE_FALSE(run.ok());
  CHECK(run.status().provider() == kStoreProvider);
  CHECK(mentions(run.status(), "x.db is damaged"));
  CHECK(transport->request_count() == 0);
  CHECK(delivered <= 64);  // it stopped reading leads after the first block (their lookups are read at once)

  // The dry run counts nothing as a cache hit or a lookup: it reports the store instead.
  auto again = make_vector_source(leads);
  CHECK(enricher.plan(*again, EngineOptions{}).status().provider() == kStoreProvider);
}

TEST_CASE("a directory, a locked file and a newer file are store errors naming the path and what to do") {
  TempDir dir;
  SqliteStoreOptions o;
  o.path = dir.path.string();
  Result<std::shared_ptr<Store>> d = open_sqlite_store(o);
  CHECK(d.status().provider() == kStoreProvider);
  CHECK(mentions(d.status(), o.path + " is a directory"));

  // Another process holds the file with an exclusive lock.
  std::string locked = dir.file("locked.db");
  open(locked);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(locked.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; PRAGMA user_version = 3; COMMIT;",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  o.path = locked;
  o.busy_timeout = std::chrono::milliseconds(50);
  Result<std::shared_ptr<Store>> l = open_sqlite_store(o);
  sqlite3_close(db);
  REQUIRE_FALSE(l.ok());
  CHECK(l.status().provider() == kStoreProvider);
  CHECK(mentions(l.status(), locked));
  CHECK(mentions(l.status(), "another process"));

  std::string newer = dir.file("newer.db");
  sqlite3_open(newer.c_str(), &db);
  sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  o.path = newer;
  Result<std::shared_ptr<Store>> n = open_sqlite_store(o);
  CHECK(n.status().code() == StatusCode::kFailedPrecondition);
  CHECK(n.status().provider() == kStoreProvider);
  CHECK(mentions(n.status(), "upgrade leadenrich"));
}

TEST_CASE("several processes opening a new store at the same moment all succeed") {
  constexpr int kRounds = 6, kProcesses = 6;
  for (int round = 0; round < kRounds; ++round) {
    TempDir dir;
    std::string path = dir.file("new.db");
    int gate[2];
    REQUIRE(::pipe(gate) == 0);
    std::vector<pid_t> children;
    for (int i = 0; i < kProcesses; ++i) {
      pid_t child = ::fork();
      REQUIRE(child >= 0);
      if (child == 0) {
        ::close(gate[1]);
        char c;
        (void)::read(gate[0], &c, 1);  // every child starts when the parent closes the gate
        SqliteStoreOptions o;
        o.path = path;
        Result<std::shared_ptr<Store>> s = open_sqlite_store(o);
        if (!s.ok()) {
          std::fprintf(stderr, "%s\n", s.status().message().c_str());
          ::_exit(1);
        }
        Status put = (*s)->put(key(Signal::kNews, "company:p" + std::to_string(i) + ".com"),
                               {SignalStatus::kFound, Json("v"), "p", t0()});
        ::_exit(put.ok() ? 0 : 2);
      }
      children.push_back(child);
    }
    ::close(gate[0]);
    ::close(gate[1]);
    int failed = 0;
    for (pid_t child : children) {
      int status = 0;
      ::waitpid(child, &status, 0);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
    }
    CHECK(failed == 0);
    auto stats = open(path)->cache_stats().value();
    REQUIRE(stats.size() == 1);
    CHECK(stats[0].second == static_cast<std::size_t>(kProcesses));
  }
}

TEST_CASE("several threads opening a new store at the same moment all succeed") {
  constexpr int kRounds = 6, kThreads = 6;
  for (int round = 0; round < kRounds; ++round) {
    TempDir dir;
    std::string path = dir.file("new.db");
    std::mutex mu;
    std::condition_variable cv;
    bool go = false;
    std::vector<std::string> errors(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return go; });
        }
        SqliteStoreOptions o;
        o.path = path;
        Result<std::shared_ptr<Store>> s = open_sqlite_store(o);
        if (!s.ok()) errors[i] = s.status().message();
      });
    }
    {
      std::lock_guard lock(mu);
      go = true;
    }
    cv.notify_all();
    for (auto& t : threads) t.join();
    for (const std::string& e : errors) CHECK(e == "");
  }
}
