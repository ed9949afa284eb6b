// The PostgreSQL work queue: chunks claimed with SELECT ... FOR UPDATE SKIP LOCKED, so any number
// of workers on any number of machines claim at once and never get the same chunk; leases are
// the server's clock (now()), so a worker's clock never decides whether a chunk is free.
#include "postgresql/pg_work_queue.h"

#include <fmt/format.h>

#include "internal/chunk_json.h"
#include "leadenrich/store.h"

namespace leadenrich::pg {
namespace {

// What create_distributed says about a run that already is distributed (work_queue.h): a conflict.
constexpr StatusCode kAlreadyDistributed = StatusCode::kAborted;

// Every error of the queue is the store's (work_queue.h).
Status mine(Status st) { return std::move(st).with_provider(std::string(kStoreProvider)); }

std::int64_t ms(std::chrono::milliseconds d) { return static_cast<std::int64_t>(d.count()); }


constexpr const char* kRunSummary =
    "SELECT d.run_id, d.spec, d.sealed, count(c.chunk), coalesce(sum(c.leads), 0),"
    " count(c.chunk) FILTER (WHERE c.state = 'done')"
    " FROM leadenrich.distributed_runs d JOIN leadenrich.runs r ON r.id = d.run_id"
    " LEFT JOIN leadenrich.run_chunks c ON c.run_id = d.run_id {} GROUP BY d.run_id, d.spec, d.sealed, r.created_at"
    " ORDER BY r.created_at, d.run_id";

class PgWorkQueue : public WorkQueue {
 public:
  explicit PgWorkQueue(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}

  Result<Rows> q(std::string_view what, const char* name, const std::string& sql, const Params& p = {}) {
    return run_query(*pool_, what, name, sql, p);
  }

  Status create_distributed(const std::string& run_id, const std::string& spec) override {
    // One statement: inserted, or why not (the journal lacks the run, or it is distributed already).
    Result<Rows> r = q("create a distributed run", "create_distributed",
                       "WITH ins AS (INSERT INTO leadenrich.distributed_runs (run_id, spec) SELECT $1, $2"
                       "  WHERE EXISTS (SELECT 1 FROM leadenrich.runs WHERE id = $1)"
                       "  ON CONFLICT (run_id) DO NOTHING RETURNING 1)"
                       " SELECT (SELECT count(*) FROM ins) > 0, EXISTS (SELECT 1 FROM leadenrich.runs WHERE id = $1)",
                       Params().add(run_id).add(spec));
    if (!r.ok()) return r.status();
    if (r->boolean(0, 0)) return {};
    if (!r->boolean(0, 1)) return mine(not_found(fmt::format("no run {} in the journal to distribute", run_id)));
    return mine(Status(kAlreadyDistributed, fmt::format("run {} is already a distributed run", run_id)));
  }

  // One transaction: the run row locked (so a seal or another add waits), then every chunk in
  // one statement, numbered on from the last.
  Status add_chunks(const std::string& run_id, const std::vector<WorkChunk>& chunks) override {
    if (chunks.empty()) return {};
    std::vector<std::int64_t> first, counts;
    std::vector<std::string> inputs;
    for (const WorkChunk& c : chunks) {
      first.push_back(c.leads.empty() ? 0 : static_cast<std::int64_t>(c.leads.front().first));
      counts.push_back(static_cast<std::int64_t>(c.leads.size()));
      inputs.push_back(internal::chunk_leads_json(c));
    }
    return pool_->run([&](Connection& c) -> Status {
      LEADENRICH_RETURN_IF_ERROR(c.exec("add chunks", "BEGIN"));
      auto fail = [&](Status st) {
        c.rollback();
        return st;
      };
      Result<Rows> run = c.query("add chunks", "SELECT sealed FROM leadenrich.distributed_runs WHERE run_id = $1 FOR UPDATE",
                                 Params().add(run_id), "add_chunks_lock");
      if (!run.ok()) return fail(run.status());
      if (run->empty()) return fail(mine(not_found(fmt::format("run {} is not a distributed run", run_id))));
      if (run->boolean(0, 0)) {
        return fail(mine(failed_precondition(fmt::format("run {} is sealed: it takes no more chunks", run_id))));
      }
      Params p;
      p.add(run_id).add_array(first).add_array(counts).add_array(inputs);
      Result<Rows> added = c.query("add chunks",
                                   "INSERT INTO leadenrich.run_chunks (run_id, chunk, first_idx, leads, input)"
                                   " SELECT $1, (SELECT coalesce(max(chunk) + 1, 0) FROM leadenrich.run_chunks"
                                   "  WHERE run_id = $1) + ord - 1, f, n, i"
                                   " FROM unnest($2::bigint[], $3::bigint[], $4::text[]) WITH ORDINALITY AS t(f, n, i, ord)",
                                   p, "add_chunks");
      if (!added.ok()) return fail(added.status());
      Status committed = c.exec("add chunks", "COMMIT");
      if (!committed.ok()) c.rollback();
      return committed;
    });
  }

