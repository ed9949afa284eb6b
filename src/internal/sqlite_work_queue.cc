// The SQLite work queue. Every write that reads first (claim, add_chunks) runs in a BEGIN
// IMMEDIATE transaction: the write lock is taken before the read, so two processes never both
// see a chunk as free and both take it. Leases are wall-clock milliseconds (workers are on
// different hosts' clocks only with a shared store, which SQLite is not).
#include "internal/sqlite_work_queue.h"

#include <chrono>
#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "internal/chunk_json.h"
#include "leadenrich/store.h"

namespace leadenrich::internal {
namespace {

std::int64_t now_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status store_status(StatusCode code, std::string message) {
  return Status(code, std::move(message)).with_provider(std::string(kStoreProvider));
}


class SqliteWorkQueue : public WorkQueue {
 public:
  explicit SqliteWorkQueue(SqliteConnection c) : c_(std::move(c)) {}

  Status create_distributed(const std::string& run_id, const std::string& spec) override {
    std::lock_guard lock(*c_.mu);
    LEADENRICH_RETURN_IF_ERROR(begin("make a run distributed"));
    Status st = [&]() -> Status {
      Statement run(*c_.prepared, "SELECT 1 FROM runs WHERE id = ?");
      run.bind(1, run_id);
      int rc = run.step();
      if (rc == SQLITE_DONE) return store_status(StatusCode::kNotFound, fmt::format("run {} is not in the journal", run_id));
      if (rc != SQLITE_ROW) return c_.error(rc, "make a run distributed");
      Statement there(*c_.prepared, "SELECT 1 FROM distributed_runs WHERE run_id = ?");
      there.bind(1, run_id);
      rc = there.step();
      if (rc == SQLITE_ROW) {
        return store_status(StatusCode::kAborted, fmt::format("run {} is already a distributed run", run_id));
      }
      if (rc != SQLITE_DONE) return c_.error(rc, "make a run distributed");
      Statement insert(*c_.prepared, "INSERT INTO distributed_runs VALUES (?, ?, 0)");
      insert.bind(1, run_id).bind(2, spec);
      rc = insert.step();
      return rc == SQLITE_DONE ? Status() : c_.error(rc, "make a run distributed");
    }();
    return end(st, "make a run distributed");
  }

  Status add_chunks(const std::string& run_id, const std::vector<WorkChunk>& chunks) override {
    std::lock_guard lock(*c_.mu);
    LEADENRICH_RETURN_IF_ERROR(begin("add chunks"));
    Status st = [&]() -> Status {
      Statement head(*c_.prepared,
          "SELECT sealed, (SELECT count(*) FROM run_chunks WHERE run_id = ?1) FROM distributed_runs "
          "WHERE run_id = ?1");
      head.bind(1, run_id);
      int rc = head.step();
      if (rc == SQLITE_DONE) return not_distributed(run_id);
      if (rc != SQLITE_ROW) return c_.error(rc, "add chunks");
      if (head.integer(0) != 0) {
        return store_status(StatusCode::kFailedPrecondition,
                            fmt::format("run {} is sealed: it takes no more chunks", run_id));
      }
      std::int64_t next = head.integer(1);
      for (const WorkChunk& chunk : chunks) {
        Statement insert(*c_.prepared, "INSERT INTO run_chunks VALUES (?, ?, ?, ?, ?, 'queued', '', 0, 0)");
        std::int64_t first = chunk.leads.empty() ? 0 : static_cast<std::int64_t>(chunk.leads.front().first);
        insert.bind(1, run_id).bind(2, next++).bind(3, first).bind(4, static_cast<std::int64_t>(chunk.leads.size()));
        insert.bind(5, chunk_leads_json(chunk));
        rc = insert.step();
        if (rc != SQLITE_DONE) return c_.error(rc, "add chunks");
      }
      return {};
    }();
    return end(st, "add chunks");
  }

  Status seal(const std::string& run_id) override {
    std::lock_guard lock(*c_.mu);
    Statement s(*c_.prepared, "UPDATE distributed_runs SET sealed = 1 WHERE run_id = ?");
    s.bind(1, run_id);
    int rc = s.step();
    if (rc != SQLITE_DONE) return c_.error(rc, "seal a run");
    return sqlite3_changes(c_.db) == 0 ? not_distributed(run_id) : Status();
  }

  Result<std::optional<DistributedRun>> distributed_run(const std::string& run_id) override {
    std::lock_guard lock(*c_.mu);
    Result<std::vector<DistributedRun>> runs = query_runs("WHERE d.run_id = ?", &run_id);
    if (!runs.ok()) return runs.status();
    if (runs->empty()) return std::optional<DistributedRun>();
    return std::optional<DistributedRun>(std::move(runs->front()));
  }

