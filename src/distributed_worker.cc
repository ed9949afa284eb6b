// The worker side of distributed runs: claim a chunk, enrich it while a heartbeat renews the
// claim, journal its leads, complete it (or release it, or drop it when another worker took it).
#include <unistd.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "internal/distributed_queue.h"
#include "leadenrich/distributed.h"
#include "leadenrich/journal.h"

namespace leadenrich {
namespace {

using internal::distributed_now;

std::string default_worker_id() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return fmt::format("{}:{}", host[0] != '\0' ? host : "localhost", ::getpid());
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
    Status recorded = store.record_leads(chunk.run_id, finished, distributed_now());
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

}  // namespace

Result<WorkerSummary> run_worker(Enricher& enricher, const WorkerOptions& options) {
  if (!enricher.store()) return failed_precondition("a worker needs a store");
  Status no_queue;
  WorkQueue* q = internal::work_queue_of(*enricher.store(), no_queue);
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

}  // namespace leadenrich
