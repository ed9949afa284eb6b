// Distributed runs in one process: a submitter and workers, each with its own store object over
// one SQLite file (as separate processes would have), against the in-process sandbox.
#include <atomic>
#include <set>
#include <thread>

#include <doctest/doctest.h>

#include "leadenrich/distributed.h"
#include "leadenrich/pipe0.h"
#include "leadenrich/sqlite_store.h"
#include "leadenrich/testing/sandbox.h"
#include "leadenrich/transport.h"
#include "leadenrich/work_queue.h"
#include "unit/temp_dir.h"

using namespace leadenrich;
using namespace std::chrono_literals;

namespace {

// Leads of distinct companies: every lookup is needed once, so any billed twice was enriched twice.
std::vector<RawLead> leads(std::size_t n) {
  std::vector<RawLead> out;
  for (std::size_t i = 0; i < n; ++i) {
    RawLead l;
    l.lead_id = "lead-" + std::to_string(i);
    l.organization = "Company " + std::to_string(i);
    l.website = "https://company" + std::to_string(i) + ".example";
    out.push_back(l);
  }
  return out;
}

struct World {
  testing::TempDir dir{"leadenrich_distributed"};
  std::unique_ptr<Sandbox> sandbox;
  std::shared_ptr<HttpTransport> transport = make_curl_transport();
  std::shared_ptr<Pipe0Connection> pipe0;

  explicit World(std::chrono::milliseconds latency = 0ms) {
    SandboxOptions so;
    so.faults.latency = latency;
    sandbox = Sandbox::start(so).value();
    Pipe0Options po = pipe0_options(sandbox->config());
    po.poll_initial = 20ms;
    po.poll_max = 50ms;
    pipe0 = make_pipe0_connection(po, transport).value();
  }
  // Another "process": its own store object over the shared file.
  std::unique_ptr<Enricher> enricher() {
    SqliteStoreOptions o;
    o.path = dir.file("store.db");
    return std::make_unique<Enricher>(sandbox->config(), pipe0, open_sqlite_store(o).value());
  }
};

DistributedSpec overview_spec() {
  EngineOptions e;
  e.signals = {Signal::kCompanyOverview};
  e.mode = RunMode::kSync;
  e.sandbox = true;
  return distributed_spec(e).value();
}

void check_each_lead_once_in_order(const std::vector<EnrichedLead>& got, const std::vector<RawLead>& input) {
  REQUIRE(got.size() == input.size());
  for (std::size_t i = 0; i < input.size(); ++i) {
    CHECK(got[i].lead == input[i]);
    SignalStatus st = got[i].result(Signal::kCompanyOverview).status;
    CHECK((st == SignalStatus::kFound || st == SignalStatus::kNoResult));
  }
}

// Billed lookups are the found answers (one company per lead).
std::size_t found(const std::vector<EnrichedLead>& got) {
  std::size_t n = 0;
  for (const EnrichedLead& l : got) n += l.result(Signal::kCompanyOverview).status == SignalStatus::kFound;
  return n;
}

}  // namespace

TEST_CASE("the spec round-trips as versioned JSON; a budget and a newer version are refused") {
  EngineOptions e;
  e.signals = {Signal::kNews, Signal::kFunding};
  e.max_age = std::chrono::seconds(3600);
  e.mode = RunMode::kAsync;
  e.sandbox = true;
  DistributedSpec spec = distributed_spec(e).value();
  DistributedSpec back = DistributedSpec::parse(spec.to_json_text()).value();
  CHECK(back.signals == e.signals);
  CHECK(back.max_age == e.max_age);
  CHECK(back.mode == RunMode::kAsync);
  CHECK(back.sandbox);
  e.budget_credits = 10;
  Result<DistributedSpec> budgeted = distributed_spec(e);
  CHECK(budgeted.status().code() == StatusCode::kInvalidArgument);
  CHECK(budgeted.status().message().find("budget") != std::string::npos);
  Result<DistributedSpec> newer = DistributedSpec::parse(R"({"version":2,"signals":[]})");
  CHECK(newer.status().code() == StatusCode::kInvalidArgument);
  CHECK(newer.status().message().find("newer leadenrich") != std::string::npos);
}