  Result<std::vector<DistributedRun>> open_distributed_runs() override {
    std::lock_guard lock(*c_.mu);
    return query_runs("WHERE r.state = 'running'", nullptr);
  }

  Result<std::optional<WorkChunk>> claim_chunk(const std::string& worker, std::chrono::milliseconds lease,
                                               const std::optional<std::string>& run_id) override {
    std::string sql =
        "SELECT c.run_id, c.chunk, c.input, c.claims FROM run_chunks c JOIN runs r ON r.id = c.run_id "
        "WHERE r.state = 'running' AND (c.state = 'queued' OR (c.state = 'working' AND c.lease_until <= ?1))";
    if (run_id) sql += " AND c.run_id = ?2";
    sql += " ORDER BY r.created_at, r.id, c.chunk LIMIT 1";
    std::lock_guard lock(*c_.mu);
    // An idle worker asks often: a plain read first, so that "nothing to claim" never takes the
    // write lock the runs writing the cache and the journal need.
    {
      Statement peek(*c_.prepared, sql.c_str());
      peek.bind(1, now_millis());
      if (run_id) peek.bind(2, *run_id);
      int rc = peek.step();
      if (rc == SQLITE_DONE) return std::optional<WorkChunk>();
      if (rc != SQLITE_ROW) return c_.error(rc, "claim a chunk");
    }
    LEADENRICH_RETURN_IF_ERROR(begin("claim a chunk"));
    std::optional<WorkChunk> claimed;
    Status st = [&]() -> Status {
      std::int64_t now = now_millis();
      Statement pick(*c_.prepared, sql.c_str());
      pick.bind(1, now);
      if (run_id) pick.bind(2, *run_id);
      int rc = pick.step();
      if (rc == SQLITE_DONE) return {};
      if (rc != SQLITE_ROW) return c_.error(rc, "claim a chunk");
      WorkChunk chunk;
      chunk.run_id = pick.text(0);
      chunk.chunk = static_cast<std::size_t>(pick.integer(1));
      Result<std::vector<std::pair<std::size_t, RawLead>>> leads = parse_chunk_leads(pick.text(2));
      if (!leads.ok()) {
        return store_status(StatusCode::kDataLoss, fmt::format("run {} chunk {}: {}", chunk.run_id, chunk.chunk,
                                                               leads.status().message()));
      }
      chunk.leads = std::move(leads).value();
      chunk.claims = static_cast<std::size_t>(pick.integer(3)) + 1;
      Statement take(*c_.prepared,
          "UPDATE run_chunks SET state = 'working', worker = ?, lease_until = ?, claims = claims + 1 "
          "WHERE run_id = ? AND chunk = ?");
      take.bind(1, worker).bind(2, now + lease.count()).bind(3, chunk.run_id).bind(4, static_cast<std::int64_t>(chunk.chunk));
      rc = take.step();
      if (rc != SQLITE_DONE) return c_.error(rc, "claim a chunk");
      claimed = std::move(chunk);
      return {};
    }();
    LEADENRICH_RETURN_IF_ERROR(end(st, "claim a chunk"));
    return claimed;
  }

  Status renew_chunk(const std::string& run_id, std::size_t chunk, const std::string& worker,
                     std::chrono::milliseconds lease) override {
    std::lock_guard lock(*c_.mu);
    Statement s(*c_.prepared,
        "UPDATE run_chunks SET lease_until = ? WHERE run_id = ? AND chunk = ? AND state = 'working' "
        "AND worker = ?");
    s.bind(1, now_millis() + lease.count()).bind(2, run_id).bind(3, static_cast<std::int64_t>(chunk)).bind(4, worker);
    return held_update(s, run_id, chunk, worker, "renew a chunk");
  }

  Status complete_chunk(const std::string& run_id, std::size_t chunk, const std::string& worker) override {
    std::lock_guard lock(*c_.mu);
    Statement s(*c_.prepared, "UPDATE run_chunks SET state = 'done', lease_until = 0 WHERE run_id = ? AND chunk = ? "
                              "AND state = 'working' AND worker = ?");
    s.bind(1, run_id).bind(2, static_cast<std::int64_t>(chunk)).bind(3, worker);
    return held_update(s, run_id, chunk, worker, "complete a chunk");
  }

