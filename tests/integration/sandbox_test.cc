// The clients and the engine against the in-process sandbox, over real HTTP on 127.0.0.1.
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include <doctest/doctest.h>

#include "leadenrich/aturiya.h"
#include "leadenrich/engine.h"
#include "leadenrich/identity.h"
#include "leadenrich/pipe0.h"
#include "leadenrich/sqlite_store.h"
#include "leadenrich/store.h"
#include "leadenrich/testing/sandbox.h"

using namespace leadenrich;
using namespace std::chrono_literals;

namespace {

struct Env {
  std::unique_ptr<Sandbox> sandbox;
  std::shared_ptr<HttpTransport> transport = make_curl_transport();
  std::shared_ptr<Pipe0Connection> pipe0;
  std::shared_ptr<AturiyaConnection> aturiya;

  explicit Env(SandboxOptions options = {}) {
    sandbox = Sandbox::start(options).value();
    Config c = sandbox->config();
    Pipe0Options po = pipe0_options(c);
    po.retry.backoff.initial = 10ms;  // keep fault runs quick
    po.poll_initial = 50ms;
    po.poll_max = 100ms;
    pipe0 = make_pipe0_connection(po, transport).value();
    aturiya = make_aturiya_connection(aturiya_options(c), transport).value();
  }
};

Pipe0RunRequest request(std::vector<std::pair<std::string, std::optional<std::string>>> sites,
                        std::vector<std::string> pipes = {"company:overview@2"}) {
  Pipe0RunRequest r;
  for (const std::string& p : pipes) {
    std::vector<std::string> required = {p.rfind("people:", 0) == 0 ? "profile_url" : "company_website_url"};
    r.pipes.push_back({p, required, Json()});
  }
  for (auto& [id, site] : sites) {
    Json::Object in;
    if (site) in.emplace_back("company_website_url", Json(*site));
    r.records.push_back({id, in});
  }
  return r;
}

}  // namespace

TEST_CASE("run/sync answers records keyed by string id, in order, with inputs echoed") {
  Env env;
  Result<Pipe0Response> r = env.pipe0->run_sync(request({{"1", "https://acme.com"}, {"2", "https://globex.io"}}));
  REQUIRE(r.ok());
  CHECK(r->run.status == "completed");
  CHECK(r->run.order == std::vector<std::string>{"1", "2"});
  REQUIRE(r->run.records.size() == 2);
  CHECK(r->run.records[0].field("company_website_url")->is_input());
  CHECK(r->capacity.p1.has_value());
  CHECK(r->capacity.priority == 1);
  // Determinism: the same lookup gives the same answer, in a second sandbox with the seed too.
  Result<Pipe0Response> again = env.pipe0->run_sync(request({{"9", "https://acme.com"}}));
  const Pipe0Field* a = r->run.records[0].field("company_description");
  const Pipe0Field* b = again->run.records[0].field("company_description");
  REQUIRE((a != nullptr && b != nullptr));
  CHECK(a->value == b->value);
  CHECK(env.sandbox->counters().repeated_billing == (a->status == "completed" ? 1u : 0u));
}

TEST_CASE("a required key missing from every record fails the request; missing from some, only those skip") {
  Env env;
  Result<Pipe0Response> none = env.pipe0->run_sync(request({{"1", std::nullopt}, {"2", std::nullopt}}));
  CHECK(none.status().code() == StatusCode::kInvalidArgument);
  CHECK(none.status().http_status() == 400);
  CHECK(none.status().error_type() == "missing-required-input");

  Result<Pipe0Response> some = env.pipe0->run_sync(request({{"1", "https://acme.com"}, {"2", std::nullopt}}));
  REQUIRE(some.ok());
  const Pipe0Field* skipped = some->run.records[1].field("company_description");
  REQUIRE(skipped != nullptr);
  CHECK(skipped->status == "skipped");
  CHECK(skipped->reason->code == "RequirementUnmet");
}

TEST_CASE("the sandbox refuses unknown pipes, and the contract's request example validates") {
  Env env;
  Pipe0RunRequest unknown = request({{"1", "https://acme.com"}}, {"company:jobs@9"});
  CHECK(env.pipe0->validate(unknown).code() == StatusCode::kInvalidArgument);
  CHECK(env.pipe0->validate(request({{"1", "https://acme.com"}})).ok());
}

