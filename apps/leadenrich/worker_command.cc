// leadenrich worker: claims chunks of distributed runs from the store's work queue, enriches and
// journals them; and the chunks of a distributed run as `leadenrich runs` shows them.
#include <set>

#include <fmt/format.h>

#include "commands.h"
#include "leadenrich/distributed.h"
#include "leadenrich/work_queue.h"
#include "signal_watcher.h"
#include "wiring.h"

namespace leadenrich::cli {

int run_worker_command(const GlobalOptions& global, const WorkerCommandOptions& opts) {
  Reporter reporter(global);
  SignalWatcher signals(reporter);  // first: before connect() starts any thread
  ConnectOptions connect_options;
  connect_options.sandbox = opts.sandbox;
  connect_options.pipe0_environment = opts.pipe0_environment;
  connect_options.need_pipe0 = true;
  connect_options.store_path = opts.store_path;
  connect_options.need_store = true;
  Result<Connections> conn = connect(global, connect_options, reporter);
  if (!conn.ok()) {
    reporter.error(conn.status().message());
    return exit_code_for(conn.status());
  }
  if (conn->store->work_queue() == nullptr) {
    reporter.error("this store has no work queue: a worker needs a store that processes share (a SQLite file or "
                   "PostgreSQL)");
    return kExitUsage;
  }

  WorkerOptions wo;
  wo.lease = opts.lease;
  wo.run_id = opts.run_id;
  wo.until_run_done = opts.run_id.has_value();
  wo.exit_when_idle = opts.exit_when_idle;
  if (opts.concurrency) wo.engine.max_records_in_flight = *opts.concurrency;
  // The first SIGTERM / Ctrl-C finishes the chunk at hand (its lookups may be paid already) and
  // exits 0; a second one ends the process, and the chunk's lease runs out for another worker.
  wo.stop = std::make_shared<CancellationToken>();
  wo.on_chunk = [&](const ChunkReport& r) {
    switch (r.outcome) {
      case ChunkReport::kDone:
        reporter.info(fmt::format("{} chunk {}: {} leads done{}", r.run_id, r.chunk, r.leads,
                                  r.skipped > 0 ? fmt::format(" ({} journaled earlier)", r.skipped) : ""));
        break;
      case ChunkReport::kReleased:
        reporter.warn(fmt::format("{} chunk {}: {} leads done, the rest back in the queue", r.run_id, r.chunk, r.leads));
        break;
      case ChunkReport::kLost:
        reporter.warn(fmt::format("{} chunk {}: lost (its lease ran out and another worker took it)", r.run_id,
                                  r.chunk));
        break;
    }
  };
  signals.enriching(wo.stop, "finishing the chunk at hand, then exiting (again to stop at once)");
  reporter.info(fmt::format("worker: waiting for chunks{}{}", opts.run_id ? " of " + *opts.run_id : "",
                            opts.exit_when_idle ? " (exits when there are none)" : ""));
  Result<WorkerSummary> summary = run_worker(*conn->enricher, wo);
  if (!summary.ok()) {
    reporter.error(summary.status().message());
    return exit_code_for(summary.status());
  }
  reporter.info(fmt::format("worker: {} chunks done ({} leads){}", summary->chunks_done, summary->leads,
                            summary->stopped ? "; stopped" : ""));
  return kExitOk;
}

void print_distributed_run(Store& store, const RunRecord& run) {
  WorkQueue* q = store.work_queue();
  if (q == nullptr) return;
  Result<std::optional<DistributedRun>> d = q->distributed_run(run.id);
  if (!d.ok() || !d->has_value()) return;
  Result<std::vector<ChunkInfo>> chunks = q->chunks(run.id);
  if (!chunks.ok()) return;
  std::size_t working = 0, queued = 0, taken_over = 0;
  std::set<std::string> workers;
  for (const ChunkInfo& c : *chunks) {
    working += c.state == ChunkState::kWorking;
    queued += c.state == ChunkState::kQueued;
    taken_over += c.claims > 1;
    if (!c.worker.empty()) workers.insert(c.worker);
  }
  auto count = [](std::size_t n, std::string_view one, std::string_view many) {
    return fmt::format("{} {}", n, n == 1 ? one : many);
  };
  fmt::print("  distributed: {}, {}{}: {} done, {} working, {} queued; {} of {} journaled; {}; {} taken over from a "
             "worker that stopped\n",
             count((*d)->chunks, "chunk", "chunks"), count((*d)->leads, "lead", "leads"),
             (*d)->sealed ? "" : " so far (the submitter is still adding)", (*d)->done, working, queued, run.leads_done,
             count((*d)->leads, "lead", "leads"), count(workers.size(), "worker", "workers"),
             count(taken_over, "chunk", "chunks"));
  if (run.state != RunState::kRunning) return;  // a finished run's chunks are history
  for (const ChunkInfo& c : *chunks) {
    std::string who = c.worker.empty() ? "-" : c.worker;
    if (c.state == ChunkState::kWorking) who += " (lease until " + format_timestamp(c.lease_until) + ")";
    fmt::print("  chunk {}\t{}\tleads {}-{}\t{}\tclaims {}\n", c.chunk, to_string(c.state), c.first_index,
               c.first_index + (c.leads > 0 ? c.leads - 1 : 0), who, c.claims);
  }
}

}  // namespace leadenrich::cli
