// The SQLite store with real files: cache expiry per signal, negative caching, keys, migration,
// damaged files, the run journal, and two processes at once.
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

#include "leadenrich/store.h"

using namespace leadenrich;
using namespace std::chrono_literals;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() / ("leadenrich_store_test_" + std::to_string(::getpid()) + "_" +
                                                     std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const char* name) const { return (path / name).string(); }
  static inline int counter = 0;
};

std::shared_ptr<Store> open(const std::string& path) {
  SqliteStoreOptions o;
  o.path = path;
  return open_sqlite_store(o).value();
}

Timestamp t0() { return parse_timestamp("2026-11-25T00:00:00Z").value(); }
const SignalSpec& spec(Signal s) { return find_spec(default_signal_specs(), s); }
CacheKey key(Signal s, std::string entity) { return CacheKey{s, std::move(entity), spec(s).pipe_id, config_hash(spec(s))}; }

}  // namespace

TEST_CASE("a cached value comes back while fresh and not after its signal's window") {
  TempDir dir;
  auto store = open(dir.file("store.db"));
  Json value = Json::parse(R"({"summary":"## News"})").value();
  REQUIRE(store->put(key(Signal::kNews, "company:acme.com"), {SignalStatus::kFound, value, "company:newssummary:website@1", t0()}).ok());
  Freshness news = freshness_for(spec(Signal::kNews));  // 1 day
  auto fresh = store->get(key(Signal::kNews, "company:acme.com"), t0() + 24h - 1s, news);
  REQUIRE(fresh.ok());
  REQUIRE(fresh->has_value());
  CHECK((*fresh)->value == value);
  CHECK((*fresh)->fetched_at == t0());
  CHECK_FALSE(store->get(key(Signal::kNews, "company:acme.com"), t0() + 24h + 1s, news)->has_value());
  // Overview keeps 30 days.
  REQUIRE(store->put(key(Signal::kCompanyOverview, "company:acme.com"), {SignalStatus::kFound, Json::parse("{}").value(), "x", t0()}).ok());
  CHECK(store->get(key(Signal::kCompanyOverview, "company:acme.com"), t0() + 29 * 24h, freshness_for(spec(Signal::kCompanyOverview)))->has_value());
  CHECK_FALSE(store->get(key(Signal::kCompanyOverview, "company:acme.com"), t0() + 31 * 24h, freshness_for(spec(Signal::kCompanyOverview)))->has_value());
  // --max-age overrides.
  CHECK_FALSE(store->get(key(Signal::kCompanyOverview, "company:acme.com"), t0() + 2h, freshness_for(spec(Signal::kCompanyOverview), 1h))->has_value());
}

TEST_CASE("no_result is cached for its shorter window; failures are never cached") {
  TempDir dir;
  auto store = open(dir.file("store.db"));
  REQUIRE(store->put(key(Signal::kFunding, "company:x.io"), {SignalStatus::kNoResult, Json(), "p", t0()}).ok());
  Freshness f = freshness_for(spec(Signal::kFunding));  // found 14 d, no_result 3 d
  CHECK(store->get(key(Signal::kFunding, "company:x.io"), t0() + 2 * 24h, f)->has_value());
  CHECK_FALSE(store->get(key(Signal::kFunding, "company:x.io"), t0() + 4 * 24h, f)->has_value());
  Status failed = store->put(key(Signal::kFunding, "company:y.io"), {SignalStatus::kFailed, Json(), "p", t0()});
  CHECK(failed.code() == StatusCode::kInvalidArgument);
  CHECK_FALSE(store->get(key(Signal::kFunding, "company:y.io"), t0(), f)->has_value());
}

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
  open(path)->put(key(Signal::kTechStack, "company:a.com"), {SignalStatus::kFound, Json("v"), "p", t0()});
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

TEST_CASE("the last result per lead is saved, replaced and read back as the output JSON") {
  TempDir dir;
  auto store = open(dir.file("s.db"));
  CHECK(store->lead_result("lead_1").value() == std::nullopt);

  EnrichedLead first;
  first.lead.lead_id = "lead_1";
  first.quality_score = 40;
  REQUIRE(store->save_lead_result(first, t0()).ok());
  EnrichedLead second = first;
  second.quality_score = 75;
  REQUIRE(store->save_lead_result(second, t0()).ok());

  std::optional<std::string> text = store->lead_result("lead_1").value();
  REQUIRE(text.has_value());
  CHECK(*text == to_json(second).dump());
  CHECK(parse_enriched_lead(*text).value() == second);
  CHECK(store->lead_result("lead_2").value() == std::nullopt);

  EnrichedLead no_id;
  CHECK(store->save_lead_result(no_id, t0()).code() == StatusCode::kInvalidArgument);
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
      s->put(key(Signal::kNews, "company:c" + std::to_string(i) + ".com"), {SignalStatus::kFound, Json(std::string(200, 'n')), "p", t0()});
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

TEST_CASE("the journal records runs, their leads and their pending pipe0 runs") {
  TempDir dir;
  auto store = open(dir.file("store.db"));
  std::string id = store->begin_run("file leads.csv; signals news", t0()).value();
  CHECK(id.rfind("run_20261125T000000Z_", 0) == 0);
  EnrichedLead lead;
  lead.lead.lead_id = "l-7";
  lead.result(Signal::kNews).status = SignalStatus::kFound;
  lead.news = News{"## x"};
  REQUIRE(store->record_lead(id, 7, lead, t0() + 1s).ok());
  REQUIRE(store->record_lead(id, 2, lead, t0() + 2s).ok());
  auto leads = store->run_leads(id).value();
  REQUIRE(leads.size() == 2);
  CHECK(leads[0].first == 2);
  CHECK(leads[1].second == lead);
  auto unfinished = store->find_unfinished_run("file leads.csv; signals news").value();
  REQUIRE(unfinished.has_value());
  CHECK(unfinished->id == id);
  CHECK(unfinished->leads_done == 2);

  REQUIRE(store->record_submission(id, {"p0run_1", {"company:a.com", "company:b.com"}, {Signal::kNews}}).ok());
  auto pending = store->pending_submissions(id).value();
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].entities[1] == "company:b.com");
  CHECK(pending[0].signals == std::vector<Signal>{Signal::kNews});
  REQUIRE(store->forget_submission(id, "p0run_1").ok());
  CHECK(store->pending_submissions(id)->empty());

  REQUIRE(store->finish_run(id, RunState::kFinished, t0() + 3s).ok());
  CHECK_FALSE(store->find_unfinished_run("file leads.csv; signals news")->has_value());
  CHECK(store->run(id)->state == RunState::kFinished);
  CHECK(store->run("run_nope").status().code() == StatusCode::kNotFound);
  CHECK(store->list_runs()->size() == 1);
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
      (void)store->get(key(Signal::kNews, "company:parent" + std::to_string(i) + ".com"), t0(), freshness_for(spec(Signal::kNews)));
    }
    ::_exit(failures == 0 ? 0 : 1);
  }
  auto store = open(path);
  int failures = 0;
  for (int i = 0; i < kPerProcess; ++i) {
    failures += store->put(key(Signal::kNews, "company:parent" + std::to_string(i) + ".com"),
                           {SignalStatus::kFound, Json("p"), "p", t0()}).ok() ? 0 : 1;
    (void)store->get(key(Signal::kNews, "company:child" + std::to_string(i) + ".com"), t0(), freshness_for(spec(Signal::kNews)));
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
