#include "leadenrich/distributed.h"

#include <unistd.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "leadenrich/clock.h"
#include "leadenrich/journal.h"
#include "leadenrich/json.h"
#include "leadenrich/work_queue.h"

namespace leadenrich {
namespace {

Timestamp now() { return system_clock()->now(); }

std::string default_worker_id() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return fmt::format("{}:{}", host[0] != '\0' ? host : "localhost", ::getpid());
}

WorkQueue* queue_of(Store& store, Status& error) {
  WorkQueue* q = store.work_queue();
  if (q == nullptr) {
    error = failed_precondition(
        "this store has no work queue: a distributed run needs a store that processes share (a SQLite file or "
        "PostgreSQL, not --no-cache)");
  }
  return q;
}

// Waits up to `d`, or until the worker is told to stop.
void sleep_unless_stopped(std::chrono::milliseconds d, const std::shared_ptr<CancellationToken>& stop,
                          const std::shared_ptr<CancellationToken>& abandon) {
  auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
    if ((stop && stop->cancelled()) || (abandon && abandon->cancelled())) return;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(20),
                                                                              until - std::chrono::steady_clock::now()));
  }
}

// Renews a chunk's claim every lease / 3 while the chunk is enriched; cancels the chunk's run
// when the claim is lost or the worker is told to abandon it.
class Heartbeat {
 public:
  Heartbeat(WorkQueue& q, const WorkChunk& chunk, const WorkerOptions& options, std::string worker,
            std::shared_ptr<CancellationToken> chunk_cancel)
      : thread_([this, &q, &chunk, &options, worker = std::move(worker), chunk_cancel = std::move(chunk_cancel)] {
          auto every = std::max(options.lease / 3, std::chrono::milliseconds(1));
          auto next = std::chrono::steady_clock::now() + every;
          std::unique_lock lock(mu_);
          while (!done_) {
            cv_.wait_for(lock, std::chrono::milliseconds(20));
            if (done_) break;
            if (options.abandon && options.abandon->cancelled()) chunk_cancel->cancel();
            if (std::chrono::steady_clock::now() < next) continue;
            next = std::chrono::steady_clock::now() + every;
            lock.unlock();
            Status st = q.renew_chunk(chunk.run_id, chunk.chunk, worker, options.lease);
            lock.lock();
            // Any other error may pass (the store was busy): the next beat tries again, and only
            // another worker's claim ends this one.
            if (st.code() == StatusCode::kFailedPrecondition) {
              lost_ = true;
              chunk_cancel->cancel();
            }
          }
        }) {}
  ~Heartbeat() { stop(); }
  void stop() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  bool lost() {
    std::lock_guard lock(mu_);
    return lost_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool lost_ = false;
  std::thread thread_;  // last: starts once the rest is built
};

EngineOptions chunk_engine_options(const WorkerOptions& options, const DistributedSpec& spec) {
  EngineOptions e = options.engine;
  e.signals = spec.signals;
  e.max_age = spec.max_age;
  e.mode = spec.mode;
  e.sandbox = spec.sandbox;
  e.budget_credits.reset();
  e.journal_run_id.clear();  // submissions of several workers are not one process's to recover
  e.cancel = std::make_shared<CancellationToken>();
  return e;
}

// Enriches, journals and completes (or releases, or drops) one claimed chunk.
Result<ChunkReport> work_chunk(Enricher& enricher, WorkQueue& q, WorkChunk& chunk, const DistributedSpec& spec,
                               const WorkerOptions& options, const std::string& worker) {
  Store& store = *enricher.store();
  ChunkReport report;
  report.run_id = chunk.run_id;
  report.chunk = chunk.chunk;

  // A chunk claimed before may be partly journaled: those leads are not enriched (paid) again.
  std::set<std::size_t> journaled;
  if (chunk.claims != 1) {
    Result<std::vector<std::pair<std::size_t, EnrichedLead>>> done = store.run_leads(chunk.run_id);
    if (!done.ok()) return done.status();
    for (const auto& entry : *done) journaled.insert(entry.first);
  }
  std::vector<std::size_t> indexes;
  std::vector<RawLead> leads;
  for (auto& [index, lead] : chunk.leads) {
    if (journaled.count(index) != 0) {
      ++report.skipped;
      continue;
    }
    indexes.push_back(index);
    leads.push_back(std::move(lead));
  }

  std::vector<std::pair<std::size_t, EnrichedLead>> finished;
  if (!leads.empty()) {
    EngineOptions e = chunk_engine_options(options, spec);
    std::size_t next = 0;
    auto sink = [&](EnrichedLead&& lead) {
      std::size_t index = indexes[next++];  // the engine delivers in input order
      if (!unfinished_by_cancel(lead)) finished.emplace_back(index, std::move(lead));
    };
    Heartbeat heartbeat(q, chunk, options, worker, e.cancel);
    std::unique_ptr<LeadSource> source = make_vector_source(std::move(leads), fmt::format("chunk {}", chunk.chunk));
    Result<RunSummary> summary = enricher.enrich(*source, sink, e);
    heartbeat.stop();
    if (heartbeat.lost()) {
      report.outcome = ChunkReport::kLost;  // another worker has it now: its journal counts
      return report;
    }
    if (!summary.ok()) {
      ignore_error(q.release_chunk(chunk.run_id, chunk.chunk, worker), "the enrichment's error is reported");
      return summary.status();
    }
    Status recorded = store.record_leads(chunk.run_id, finished, now());
    if (!recorded.ok()) {
      ignore_error(q.release_chunk(chunk.run_id, chunk.chunk, worker), "the journal's error is reported");
      return recorded;
    }
  }
  report.leads = finished.size();
  if (finished.size() < indexes.size()) {  // stopped part way: the rest is for another worker
    LEADENRICH_RETURN_IF_ERROR(q.release_chunk(chunk.run_id, chunk.chunk, worker));
    report.outcome = ChunkReport::kReleased;
    return report;
  }
  Status completed = q.complete_chunk(chunk.run_id, chunk.chunk, worker);
  if (completed.code() == StatusCode::kFailedPrecondition) {
    report.outcome = ChunkReport::kLost;  // journaled all the same; the new holder skips them
    return report;
  }
  LEADENRICH_RETURN_IF_ERROR(completed);
  return report;
}

void count_lead(RunSummary& s, const EnrichedLead& lead, std::set<std::string>& companies,
                std::set<std::string>& people) {
  ++s.leads;
  for (Signal sig : kAllSignals) {
    ++s.counts[static_cast<std::size_t>(sig)][static_cast<std::size_t>(lead.result(sig).status)];
  }
  if (lead.company_key) companies.insert(*lead.company_key);
  if (lead.person_key) people.insert(*lead.person_key);
  if (!lead.company_key && !lead.person_key) ++s.leads_without_identity;
  s.billed_lookups += static_cast<std::size_t>(lead.billed_lookups);
  s.estimated_credits += lead.estimated_credits;
  for (const std::string& id : lead.provider_run_ids) s.provider_run_ids.push_back(id);
}

}  // namespace

