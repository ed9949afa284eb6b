// The run loop over a fake pipe0 port: dedupe, per-lead signal choice, merge, budget, ordering,
// retries, async polling, cancellation. No sockets, no sleeping (a fake clock).
#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include <doctest/doctest.h>

#include "internal/cache_hooks.h"
#include "internal/run.h"
#include "leadenrich/clock.h"
#include "leadenrich/sqlite_store.h"
#include "leadenrich/store.h"
#include "leadenrich/testing/fake_clock.h"
#include "unit/forwarding_store.h"

using namespace leadenrich;
using namespace leadenrich::internal;
using namespace std::chrono_literals;

namespace {

// Answers like pipe0 would for the default pipes, deterministically from the inputs.
BatchRecordResult answer_record(const BatchRecord& rec, const std::vector<std::string>& pipes) {
  BatchRecordResult out;
  out.id = rec.id;
  for (const auto& [k, v] : rec.inputs) out.fields.push_back({k, v, "completed", "", ""});
  const Json* site = nullptr;
  const Json* profile = nullptr;
  for (const auto& [k, v] : rec.inputs) {
    if (k == "company_website_url") site = &v;
    if (k == "profile_url") profile = &v;
  }
  auto has = [&](std::string_view p) { return std::find(pipes.begin(), pipes.end(), p) != pipes.end(); };
  bool company = site != nullptr && site->is_string();
  std::string domain = company ? site->as_string().substr(8) : "";
  auto skipped = [&](const char* field, const char* input) {
    out.fields.push_back({field, Json(), "skipped", "RequirementUnmet", std::string(input) + " missing"});
  };
  if (has("company:overview@2")) {
    if (!company) {
      skipped("company_description", "company_website_url");
    } else if (domain.rfind("empty", 0) == 0) {
      out.fields.push_back({"company_description", Json(), "no_result", "", ""});
    } else {
      out.fields.push_back({"company_description", Json("About " + domain), "completed", "", ""});
      out.fields.push_back({"headcount", domain.size() % 2 ? Json("201-500") : Json(250), "completed", "", ""});
    }
  }
  if (has("company:techstack:builtwith@1")) {
    out.fields.push_back({"technology_stack", Json(Json::Array{Json("React")}), company ? "completed" : "skipped", "", ""});
  }
  if (has("company:funding:leadmagic@1")) out.fields.push_back({"funding_total_usd", Json("$5M"), company ? "completed" : "skipped", "", ""});
  if (has("company:newssummary:website@1")) out.fields.push_back({"company_news_summary", Json("News of " + domain), company ? "completed" : "skipped", "", ""});
  if (has("people:posts:crustdata@1")) {
    bool person = profile != nullptr && profile->is_string();
    out.fields.push_back({"crustdata_post_list", person ? Json(Json::Array{Json("Hello")}) : Json(),
                          person ? "completed" : "skipped", person ? "" : "RequirementUnmet", ""});
  }
  return out;
}

// A scripted port. By default it answers every call inline with a completed run.
class FakePort : public Pipe0Port {
 public:
  std::function<std::optional<Status>(const BatchRequest&, int call)> fail_with;  // error for a call, if any
  bool hold = false;  // keep callbacks until release() (to answer out of order)
  int p1_capacity = 600;  // admissions say priority 1 and this much less the request's records
  // Changes a sync run's finished answer (call number from 1).
  std::function<void(BatchResponse&, int call)> tamper;
  // Sync runs answer "processing" with their id (as after a 408): the result comes by check.
  bool sync_goes_on = false;

  void run_sync(BatchRequest request, BatchCallback done) override {
    int call = record(request);
    if (fail_with) {
      if (auto st = fail_with(request, call)) return finish(std::move(done), *st);
    }
    BatchResponse resp = completed(request, "run_" + std::to_string(call));
    if (tamper) tamper(resp, call);
    if (sync_goes_on) {
      std::lock_guard lock(mu_);
      async_[resp.run_id] = {resp, 0};
      resp.status = "processing";
      resp.records.clear();
    }
    admitted(resp, request);
    if (hold) {
      std::lock_guard lock(mu_);
      held_.push_back([done = std::move(done), resp]() mutable { done(std::move(resp)); });
      return;
    }
    done(std::move(resp));
  }

  void create_run(BatchRequest request, BatchCallback done) override {
    int call = record(request);
    if (fail_with) {
      if (auto st = fail_with(request, call)) return finish(std::move(done), *st);
    }
    std::string id = "async_" + std::to_string(call);
    BatchResponse resp;
    resp.run_id = id;
    resp.status = "pending";
    admitted(resp, request);
    {
      std::lock_guard lock(mu_);
      async_[id] = {completed(request, id), 0};
    }
    done(std::move(resp));
  }

  void check(std::string run_id, BatchCallback done) override {
    BatchResponse resp;
    {
      std::lock_guard lock(mu_);
      ++checks;
      auto& [final_resp, polls] = async_.at(run_id);
      if (++polls < polls_until_done) {
        resp.run_id = run_id;
        resp.status = "processing";
      } else {
        resp = final_resp;
      }
    }
    done(std::move(resp));
  }

  void release_reversed() {
    std::vector<std::function<void()>> held;
    {
      std::lock_guard lock(mu_);
      held.swap(held_);
    }
    for (auto it = held.rbegin(); it != held.rend(); ++it) (*it)();
  }

  std::size_t held() {
    std::lock_guard lock(mu_);
    return held_.size();
  }

  std::vector<BatchRequest> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  int checks = 0;
  int polls_until_done = 3;