TEST_CASE("a wrong key is 401 unauthenticated") {
  SandboxOptions o;
  o.require_key = "right-key";
  Env env(o);
  Pipe0Options po = pipe0_options(env.sandbox->config());
  po.api_key = Secret("wrong-key");
  auto bad = make_pipe0_connection(po, env.transport).value();
  Status st = bad->run_sync(request({{"1", "https://acme.com"}})).status();
  CHECK(st.code() == StatusCode::kUnauthenticated);
  CHECK(st.message().find("wrong-key") == std::string::npos);
  AturiyaOptions ao = aturiya_options(env.sandbox->config());
  ao.token = Secret("wrong-key");
  CHECK(make_aturiya_connection(ao, env.transport).value()->campaigns().status().code() == StatusCode::kUnauthenticated);
}

TEST_CASE("an async run is created pending and polled with check until completed") {
  SandboxOptions o;
  o.faults.latency = 200ms;
  Env env(o);
  Result<Pipe0Response> created = env.pipe0->create_run(request({{"1", "https://acme.com"}}));
  REQUIRE(created.ok());
  CHECK(created->run.status == "pending");
  Result<Pipe0Run> done = env.pipe0->wait(created->run.id, 10s);
  REQUIRE(done.ok());
  CHECK(done->status == "completed");
  CHECK(env.sandbox->counters().requests["pipe0 check"] >= 1);
  CHECK(env.pipe0->check("no-such-run").status().code() == StatusCode::kNotFound);
}

TEST_CASE("a sync 408 is recovered through check, and pipe0 bills the lookup once") {
  SandboxOptions o;
  o.faults.p_408_sync = 1.0;
  o.faults.latency = 50ms;
  Env env(o);
  Result<Pipe0Response> r = env.pipe0->run_sync(request({{"1", "https://initech.com"}, {"2", "https://hooli.com"}}));
  REQUIRE(r.ok());
  CHECK(r->run.status == "completed");
  SandboxCounters c = env.sandbox->counters();
  CHECK(c.requests["pipe0 run/sync"] == 1);
  CHECK(c.faults["408"] == 1);
  CHECK(c.repeated_billing == 0);
}

TEST_CASE("past the request rate, 429 org-rate-limited with Retry-After") {
  SandboxOptions o;
  o.rate_limit_per_minute = 2;
  Env env(o);
  REQUIRE(env.pipe0->run_sync(request({{"1", "https://a.com"}})).ok());
  REQUIRE(env.pipe0->run_sync(request({{"1", "https://b.com"}})).ok());
  std::optional<Result<Pipe0Response>> got;
  env.pipe0->run_sync_async(request({{"1", "https://c.com"}}), [&](Result<Pipe0Response> r) { got = std::move(r); });
  for (int i = 0; i < 500 && !got; ++i) std::this_thread::sleep_for(10ms);
  REQUIRE(got.has_value());
  CHECK(got->status().code() == StatusCode::kResourceExhausted);
  CHECK(got->status().error_type() == "org-rate-limited");
  CHECK(got->status().retry_after() >= std::chrono::milliseconds(1000));
}

TEST_CASE("truncated bodies and dropped connections are reported, never a crash") {
  SandboxOptions o;
  o.faults.p_truncated = 1.0;
  Env env(o);
  Result<Pipe0Response> r = env.pipe0->create_run(request({{"1", "https://acme.com"}}));
  CHECK(r.status().code() == StatusCode::kDataLoss);
  SandboxFaults reset;
  reset.p_reset = 1.0;
  env.sandbox->set_faults(reset);
  Result<Pipe0Response> dropped = env.pipe0->create_run(request({{"1", "https://acme.com"}}));
  CHECK_FALSE(dropped.ok());
  CHECK(env.sandbox->counters().faults["reset"] >= 1);
}

