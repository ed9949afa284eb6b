// The work queue of a distributed run: the run's input, cut into chunks of leads, which any number
// of worker processes claim, enrich and journal. A claim is a lease the worker renews while it
// works; a chunk whose worker died (stopped renewing) is claimed again by another. Implemented by
// the stores several processes can share (Store::work_queue()).
#ifndef LEADENRICH_WORK_QUEUE_H_
#define LEADENRICH_WORK_QUEUE_H_

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "leadenrich/lead.h"
#include "leadenrich/status.h"
#include "leadenrich/time.h"

namespace leadenrich {

/// Leads of a distributed run that one worker enriches at a time.
struct WorkChunk {
  std::string run_id;
  std::size_t chunk = 0;                              ///< 0, 1, 2, ... in input order
  std::vector<std::pair<std::size_t, RawLead>> leads;  ///< (index in the input, lead), ascending
  /// From claim_chunk: its claims, this one included. 1: nobody had it before; anything else
  /// (0 when the queue does not say): an earlier holder may have journaled some of its leads.
  std::size_t claims = 0;
};

enum class ChunkState { kQueued, kWorking, kDone };
std::string_view to_string(ChunkState s);

/// A chunk as `leadenrich runs` shows it.
struct ChunkInfo {
  std::size_t chunk = 0;
  std::size_t first_index = 0;  ///< input index of its first lead
  std::size_t leads = 0;
  ChunkState state = ChunkState::kQueued;
  std::string worker;           ///< who holds or finished it; empty while queued
  Timestamp lease_until;        ///< while working
  std::size_t claims = 0;       ///< 2 or more: a worker lost it (died or let go) and another took it
};

/// What the submitter recorded about a distributed run (the run itself is in the journal).
struct DistributedRun {
  std::string run_id;
  std::string spec;         ///< what to enrich and how, as the submitter wrote it (JSON text)
  bool sealed = false;      ///< every chunk is in
  std::size_t chunks = 0;   ///< recorded so far
  std::size_t leads = 0;    ///< in those chunks
  std::size_t done = 0;     ///< chunks done
};

/// Thread-safe; any number of processes may use one queue at once. Errors carry provider
/// kStoreProvider (store.h).
class WorkQueue {
 public:
  virtual ~WorkQueue() = default;

  // ---- the submitter ----
  /// Makes the journal run `run_id` (Store::begin_run) a distributed one, with its spec.
  /// kAborted when it already is; kNotFound when the journal has no such run.
  virtual Status create_distributed(const std::string& run_id, const std::string& spec) = 0;
  /// Appends chunks (numbered on from DistributedRun::chunks), all of them or, on error, none.
  /// kFailedPrecondition once sealed.
  virtual Status add_chunks(const std::string& run_id, const std::vector<WorkChunk>& chunks) = 0;
  /// Every chunk is in: workers that find no chunk to claim may stop waiting for more.
  virtual Status seal(const std::string& run_id) = 0;
  /// nullopt when `run_id` is not a distributed run.
  virtual Result<std::optional<DistributedRun>> distributed_run(const std::string& run_id) = 0;
  /// Distributed runs whose journal run is still running, oldest first.
  virtual Result<std::vector<DistributedRun>> open_distributed_runs() = 0;

  // ---- workers ----
  /// Claims a chunk for `worker` until now + `lease`: the first queued chunk (or one whose
  /// lease ran out) of the oldest running distributed run, or of `run_id` only when given.
  /// Never the same chunk to two workers at once. nullopt when there is none right now.
  virtual Result<std::optional<WorkChunk>> claim_chunk(const std::string& worker, std::chrono::milliseconds lease,
                                                       const std::optional<std::string>& run_id = std::nullopt) = 0;
  /// Extends the claim. kFailedPrecondition when `worker` no longer holds the chunk (its lease
  /// ran out and another worker took it): stop working on it.
  virtual Status renew_chunk(const std::string& run_id, std::size_t chunk, const std::string& worker,
                             std::chrono::milliseconds lease) = 0;
  /// The chunk's leads are journaled. kFailedPrecondition when `worker` no longer holds it.
  virtual Status complete_chunk(const std::string& run_id, std::size_t chunk, const std::string& worker) = 0;
  /// Puts the chunk back in the queue (a worker stopping before it is done). Nothing when
  /// `worker` does not hold it.
  virtual Status release_chunk(const std::string& run_id, std::size_t chunk, const std::string& worker) = 0;
  virtual Result<std::vector<ChunkInfo>> chunks(const std::string& run_id) = 0;
};

}  // namespace leadenrich

#endif  // LEADENRICH_WORK_QUEUE_H_