 private:
  int record(const BatchRequest& r) {
    std::lock_guard lock(mu_);
    requests_.push_back(r);
    return static_cast<int>(requests_.size());
  }
  static void finish(BatchCallback done, Status st) { done(std::move(st)); }
  void admitted(BatchResponse& resp, const BatchRequest& request) const {
    resp.priority = 1;
    resp.p1_capacity = p1_capacity - static_cast<int>(request.records.size());
    resp.p2_capacity = 2 * p1_capacity;
  }
  static BatchResponse completed(const BatchRequest& request, std::string id) {
    BatchResponse resp;
    resp.run_id = std::move(id);
    resp.status = "completed";
    for (const BatchRecord& rec : request.records) resp.records.push_back(answer_record(rec, request.pipe_ids));
    return resp;
  }

  std::mutex mu_;
  std::vector<BatchRequest> requests_;
  std::vector<std::function<void()>> held_;
  std::map<std::string, std::pair<BatchResponse, int>> async_;
};

RawLead lead(std::string id, std::string email, std::optional<std::string> linkedin = std::nullopt) {
  RawLead l;
  l.lead_id = std::move(id);
  l.email = std::move(email);
  l.linkedin_url = std::move(linkedin);
  return l;
}

struct Harness {
  Config config;
  FakePort port;
  testing::FakeClock clock;
  EngineOptions options;
  CacheHooks cache;
  std::vector<std::string> bad_rows;

  Result<RunSummary> run(std::vector<RawLead> leads, std::vector<EnrichedLead>& out) {
    RunContext ctx{&config, &port, &clock, cache, &options};
    auto source = make_vector_source(std::move(leads));
    return run_enrichment(ctx, *source, [&](EnrichedLead&& e) { out.push_back(std::move(e)); },
                          [&](const std::string& loc, const Status& st) { bad_rows.push_back(loc + ": " + st.message()); });
  }
};

std::size_t records_for_pipe(const std::vector<BatchRequest>& requests, std::string_view pipe) {
  std::size_t n = 0;
  for (const auto& r : requests) {
    if (std::find(r.pipe_ids.begin(), r.pipe_ids.end(), pipe) != r.pipe_ids.end()) n += r.records.size();
  }
  return n;
}

}  // namespace

TEST_CASE("each company and person is looked up once, and the result fans out to every lead") {
  Harness h;
  std::vector<RawLead> leads;
  for (int i = 0; i < 30; ++i) {
    leads.push_back(lead("l" + std::to_string(i), "p" + std::to_string(i) + "@c" + std::to_string(i % 4) + ".com",
                         i % 3 == 0 ? std::optional<std::string>("linkedin.com/in/p" + std::to_string(i % 6)) : std::nullopt));
  }
  std::vector<EnrichedLead> out;
  Result<RunSummary> s = h.run(leads, out);
  REQUIRE(s.ok());
  REQUIRE(out.size() == 30);
  for (int i = 0; i < 30; ++i) CHECK(out[i].lead.lead_id == "l" + std::to_string(i));
  std::vector<BatchRequest> reqs = h.port.requests();
  CHECK(records_for_pipe(reqs, "company:overview@2") == 4);
  CHECK(records_for_pipe(reqs, "people:posts:crustdata@1") == 2);  // p0 and p3 (i % 6 for i % 3 == 0)
  CHECK(s->companies == 4);
  CHECK(s->people == 2);
  CHECK(s->count(Signal::kCompanyOverview, SignalStatus::kFound) == 30);
  CHECK(s->count(Signal::kLinkedInPosts, SignalStatus::kFound) == 10);
  CHECK(s->count(Signal::kLinkedInPosts, SignalStatus::kSkipped) == 20);
  // Billed: 4 companies x 4 company pipes + 2 people.
  CHECK(s->billed_lookups == 18);
  int billed_on_leads = 0;
  for (const auto& e : out) billed_on_leads += e.billed_lookups;
  CHECK(billed_on_leads == 18);
  CHECK(out[4].company_overview->description == "About c0.com");
  CHECK(out[4].result(Signal::kCompanyOverview).from_cache == false);
  CHECK(out[0].signals_found.size() == 5);
  CHECK(out[1].signals_missed == std::vector<Signal>{Signal::kLinkedInPosts});
  CHECK(out[0].quality_score == 100);
  CHECK(out[1].quality_score == 80);
  CHECK(out[0].enriched_at.has_value());
}

TEST_CASE("a lead without a LinkedIn URL is never sent for posts, and requests carry every key") {
  Harness h;
  std::vector<EnrichedLead> out;
  REQUIRE(h.run({lead("a", "x@acme.com"), lead("b", "y@gmail.com", "linkedin.com/in/yy")}, out).ok());
  for (const BatchRequest& r : h.port.requests()) {
    bool posts = std::find(r.pipe_ids.begin(), r.pipe_ids.end(), "people:posts:crustdata@1") != r.pipe_ids.end();
    for (const BatchRecord& rec : r.records) {
      Json in(rec.inputs);
      if (posts) CHECK(in.find("profile_url") != nullptr);
      else CHECK(in.find("company_website_url") != nullptr);
      if (posts) CHECK(in.find("profile_url")->as_string() == "https://www.linkedin.com/in/yy");
    }
  }
  CHECK(records_for_pipe(h.port.requests(), "people:posts:crustdata@1") == 1);
  CHECK(out[0].result(Signal::kLinkedInPosts).reason->code == "missing_input");
  CHECK(out[1].result(Signal::kNews).status == SignalStatus::kSkipped);
  CHECK(out[1].result(Signal::kLinkedInPosts).status == SignalStatus::kFound);
}