std::string DistributedSpec::to_json_text() const {
  Json::Array names;
  for (Signal s : signals) names.emplace_back(to_string(s));
  Json j;
  j.set("version", Json(kVersion));
  j.set("signals", Json(std::move(names)));
  j.set("max_age_seconds", max_age ? Json(static_cast<std::int64_t>(max_age->count())) : Json());
  j.set("mode", Json(to_string(mode)));
  j.set("sandbox", Json(sandbox));
  return j.dump();
}

Result<DistributedSpec> DistributedSpec::parse(std::string_view text) {
  Result<Json> j = Json::parse(text);
  auto bad = [](std::string why) { return invalid_argument("distributed run spec: " + why); };
  if (!j.ok() || !j->is_object()) return bad("not a JSON object");
  const Json* version = j->find("version");
  std::optional<std::int64_t> v = version ? version->to_int() : std::nullopt;
  if (!v) return bad("no version");
  if (*v > kVersion) {
    return bad(fmt::format("version {} is from a newer leadenrich (this one knows {}): upgrade this worker", *v,
                           kVersion));
  }
  DistributedSpec spec;
  const Json* signals = j->find("signals");
  if (signals == nullptr || !signals->is_array()) return bad("no signals");
  for (const Json& name : signals->as_array()) {
    Result<Signal> s = parse_signal(name.to_text());
    if (!s.ok()) return bad(s.status().message());
    spec.signals.push_back(*s);
  }
  if (const Json* age = j->find("max_age_seconds"); age != nullptr && !age->is_null()) {
    std::optional<std::int64_t> seconds = age->to_int();
    if (!seconds || *seconds < 0) return bad("max_age_seconds is not a number of seconds");
    spec.max_age = std::chrono::seconds(*seconds);
  }
  if (const Json* mode = j->find("mode"); mode != nullptr) {
    Result<RunMode> m = parse_run_mode(mode->to_text());
    if (!m.ok()) return bad(m.status().message());
    spec.mode = *m;
  }
  if (const Json* sandbox = j->find("sandbox"); sandbox != nullptr && sandbox->is_bool()) spec.sandbox = sandbox->as_bool();
  return spec;
}