  Status release_chunk(const std::string& run_id, std::size_t chunk, const std::string& worker) override {
    std::lock_guard lock(*c_.mu);
    Statement s(*c_.prepared, "UPDATE run_chunks SET state = 'queued', worker = '', lease_until = 0 WHERE run_id = ? "
                              "AND chunk = ? AND state = 'working' AND worker = ?");
    s.bind(1, run_id).bind(2, static_cast<std::int64_t>(chunk)).bind(3, worker);
    int rc = s.step();
    return rc == SQLITE_DONE ? Status() : c_.error(rc, "release a chunk");
  }

  Result<std::vector<ChunkInfo>> chunks(const std::string& run_id) override {
    std::lock_guard lock(*c_.mu);
    Statement s(*c_.prepared, "SELECT chunk, first_idx, leads, state, worker, lease_until, claims FROM run_chunks "
                              "WHERE run_id = ? ORDER BY chunk");
    s.bind(1, run_id);
    std::vector<ChunkInfo> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      ChunkInfo info;
      info.chunk = static_cast<std::size_t>(s.integer(0));
      info.first_index = static_cast<std::size_t>(s.integer(1));
      info.leads = static_cast<std::size_t>(s.integer(2));
      std::string state = s.text(3);
      info.state = state == "done" ? ChunkState::kDone : state == "working" ? ChunkState::kWorking : ChunkState::kQueued;
      info.worker = s.text(4);
      info.lease_until = Timestamp{std::chrono::milliseconds{s.integer(5)}};
      info.claims = static_cast<std::size_t>(s.integer(6));
      out.push_back(std::move(info));
    }
    if (rc != SQLITE_DONE) return c_.error(rc, "read a run's chunks");
    return out;
  }

 private:
  static Status not_distributed(const std::string& run_id) {
    return store_status(StatusCode::kNotFound, fmt::format("run {} is not a distributed run", run_id));
  }

  Status exec(const char* sql, std::string_view what) {
    int rc = sqlite3_exec(c_.db, sql, nullptr, nullptr, nullptr);
    return rc == SQLITE_OK ? Status() : c_.error(rc, what);
  }
  Status begin(std::string_view what) { return exec("BEGIN IMMEDIATE", what); }
  // Commits after `st` is ok, else rolls back and returns `st`.
  Status end(const Status& st, std::string_view what) {
    if (st.ok()) {
      Status committed = exec("COMMIT", what);
      if (committed.ok()) return committed;
      ignore_error(exec("ROLLBACK", what), "the commit's error is the one reported");
      return committed;
    }
    ignore_error(exec("ROLLBACK", what), "the first error is the one reported");
    return st;
  }

  // An update that only the chunk's holder may make: no row changed means it holds it no more.
  Status held_update(Statement& s, const std::string& run_id, std::size_t chunk, const std::string& worker,
                     std::string_view what) {
    int rc = s.step();
    if (rc != SQLITE_DONE) return c_.error(rc, what);
    if (sqlite3_changes(c_.db) == 0) {
      return store_status(StatusCode::kFailedPrecondition,
                          fmt::format("run {} chunk {} is no longer held by {}: its lease ran out and another "
                                      "worker took it",
                                      run_id, chunk, worker));
    }
    return {};
  }

  // Under the mutex.
  Result<std::vector<DistributedRun>> query_runs(const char* where, const std::string* arg) {
    std::string sql = fmt::format(
        "SELECT d.run_id, d.spec, d.sealed, "
        "(SELECT count(*) FROM run_chunks c WHERE c.run_id = d.run_id), "
        "(SELECT coalesce(sum(c.leads), 0) FROM run_chunks c WHERE c.run_id = d.run_id), "
        "(SELECT count(*) FROM run_chunks c WHERE c.run_id = d.run_id AND c.state = 'done') "
        "FROM distributed_runs d JOIN runs r ON r.id = d.run_id {} ORDER BY r.created_at, r.id",
        where);
    Statement s(*c_.prepared, sql.c_str());
    if (arg != nullptr) s.bind(1, *arg);
    std::vector<DistributedRun> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      DistributedRun run;
      run.run_id = s.text(0);
      run.spec = s.text(1);
      run.sealed = s.integer(2) != 0;
      run.chunks = static_cast<std::size_t>(s.integer(3));
      run.leads = static_cast<std::size_t>(s.integer(4));
      run.done = static_cast<std::size_t>(s.integer(5));
      out.push_back(std::move(run));
    }
    if (rc != SQLITE_DONE) return c_.error(rc, "read distributed runs");
    return out;
  }

  SqliteConnection c_;
};

}  // namespace

std::unique_ptr<WorkQueue> make_sqlite_work_queue(SqliteConnection connection) {
  return std::make_unique<SqliteWorkQueue>(std::move(connection));
}

}  // namespace leadenrich::internal