TEST_CASE("leads come out in input order even when answers arrive in reverse") {
  Harness h;
  h.port.hold = true;
  h.options.sync_batch_size = 1;
  std::vector<RawLead> leads;
  for (int i = 0; i < 12; ++i) leads.push_back(lead("l" + std::to_string(i), "a@c" + std::to_string(i) + ".com"));
  // Once all 12 are in flight, answer them newest first (from the engine's own thread).
  bool released = false;
  h.options.progress = [&](const Progress&) {
    if (!released && h.port.requests().size() == 12) {
      released = true;
      h.port.release_reversed();
    }
  };
  std::vector<EnrichedLead> out;
  Result<RunSummary> s = h.run(leads, out);
  REQUIRE(s.ok());
  REQUIRE(out.size() == 12);
  for (int i = 0; i < 12; ++i) CHECK(out[i].lead.lead_id == "l" + std::to_string(i));
}

TEST_CASE("a budget stops new spend and marks the rest budget_exhausted") {
  Harness h;
  h.options.signals = {Signal::kCompanyOverview};  // 1 credit per company
  h.options.budget_credits = 2;
  std::vector<EnrichedLead> out;
  Result<RunSummary> s =
      h.run({lead("a", "x@a1.com"), lead("b", "x@a2.com"), lead("c", "x@a3.com"), lead("d", "y@a1.com")}, out);
  REQUIRE(s.ok());
  CHECK(s->budget_exhausted);
  CHECK(out[0].result(Signal::kCompanyOverview).status == SignalStatus::kFound);
  CHECK(out[1].result(Signal::kCompanyOverview).status == SignalStatus::kFound);
  CHECK(out[2].result(Signal::kCompanyOverview).status == SignalStatus::kBudgetExhausted);
  CHECK(out[3].result(Signal::kCompanyOverview).status == SignalStatus::kFound);  // shares a1.com: no new spend
  CHECK(records_for_pipe(h.port.requests(), "company:overview@2") == 2);
  CHECK(out[0].result(Signal::kNews).status == SignalStatus::kDisabled);
}

TEST_CASE("a 503 before processing is sent again after a backoff; a 400 is final with its reason") {
  Harness h;
  h.options.signals = {Signal::kNews};
  h.port.fail_with = [](const BatchRequest& r, int call) -> std::optional<Status> {
    Json in(r.records.front().inputs);
    if (in.find("company_website_url")->as_string() == "https://bad.com") {
      return Status(StatusCode::kInvalidArgument, "pipe0 rejected the request").with_http_status(400);
    }
    if (call == 1) return Status(StatusCode::kUnavailable, "pipe0 answered 503").with_http_status(503);
    return std::nullopt;
  };
  h.options.sync_batch_size = 1;
  std::vector<EnrichedLead> out;
  Result<RunSummary> s = h.run({lead("a", "x@good.com"), lead("b", "x@bad.com")}, out);
  REQUIRE(s.ok());
  CHECK(out[0].result(Signal::kNews).status == SignalStatus::kFound);
  CHECK(out[1].result(Signal::kNews).status == SignalStatus::kFailed);
  CHECK(out[1].result(Signal::kNews).reason->code == "invalid_argument");
  CHECK(out[1].result(Signal::kNews).reason->message == "pipe0 rejected the request (HTTP 400)");
  CHECK(s->retries >= 1);
}

TEST_CASE("a 429 pauses for Retry-After on the clock and sends the same records again") {
  Harness h;
  h.options.signals = {Signal::kNews};
  h.port.fail_with = [](const BatchRequest&, int call) -> std::optional<Status> {
    if (call == 1) return Status(StatusCode::kResourceExhausted, "rate limited").with_retry_after(7s);
    return std::nullopt;
  };
  std::vector<EnrichedLead> out;
  REQUIRE(h.run({lead("a", "x@acme.com")}, out).ok());
  CHECK(out[0].result(Signal::kNews).status == SignalStatus::kFound);
  CHECK(h.port.requests().size() == 2);
  CHECK(h.clock.slept() >= 7s);
}

TEST_CASE("unauthenticated stops all spend and every lead still comes out, failed with the reason") {
  Harness h;
  h.options.sync_batch_size = 1;
  h.port.fail_with = [](const BatchRequest&, int) -> std::optional<Status> {
    return Status(StatusCode::kUnauthenticated, "pipe0 rejected the API key").with_http_status(401);
  };
  h.options.max_records_in_flight = 2;
  std::vector<RawLead> leads;
  for (int i = 0; i < 20; ++i) leads.push_back(lead("l" + std::to_string(i), "x@c" + std::to_string(i) + ".com"));
  std::vector<EnrichedLead> out;
  REQUIRE(h.run(leads, out).ok());
  REQUIRE(out.size() == 20);
  CHECK(h.port.requests().size() == 2);  // the two in flight when the 401 came; nothing after
  for (const auto& e : out) CHECK(e.result(Signal::kNews).reason->code == "unauthenticated");
}

TEST_CASE("async mode creates runs and polls them on the clock until completed") {
  Harness h;
  h.options.mode = RunMode::kAsync;
  h.options.signals = {Signal::kCompanyOverview, Signal::kNews};
  std::vector<RawLead> leads;
  for (int i = 0; i < 150; ++i) leads.push_back(lead("l" + std::to_string(i), "a@c" + std::to_string(i) + ".com"));
  std::vector<EnrichedLead> out;
  Result<RunSummary> s = h.run(leads, out);
  REQUIRE(s.ok());
  CHECK(out.size() == 150);
  // The first run (20 records, the first window) learns the capacity; then batches of up to 100.
  REQUIRE(h.port.requests().size() == 3);
  CHECK(h.port.requests()[0].records.size() == 20);
  CHECK(h.port.requests()[1].records.size() == 100);
  CHECK(h.port.checks == 9);             // 3 polls each
  CHECK(h.clock.slept() >= 1000ms);
  CHECK(s->count(Signal::kNews, SignalStatus::kFound) == 150);
  CHECK(out[0].provider_run_ids == std::vector<std::string>{"async_1"});
}

