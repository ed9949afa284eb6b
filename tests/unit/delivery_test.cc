// Delivery and the lookup table: input order, each lead exactly once, billing on one lead,
// and a settled lookup read back from the store.
#include <doctest/doctest.h>

#include "internal/delivery.h"
#include "internal/lookup_table.h"
#include "leadenrich/testing/fake_clock.h"

using namespace leadenrich;
using namespace leadenrich::internal;

namespace {
Lookup found_lookup(Signal s, bool billed) {
  Lookup lk;
  lk.signal = s;
  lk.entity = "acme.com";
  lk.done = true;
  lk.outcome.result.status = SignalStatus::kFound;
  lk.outcome.result.source = "pipe";
  lk.outcome.billed = billed;
  lk.run_id = "run_1";
  return lk;
}
}  // namespace

TEST_CASE("leads leave in input order once every lookup they wait for is answered") {
  Config config;
  testing::FakeClock clock;
  Delivery d(config, clock);
  for (int i = 0; i < 3; ++i) {
    EnrichedLead e;
    e.lead.lead_id = "l" + std::to_string(i);
    d.add(std::move(e)).pending = 1;
  }
  Lookup lk = found_lookup(Signal::kNews, true);
  std::vector<std::string> out;
  RunSummary summary;
  auto sink = [&](EnrichedLead&& e) { out.push_back(e.lead.lead_id); };
  d.answer(2, lk);
  d.answer(1, lk);
  CHECK(d.emit_ready(sink, summary) == 0);  // l0 still waits
  d.answer(0, lk);
  CHECK(d.emit_ready(sink, summary) == 3);
  CHECK(out == std::vector<std::string>{"l0", "l1", "l2"});
  CHECK(summary.leads == 3);
  CHECK(summary.count(Signal::kNews, SignalStatus::kFound) == 3);
  CHECK(d.empty());
}

TEST_CASE("a billed lookup is carried by the first lead that receives it, never by a cached one") {
  Config config;
  testing::FakeClock clock;
  Delivery d(config, clock);
  PendingLead& a = d.add(EnrichedLead{});
  PendingLead& b = d.add(EnrichedLead{});
  Lookup lk = found_lookup(Signal::kNews, true);
  d.apply(a, lk);
  d.apply(b, lk);
  CHECK(a.lead.billed_lookups == 1);
  CHECK(b.lead.billed_lookups == 0);
  CHECK(a.lead.provider_run_ids == std::vector<std::string>{"run_1"});
  CHECK(b.lead.result(Signal::kNews).status == SignalStatus::kFound);
  Lookup cached = found_lookup(Signal::kNews, true);
  cached.from_cache = true;
  PendingLead& c = d.add(EnrichedLead{});
  d.apply(c, cached);
  CHECK(c.lead.billed_lookups == 0);
  CHECK(c.lead.result(Signal::kNews).from_cache);
}

TEST_CASE("a settled lookup keeps a few bytes and is read back from the store; a lost one is looked up again") {
  LookupTable t;
  Lookup lk = found_lookup(Signal::kNews, true);
  lk.in_store = true;
  t.settle(t.insert(lk), /*have_store=*/false);
  REQUIRE(t.find("acme.com", Signal::kNews) != nullptr);  // without a store it stays
  t.settle(*t.find("acme.com", Signal::kNews), /*have_store=*/true);
  CHECK(t.find("acme.com", Signal::kNews) == nullptr);
  int reads = 0;
  CacheGet store = [&](Signal, const std::string&) -> std::optional<LookupOutcome> {
    ++reads;
    return lk.outcome;
  };
  CHECK_FALSE(t.restore(Signal::kFunding, "acme.com", store, Timestamp{}));  // another signal of the entity: never settled
  std::optional<Lookup> back = t.restore(Signal::kNews, "acme.com", store, Timestamp{});
  REQUIRE(back);
  CHECK(back->done);
  CHECK(back->attributed);  // paid for by the lead that had it first
  CHECK(back->run_id == "run_1");
  CacheGet lost = [](Signal, const std::string&) -> std::optional<LookupOutcome> { return std::nullopt; };
  CHECK_FALSE(t.restore(Signal::kNews, "acme.com", lost, Timestamp{}));
  CHECK_FALSE(t.restore(Signal::kNews, "acme.com", store, Timestamp{}));  // forgotten: looked up again
  CHECK(reads == 1);
}