TEST_CASE("a store without a work queue is refused before a run begins") {
  World world;
  Enricher enricher(world.sandbox->config(), world.pipe0, nullptr);
  WorkerOptions wo;
  wo.exit_when_idle = true;
  CHECK(run_worker(enricher, wo).status().code() == StatusCode::kFailedPrecondition);
}

TEST_CASE("a submitter and two workers: every lead once, in input order, each company billed once") {
  World world;
  std::vector<RawLead> input = leads(45);
  auto submitter = world.enricher();
  std::unique_ptr<LeadSource> source = make_vector_source(input);
  SubmitOptions so;
  so.input = "45 test leads";
  so.chunk_size = 4;
  Submitted submitted = submit_distributed(*submitter->store(), *source, overview_spec(), so).value();
  CHECK(submitted.chunks == 12);
  CHECK(submitted.leads == 45);

  std::atomic<std::size_t> worker_leads{0};
  auto work = [&](std::string id) {
    auto enricher = world.enricher();
    WorkerOptions wo;
    wo.worker_id = id;
    wo.run_id = submitted.run_id;
    wo.until_run_done = true;
    Result<WorkerSummary> s = run_worker(*enricher, wo);
    REQUIRE(s.ok());
    worker_leads += s->leads;
  };
  std::thread w1(work, "w1"), w2(work, "w2");
  std::vector<EnrichedLead> got;
  WorkerOptions mine;
  mine.worker_id = "submitter";
  Result<CollectSummary> collected =
      collect_distributed(*submitter, submitted.run_id, [&](EnrichedLead&& l) { got.push_back(std::move(l)); }, mine);
  w1.join();
  w2.join();
  REQUIRE(collected.ok());
  check_each_lead_once_in_order(got, input);
  CHECK(collected->totals.leads == 45);
  CHECK(collected->totals.count(Signal::kCompanyOverview, SignalStatus::kFound) == found(got));
  CHECK(worker_leads + collected->worked.leads == 45);
  SandboxCounters c = world.sandbox->counters();
  CHECK(c.repeated_billing == 0);
  CHECK(c.total_billed() == found(got));
  CHECK(submitter->store()->run(submitted.run_id)->state == RunState::kFinished);
  std::vector<ChunkInfo> infos = submitter->store()->work_queue()->chunks(submitted.run_id).value();
  CHECK(infos.size() == 12);
  for (const ChunkInfo& info : infos) {
    CHECK(info.state == ChunkState::kDone);
    CHECK(info.claims == 1);
  }
}

TEST_CASE("a worker that abandons its chunk journals what it finished and releases the rest to another") {
  World world(100ms);  // each pipe0 request takes a while: the stop lands inside the chunk
  std::vector<RawLead> input = leads(12);
  auto submitter = world.enricher();
  std::unique_ptr<LeadSource> source = make_vector_source(input);
  SubmitOptions so;
  so.input = "12 test leads";
  so.chunk_size = 12;  // one chunk
  Submitted submitted = submit_distributed(*submitter->store(), *source, overview_spec(), so).value();

  auto stopped_worker = world.enricher();
  WorkerOptions wo;
  wo.worker_id = "stopped";
  wo.exit_when_idle = true;
  wo.abandon = std::make_shared<CancellationToken>();
  wo.engine.sync_batch_size = 1;  // one lead per request: the first one done is not the last
  wo.engine.max_records_in_flight = 1;
  std::vector<ChunkReport> reports;
  wo.engine.progress = [&](const Progress& p) {
    if (p.leads_done >= 1) wo.abandon->cancel();
  };
  wo.on_chunk = [&](const ChunkReport& r) { reports.push_back(r); };
  WorkerSummary stopped = run_worker(*stopped_worker, wo).value();
  CHECK(stopped.stopped);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].outcome == ChunkReport::kReleased);
  CHECK(reports[0].leads >= 1);
  CHECK(reports[0].leads < 12);
  ChunkInfo info = submitter->store()->work_queue()->chunks(submitted.run_id).value().at(0);
  CHECK(info.state == ChunkState::kQueued);
  std::size_t journaled = submitter->store()->run_leads(submitted.run_id).value().size();
  CHECK(journaled == reports[0].leads);

  std::vector<EnrichedLead> got;
  Result<CollectSummary> collected =
      collect_distributed(*submitter, submitted.run_id, [&](EnrichedLead&& l) { got.push_back(std::move(l)); });
  REQUIRE(collected.ok());
  check_each_lead_once_in_order(got, input);
  CHECK(collected->worked.leads == 12 - journaled);  // the journaled ones were not enriched again
  CHECK(submitter->store()->work_queue()->chunks(submitted.run_id).value().at(0).claims == 2);
  // Only the one lookup in flight when it was abandoned can have been paid twice.
  SandboxCounters c = world.sandbox->counters();
  CHECK(c.repeated_billing <= 1);
  CHECK(c.total_billed() <= found(got) + 1);
}