TEST_CASE("no_result is a real answer, and leads without any identity still come out") {
  Harness h;
  std::vector<EnrichedLead> out;
  RawLead nobody;
  nobody.lead_id = "n";
  REQUIRE(h.run({lead("a", "x@empty.com"), nobody}, out).ok());
  CHECK(out[0].result(Signal::kCompanyOverview).status == SignalStatus::kNoResult);
  CHECK(out[1].signals_found.empty());
  CHECK(out[1].result(Signal::kCompanyOverview).reason->message == "no company domain (no website and no email)");
}

TEST_CASE("the cache answers before pipe0, and only found and no_result are written to it") {
  Harness h;
  std::map<std::string, LookupOutcome> store;
  std::vector<std::string> puts;
  h.cache.get = [&](Signal s, const std::string& entity) -> std::optional<LookupOutcome> {
    auto it = store.find(std::string(to_string(s)) + "|" + entity);
    if (it == store.end()) return std::nullopt;
    return it->second;
  };
  h.cache.put = [&](Signal s, const std::string& entity, const LookupOutcome& o) {
    store[std::string(to_string(s)) + "|" + entity] = o;
    puts.push_back(std::string(to_string(s)) + "|" + entity);
    return true;
  };
  std::vector<EnrichedLead> first, second;
  REQUIRE(h.run({lead("a", "x@acme.com")}, first).ok());
  CHECK(puts.size() == 4);  // 4 company signals; posts skipped locally
  std::size_t requests_before = h.port.requests().size();
  Result<RunSummary> s = h.run({lead("b", "y@acme.com")}, second);
  REQUIRE(s.ok());
  CHECK(h.port.requests().size() == requests_before);
  CHECK(s->cache_hits == 4);
  CHECK(s->billed_lookups == 0);
  CHECK(second[0].result(Signal::kCompanyOverview).from_cache);
  CHECK(second[0].billed_lookups == 0);
  CHECK(second[0].company_overview == first[0].company_overview);
}

// A store as the run sees it; `lose` makes it forget everything it was given.
struct MapCache {
  std::map<std::string, LookupOutcome> entries;
  int gets = 0;
  bool lose = false;
  CacheHooks hooks() {
    CacheHooks c;
    c.get = [this](Signal s, const std::string& entity) -> std::optional<LookupOutcome> {
      ++gets;
      auto it = entries.find(std::string(to_string(s)) + "|" + entity);
      if (lose || it == entries.end()) return std::nullopt;
      LookupOutcome o = it->second;
      o.result.from_cache = true;
      return o;
    };
    c.put = [this](Signal s, const std::string& entity, const LookupOutcome& o) {
      entries[std::string(to_string(s)) + "|" + entity] = o;
      return true;
    };
    return c;
  }
};

TEST_CASE("with a store, a finished lookup is read back for later leads of the company, paid once") {
  Harness h;
  MapCache store;
  h.cache = store.hooks();
  h.options.read_ahead = 1;  // each lead leaves before the next is read: memory holds no values
  std::vector<EnrichedLead> out;
  Result<RunSummary> s = h.run({lead("a", "x@acme.com", "linkedin.com/in/x"), lead("b", "y@acme.com"),
                                lead("c", "z@acme.com", "linkedin.com/in/x")}, out);
  REQUIRE(s.ok());
  REQUIRE(out.size() == 3);
  CHECK(records_for_pipe(h.port.requests(), "company:overview@2") == 1);
  CHECK(records_for_pipe(h.port.requests(), "people:posts:crustdata@1") == 1);
  CHECK(s->cache_hits == 0);  // read back from the store, but answered in this run
  CHECK(s->billed_lookups == 5);
  CHECK(out[0].billed_lookups == 5);
  for (const EnrichedLead& e : {out[1], out[2]}) {
    CHECK(e.company_overview == out[0].company_overview);
    CHECK(e.tech_stack == out[0].tech_stack);
    CHECK(e.result(Signal::kCompanyOverview).status == SignalStatus::kFound);
    CHECK_FALSE(e.result(Signal::kCompanyOverview).from_cache);
    CHECK(e.result(Signal::kCompanyOverview).fetched_at == out[0].result(Signal::kCompanyOverview).fetched_at);
    CHECK(e.billed_lookups == 0);
  }
  // The company and the person went in separate requests; each lead names the ones it used.
  CHECK(out[0].provider_run_ids.size() == 2);
  CHECK(out[2].provider_run_ids == out[0].provider_run_ids);
  REQUIRE(out[1].provider_run_ids.size() == 1);
  CHECK(std::count(out[0].provider_run_ids.begin(), out[0].provider_run_ids.end(), out[1].provider_run_ids[0]) == 1);
  CHECK(out[2].linkedin_posts == out[0].linkedin_posts);
  CHECK(out[2].signals_found.size() == 5);
}

TEST_CASE("with a store that lost what it was given, later leads are looked up again, never left empty") {
  Harness h;
  MapCache store;
  h.cache = store.hooks();
  h.options.read_ahead = 1;
  store.lose = true;
  std::vector<EnrichedLead> out;
  // A person's answer is not kept in memory once stored (a company's is, for a while).
  Result<RunSummary> s = h.run({lead("a", "x@acme.com", "linkedin.com/in/x"), lead("b", "y@globex.io", "linkedin.com/in/x")}, out);
  REQUIRE(s.ok());
  REQUIRE(out.size() == 2);
  CHECK(records_for_pipe(h.port.requests(), "people:posts:crustdata@1") == 2);
  CHECK(out[1].linkedin_posts == out[0].linkedin_posts);
  CHECK(out[1].result(Signal::kLinkedInPosts).status == SignalStatus::kFound);
}