TEST_CASE("a settled answer kept in memory is given back without the store until its time, the oldest going first") {
  using namespace std::chrono_literals;
  LookupTable t(2);
  Timestamp t0 = parse_timestamp("2026-12-01T00:00:00Z").value();
  auto settle = [&](const std::string& entity, Timestamp until) {
    Lookup lk = found_lookup(Signal::kNews, true);
    lk.entity = entity;
    lk.in_store = true;
    lk.outcome.result.fetched_at = t0;
    lk.outcome.value = News{"## " + entity};
    t.settle(t.insert(lk), /*have_store=*/true, until);
  };
  settle("a.com", t0 + 1h);
  settle("b.com", t0 + 1h);
  CHECK(t.find("a.com", Signal::kNews) == nullptr);  // settled: no lookup left, only its answer
  CHECK(t.kept("a.com", Signal::kNews));
  CHECK_FALSE(t.kept("a.com", Signal::kFunding));
  int reads = 0;
  CacheGet store = [&](Signal, const std::string& entity) -> std::optional<LookupOutcome> {
    ++reads;
    LookupOutcome o;
    o.result.status = SignalStatus::kFound;
    o.value = News{"from the store: " + entity};
    return o;
  };
  std::optional<Lookup> a = t.restore(Signal::kNews, "a.com", store, t0 + 30min);
  REQUIRE(a);
  CHECK(reads == 0);
  CHECK(std::get<News>(a->outcome.value).summary == "## a.com");
  CHECK(a->outcome.result.source == "pipe");
  CHECK(a->outcome.result.fetched_at == t0);
  CHECK(a->run_id == "run_1");
  CHECK(a->attributed);
  // Past its time the store decides.
  std::optional<Lookup> late = t.restore(Signal::kNews, "b.com", store, t0 + 1h);
  REQUIRE(late);
  CHECK(reads == 1);
  CHECK(std::get<News>(late->outcome.value).summary == "from the store: b.com");
  CHECK_FALSE(t.kept("b.com", Signal::kNews));
  // A third answer replaces the oldest.
  settle("c.com", t0 + 1h);
  CHECK_FALSE(t.kept("a.com", Signal::kNews));
  CHECK(t.kept("c.com", Signal::kNews));
  REQUIRE(t.restore(Signal::kNews, "a.com", store, t0));
  CHECK(reads == 2);
}

TEST_CASE("open lists the lookups not yet done") {
  LookupTable t;
  Lookup waiting;
  waiting.signal = Signal::kNews;
  waiting.entity = "globex.io";
  t.insert(waiting);
  t.insert(found_lookup(Signal::kNews, false));
  auto open = t.open();
  REQUIRE(open.size() == 1);
  CHECK(open[0].first == "globex.io");
}

TEST_CASE("lookups are told apart by entity and signal, keep their address while others come and go, and "
          "insert replaces") {
  LookupTable t;
  std::vector<Lookup*> held;
  for (int i = 0; i < 300; ++i) {
    for (Signal s : {Signal::kNews, Signal::kFunding}) {
      Lookup lk;
      lk.signal = s;
      lk.entity = "company:c" + std::to_string(i) + ".com";
      lk.run_id = std::to_string(i);
      held.push_back(&t.insert(std::move(lk)));
    }
  }
  // Half of them settle (done, stored, nobody waiting): their slots are used again.
  for (int i = 0; i < 300; i += 2) {
    for (Signal s : {Signal::kNews, Signal::kFunding}) {
      Lookup* lk = t.find("company:c" + std::to_string(i) + ".com", s);
      REQUIRE(lk != nullptr);
      lk->done = lk->in_store = true;
      t.settle(*lk, /*have_store=*/true);
    }
  }
  for (int i = 300; i < 450; ++i) {
    Lookup lk;
    lk.signal = Signal::kNews;
    lk.entity = "company:c" + std::to_string(i) + ".com";
    lk.run_id = std::to_string(i);
    t.insert(std::move(lk));
  }
  for (int i = 1; i < 300; i += 2) {
    Lookup* news = t.find("company:c" + std::to_string(i) + ".com", Signal::kNews);
    Lookup* funding = t.find("company:c" + std::to_string(i) + ".com", Signal::kFunding);
    REQUIRE(news != nullptr);
    REQUIRE(funding != nullptr);
    CHECK(news == held[static_cast<std::size_t>(2 * i)]);  // never moved
    CHECK(news->run_id == std::to_string(i));
    CHECK(funding->signal == Signal::kFunding);
  }
  CHECK(t.find("company:c1.com", Signal::kTechStack) == nullptr);
  CHECK(t.find("company:c1.co", Signal::kNews) == nullptr);
  CHECK(t.find("company:c400.com", Signal::kNews)->run_id == "400");
  Lookup again;
  again.signal = Signal::kNews;
  again.entity = "company:c1.com";
  again.run_id = "again";
  Lookup& replaced = t.insert(std::move(again));
  CHECK(&replaced == held[2]);
  CHECK(t.find("company:c1.com", Signal::kNews)->run_id == "again");
  CHECK(t.open().size() == 150 + 150 + 150);  // 150 companies x 2 signals kept, 150 new
}

TEST_CASE("a lookup key names its entity and signal") {
  std::string key = lookup_key("person:https://www.linkedin.com/in/x", Signal::kLinkedInPosts);
  auto named = split_lookup_key(key);  // views into `key`
  REQUIRE(named);
  CHECK(named->first == "person:https://www.linkedin.com/in/x");
  CHECK(named->second == Signal::kLinkedInPosts);
  CHECK_FALSE(split_lookup_key("no separator"));
  CHECK_FALSE(split_lookup_key("acme.com\x1f" "not_a_signal"));
}