TEST_CASE("a worker told to stop finishes the chunk at hand, then returns; nothing is paid twice") {
  World world(50ms);
  std::vector<RawLead> input = leads(12);
  auto submitter = world.enricher();
  std::unique_ptr<LeadSource> source = make_vector_source(input);
  SubmitOptions so;
  so.input = "12 test leads";
  so.chunk_size = 6;
  Submitted submitted = submit_distributed(*submitter->store(), *source, overview_spec(), so).value();
  auto worker = world.enricher();
  WorkerOptions wo;
  wo.worker_id = "stopping";
  wo.stop = std::make_shared<CancellationToken>();
  wo.engine.sync_batch_size = 1;
  wo.engine.max_records_in_flight = 1;
  wo.engine.progress = [&](const Progress& p) {
    if (p.leads_done >= 1) wo.stop->cancel();
  };
  WorkerSummary s = run_worker(*worker, wo).value();
  CHECK(s.stopped);
  CHECK(s.chunks_done == 1);
  CHECK(s.leads == 6);
  std::vector<ChunkInfo> infos = submitter->store()->work_queue()->chunks(submitted.run_id).value();
  CHECK(infos.at(0).state == ChunkState::kDone);
  CHECK(infos.at(1).state == ChunkState::kQueued);
  std::vector<EnrichedLead> got;
  REQUIRE(collect_distributed(*submitter, submitted.run_id, [&](EnrichedLead&& l) { got.push_back(std::move(l)); }).ok());
  check_each_lead_once_in_order(got, input);
  CHECK(world.sandbox->counters().repeated_billing == 0);
  CHECK(world.sandbox->counters().total_billed() == found(got));
}

TEST_CASE("a resumed submission adds only the chunks the killed submitter had not added") {
  World world;
  std::vector<RawLead> input = leads(10);
  auto first = world.enricher();
  std::string run_id = first->store()->begin_run("10 test leads", system_clock()->now()).value();
  WorkQueue& q = *first->store()->work_queue();
  REQUIRE(q.create_distributed(run_id, overview_spec().to_json_text()).ok());
  WorkChunk chunk;
  for (std::size_t i = 0; i < 3; ++i) chunk.leads.emplace_back(i, input[i]);
  REQUIRE(q.add_chunks(run_id, {chunk}).ok());  // the submitter died here

  auto second = world.enricher();
  std::unique_ptr<LeadSource> source = make_vector_source(input);
  SubmitOptions so;
  so.input = "10 test leads";
  so.resume = run_id;
  so.chunk_size = 3;
  Submitted resumed = submit_distributed(*second->store(), *source, overview_spec(), so).value();
  CHECK(resumed.resumed);
  CHECK(resumed.added == 7);
  CHECK(resumed.chunks == 4);
  SubmitOptions other = so;
  other.input = "something else";
  std::unique_ptr<LeadSource> again = make_vector_source(input);
  CHECK(submit_distributed(*first->store(), *again, overview_spec(), other).status().code() ==
        StatusCode::kInvalidArgument);
  std::vector<EnrichedLead> got;
  REQUIRE(collect_distributed(*second, run_id, [&](EnrichedLead&& l) { got.push_back(std::move(l)); }).ok());
  check_each_lead_once_in_order(got, input);
}