TEST_CASE("cancellation delivers every lead read so far, unfinished lookups failed as cancelled") {
  Harness h;
  h.port.hold = true;  // nothing ever answers
  auto token = std::make_shared<CancellationToken>();
  h.options.cancel = token;
  h.options.progress = [&](const Progress& p) {
    if (p.requests > 0) token->cancel();
  };
  std::vector<EnrichedLead> out;
  Result<RunSummary> s = h.run({lead("a", "x@a.com"), lead("b", "x@b.com")}, out);
  REQUIRE(s.ok());
  CHECK(s->cancelled);
  REQUIRE(out.size() == 2);
  CHECK(out[0].result(Signal::kNews).reason->code == "cancelled");
}

TEST_CASE("bad rows are counted and reported, never fatal") {
  Harness h;
  std::vector<EnrichedLead> out;
  Result<RunSummary> s = h.run({lead("a", "x@a.com"), lead("a", "y@a.com"), lead("c", "z@c.com")}, out);
  REQUIRE(s.ok());
  CHECK(out.size() == 2);
  CHECK(s->bad_rows == 1);
  REQUIRE(h.bad_rows.size() == 1);
  CHECK(h.bad_rows[0] == "leads[1]: duplicate lead_id 'a' (first seen at leads[0])");
}

TEST_CASE("the dry run counts lookups after dedupe and prices them, sending nothing") {
  Harness h;
  RunContext ctx{&h.config, nullptr, &h.clock, {}, &h.options};
  auto source = make_vector_source({lead("a", "x@acme.com", "linkedin.com/in/a"), lead("b", "y@acme.com"),
                                    lead("c", "z@gmail.com")});
  Result<Plan> p = plan_enrichment(ctx, *source);
  REQUIRE(p.ok());
  CHECK(p->leads == 3);
  CHECK(p->companies == 1);
  CHECK(p->people == 1);
  CHECK(p->lookups[static_cast<std::size_t>(Signal::kFunding)] == 1);
  CHECK(p->skipped[static_cast<std::size_t>(Signal::kFunding)] == 1);
  CHECK(p->records == 2);
  CHECK(p->estimated_credits == doctest::Approx(1 + 1 + 2 + 1 + 1));
  CHECK(h.port.requests().empty());
}

// A field answered failed/ProviderError, for the signal's output, on the given calls.
void provider_error(BatchResponse& resp, std::string_view field) {
  for (BatchRecordResult& r : resp.records) {
    for (ProviderField& f : r.fields) {
      if (f.name == field) {
        f.value = Json();
        f.status = "failed";
        f.reason_code = "ProviderError";
        f.reason_message = "the provider failed; retry later";
      }
    }
  }
}

TEST_CASE("a lookup answered failed for a transient reason is asked again with backoff until it is found") {
  Harness h;
  h.options.signals = {Signal::kNews};
  h.port.tamper = [](BatchResponse& resp, int call) {
    if (call <= 3) provider_error(resp, "company_news_summary");
  };
  std::vector<EnrichedLead> out;
  Result<RunSummary> s = h.run({lead("a", "x@acme.com")}, out);
  REQUIRE(s.ok());
  CHECK(out[0].result(Signal::kNews).status == SignalStatus::kFound);
  CHECK(h.port.requests().size() == 4);  // three failed answers, each retried (old engine: one retry)
  CHECK(s->retries == 3);
  CHECK(h.clock.slept() >= 500ms);  // the retry policy's backoff, on the clock
}

TEST_CASE("transient failures stop at the policy's attempts; permanent ones are never asked again") {
  Harness h;
  h.options.signals = {Signal::kNews};
  h.options.retry.limits.max_attempts = 3;
  h.port.tamper = [](BatchResponse& resp, int) { provider_error(resp, "company_news_summary"); };
  std::vector<EnrichedLead> out;
  REQUIRE(h.run({lead("a", "x@acme.com")}, out).ok());
  CHECK(out[0].result(Signal::kNews).status == SignalStatus::kFailed);
  CHECK(out[0].result(Signal::kNews).reason->code == "ProviderError");
  CHECK(h.port.requests().size() == 3);

  Harness p;
  p.options.signals = {Signal::kNews};
  p.port.tamper = [](BatchResponse& resp, int) {
    provider_error(resp, "company_news_summary");
    for (auto& r : resp.records) {
      for (auto& f : r.fields) {
        if (f.name == "company_news_summary") f.reason_code = "InvalidInput";
      }
    }
  };
  std::vector<EnrichedLead> out2;
  REQUIRE(p.run({lead("a", "x@acme.com")}, out2).ok());
  CHECK(out2[0].result(Signal::kNews).reason->code == "InvalidInput");
  CHECK(p.port.requests().size() == 1);
}

TEST_CASE("a sync run that goes on at pipe0 (408) is followed by check on the engine's loop, never re-sent") {
  Harness h;
  h.options.signals = {Signal::kNews};
  h.port.sync_goes_on = true;
  std::vector<EnrichedLead> out;
  Result<RunSummary> s = h.run({lead("a", "x@acme.com"), lead("b", "x@globex.io")}, out);
  REQUIRE(s.ok());
  CHECK(h.port.requests().size() == 1);
  CHECK(h.port.checks == 3);
  CHECK(out[0].result(Signal::kNews).status == SignalStatus::kFound);
  CHECK(out[1].result(Signal::kNews).status == SignalStatus::kFound);
}

