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
  std::string key = lookup_key("acme.com", Signal::kNews);
  Lookup lk = found_lookup(Signal::kNews, true);
  lk.in_store = true;
  t.insert(key, lk);
  t.settle(key, /*have_store=*/false);
  CHECK(t.find(key) != nullptr);  // without a store it stays
  t.settle(key, /*have_store=*/true);
  CHECK(t.find(key) == nullptr);
  int reads = 0;
  CacheGet store = [&](Signal, const std::string&) -> std::optional<LookupOutcome> {
    ++reads;
    return lk.outcome;
  };
  std::optional<Lookup> back = t.restore(Signal::kNews, "acme.com", key, store);
  REQUIRE(back);
  CHECK(back->done);
  CHECK(back->attributed);  // paid for by the lead that had it first
  CHECK(back->run_id == "run_1");
  CacheGet lost = [](Signal, const std::string&) -> std::optional<LookupOutcome> { return std::nullopt; };
  CHECK_FALSE(t.restore(Signal::kNews, "acme.com", key, lost));
  CHECK_FALSE(t.restore(Signal::kNews, "acme.com", key, store));  // forgotten: looked up again
  CHECK(reads == 1);
}

TEST_CASE("open lists the lookups not yet done") {
  LookupTable t;
  Lookup waiting;
  waiting.signal = Signal::kNews;
  waiting.entity = "globex.io";
  t.insert(lookup_key("globex.io", Signal::kNews), waiting);
  t.insert(lookup_key("acme.com", Signal::kNews), found_lookup(Signal::kNews, false));
  auto open = t.open();
  REQUIRE(open.size() == 1);
  CHECK(open[0].first == "globex.io");
}