  Status seal(const std::string& run_id) override {
    Result<Rows> r = q("seal a distributed run", "seal",
                       "UPDATE leadenrich.distributed_runs SET sealed = true WHERE run_id = $1 RETURNING 1",
                       Params().add(run_id));
    if (!r.ok()) return r.status();
    if (r->empty()) return mine(not_found(fmt::format("run {} is not a distributed run", run_id)));
    return {};
  }

  Result<std::optional<DistributedRun>> distributed_run(const std::string& run_id) override {
    Result<std::vector<DistributedRun>> runs =
        summaries("distributed_run", fmt::format(kRunSummary, "WHERE d.run_id = $1"), Params().add(run_id));
    if (!runs.ok()) return runs.status();
    if (runs->empty()) return std::optional<DistributedRun>();
    return std::optional<DistributedRun>(runs->front());
  }

  Result<std::vector<DistributedRun>> open_distributed_runs() override {
    return summaries("open_distributed_runs", fmt::format(kRunSummary, "WHERE r.state = 'running'"), Params());
  }

  Result<std::optional<WorkChunk>> claim_chunk(const std::string& worker, std::chrono::milliseconds lease,
                                               const std::optional<std::string>& run_id) override {
    Params p;
    p.add(worker).add(ms(lease)).add(run_id.value_or(""));
    Result<Rows> r = q("claim a chunk", "claim_chunk",
                       "UPDATE leadenrich.run_chunks c SET state = 'working', worker = $1,"
                       " lease_until = now() + $2::bigint * interval '1 millisecond', claims = c.claims + 1"
                       " WHERE (c.run_id, c.chunk) = (SELECT c2.run_id, c2.chunk FROM leadenrich.run_chunks c2"
                       "  JOIN leadenrich.runs r ON r.id = c2.run_id"
                       "  WHERE r.state = 'running' AND ($3 = '' OR c2.run_id = $3)"
                       "   AND (c2.state = 'queued' OR (c2.state = 'working' AND c2.lease_until < now()))"
                       "  ORDER BY r.created_at, r.id, c2.chunk LIMIT 1 FOR UPDATE OF c2 SKIP LOCKED)"
                       " RETURNING c.run_id, c.chunk, c.input, c.claims",
                       p);
    if (!r.ok()) return r.status();
    if (r->empty()) return std::optional<WorkChunk>();
    WorkChunk chunk;
    chunk.run_id = r->text(0, 0);
    chunk.chunk = static_cast<std::size_t>(r->integer(0, 1));
    chunk.claims = static_cast<std::size_t>(r->integer(0, 3));
    Result<std::vector<std::pair<std::size_t, RawLead>>> leads = internal::parse_chunk_leads(r->text(0, 2));
    if (!leads.ok()) {
      return store_status(StatusCode::kDataLoss, pool_->display(), fmt::format("claim run {} chunk {}", chunk.run_id, chunk.chunk),
                          leads.status().message());
    }
    chunk.leads = std::move(leads).value();
    return std::optional<WorkChunk>(std::move(chunk));
  }

  Status renew_chunk(const std::string& run_id, std::size_t chunk, const std::string& worker,
                     std::chrono::milliseconds lease) override {
    Params p;
    p.add(run_id).add(static_cast<std::int64_t>(chunk)).add(worker).add(ms(lease));
    return held("renew_chunk",
                "UPDATE leadenrich.run_chunks SET lease_until = now() + $4::bigint * interval '1 millisecond'"
                " WHERE run_id = $1 AND chunk = $2::bigint AND worker = $3 AND state = 'working' RETURNING 1",
                p, run_id, chunk, worker);
  }