TEST_CASE("cancelling during a 429 backoff ends the run at once, every waiting lookup cancelled") {
  Harness h;
  h.options.signals = {Signal::kNews};
  h.options.sync_batch_size = 1;
  h.port.fail_with = [](const BatchRequest&, int) -> std::optional<Status> {
    return Status(StatusCode::kResourceExhausted, "rate limited").with_retry_after(30s);
  };
  auto token = std::make_shared<CancellationToken>();
  h.options.cancel = token;
  // Cancel once the run has started waiting out the Retry-After (the clock has moved).
  h.options.progress = [&](const Progress&) {
    if (h.clock.slept() > 0ms) token->cancel();
  };
  std::vector<EnrichedLead> out;
  std::vector<RawLead> leads;
  for (int i = 0; i < 5; ++i) leads.push_back(lead("l" + std::to_string(i), "x@c" + std::to_string(i) + ".com"));
  Result<RunSummary> s = h.run(leads, out);
  REQUIRE(s.ok());
  CHECK(s->cancelled);
  REQUIRE(out.size() == 5);
  for (const EnrichedLead& e : out) {
    CHECK(e.result(Signal::kNews).status == SignalStatus::kFailed);
    CHECK(e.result(Signal::kNews).reason->code == "cancelled");
  }
  CHECK(h.clock.slept() < 30s);  // it did not wait the backoff out
}

TEST_CASE("nothing cancelled is written to the cache") {
  Harness h;
  h.port.hold = true;
  std::size_t puts = 0;
  h.cache.put = [&](Signal, const std::string&, const LookupOutcome&) {
    ++puts;
    return true;
  };
  auto token = std::make_shared<CancellationToken>();
  h.options.cancel = token;
  h.options.progress = [&](const Progress& p) {
    if (p.requests > 0) token->cancel();
  };
  std::vector<EnrichedLead> out;
  REQUIRE(h.run({lead("a", "x@a.com")}, out).ok());
  CHECK(out[0].result(Signal::kNews).reason->code == "cancelled");
  CHECK(puts == 0);
  h.port.release_reversed();  // a late answer after the run ended goes nowhere
}

// Two runs of one Enricher on their own threads, sharing `flights`: `first` is started and
// its request held before `second` starts; returns once `second` has read its lead.
struct TwoRuns {
  Harness& h;
  LookupFlights flights;
  EngineOptions first_options;
  EngineOptions second_options;
  std::vector<EnrichedLead> first_out, second_out;
  std::thread first, second;
  std::promise<void> second_waiting;
  std::atomic<bool> signalled{false};

  explicit TwoRuns(Harness& harness) : h(harness), first_options(h.options), second_options(h.options) {}

  void start(RawLead a, RawLead b) {
    second_options.progress = [&](const Progress&) {
      if (!signalled.exchange(true)) second_waiting.set_value();
    };
    first = launch(std::move(a), first_options, first_out);
    while (h.port.held() == 0) std::this_thread::yield();
    second = launch(std::move(b), second_options, second_out);
    second_waiting.get_future().wait();  // it has read its lead and found its lookups in flight
  }

  std::thread launch(RawLead l, const EngineOptions& options, std::vector<EnrichedLead>& out) {
    return std::thread([this, l = std::move(l), &options, &out] {
      RunContext ctx{&h.config, &h.port, &h.clock, {}, &options, &flights};
      auto src = make_vector_source({l});
      REQUIRE(run_enrichment(ctx, *src, [&](EnrichedLead&& e) { out.push_back(std::move(e)); }, nullptr).ok());
    });
  }
};

TEST_CASE("two runs of one Enricher needing the same lookups share one pipe0 lookup, billed once") {
  Harness h;
  h.options.signals = {Signal::kCompanyOverview, Signal::kNews};
  h.port.hold = true;
  TwoRuns runs(h);
  runs.start(lead("a", "x@acme.com"), lead("b", "y@acme.com"));
  h.port.release_reversed();
  runs.first.join();
  runs.second.join();
  CHECK(h.port.requests().size() == 1);
  REQUIRE(runs.first_out.size() == 1);
  REQUIRE(runs.second_out.size() == 1);
  CHECK(runs.second_out[0].result(Signal::kNews).status == SignalStatus::kFound);
  CHECK(runs.second_out[0].company_overview == runs.first_out[0].company_overview);
  CHECK(runs.first_out[0].billed_lookups == 2);
  CHECK(runs.second_out[0].billed_lookups == 0);
  CHECK(runs.flights.flying() == 0);
}

TEST_CASE("a run cancelled while flying a lookup hands it to the run waiting for it") {
  Harness h;
  h.options.signals = {Signal::kNews};
  h.port.hold = true;
  TwoRuns runs(h);
  auto token = std::make_shared<CancellationToken>();
  runs.first_options.cancel = token;
  runs.start(lead("a", "x@acme.com"), lead("b", "y@acme.com"));
  token->cancel();
  runs.first.join();
  while (h.port.held() < 2) std::this_thread::yield();  // b flies it now (a's answer is still held)
  h.port.release_reversed();
  runs.second.join();
  CHECK(runs.first_out[0].result(Signal::kNews).reason->code == "cancelled");
  CHECK(runs.second_out[0].result(Signal::kNews).status == SignalStatus::kFound);
  CHECK(runs.second_out[0].billed_lookups == 1);
}

namespace {

// A SQLite store in memory that counts what the run asks of its cache. With `batched` false its
// put_many is the Store default (one put() each), as in a store that does not override it.
class CountingStore : public testing::ForwardingStore {
 public:
  explicit CountingStore(bool batched)
      : ForwardingStore(open_sqlite_store({":memory:"}).value()), batched_(batched) {}
  int gets = 0, puts = 0, put_manys = 0;
  std::size_t keys_read = 0;  // by get() and get_many()
  std::size_t largest_put_many = 0, put_many_entries = 0;

