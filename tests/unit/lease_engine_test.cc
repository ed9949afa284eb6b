// Single flight across processes in the engine: Enrichers on separate store objects over one
// SQLite file (as separate processes would be) against the in-process sandbox, over real HTTP.
// Each (company, signal) is paid for once in total; a lookup whose lease another owner holds
// waits for that owner's answer and is not billed; a lease whose owner died is taken over.
#include <atomic>
#include <thread>

#include <doctest/doctest.h>

#include "leadenrich/engine.h"
#include "leadenrich/pipe0.h"
#include "leadenrich/sqlite_store.h"
#include "leadenrich/store.h"
#include "leadenrich/testing/sandbox.h"
#include "unit/forwarding_store.h"
#include "unit/temp_dir.h"

using namespace leadenrich;
using namespace std::chrono_literals;

namespace {

constexpr Signal kCompanySignals[] = {Signal::kCompanyOverview, Signal::kTechStack, Signal::kFunding, Signal::kNews};

struct Env {
  std::unique_ptr<Sandbox> sandbox;
  std::shared_ptr<Pipe0Connection> pipe0;
  testing::TempDir dir{"leadenrich_lease_engine"};

  explicit Env(std::chrono::milliseconds latency = 0ms) {
    SandboxOptions options;
    options.faults.latency = latency;
    sandbox = Sandbox::start(options).value();
    Pipe0Options po = pipe0_options(sandbox->config());
    po.poll_initial = 20ms;
    po.poll_max = 50ms;
    pipe0 = make_pipe0_connection(po, make_curl_transport()).value();
  }

  std::shared_ptr<Store> store(std::chrono::milliseconds lease_time = 30s) {
    SqliteStoreOptions o;
    o.path = dir.file("store.db");
    o.lease_time = lease_time;
    return open_sqlite_store(o).value();
  }

  Enricher enricher(std::shared_ptr<Store> s) { return Enricher(sandbox->config(), pipe0, std::move(s)); }
};

RawLead lead(std::string id, std::string email) {
  RawLead l;
  l.lead_id = std::move(id);
  l.email = std::move(email);
  return l;
}

EngineOptions company_signals() {
  EngineOptions o;
  o.signals.assign(std::begin(kCompanySignals), std::end(kCompanySignals));
  return o;
}

CacheKey key_of(const Config& config, Signal s, const std::string& entity) {
  const SignalSpec& spec = config.spec(s);
  return CacheKey{s, entity, spec.pipe_id, config_hash(spec)};
}

// Found or "nothing exists": the sandbox has no funding or news for some companies.
bool answered(const EnrichedLead& l, Signal s) {
  return l.result(s).status == SignalStatus::kFound || l.result(s).status == SignalStatus::kNoResult;
}

std::size_t lookups_sent(const SandboxCounters& c) {
  std::size_t n = 0;
  for (const auto& [pipe, count] : c.lookups) n += count;
  return n;
}

std::size_t billed_on_leads(const std::vector<EnrichedLead>& leads) {
  std::size_t n = 0;
  for (const EnrichedLead& l : leads) n += l.billed_lookups;
  return n;
}

// The two leads of acme.com came out with every company signal answered, each lookup sent and
// billed once, and the bill on the leads.
void check_each_lookup_sent_once(const Result<std::vector<EnrichedLead>>& out, const Env& env) {
  REQUIRE(out.ok());
  REQUIRE(out->size() == 2);
  for (const EnrichedLead& l : *out) {
    for (Signal s : kCompanySignals) CHECK(answered(l, s));
  }
  SandboxCounters c = env.sandbox->counters();
  CHECK(lookups_sent(c) == std::size(kCompanySignals));
  CHECK(billed_on_leads(*out) == c.total_billed());
  CHECK(c.repeated_billing == 0);
}

}  // namespace

