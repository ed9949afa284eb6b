// What every Store does, whatever keeps it: the cache with its freshness windows and negative
// caching, put_many, the run journal, run claims between two store objects (two processes), lead
// results and many threads at once. store_conformance_test.cc runs it on SQLite,
// postgresql_store_test.cc on PostgreSQL.
#ifndef LEADENRICH_TESTS_UNIT_STORE_CONFORMANCE_H_
#define LEADENRICH_TESTS_UNIT_STORE_CONFORMANCE_H_

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "leadenrich/store.h"
#include "unit/shared_store_fixture.h"

namespace leadenrich::testing::conformance {

using namespace std::chrono_literals;

inline Timestamp t0() { return parse_timestamp("2026-11-25T00:00:00Z").value(); }
inline const SignalSpec& spec(Signal s) { return find_spec(default_signal_specs(), s); }
inline CacheKey key(Signal s, std::string entity) {
  return CacheKey{s, std::move(entity), spec(s).pipe_id, config_hash(spec(s))};
}

inline void cache_freshness(SharedStoreFixture& db) {
  auto store = db.open();
  Json value = Json::parse(R"({"summary":"## News"})").value();
  REQUIRE(store->put(key(Signal::kNews, "company:acme.com"), {SignalStatus::kFound, value, "company:newssummary:website@1", t0()}).ok());
  Freshness news = freshness_for(spec(Signal::kNews));  // 1 day
  auto fresh = store->get(key(Signal::kNews, "company:acme.com"), t0() + 24h - 1s, news);
  REQUIRE(fresh.ok());
  REQUIRE(fresh->has_value());
  CHECK((*fresh)->value == value);
  CHECK((*fresh)->fetched_at == t0());
  CHECK((*fresh)->source == "company:newssummary:website@1");
  CHECK_FALSE(store->get(key(Signal::kNews, "company:acme.com"), t0() + 24h + 1s, news)->has_value());
  // Overview keeps 30 days.
  REQUIRE(store->put(key(Signal::kCompanyOverview, "company:acme.com"), {SignalStatus::kFound, Json::parse("{}").value(), "x", t0()}).ok());
  Freshness overview = freshness_for(spec(Signal::kCompanyOverview));
  CHECK(store->get(key(Signal::kCompanyOverview, "company:acme.com"), t0() + 29 * 24h, overview)->has_value());
  CHECK_FALSE(store->get(key(Signal::kCompanyOverview, "company:acme.com"), t0() + 31 * 24h, overview)->has_value());
  // --max-age overrides.
  CHECK_FALSE(store->get(key(Signal::kCompanyOverview, "company:acme.com"), t0() + 2h,
                         freshness_for(spec(Signal::kCompanyOverview), 1h))->has_value());
  // Another store object (another process) reads what this one wrote.
  CHECK(db.open()->get(key(Signal::kNews, "company:acme.com"), t0(), news)->has_value());
}

inline void put_many_all_or_none(SharedStoreFixture& db) {
  auto store = db.open();
  Json value = Json::parse(R"({"summary":"## News \"quoted\" \\ back"})").value();
  std::vector<std::pair<CacheKey, CacheEntry>> entries;
  for (int i = 0; i < 50; ++i) {
    entries.push_back({key(Signal::kNews, "company:c" + std::to_string(i) + ".com"),
                       {SignalStatus::kFound, value, "company:newssummary:website@1", t0()}});
  }
  entries.push_back({key(Signal::kNews, "company:c0.com"), {SignalStatus::kFound, Json("last"), "p", t0()}});
  REQUIRE(store->put_many(entries).ok());
  CHECK(store->cache_stats().value() == std::vector<std::pair<std::string, std::size_t>>{{"news", 50}});
  auto back = store->get(key(Signal::kNews, "company:c49.com"), t0(), freshness_for(spec(Signal::kNews)));
  REQUIRE(back.ok());
  REQUIRE(back->has_value());
  CHECK((*back)->value == value);
  // A key given twice: the later entry wins, as two puts in order would.
  CHECK(store->get(key(Signal::kNews, "company:c0.com"), t0(), freshness_for(spec(Signal::kNews))).value()->value == Json("last"));

  std::vector<std::pair<CacheKey, CacheEntry>> mixed = {
      {key(Signal::kTechStack, "company:acme.com"), {SignalStatus::kFound, Json(Json::Array{}), "x", t0()}},
      {key(Signal::kFunding, "company:acme.com"), {SignalStatus::kFailed, Json(), "x", t0()}}};
  CHECK(store->put_many(mixed).code() == StatusCode::kInvalidArgument);
  CHECK(store->cache_stats().value().size() == 1);  // the tech stack entry was not written either
  CHECK(store->put_many({}).ok());
}

inline void get_many_reads_like_get(SharedStoreFixture& db) {
  auto store = db.open();
  Json value = Json::parse(R"({"summary":"## News"})").value();
  REQUIRE(store->put(key(Signal::kNews, "company:a.com"), {SignalStatus::kFound, value, "p", t0()}).ok());
  REQUIRE(store->put(key(Signal::kFunding, "company:a.com"), {SignalStatus::kNoResult, Json(), "p", t0()}).ok());
  Freshness news = freshness_for(spec(Signal::kNews));        // found: 1 day
  Freshness funding = freshness_for(spec(Signal::kFunding));  // no_result: 3 days
  std::vector<CacheKey> keys = {key(Signal::kNews, "company:a.com"), key(Signal::kNews, "company:b.com"),
                                key(Signal::kFunding, "company:a.com"), key(Signal::kNews, "company:a.com")};
  auto got = store->get_many(keys, t0() + 2 * 24h, {news, news, funding, freshness_for(spec(Signal::kNews), 7 * 24h)});
  REQUIRE(got.ok());
  REQUIRE(got->size() == 4);
  CHECK_FALSE((*got)[0].has_value());  // two days old: past news's day
  CHECK_FALSE((*got)[1].has_value());  // never stored
  REQUIRE((*got)[2].has_value());      // a no_result keeps three days
  CHECK((*got)[2]->status == SignalStatus::kNoResult);
  REQUIRE((*got)[3].has_value());      // the same key, fresh by a longer window
  CHECK((*got)[3]->value == value);
  CHECK(store->get_many({}, t0(), {})->empty());
  CHECK(store->get_many(keys, t0(), {news}).status().code() == StatusCode::kInvalidArgument);
  // Another store object (another process) reads what this one wrote, in the same call.
  auto other = db.open()->get_many({key(Signal::kNews, "company:a.com")}, t0(), {news});
  REQUIRE(other.ok());
  CHECK((*other)[0].has_value());
}

inline void negative_cache(SharedStoreFixture& db) {
  auto store = db.open();
  REQUIRE(store->put(key(Signal::kFunding, "company:x.io"), {SignalStatus::kNoResult, Json(), "p", t0()}).ok());
  Freshness f = freshness_for(spec(Signal::kFunding));  // found 14 d, no_result 3 d
  auto hit = store->get(key(Signal::kFunding, "company:x.io"), t0() + 2 * 24h, f);
  REQUIRE(hit->has_value());
  CHECK((*hit)->status == SignalStatus::kNoResult);
  CHECK_FALSE(store->get(key(Signal::kFunding, "company:x.io"), t0() + 4 * 24h, f)->has_value());
  Status failed = store->put(key(Signal::kFunding, "company:y.io"), {SignalStatus::kFailed, Json(), "p", t0()});
  CHECK(failed.code() == StatusCode::kInvalidArgument);
  CHECK_FALSE(store->get(key(Signal::kFunding, "company:y.io"), t0(), f)->has_value());
  // A new pipe version is a new key.
  CacheKey other = key(Signal::kFunding, "company:x.io");
  other.pipe_id += "-v2";
  CHECK_FALSE(store->get(other, t0(), f)->has_value());
}

inline void journal(SharedStoreFixture& db) {
  auto store = db.open();
  std::string id = store->begin_run("file leads.csv; signals news", t0()).value();
  CHECK(id.rfind("run_20261125T000000Z_", 0) == 0);
  CHECK(id.size() == std::string("run_20261125T000000Z_ab12cd").size());
  EnrichedLead lead;
  lead.lead.lead_id = "l-7";
  lead.result(Signal::kNews).status = SignalStatus::kFound;
  lead.news = News{"## x"};
  REQUIRE(store->record_lead(id, 7, lead, t0() + 1s).ok());
  REQUIRE(store->record_leads(id, {{2, lead}, {3, lead}}, t0() + 2s).ok());
  auto leads = store->run_leads(id).value();
  REQUIRE(leads.size() == 3);
  CHECK(leads[0].first == 2);
  CHECK(leads[2].first == 7);
  CHECK(leads[1].second == lead);
  auto unfinished = store->find_unfinished_run("file leads.csv; signals news").value();
  REQUIRE(unfinished.has_value());
  CHECK(unfinished->id == id);
  CHECK(unfinished->leads_done == 3);
  CHECK(unfinished->updated_at == t0() + 2s);

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

inline void claims_between_store_objects(SharedStoreFixture& db) {
  auto a = db.open();
  auto b = db.open();
  std::string id = a->begin_run("input x", t0()).value();
  REQUIRE(a->claim_run(id).ok());
  CHECK(a->claim_run(id).code() == StatusCode::kFailedPrecondition);  // another claim in this one
  CHECK(b->claim_run(id).code() == StatusCode::kFailedPrecondition);
  CHECK(b->run_claimed(id).value());
  CHECK_FALSE(b->find_unfinished_run("input x")->has_value());  // busy, not unfinished
  a->release_run(id);
  CHECK_FALSE(b->run_claimed(id).value());
  CHECK(b->find_unfinished_run("input x")->has_value());
  REQUIRE(b->claim_run(id).ok());
  CHECK(a->run_claimed(id).value());
  b.reset();  // a process that ends lets go
  CHECK_FALSE(a->run_claimed(id).value());
  CHECK(a->claim_run(id).ok());
}

inline void lead_results(SharedStoreFixture& db) {
  auto store = db.open();
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

inline void threads_at_once(SharedStoreFixture& db) {
  auto store = db.open();
  std::string id = store->begin_run("threads", t0()).value();
  constexpr int kThreads = 8, kEach = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string entity = "company:t" + std::to_string(t) + "-" + std::to_string(i) + ".com";
        if (!store->put(key(Signal::kNews, entity), {SignalStatus::kFound, Json("v"), "p", t0()}).ok()) ++failures;
        auto got = store->get(key(Signal::kNews, entity), t0(), freshness_for(spec(Signal::kNews)));
        if (!got.ok() || !got->has_value()) ++failures;
        EnrichedLead lead;
        lead.lead.lead_id = entity;
        if (!store->record_lead(id, static_cast<std::size_t>(t * kEach + i), lead, t0()).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures.load() == 0);
  CHECK(store->cache_stats().value() ==
        std::vector<std::pair<std::string, std::size_t>>{{"news", static_cast<std::size_t>(kThreads * kEach)}});
  CHECK(store->run(id)->leads_done == static_cast<std::size_t>(kThreads * kEach));
}

/// Every behaviour above, each on a new database.
inline void run_all(const SharedStoreFactory& factory) {
  SUBCASE("cache freshness") { cache_freshness(*factory()); }
  SUBCASE("put_many") { put_many_all_or_none(*factory()); }
  SUBCASE("get_many") { get_many_reads_like_get(*factory()); }
  SUBCASE("negative cache") { negative_cache(*factory()); }
  SUBCASE("journal") { journal(*factory()); }
  SUBCASE("claims between store objects") { claims_between_store_objects(*factory()); }
  SUBCASE("lead results") { lead_results(*factory()); }
  SUBCASE("threads at once") { threads_at_once(*factory()); }
}

}  // namespace leadenrich::testing::conformance

#endif  // LEADENRICH_TESTS_UNIT_STORE_CONFORMANCE_H_