  Result<std::optional<CacheEntry>> get(const CacheKey& k, Timestamp now, Freshness f) override {
    ++gets;
    ++keys_read;
    return inner_->get(k, now, f);
  }
  Result<std::vector<std::optional<CacheEntry>>> get_many(const std::vector<CacheKey>& keys, Timestamp now,
                                                          const std::vector<Freshness>& f) override {
    keys_read += keys.size();
    return inner_->get_many(keys, now, f);
  }
  Status put(const CacheKey& k, const CacheEntry& e) override {
    ++puts;
    return inner_->put(k, e);
  }
  std::function<void()> on_put_many;
  Status put_many(const std::vector<std::pair<CacheKey, CacheEntry>>& entries) override {
    ++put_manys;
    largest_put_many = std::max(largest_put_many, entries.size());
    put_many_entries += entries.size();
    if (on_put_many) on_put_many();
    return batched_ ? inner_->put_many(entries) : Store::put_many(entries);
  }

 private:
  bool batched_;
};

// 40 leads over 4 companies, each lead finished before the next is read, so every lead after a
// company's first is answered from what the run stored.
std::vector<RawLead> forty_leads_of_four_companies() {
  std::vector<RawLead> leads;
  for (int i = 0; i < 40; ++i) leads.push_back(lead("l" + std::to_string(i), "p" + std::to_string(i) + "@c" + std::to_string(i % 4) + ".com"));
  return leads;
}

void check_same_company_answers(const std::vector<EnrichedLead>& out) {
  REQUIRE(out.size() == 40);
  for (std::size_t i = 4; i < out.size(); ++i) {
    const EnrichedLead& first = out[i % 4];
    CHECK(out[i].company_overview == first.company_overview);
    CHECK(out[i].tech_stack == first.tech_stack);
    CHECK(out[i].funding == first.funding);
    CHECK(out[i].news == first.news);
    for (Signal s : {Signal::kCompanyOverview, Signal::kTechStack, Signal::kFunding, Signal::kNews}) {
      CHECK(out[i].result(s).status == SignalStatus::kFound);
      CHECK(out[i].result(s).fetched_at == first.result(s).fetched_at);
      CHECK(out[i].result(s).source == first.result(s).source);
    }
    CHECK(out[i].billed_lookups == 0);
    CHECK(out[i].provider_run_ids == first.provider_run_ids);
    CHECK(out[i].provider_run_ids.size() == 1);
  }
}

}  // namespace

TEST_CASE("with a store, each pipe0 answer is stored in one call and later leads of a company do not read it back") {
  Harness h;
  auto store = std::make_shared<CountingStore>(true);
  h.options.read_ahead = 1;
  h.cache = make_cache_hooks(store, h.config, h.options, std::shared_ptr<Clock>(&h.clock, [](Clock*) {}));
  std::vector<EnrichedLead> out;
  Result<RunSummary> s = h.run(forty_leads_of_four_companies(), out);
  REQUIRE(s.ok());
  CHECK(h.port.requests().size() == 4);  // one per company: each lead leaves before the next is read
  CHECK(s->billed_lookups == 16);
  CHECK(store->put_manys == 4);  // one store transaction per pipe0 answer, not one per lookup
  CHECK(store->largest_put_many == 4);
  CHECK(store->puts == 0);
  CHECK(store->keys_read == 16);  // each company signal missed once; the 36 later leads read nothing
  CHECK(store->cache_stats().value().size() == 4);
  check_same_company_answers(out);
}

TEST_CASE("answers that come in together are stored in one transaction, and their journaled runs forgotten only after") {
  for (bool goes_on : {false, true}) {
    CAPTURE(goes_on);
    Harness h;
    auto store = std::make_shared<CountingStore>(true);
    h.port.sync_goes_on = goes_on;  // each run is journaled, then finished by one check
    h.port.polls_until_done = 1;
    h.options.mode = RunMode::kSync;
    h.cache = make_cache_hooks(store, h.config, h.options, std::shared_ptr<Clock>(&h.clock, [](Clock*) {}));
    std::vector<std::string> events;
    store->on_put_many = [&] { events.push_back("stored"); };
    h.cache.submitted = [](const std::string&, const std::vector<std::string>&, const std::vector<Signal>&) {};
    h.cache.settled = [&](const std::string& run_id) { events.push_back("forgot " + run_id); };
    std::vector<RawLead> leads;
    for (int i = 0; i < 15; ++i) leads.push_back(lead("l" + std::to_string(i), "p@c" + std::to_string(i) + ".com"));
    std::vector<EnrichedLead> out;
    Result<RunSummary> s = h.run(leads, out);
    REQUIRE(s.ok());
    REQUIRE(out.size() == 15);
    // The fake answers at once: the first window's runs come in together, then the rest's once
    // the capacity is known.
    std::size_t answers = h.port.requests().size();
    CHECK(answers >= 2);  // 15 records, at most 9 a run
    CHECK(static_cast<std::size_t>(store->put_manys) < answers);
    CHECK(store->put_many_entries == 60);
    REQUIRE_FALSE(events.empty());
    CHECK(events.front() == "stored");
    CHECK(events.size() == static_cast<std::size_t>(store->put_manys) + (goes_on ? answers : 0));
    for (const EnrichedLead& e : out) CHECK(e.result(Signal::kNews).status == SignalStatus::kFound);
  }
}