TEST_CASE("two Enrichers on one store file enriching leads of the same companies at once pay for each lookup once") {
  Env env(150ms);  // runs take long enough to overlap
  constexpr int kCompanies = 5;
  std::vector<RawLead> first, second;
  for (int i = 0; i < 40; ++i) {
    std::string company = "c" + std::to_string(i % kCompanies) + ".com";
    first.push_back(lead("a" + std::to_string(i), "p" + std::to_string(i) + "@" + company));
    second.push_back(lead("b" + std::to_string(i), "q" + std::to_string(i) + "@" + company));
  }
  Enricher a = env.enricher(env.store());
  Enricher b = env.enricher(env.store());
  Result<std::vector<EnrichedLead>> out_a = Status(StatusCode::kUnknown, "not run");
  Result<std::vector<EnrichedLead>> out_b = Status(StatusCode::kUnknown, "not run");
  std::thread ta([&] { out_a = a.enrich(first, company_signals()); });
  std::thread tb([&] { out_b = b.enrich(second, company_signals()); });
  ta.join();
  tb.join();
  REQUIRE(out_a.ok());
  REQUIRE(out_b.ok());
  REQUIRE(out_a->size() == 40);
  REQUIRE(out_b->size() == 40);
  for (const auto* out : {&*out_a, &*out_b}) {
    for (const EnrichedLead& l : *out) {
      for (Signal s : kCompanySignals) CHECK(answered(l, s));
    }
  }
  // The same answers on both sides: one lookup, shared through the store.
  for (int i = 0; i < 40; ++i) CHECK((*out_a)[i].company_overview == (*out_b)[i].company_overview);
  SandboxCounters c = env.sandbox->counters();
  CHECK(c.repeated_billing == 0);
  CHECK(lookups_sent(c) == kCompanies * std::size(kCompanySignals));  // each (company, signal) once in all
  CHECK(c.total_billed() > 0);
  CHECK(billed_on_leads(*out_a) + billed_on_leads(*out_b) == c.total_billed());
}

namespace {

// Counts the store's cache reads, by kind.
class CountingReads : public testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<std::optional<CacheEntry>> get(const CacheKey& k, Timestamp now, Freshness f) override {
    ++gets;
    return ForwardingStore::get(k, now, f);
  }
  Result<std::vector<std::optional<CacheEntry>>> get_many(const std::vector<CacheKey>& keys, Timestamp now,
                                                          const std::vector<Freshness>& f) override {
    ++get_manys;
    keys_read += keys.size();
    return ForwardingStore::get_many(keys, now, f);
  }
  std::atomic<std::size_t> gets{0}, get_manys{0}, keys_read{0};
};

}  // namespace

TEST_CASE("a run reads the store for a block of leads at once, never a lookup at a time") {
  Env env;
  constexpr int kLeads = 300, kCompanies = 40;
  std::vector<RawLead> leads;
  for (int i = 0; i < kLeads; ++i) {
    leads.push_back(lead("l" + std::to_string(i), "p" + std::to_string(i) + "@c" + std::to_string(i % kCompanies) + ".com"));
  }
  for (bool warm : {false, true}) {
    CAPTURE(warm);
    auto store = std::make_shared<CountingReads>(env.store());
    Enricher e = env.enricher(store);
    Result<std::vector<EnrichedLead>> out = e.enrich(leads, company_signals());
    REQUIRE(out.ok());
    REQUIRE(out->size() == kLeads);
    for (const EnrichedLead& l : *out) {
      for (Signal s : kCompanySignals) CHECK(answered(l, s));
      if (warm) CHECK(l.result(Signal::kCompanyOverview).from_cache);
    }
    CHECK(store->gets == 0);
    // A call per block of 64 leads, and (cold) one per request for the leases just taken.
    CHECK(store->get_manys > 0);
    CHECK(store->get_manys <= (warm ? 5 : 25));
    CHECK(store->keys_read >= kCompanies * 4);
  }
  CHECK(lookups_sent(env.sandbox->counters()) == kCompanies * std::size(kCompanySignals));
}

TEST_CASE("a lookup another owner holds the lease on waits for its answer and is not billed here") {
  Env env;
  auto other = env.store();
  Config config = env.sandbox->config();
  EngineOptions options;
  options.signals = {Signal::kNews};
  CacheKey news = key_of(config, Signal::kNews, "company:acme.com");
  REQUIRE(other->acquire_lease(news).value());

  Enricher e = env.enricher(env.store());
  Result<std::vector<EnrichedLead>> out = Status(StatusCode::kUnknown, "not run");
  std::thread t([&] { out = e.enrich({lead("l1", "x@acme.com")}, options); });
  // Until the other owner answers, the lead waits and nothing is sent.
  std::this_thread::sleep_for(300ms);
  CHECK(env.sandbox->counters().total_billed() == 0);
  Timestamp now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  REQUIRE(other->put(news, CacheEntry{SignalStatus::kFound, Json(Json::Object{{"summary", Json("## From the other process")}}),
                                      config.spec(Signal::kNews).pipe_id, now})
              .ok());
  t.join();
  REQUIRE(out.ok());
  REQUIRE(out->size() == 1);
  const EnrichedLead& l = out->front();
  CHECK(l.result(Signal::kNews).status == SignalStatus::kFound);
  CHECK(l.result(Signal::kNews).from_cache);
  CHECK(l.billed_lookups == 0);
  REQUIRE(l.news.has_value());
  CHECK(l.news->summary == "## From the other process");
  CHECK(env.sandbox->counters().total_billed() == 0);
}