Result<DistributedSpec> distributed_spec(const EngineOptions& options) {
  if (options.budget_credits) {
    return invalid_argument("a budget cannot bound a distributed run (each worker would spend up to it): "
                            "drop --budget or --distributed");
  }
  DistributedSpec spec;
  spec.signals = options.signals;
  spec.max_age = options.max_age;
  spec.mode = options.mode;
  spec.sandbox = options.sandbox;
  return spec;
}

Result<Submitted> submit_distributed(Store& store, LeadSource& source, const DistributedSpec& spec,
                                     const SubmitOptions& options) {
  Status no_queue;
  WorkQueue* q = queue_of(store, no_queue);
  if (q == nullptr) return no_queue;
  if (options.chunk_size == 0) return invalid_argument("a chunk holds at least one lead");
  if (options.input.empty()) return invalid_argument("a distributed run needs a description of its input");

  Submitted out;
  std::size_t skip = 0;  // leads already in chunks (a resume)
  bool sealed = false;
  if (options.resume) {
    Result<RunRecord> previous = store.run(*options.resume);
    if (!previous.ok()) return previous.status();
    if (previous->input != options.input) {
      return invalid_argument(fmt::format("run {} was over {}, not over this input ({})", *options.resume,
                                          previous->input, options.input));
    }
    LEADENRICH_RETURN_IF_ERROR(store.claim_run(*options.resume));
    out.run_id = *options.resume;
    out.resumed = true;
    Result<std::optional<DistributedRun>> run = q->distributed_run(out.run_id);
    Status st = run.ok() ? Status() : run.status();
    if (st.ok() && !run->has_value()) st = q->create_distributed(out.run_id, spec.to_json_text());
    if (!st.ok()) {
      store.release_run(out.run_id);
      return st;
    }
    if (run->has_value()) {
      skip = (*run)->leads;
      sealed = (*run)->sealed;
      out.chunks = (*run)->chunks;
    }
  } else {
    Result<std::string> begun = store.begin_run(options.input, now());
    if (!begun.ok()) return begun.status();
    out.run_id = *begun;
    Status st = store.claim_run(out.run_id);
    if (st.ok()) st = q->create_distributed(out.run_id, spec.to_json_text());
    if (!st.ok()) {
      store.release_run(out.run_id);
      ignore_error(store.finish_run(out.run_id, RunState::kFailed, now()), "the first error is the one reported");
      return st;
    }
  }
  out.leads = skip;

  // On error the run stays as it is (running, claimed by no one): `--resume` adds the rest.
  auto fail = [&](Status st) -> Result<Submitted> {
    store.release_run(out.run_id);
    return st;
  };
  if (!sealed) {
    WorkChunk chunk;
    chunk.run_id = out.run_id;
    auto add = [&]() -> Status {
      if (chunk.leads.empty()) return {};
      LEADENRICH_RETURN_IF_ERROR(q->add_chunks(out.run_id, {chunk}));
      ++out.chunks;
      out.leads += chunk.leads.size();
      out.added += chunk.leads.size();
      chunk.leads.clear();
      return {};
    };
    std::size_t index = 0;
    while (std::optional<SourceItem> item = source.next()) {
      if (!item->lead.ok()) {
        if (item->fatal) return fail(item->lead.status());
        ++out.bad_rows;
        if (options.on_bad_row) options.on_bad_row(item->location, item->lead.status());
        continue;
      }
      std::size_t i = index++;
      if (i < skip) continue;  // in a chunk already
      chunk.leads.emplace_back(i, std::move(item->lead).value());
      if (chunk.leads.size() >= options.chunk_size) {
        if (Status st = add(); !st.ok()) return fail(st);
      }
    }
    if (Status st = add(); !st.ok()) return fail(st);
    if (Status st = q->seal(out.run_id); !st.ok()) return fail(st);
  }
  return out;
}