TEST_CASE("many answers that come in together are stored a bounded number of lookups at a time, whole answers each") {
  Harness h;
  auto store = std::make_shared<CountingStore>(true);
  h.options.mode = RunMode::kSync;
  h.cache = make_cache_hooks(store, h.config, h.options, std::shared_ptr<Clock>(&h.clock, [](Clock*) {}));
  std::vector<std::size_t> sizes;
  std::size_t before = 0;
  store->on_put_many = [&] {
    sizes.push_back(store->put_many_entries - before);
    before = store->put_many_entries;
  };
  std::vector<RawLead> leads;
  for (int i = 0; i < 200; ++i) leads.push_back(lead("l" + std::to_string(i), "p@c" + std::to_string(i) + ".com"));
  std::vector<EnrichedLead> out;
  REQUIRE(h.run(leads, out).ok());
  REQUIRE(out.size() == 200);
  CHECK(store->put_many_entries == 800);
  CHECK(sizes.size() >= 3);                         // 800 lookups, at most 256 held (then their answer ends)
  CHECK(sizes.size() < h.port.requests().size());  // still far fewer transactions than answers
  for (std::size_t n : sizes) {
    CHECK(n % 4 == 0);          // whole records: an answer is never split
    CHECK(n < 256 + 9 * 4);    // past the bound by at most one answer
  }
}

TEST_CASE("a store that keeps Store's default put_many gets one put per lookup, with the same leads out") {
  Harness h;
  auto store = std::make_shared<CountingStore>(false);
  h.options.read_ahead = 1;
  h.cache = make_cache_hooks(store, h.config, h.options, std::shared_ptr<Clock>(&h.clock, [](Clock*) {}));
  std::vector<EnrichedLead> out;
  REQUIRE(h.run(forty_leads_of_four_companies(), out).ok());
  CHECK(store->put_manys == 4);
  CHECK(store->puts == 16);
  check_same_company_answers(out);
}

TEST_CASE("an answer the run remembers is used only while its signal's window lasts") {
  Harness h;
  auto store = std::make_shared<CountingStore>(true);
  h.options.read_ahead = 1;
  h.cache = make_cache_hooks(store, h.config, h.options, std::shared_ptr<Clock>(&h.clock, [](Clock*) {}));
  // The second lead of the company is read a day and an hour after the first: news (a day) is
  // looked up again, the overview (30 days) is not.
  class LaterSecondLead : public LeadSource {
   public:
    LaterSecondLead(std::vector<RawLead> leads, testing::FakeClock& clock) : leads_(std::move(leads)), clock_(clock) {}
    std::optional<SourceItem> next() override {
      if (i_ == leads_.size()) return std::nullopt;
      if (i_ == 1) clock_.advance(25h);
      SourceItem item;
      item.lead = leads_[i_];
      item.location = "lead " + std::to_string(i_++);
      return item;
    }
    std::string describe() const override { return "two leads"; }

   private:
    std::vector<RawLead> leads_;
    testing::FakeClock& clock_;
    std::size_t i_ = 0;
  };
  LaterSecondLead source({lead("a", "x@acme.com"), lead("b", "y@acme.com")}, h.clock);
  RunContext ctx{&h.config, &h.port, &h.clock, h.cache, &h.options};
  std::vector<EnrichedLead> out;
  REQUIRE(run_enrichment(ctx, source, [&](EnrichedLead&& e) { out.push_back(std::move(e)); }, nullptr).ok());
  REQUIRE(out.size() == 2);
  CHECK(records_for_pipe(h.port.requests(), "company:newssummary:website@1") == 2);
  CHECK(records_for_pipe(h.port.requests(), "company:overview@2") == 1);
  CHECK(out[1].result(Signal::kNews).fetched_at != out[0].result(Signal::kNews).fetched_at);
  CHECK(out[1].result(Signal::kCompanyOverview).fetched_at == out[0].result(Signal::kCompanyOverview).fetched_at);
  CHECK(out[1].billed_lookups == 1);
}

TEST_CASE("with a store, the run keeps the last 8,192 company answers in memory; older ones are read back") {
  Harness h;
  auto store = std::make_shared<CountingStore>(true);
  h.options.read_ahead = 1;
  h.options.signals = {Signal::kCompanyOverview};
  h.cache = make_cache_hooks(store, h.config, h.options, std::shared_ptr<Clock>(&h.clock, [](Clock*) {}));
  constexpr int kCompanies = 8192 + 10;  // ten more than the run keeps
  std::vector<RawLead> leads;
  for (int i = 0; i < kCompanies; ++i) leads.push_back(lead("a" + std::to_string(i), "x@c" + std::to_string(i) + ".com"));
  // The newest hundred again, then the ten oldest.
  for (int i = kCompanies - 100; i < kCompanies; ++i) leads.push_back(lead("b" + std::to_string(i), "y@c" + std::to_string(i) + ".com"));
  for (int i = 0; i < 10; ++i) leads.push_back(lead("c" + std::to_string(i), "z@c" + std::to_string(i) + ".com"));
  std::vector<EnrichedLead> out;
  Result<RunSummary> s = h.run(leads, out);
  REQUIRE(s.ok());
  REQUIRE(out.size() == leads.size());
  CHECK(records_for_pipe(h.port.requests(), "company:overview@2") == kCompanies);  // each company once
  CHECK(store->keys_read == kCompanies + 10);  // each missed once; of the later leads only the ten oldest read back
  for (std::size_t i = kCompanies; i < out.size(); ++i) {
    const EnrichedLead& first = out[i < kCompanies + 100 ? i - 100 : i - kCompanies - 100];
    CHECK(out[i].company_overview == first.company_overview);
    CHECK(out[i].result(Signal::kCompanyOverview).fetched_at == first.result(Signal::kCompanyOverview).fetched_at);
    CHECK(out[i].billed_lookups == 0);
  }
}