TEST_CASE("a lookup whose lease holder lets go without an answer is taken over by the waiting run and sent once") {
  Env env;
  auto other = env.store();
  Config config = env.sandbox->config();
  std::vector<CacheKey> keys;
  for (Signal s : kCompanySignals) keys.push_back(key_of(config, s, "company:acme.com"));
  REQUIRE(other->acquire_leases(keys).value() == std::vector<bool>(keys.size(), true));
  Enricher e = env.enricher(env.store());
  Result<std::vector<EnrichedLead>> out = Status(StatusCode::kUnknown, "not run");
  std::thread t([&] { out = e.enrich({lead("l1", "x@acme.com"), lead("l2", "y@acme.com")}, company_signals()); });
  std::this_thread::sleep_for(300ms);  // the run waits for the other owner by now
  CHECK(lookups_sent(env.sandbox->counters()) == 0);
  for (const CacheKey& k : keys) REQUIRE(other->release_lease(k).ok());  // it failed: no answer
  t.join();
  check_each_lookup_sent_once(out, env);
  // Its answers stored, the run holds no lease: the other owner may take them again.
  CHECK(other->acquire_leases(keys).value() == std::vector<bool>(keys.size(), true));
}

TEST_CASE("a lease whose owner died is taken over and the lookup sent once") {
  Env env;
  Config config = env.sandbox->config();
  {
    auto dead = env.store(300ms);
    std::vector<CacheKey> keys;
    for (Signal s : kCompanySignals) keys.push_back(key_of(config, s, "company:acme.com"));
    REQUIRE(dead->acquire_leases(keys).value() == std::vector<bool>(keys.size(), true));
    // Destroyed without releasing, as a killed process stops renewing.
  }
  Enricher e = env.enricher(env.store(300ms));
  Result<std::vector<EnrichedLead>> out = e.enrich({lead("l1", "x@acme.com"), lead("l2", "y@acme.com")}, company_signals());
  check_each_lookup_sent_once(out, env);
}

TEST_CASE("a run cancelled while it waits for another owner's answer ends that lookup cancelled, promptly") {
  Env env;
  auto other = env.store();
  Config config = env.sandbox->config();
  CacheKey news = key_of(config, Signal::kNews, "company:acme.com");
  REQUIRE(other->acquire_lease(news).value());
  Enricher e = env.enricher(env.store());
  EngineOptions options;
  options.signals = {Signal::kNews};
  options.cancel = std::make_shared<CancellationToken>();
  Result<std::vector<EnrichedLead>> out = Status(StatusCode::kUnknown, "not run");
  std::thread t([&] { out = e.enrich({lead("l1", "x@acme.com")}, options); });
  std::this_thread::sleep_for(200ms);  // it waits for the other owner by now (or, if slow, is cancelled first)
  options.cancel->cancel();
  t.join();  // would hang for the other owner's lease (30 s) if cancellation waited for it
  REQUIRE(out.ok());
  REQUIRE(out->size() == 1);
  REQUIRE(out->front().result(Signal::kNews).reason.has_value());
  CHECK(out->front().result(Signal::kNews).reason->code == "cancelled");
  CHECK(env.sandbox->counters().total_billed() == 0);
  // The waiting run never held the lease: the other owner still does.
  CHECK(env.store()->leased_elsewhere(news).value());
}

namespace {

// A shared store whose leases cannot be taken (the database went away mid-run).
class LeaselessStore : public testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  bool shares_leases() const override { return true; }
  Result<std::vector<bool>> acquire_leases(const std::vector<CacheKey>&) override {
    return Status(StatusCode::kUnavailable, "store /tmp/x.db: take lookup leases: disk I/O error")
        .with_provider(std::string(kStoreProvider));
  }
};

}  // namespace

TEST_CASE("a lease the store cannot hand out stops the run with the store's error and sends nothing") {
  Env env;
  Enricher e = env.enricher(std::make_shared<LeaselessStore>(env.store()));
  std::vector<RawLead> leads;
  for (int i = 0; i < 20; ++i) leads.push_back(lead("l" + std::to_string(i), "x@c" + std::to_string(i) + ".com"));
  auto source = make_vector_source(leads);
  std::size_t delivered = 0;
  Result<RunSummary> run = e.enrich(*source, [&](EnrichedLead&& l) {
    ++delivered;
    for (Signal s : kCompanySignals) CHECK(l.result(s).status != SignalStatus::kFound);
  }, company_signals());
  REQUIRE_FALSE(run.ok());
  CHECK(run.status().provider() == kStoreProvider);
  CHECK(run.status().message().find("take lookup leases") != std::string::npos);
  CHECK(lookups_sent(env.sandbox->counters()) == 0);
}