Result<WorkerSummary> run_worker(Enricher& enricher, const WorkerOptions& options) {
  if (!enricher.store()) return failed_precondition("a worker needs a store");
  Status no_queue;
  WorkQueue* q = queue_of(*enricher.store(), no_queue);
  if (q == nullptr) return no_queue;
  std::string worker = options.worker_id.empty() ? default_worker_id() : options.worker_id;
  auto stopped = [&] {
    return (options.stop && options.stop->cancelled()) || (options.abandon && options.abandon->cancelled());
  };
  std::map<std::string, DistributedSpec> specs;  // by run id
  WorkerSummary out;
  while (!stopped()) {
    if (options.run_id && options.until_run_done) {
      Result<std::optional<DistributedRun>> run = q->distributed_run(*options.run_id);
      if (!run.ok()) return run.status();
      if (!run->has_value()) return not_found(fmt::format("run {} is not a distributed run", *options.run_id));
      if ((*run)->sealed && (*run)->done == (*run)->chunks) break;
      Result<RunRecord> record = enricher.store()->run(*options.run_id);
      if (!record.ok()) return record.status();
      if (record->state != RunState::kRunning) break;
    }
    Result<std::optional<WorkChunk>> claimed = q->claim_chunk(worker, options.lease, options.run_id);
    if (!claimed.ok()) return claimed.status();
    if (!claimed->has_value()) {
      if (options.exit_when_idle) break;
      sleep_unless_stopped(options.poll, options.stop, options.abandon);
      continue;
    }
    WorkChunk& chunk = **claimed;
    auto spec = specs.find(chunk.run_id);
    if (spec == specs.end()) {
      Result<std::optional<DistributedRun>> run = q->distributed_run(chunk.run_id);
      Result<DistributedSpec> parsed = !run.ok() ? Result<DistributedSpec>(run.status())
                                       : !run->has_value()
                                           ? Result<DistributedSpec>(not_found("the chunk's run is gone"))
                                           : DistributedSpec::parse((*run)->spec);
      if (!parsed.ok()) {
        ignore_error(q->release_chunk(chunk.run_id, chunk.chunk, worker), "the spec's error is reported");
        return Status(parsed.status().code(), fmt::format("run {}: {}", chunk.run_id, parsed.status().message()));
      }
      spec = specs.emplace(chunk.run_id, std::move(parsed).value()).first;
    }
    Result<ChunkReport> report = work_chunk(enricher, *q, chunk, spec->second, options, worker);
    if (!report.ok()) return report.status();
    switch (report->outcome) {
      case ChunkReport::kDone: ++out.chunks_done; break;
      case ChunkReport::kReleased: ++out.chunks_released; break;
      case ChunkReport::kLost: ++out.chunks_lost; break;
    }
    if (report->outcome != ChunkReport::kLost) out.leads += report->leads;
    if (options.on_chunk) options.on_chunk(*report);
  }
  out.stopped = stopped();
  return out;
}

Result<CollectSummary> collect_distributed(Enricher& enricher, const std::string& run_id,
                                           const std::function<void(EnrichedLead&&)>& sink, WorkerOptions options) {
  if (!enricher.store()) return failed_precondition("a distributed run needs a store");
  Store& store = *enricher.store();
  Status no_queue;
  WorkQueue* q = queue_of(store, no_queue);
  if (q == nullptr) return no_queue;
  options.run_id = run_id;
  options.until_run_done = true;
  options.exit_when_idle = false;
  auto started = std::chrono::steady_clock::now();
  CollectSummary out;
  Result<WorkerSummary> worked = run_worker(enricher, options);
  if (!worked.ok()) {
    store.release_run(run_id);
    return worked.status();
  }
  out.worked = *worked;
  if (worked->stopped) {
    out.stopped = true;
    store.release_run(run_id);  // workers go on; `--resume` collects
    return out;
  }
  Result<std::optional<DistributedRun>> run = q->distributed_run(run_id);
  Status st = run.ok() ? Status() : run.status();
  if (st.ok() && !((*run)->sealed && (*run)->done == (*run)->chunks)) {
    st = failed_precondition(fmt::format("run {} was ended elsewhere before its chunks were done", run_id));
  }
  Result<std::vector<std::pair<std::size_t, EnrichedLead>>> leads =
      st.ok() ? store.run_leads(run_id) : Result<std::vector<std::pair<std::size_t, EnrichedLead>>>(st);
  if (leads.ok() && leads->size() != (*run)->leads) {
    leads = Status(StatusCode::kDataLoss, fmt::format("run {}: the journal holds {} of the run's {} leads", run_id,
                                                      leads->size(), (*run)->leads))
                .with_provider(std::string(kStoreProvider));
  }
  if (!leads.ok()) {
    store.release_run(run_id);
    return leads.status();
  }
  std::set<std::string> companies, people;
  for (auto& [index, lead] : *leads) {
    count_lead(out.totals, lead, companies, people);
    sink(std::move(lead));
    ++out.leads;
  }
  out.totals.companies = companies.size();
  out.totals.people = people.size();
  out.totals.wall_time =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  Status finished = store.finish_run(run_id, RunState::kFinished, now());
  store.release_run(run_id);
  LEADENRICH_RETURN_IF_ERROR(finished);
  return out;
}

}  // namespace leadenrich