TEST_CASE("Aturiya: campaigns, leads paged with a limit, one lead, and misbehaving servers") {
  SandboxOptions o;
  o.leads_per_campaign = 45;
  Env env(o);
  std::vector<Campaign> campaigns = env.aturiya->campaigns().value();
  REQUIRE(campaigns.size() == 3);
  std::vector<RawLead> all = env.aturiya->leads(campaigns[0].id, {.per_page = 10, .limit = std::nullopt}).value();
  CHECK(all.size() == 45);
  env.sandbox->reset_counters();
  std::vector<RawLead> some = env.aturiya->leads(campaigns[0].id, {.per_page = 10, .limit = 12}).value();
  CHECK(some.size() == 12);
  CHECK(env.sandbox->counters().requests["aturiya leads"] == 2);
  CHECK(env.aturiya->lead(all[3].lead_id).value() == all[3]);
  CHECK(env.aturiya->lead("lead_none").status().code() == StatusCode::kNotFound);
  CHECK(env.aturiya->campaign("cmp_nope").status().code() == StatusCode::kNotFound);

  SandboxOptions bad = o;
  bad.always_next_page = true;
  bad.ignore_campaign_filter = true;
  Env liar(bad);
  std::vector<RawLead> capped = liar.aturiya->leads("cmp_0001", {.per_page = 100, .limit = std::nullopt, .max_pages = 4}).value();
  CHECK(liar.sandbox->counters().requests["aturiya leads"] == 4);
  for (const RawLead& l : capped) CHECK(l.campaign_id == "cmp_0001");
}

TEST_CASE("the engine on the sandbox: each company billed once, every lead out once, in order") {
  SandboxOptions o;
  o.leads_per_campaign = 120;
  Env env(o);
  Config config = env.sandbox->config();
  Enricher enricher(config, env.pipe0);
  std::vector<RawLead> leads = env.aturiya->leads("cmp_0001").value();
  std::set<std::string> companies;
  for (const RawLead& l : leads) {
    if (auto d = company_identity(l).domain) companies.insert(*d);
  }
  EngineOptions opts;
  opts.signals = {Signal::kCompanyOverview};
  Result<std::vector<EnrichedLead>> out = enricher.enrich(leads, opts);
  REQUIRE(out.ok());
  REQUIRE(out->size() == leads.size());
  for (std::size_t i = 0; i < leads.size(); ++i) CHECK((*out)[i].lead == leads[i]);
  SandboxCounters c = env.sandbox->counters();
  CHECK(c.records == companies.size());
  CHECK(c.repeated_billing == 0);
  CHECK(c.billed["company:overview@2"] <= companies.size());
}

// A sandbox whose campaign cmp_0002 has 150 leads, and engine options that back off briefly.
SandboxOptions campaign_of_150() {
  SandboxOptions o;
  o.leads_per_campaign = 150;
  return o;
}

struct FaultBench {
  Env env{campaign_of_150()};
  Config config = env.sandbox->config();
  std::vector<RawLead> leads = env.aturiya->leads("cmp_0002").value();
  EngineOptions opts = [] {
    EngineOptions o;
    o.retry.backoff.initial = 10ms;
    return o;
  }();
};

TEST_CASE("with 10% 5xx, 5% 429 and 2% truncated JSON injected, every lead comes out and 99.9% of signals are found") {
  FaultBench bench;
  Env& env = bench.env;
  Config& config = bench.config;
  std::vector<RawLead>& leads = bench.leads;
  EngineOptions& opts = bench.opts;
  opts.sync_batch_size = 5;
  Enricher enricher(config, env.pipe0);
  std::vector<EnrichedLead> clean = enricher.enrich(leads, opts).value();
  std::size_t found_clean = 0;
  for (const auto& e : clean) found_clean += e.signals_found.size();

  SandboxFaults faults;
  faults.p_5xx = 0.10;
  faults.p_429 = 0.05;
  faults.p_truncated = 0.02;
  env.sandbox->set_faults(faults);
  std::vector<EnrichedLead> faulty = enricher.enrich(leads, opts).value();
  REQUIRE(faulty.size() == leads.size());
  std::size_t found = 0;
  for (std::size_t i = 0; i < leads.size(); ++i) {
    CHECK(faulty[i].lead.lead_id == leads[i].lead_id);
    found += faulty[i].signals_found.size();
  }
  SandboxCounters c = env.sandbox->counters();
  std::map<std::string, int> reasons;
  for (const auto& e : faulty) {
    for (Signal s : kAllSignals) {
      if (e.result(s).status == SignalStatus::kFailed) ++reasons[e.result(s).reason->code + ": " + e.result(s).reason->message];
    }
  }
  for (const auto& [r, n] : reasons) MESSAGE(n, " x ", r);
  CHECK(c.faults["5xx"] > 0);
  MESSAGE("found ", found, " of ", found_clean, " signals with faults; faults injected: 5xx ", c.faults["5xx"],
          ", 429 ", c.faults["429"], ", truncated ", c.faults["truncated"]);
  CHECK(static_cast<double>(found) >= 0.999 * static_cast<double>(found_clean));
}