  Status complete_chunk(const std::string& run_id, std::size_t chunk, const std::string& worker) override {
    Params p;
    p.add(run_id).add(static_cast<std::int64_t>(chunk)).add(worker);
    return held("complete_chunk",
                "UPDATE leadenrich.run_chunks SET state = 'done', lease_until = NULL"
                " WHERE run_id = $1 AND chunk = $2::bigint AND worker = $3 AND state = 'working' RETURNING 1",
                p, run_id, chunk, worker);
  }

  Status release_chunk(const std::string& run_id, std::size_t chunk, const std::string& worker) override {
    Params p;
    p.add(run_id).add(static_cast<std::int64_t>(chunk)).add(worker);
    return q("release a chunk", "release_chunk",
             "UPDATE leadenrich.run_chunks SET state = 'queued', worker = '', lease_until = NULL"
             " WHERE run_id = $1 AND chunk = $2::bigint AND worker = $3 AND state = 'working'",
             p)
        .status();
  }

  Result<std::vector<ChunkInfo>> chunks(const std::string& run_id) override {
    Result<Rows> r = q("read chunks", "chunks",
                       "SELECT chunk, first_idx, leads, state, worker,"
                       " coalesce((extract(epoch FROM lease_until) * 1000)::bigint, 0), claims"
                       " FROM leadenrich.run_chunks WHERE run_id = $1 ORDER BY chunk",
                       Params().add(run_id));
    if (!r.ok()) return r.status();
    std::vector<ChunkInfo> out;
    for (int i = 0; i < r->size(); ++i) {
      ChunkInfo c;
      c.chunk = static_cast<std::size_t>(r->integer(i, 0));
      c.first_index = static_cast<std::size_t>(r->integer(i, 1));
      c.leads = static_cast<std::size_t>(r->integer(i, 2));
      std::string state = r->text(i, 3);
      c.state = state == "done" ? ChunkState::kDone : state == "working" ? ChunkState::kWorking : ChunkState::kQueued;
      c.worker = r->text(i, 4);
      c.lease_until = Timestamp{std::chrono::milliseconds{r->integer(i, 5)}};
      c.claims = static_cast<std::size_t>(r->integer(i, 6));
      out.push_back(std::move(c));
    }
    return out;
  }

 private:
  // An update of a chunk this worker must hold: kFailedPrecondition when it matched nothing.
  Status held(const char* name, const std::string& sql, const Params& p, const std::string& run_id, std::size_t chunk,
              const std::string& worker) {
    Result<Rows> r = q(fmt::format("update run {} chunk {}", run_id, chunk), name, sql, p);
    if (!r.ok()) return r.status();
    if (r->empty()) {
      return mine(failed_precondition(
          fmt::format("worker {} no longer holds run {} chunk {}: its lease ran out and another worker took it, "
                      "or it is done",
                      worker, run_id, chunk)));
    }
    return {};
  }

  Result<std::vector<DistributedRun>> summaries(const char* name, const std::string& sql, const Params& p) {
    Result<Rows> r = q("read distributed runs", name, sql, p);
    if (!r.ok()) return r.status();
    std::vector<DistributedRun> out;
    for (int i = 0; i < r->size(); ++i) {
      DistributedRun d;
      d.run_id = r->text(i, 0);
      d.spec = r->text(i, 1);
      d.sealed = r->boolean(i, 2);
      d.chunks = static_cast<std::size_t>(r->integer(i, 3));
      d.leads = static_cast<std::size_t>(r->integer(i, 4));
      d.done = static_cast<std::size_t>(r->integer(i, 5));
      out.push_back(std::move(d));
    }
    return out;
  }

  std::shared_ptr<Pool> pool_;
};

}  // namespace

std::unique_ptr<WorkQueue> make_work_queue(std::shared_ptr<Pool> pool) {
  return std::make_unique<PgWorkQueue>(std::move(pool));
}

}  // namespace leadenrich::pg