TEST_CASE("a worker whose chunk was taken over drops it: nothing journaled, the new holder's answers count") {
  World world(100ms);
  std::vector<RawLead> input = leads(6);
  auto submitter = world.enricher();
  std::unique_ptr<LeadSource> source = make_vector_source(input);
  SubmitOptions so;
  so.input = "6 test leads";
  so.chunk_size = 6;
  Submitted submitted = submit_distributed(*submitter->store(), *source, overview_spec(), so).value();
  WorkQueue& other = *submitter->store()->work_queue();

  auto slow = world.enricher();
  WorkerOptions wo;
  wo.worker_id = "slow";
  wo.lease = 300ms;  // renewed every 100 ms
  wo.exit_when_idle = true;
  wo.engine.sync_batch_size = 1;
  wo.engine.max_records_in_flight = 1;
  bool taken = false;
  wo.engine.progress = [&](const Progress& p) {
    if (p.leads_done < 1 || taken) return;
    // Its lease runs out (as if it had stopped renewing) and another worker claims the chunk. A
    // renewal landing in between makes the claim find nothing: then again.
    for (int attempt = 0; attempt < 100 && !taken; ++attempt) {
      REQUIRE(other.renew_chunk(submitted.run_id, 0, "slow", 0ms).ok());
      taken = other.claim_chunk("thief", 30s).value().has_value();
    }
  };
  std::vector<ChunkReport> reports;
  wo.on_chunk = [&](const ChunkReport& r) { reports.push_back(r); };
  WorkerSummary s = run_worker(*slow, wo).value();
  REQUIRE(taken);
  CHECK(s.chunks_lost == 1);
  CHECK(s.leads == 0);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].outcome == ChunkReport::kLost);
  CHECK(submitter->store()->run_leads(submitted.run_id).value().empty());
  ChunkInfo info = other.chunks(submitted.run_id).value().at(0);
  CHECK(info.worker == "thief");
  CHECK(info.state == ChunkState::kWorking);

  REQUIRE(other.release_chunk(submitted.run_id, 0, "thief").ok());  // the thief hands it on
  std::vector<EnrichedLead> got;
  REQUIRE(collect_distributed(*submitter, submitted.run_id, [&](EnrichedLead&& l) { got.push_back(std::move(l)); }).ok());
  check_each_lead_once_in_order(got, input);
}

TEST_CASE("a run journaled before it was distributed: its journaled leads go in no chunk and are not paid again") {
  World world;
  std::vector<RawLead> input = leads(6);
  auto first = world.enricher();
  std::string run_id = first->store()->begin_run("6 test leads", system_clock()->now()).value();
  EngineOptions e;
  e.signals = {Signal::kCompanyOverview};
  std::vector<EnrichedLead> early = first->enrich(std::vector<RawLead>(input.begin(), input.begin() + 2), e).value();
  REQUIRE(first->store()->record_leads(run_id, {{0, early[0]}, {1, early[1]}}, system_clock()->now()).ok());
  std::size_t billed_before = world.sandbox->counters().total_billed();

  std::unique_ptr<LeadSource> source = make_vector_source(input);
  SubmitOptions so;
  so.input = "6 test leads";
  so.resume = run_id;
  so.chunk_size = 10;
  Submitted resumed = submit_distributed(*first->store(), *source, overview_spec(), so).value();
  CHECK(resumed.added == 4);
  std::vector<EnrichedLead> got;
  REQUIRE(collect_distributed(*first, run_id, [&](EnrichedLead&& l) { got.push_back(std::move(l)); }).ok());
  check_each_lead_once_in_order(got, input);
  CHECK(world.sandbox->counters().total_billed() - billed_before == found(got) - found(early));
  CHECK(world.sandbox->counters().repeated_billing == 0);
}