TEST_CASE("with 2% of lookups answered failed/ProviderError, at most 0.1% of lookups end failed") {
  FaultBench bench;
  SandboxFaults faults;
  faults.p_provider_error = 0.02;
  bench.env.sandbox->set_faults(faults);
  const Config& config = bench.config;
  const std::vector<RawLead>& leads = bench.leads;
  Enricher enricher(config, bench.env.pipe0);
  std::vector<EnrichedLead> out = enricher.enrich(leads, bench.opts).value();
  REQUIRE(out.size() == leads.size());
  std::set<std::string> looked_up, failed;
  for (const EnrichedLead& e : out) {
    for (Signal s : kAllSignals) {
      const std::optional<std::string>& key = config.spec(s).level == SignalLevel::kCompany ? e.company_key : e.person_key;
      SignalStatus st = e.result(s).status;
      if (!key || st == SignalStatus::kSkipped || st == SignalStatus::kDisabled) continue;
      looked_up.insert(*key + "/" + std::string(to_string(s)));
      if (st == SignalStatus::kFailed) failed.insert(*key + "/" + std::string(to_string(s)));
    }
  }
  SandboxCounters c = bench.env.sandbox->counters();
  MESSAGE(failed.size(), " of ", looked_up.size(), " lookups failed; provider errors injected: ", c.faults["provider_error"]);
  CHECK(c.faults["provider_error"] > 0);
  CHECK(static_cast<double>(failed.size()) <= 0.001 * static_cast<double>(looked_up.size()));
  CHECK(c.repeated_billing == 0);
}

TEST_CASE("16 threads calling enrich_one on one Enricher over 5 companies bill each company and pipe once") {
  SandboxOptions o;
  o.faults.latency = 100ms;  // calls overlap
  Env env(o);
  Config config = env.sandbox->config();
  std::shared_ptr<Store> store = open_sqlite_store({.path = ":memory:"}).value();
  Enricher enricher(config, env.pipe0, store);
  EngineOptions opts;
  opts.signals = {Signal::kCompanyOverview, Signal::kTechStack, Signal::kFunding, Signal::kNews};
  std::atomic<int> found{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int j = 0; j < 3; ++j) {
        RawLead l;
        l.lead_id = "t" + std::to_string(t) + "-" + std::to_string(j);
        l.email = "p" + std::to_string(t) + "@company" + std::to_string((t + j) % 5) + ".com";
        Result<EnrichedLead> e = enricher.enrich_one(l, opts);
        if (e.ok() && e->result(Signal::kCompanyOverview).status != SignalStatus::kFailed) ++found;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  CHECK(found == 48);
  SandboxCounters c = env.sandbox->counters();
  CHECK(c.repeated_billing == 0);
  for (const auto& [pipe, n] : c.lookups) CHECK_MESSAGE(n <= 5, pipe, " looked up ", n, " times");
  for (const auto& [pipe, n] : c.billed) CHECK_MESSAGE(n <= 5, pipe, " billed ", n, " times");
}

TEST_CASE("cancelling enrich(list) returns every lead, in order; those never read come back cancelled") {
  SandboxOptions o;
  o.faults.latency = 20ms;
  Env env(o);
  Config config = env.sandbox->config();
  Enricher enricher(config, env.pipe0);
  std::vector<RawLead> leads;
  for (int i = 0; i < 200; ++i) {
    RawLead l;
    l.lead_id = "l" + std::to_string(i);
    l.email = "p@company" + std::to_string(i) + ".com";
    leads.push_back(l);
  }
  EngineOptions opts;
  opts.read_ahead = 10;
  opts.cancel = std::make_shared<CancellationToken>();
  opts.progress = [&](const Progress& p) {
    if (p.leads_done >= 5) opts.cancel->cancel();
  };
  Result<std::vector<EnrichedLead>> out = enricher.enrich(leads, opts);
  REQUIRE(out.ok());
  REQUIRE(out->size() == leads.size());
  std::size_t cancelled = 0;
  for (std::size_t i = 0; i < leads.size(); ++i) {
    CHECK((*out)[i].lead.lead_id == leads[i].lead_id);
    const SignalResult& r = (*out)[i].result(Signal::kCompanyOverview);
    if (r.status == SignalStatus::kFailed && r.reason && r.reason->code == "cancelled") ++cancelled;
  }
  CHECK(cancelled >= 180);  // at most 5 done and 10 read ahead before the cancel
  CHECK((*out).back().result(Signal::kCompanyOverview).reason->code == "cancelled");
}
