// The SQLite store: one connection behind a mutex, WAL so readers in other processes never
// block the writer, a busy timeout for the rare writer-writer overlap, a versioned schema
// migrated on open, and every page checked at open so a damaged file stops a run before it pays.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "internal/sqlite_statement.h"
#include "internal/sqlite_work_queue.h"
#include "leadenrich/sqlite_store.h"
#include "leadenrich/store.h"

namespace leadenrich {
namespace {

using internal::PreparedStatements;
using internal::Statement;

// Each migration takes the schema from version i to i + 1.
constexpr const char* kMigrations[] = {
    // 1: the cache.
    "CREATE TABLE cache ("
    "  signal TEXT NOT NULL, entity TEXT NOT NULL, pipe_id TEXT NOT NULL, config_hash TEXT NOT NULL,"
    "  status TEXT NOT NULL, value TEXT NOT NULL, source TEXT NOT NULL, fetched_at INTEGER NOT NULL,"
    "  PRIMARY KEY (signal, entity, pipe_id, config_hash));",
    // 2: the run journal.
    "CREATE TABLE runs ("
    "  id TEXT PRIMARY KEY, input TEXT NOT NULL, state TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE INDEX runs_by_input ON runs (input, state);"
    "CREATE TABLE run_leads (run_id TEXT NOT NULL, idx INTEGER NOT NULL, lead TEXT NOT NULL,"
    "  PRIMARY KEY (run_id, idx));"
    "CREATE TABLE run_submissions (run_id TEXT NOT NULL, pipe0_run_id TEXT NOT NULL,"
    "  entities TEXT NOT NULL, signals TEXT NOT NULL, PRIMARY KEY (run_id, pipe0_run_id));",
    // 3: the last result per lead, for the runtime API.
    "CREATE TABLE lead_results (lead_id TEXT PRIMARY KEY, lead TEXT NOT NULL, saved_at INTEGER NOT NULL);",
    // 4: single flight across processes (lookup leases) and distributed runs (a work queue).
    "CREATE TABLE lookup_leases ("
    "  signal TEXT NOT NULL, entity TEXT NOT NULL, pipe_id TEXT NOT NULL, config_hash TEXT NOT NULL,"
    "  owner TEXT NOT NULL, expires_at INTEGER NOT NULL,"
    "  PRIMARY KEY (signal, entity, pipe_id, config_hash));"
    "CREATE TABLE distributed_runs (run_id TEXT PRIMARY KEY, spec TEXT NOT NULL, sealed INTEGER NOT NULL);"
    "CREATE TABLE run_chunks ("
    "  run_id TEXT NOT NULL, chunk INTEGER NOT NULL, first_idx INTEGER NOT NULL, leads INTEGER NOT NULL,"
    "  input TEXT NOT NULL, state TEXT NOT NULL, worker TEXT NOT NULL, lease_until INTEGER NOT NULL,"
    "  claims INTEGER NOT NULL, PRIMARY KEY (run_id, chunk));"
    "CREATE INDEX run_chunks_by_state ON run_chunks (state, run_id, chunk);",
};
static_assert(std::size(kMigrations) == kStoreSchemaVersion);

// A damaged file: what was found, and the way out.
Status damaged(const std::string& path, std::string_view detail) {
  return Status(StatusCode::kDataLoss,
                fmt::format("store {} is damaged ({}): move it aside (the next run starts a new one) or run "
                            "without the cache (--no-cache)",
                            path, detail))
      .with_provider(std::string(kStoreProvider));
}

// quick_check's report ("*** in database main ***\nPage 44: ...") as one line for a message.
std::string one_line(std::string_view report) {
  std::string out;
  std::size_t start = 0;
  while (start <= report.size()) {
    std::size_t end = std::min(report.find('\n', start), report.size());
    std::string_view line = report.substr(start, end - start);
    if (!line.empty() && line.rfind("***", 0) != 0) out += (out.empty() ? "" : "; ") + std::string(line);
    start = end + 1;
  }
  return out.empty() ? "quick_check failed" : out;
}

// One SQLite failure as a Status naming the path, the operation and what to do about it.
Status store_error(const std::string& path, int rc, std::string_view what) {
  int primary = rc & 0xff;
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
    return damaged(path, fmt::format("{}: {}", what, sqlite3_errstr(rc)));
  }
  StatusCode code = StatusCode::kInternal;
  std::string hint;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    code = StatusCode::kUnavailable;
    hint = "another process holds it locked: wait for it to finish or use another store file";
  } else if (primary == SQLITE_FULL) {
    code = StatusCode::kUnavailable;
    hint = "free disk space or use a store file on another disk";
  } else if (primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY ||
             primary == SQLITE_PERM) {
    code = StatusCode::kUnavailable;
    hint = "check the path and its permissions, or use another store file";
  }
  std::string message = fmt::format("store {}: {}: {}", path, what, sqlite3_errstr(rc));
  if (!hint.empty()) message += ": " + hint;
  return Status(code, std::move(message)).with_provider(std::string(kStoreProvider));
}

std::int64_t millis(Timestamp t) { return t.time_since_epoch().count(); }
Timestamp from_millis(std::int64_t ms) { return Timestamp{std::chrono::milliseconds{ms}}; }

class SqliteStore : public Store {
 public:
  SqliteStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)), prepared_(db) {
    make_work_queue();
  }
  ~SqliteStore() override {
    stop_renewing();
    unlock_owner_file();
    work_queue_.reset();  // it borrows the connection
    while (!claims_.empty()) release_run(claims_.begin()->first);
    prepared_.clear();  // a connection with statements left open does not close
    sqlite3_close(db_);
  }

  // Every store error names the path and the way out, and says it is the store's (provider
  // "store"), so a program can tell a damaged or locked file from an unreachable API.
  Status error(int rc, std::string_view what) const {
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) busy_ = true;
    return store_error(path_, rc, what);
  }

  // Whether an error since the last call was "busy": SQLite returns it without waiting in a few
  // cases (switching a new file to WAL while another connection does, WAL recovery), so opening
  // retries those itself until the busy timeout.
  bool take_busy() { return busy_.exchange(false); }

  Status exec(const char* sql, std::string_view what) {
    char* msg = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &msg);
    sqlite3_free(msg);
    return rc == SQLITE_OK ? Status() : error(rc, what);
  }

  // Ends a failed transaction. The error that made it fail is the one the caller reports; a
  // rollback that fails too adds nothing it could act on.
  void rollback() { ignore_error(exec("ROLLBACK", "rollback"), "the first error is the one reported"); }

  // Brings the schema to the current version; refuses files that are not ours or are newer.
  // Two processes opening a new file at once must not both migrate it: the version is read and
  // the migrations run inside one write transaction, taken under the busy timeout (BEGIN
  // IMMEDIATE waits for the other writer; a read-then-upgrade would fail at once with "locked").
  Status migrate() {
    std::lock_guard lock(mu_);
    Result<int> current = read_version();
    if (!current.ok()) return current.status();
    if (*current == kStoreSchemaVersion) return {};  // the common case takes no write lock
    LEADENRICH_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE", "migrate"));
    Status st = migrate_locked();
    if (!st.ok()) {
      rollback();
      return st;
    }
    return exec("COMMIT", "migrate");
  }

  // A quick structural check of every page (PRAGMA quick_check): a damaged file is refused at
  // open instead of failing reads later, when a run may already have paid for lookups.
  Status check_integrity() {
    std::lock_guard lock(mu_);
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, "PRAGMA quick_check(1)", -1, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return error(rc, "check");
    }
    rc = sqlite3_step(stmt);
    std::string verdict = rc == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr
                              ? reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))
                              : "";
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW) return error(rc, "check");
    if (verdict != "ok") return damaged(path_, one_line(verdict));
    return {};
  }

  static Status cacheable(const CacheEntry& entry) {
    if (entry.status != SignalStatus::kFound && entry.status != SignalStatus::kNoResult) {
      return invalid_argument(fmt::format("only found and no_result answers are cached, not {}", to_string(entry.status)));
    }
    return {};
  }

  // Under mu_.
  Status insert_cache(const CacheKey& key, const CacheEntry& entry) {
    Statement s(prepared_, "INSERT OR REPLACE INTO cache VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!s.ok()) return error(s.rc(), "write the cache");
    s.bind(1, to_string(key.signal)).bind(2, key.entity).bind(3, key.pipe_id).bind(4, key.config_hash);
    s.bind(5, to_string(entry.status)).bind(6, entry.value.dump()).bind(7, entry.source).bind(8, millis(entry.fetched_at));
    int rc = s.step();
    return rc == SQLITE_DONE ? Status() : error(rc, "write the cache");
  }

  Result<std::optional<CacheEntry>> get(const CacheKey& key, Timestamp now, Freshness freshness) override {
    std::lock_guard lock(mu_);
    return get_locked(key, now, freshness);
  }

  // One read transaction for all of them: a statement outside a transaction takes and drops the
  // WAL's read lock itself (two fcntl(2) calls), which cost more than a missing key's lookup.
  Result<std::vector<std::optional<CacheEntry>>> get_many(const std::vector<CacheKey>& keys, Timestamp now,
                                                          const std::vector<Freshness>& freshness) override {
    if (freshness.size() != keys.size()) return invalid_argument("get_many: one freshness per key");
    std::vector<std::optional<CacheEntry>> out;
    out.reserve(keys.size());
    if (keys.empty()) return out;
    std::lock_guard lock(mu_);
    LEADENRICH_RETURN_IF_ERROR(exec("BEGIN", "read the cache"));
    for (std::size_t i = 0; i < keys.size(); ++i) {
      Result<std::optional<CacheEntry>> e = get_locked(keys[i], now, freshness[i]);
      if (!e.ok()) {
        rollback();
        return e.status();
      }
      out.push_back(std::move(e).value());
    }
    Status ended = exec("COMMIT", "read the cache");
    if (!ended.ok()) {
      rollback();
      return ended;
    }
    return out;
  }

  Result<std::optional<CacheEntry>> get_locked(const CacheKey& key, Timestamp now, Freshness freshness) {
    Statement s(prepared_,
                "SELECT status, value, source, fetched_at FROM cache "
                "WHERE signal = ? AND entity = ? AND pipe_id = ? AND config_hash = ?");
    if (!s.ok()) return error(s.rc(), "read the cache");
    s.bind(1, to_string(key.signal)).bind(2, key.entity).bind(3, key.pipe_id).bind(4, key.config_hash);
    int rc = s.step();
    if (rc == SQLITE_DONE) return std::optional<CacheEntry>();
    if (rc != SQLITE_ROW) return error(rc, "read the cache");
    CacheEntry e;
    Result<SignalStatus> status = parse_signal_status(s.text(0));
    if (!status.ok()) return std::optional<CacheEntry>();  // a status this build does not know is a miss
    e.status = *status;
    Result<Json> value = Json::parse(s.text(1));
    if (!value.ok()) return damaged(path_, fmt::format("a cached {} value is unreadable", to_string(key.signal)));
    e.value = std::move(value).value();
    e.source = s.text(2);
    e.fetched_at = from_millis(s.integer(3));
    std::chrono::seconds window = e.status == SignalStatus::kFound ? freshness.found : freshness.no_result;
    if (now - e.fetched_at >= window) return std::optional<CacheEntry>();
    return std::optional<CacheEntry>(std::move(e));
  }

  Status put(const CacheKey& key, const CacheEntry& entry) override {
    LEADENRICH_RETURN_IF_ERROR(cacheable(entry));
    if (shares_leases()) return put_many({{key, entry}});  // the answer and the end of its lease at once
    std::lock_guard lock(mu_);
    return insert_cache(key, entry);
  }

  // One transaction for all of them: in WAL mode each commit appends to the log and may
  // checkpoint, which cost more per entry than the insert itself.
  Status put_many(const std::vector<std::pair<CacheKey, CacheEntry>>& entries) override {
    if (entries.empty()) return {};
    for (const auto& [key, entry] : entries) LEADENRICH_RETURN_IF_ERROR(cacheable(entry));
    std::lock_guard lock(mu_);
    LEADENRICH_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE", "write the cache"));
    for (const auto& [key, entry] : entries) {
      Status st = insert_cache(key, entry);
      if (st.ok() && shares_leases()) st = end_lease_locked(key);
      if (!st.ok()) {
        rollback();
        return st;
      }
    }
    Status committed = exec("COMMIT", "write the cache");
    if (!committed.ok()) rollback();
    return committed;
  }

  Result<std::vector<std::pair<std::string, std::size_t>>> cache_stats() override {
    std::lock_guard lock(mu_);
    Statement s(prepared_, "SELECT signal, count(*) FROM cache GROUP BY signal ORDER BY signal");
    if (!s.ok()) return error(s.rc(), "read the cache");
    std::vector<std::pair<std::string, std::size_t>> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.emplace_back(s.text(0), static_cast<std::size_t>(s.integer(1)));
    if (rc != SQLITE_DONE) return error(rc, "read the cache");
    return out;
  }

  Result<std::string> begin_run(const std::string& input, Timestamp now) override {
    std::random_device rd;
    std::string id = fmt::format("run_{}_{:06x}", compact(now), rd() & 0xffffff);
    std::lock_guard lock(mu_);
    Statement s(prepared_, "INSERT INTO runs VALUES (?, ?, 'running', ?, ?)");
    if (!s.ok()) return error(s.rc(), "begin a run");
    s.bind(1, id).bind(2, input).bind(3, millis(now)).bind(4, millis(now));
    int rc = s.step();
    if (rc != SQLITE_DONE) return error(rc, "begin a run");
    return id;
  }

  Result<RunRecord> run(const std::string& run_id) override {
    Result<std::vector<RunRecord>> runs = query_runs("WHERE id = ?", run_id);
    if (!runs.ok()) return runs.status();
    if (runs->empty()) return not_found(fmt::format("no run {} in store {}", run_id, path_));
    return runs->front();
  }

  Result<std::optional<RunRecord>> find_unfinished_run(const std::string& input) override {
    Result<std::vector<RunRecord>> runs = query_runs("WHERE input = ? AND state <> 'finished'", input);
    if (!runs.ok()) return runs.status();
    return first_unclaimed(*runs);
  }

  Result<std::vector<RunRecord>> list_runs() override { return query_runs("", ""); }

  // One transaction for the whole batch: a commit (an fsync in WAL mode at a checkpoint) per lead
  // would cost more than enriching it.
  Status record_leads(const std::string& run_id, const std::vector<std::pair<std::size_t, EnrichedLead>>& leads,
                      Timestamp now) override {
    if (leads.empty()) return {};
    std::vector<std::string> texts;
    texts.reserve(leads.size());
    for (const auto& [index, lead] : leads) texts.push_back(to_json(lead).dump());
    std::lock_guard lock(mu_);
    LEADENRICH_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE", "record leads in the journal"));
    int rc = SQLITE_DONE;
    for (std::size_t i = 0; i < leads.size() && rc == SQLITE_DONE; ++i) {
      Statement s(prepared_, "INSERT OR REPLACE INTO run_leads VALUES (?, ?, ?)");
      if (!s.ok()) {
        rc = s.rc();
        break;
      }
      s.bind(1, run_id).bind(2, static_cast<std::int64_t>(leads[i].first)).bind(3, texts[i]);
      rc = s.step();
    }
    if (rc == SQLITE_DONE) {
      Statement u(prepared_, "UPDATE runs SET updated_at = ? WHERE id = ?");
      u.bind(1, millis(now)).bind(2, run_id);
      rc = u.step();
    }
    if (rc != SQLITE_DONE) {
      rollback();
      return error(rc, "record leads in the journal");
    }
    Status committed = exec("COMMIT", "record leads in the journal");
    if (!committed.ok()) rollback();
    return committed;
  }

  Status save_lead_result(const EnrichedLead& lead, Timestamp now) override {
    if (lead.lead.lead_id.empty()) return invalid_argument("save_lead_result: the lead has no lead_id");
    std::string text = to_json(lead).dump();
    std::lock_guard lock(mu_);
    Statement s(prepared_, "INSERT OR REPLACE INTO lead_results VALUES (?, ?, ?)");
    if (!s.ok()) return error(s.rc(), "save a lead result");
    s.bind(1, lead.lead.lead_id).bind(2, text).bind(3, millis(now));
    int rc = s.step();
    return rc == SQLITE_DONE ? Status() : error(rc, "save a lead result");
  }

  Result<std::optional<std::string>> lead_result(const std::string& lead_id) override {
    std::lock_guard lock(mu_);
    Statement s(prepared_, "SELECT lead FROM lead_results WHERE lead_id = ?");
    if (!s.ok()) return error(s.rc(), "read a lead result");
    s.bind(1, lead_id);
    int rc = s.step();
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    if (rc != SQLITE_ROW) return error(rc, "read a lead result");
    return std::optional<std::string>(s.text(0));
  }

  Result<std::vector<std::pair<std::size_t, EnrichedLead>>> run_leads(const std::string& run_id) override {
    std::lock_guard lock(mu_);
    Statement s(prepared_, "SELECT idx, lead FROM run_leads WHERE run_id = ? ORDER BY idx");
    if (!s.ok()) return error(s.rc(), "read a run");
    s.bind(1, run_id);
    std::vector<std::pair<std::size_t, EnrichedLead>> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      Result<EnrichedLead> lead = parse_enriched_lead(s.text(1));
      if (!lead.ok()) {
        return damaged(path_, fmt::format("run {} lead {} is unreadable: {}", run_id, s.integer(0),
                                          lead.status().message()));
      }
      out.emplace_back(static_cast<std::size_t>(s.integer(0)), std::move(lead).value());
    }
    if (rc != SQLITE_DONE) return error(rc, "read a run");
    return out;
  }

  // ---- run claims: an flock(2) on a file beside the store, one per run being worked on. The
  // kernel drops the lock when the process dies, so a killed run never looks alive. ----

  Status claim_run(const std::string& run_id) override {
    if (!valid_run_id(run_id)) return invalid_argument(fmt::format("'{}' is not a run id", run_id));
    std::lock_guard lock(claims_mu_);
    if (claims_.count(run_id) != 0) {
      return failed_precondition(fmt::format("run {} is already being worked on in this process", run_id));
    }
    if (in_memory()) {
      claims_[run_id] = -1;
      return {};
    }
    std::string path = claim_path(run_id);
    while (true) {
      int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0) {
        return unavailable(fmt::format("store {}: cannot claim run {}: {}: {}", path_, run_id, path, std::strerror(errno)));
      }
      if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        ::close(fd);
        if (err == EWOULDBLOCK) {
          return failed_precondition(fmt::format("run {} is still going in another process", run_id));
        }
        return unavailable(fmt::format("store {}: cannot lock {}: {}", path_, path, std::strerror(err)));
      }
      // The holder before us may have removed the file between our open and our lock: then we
      // hold a lock nobody can see; take the file that is there now instead.
      struct stat held {}, there {};
      if (::fstat(fd, &held) == 0 && ::stat(path.c_str(), &there) == 0 && held.st_ino == there.st_ino &&
          held.st_dev == there.st_dev) {
        std::string pid = fmt::format("{}\n", ::getpid());  // for a person looking at the file
        if (::ftruncate(fd, 0) == 0) (void)!::write(fd, pid.data(), pid.size());
        claims_[run_id] = fd;
        return {};
      }
      ::close(fd);
    }
  }

  void release_run(const std::string& run_id) override {
    std::lock_guard lock(claims_mu_);
    auto it = claims_.find(run_id);
    if (it == claims_.end()) return;
    if (it->second >= 0) {
      ::unlink(claim_path(run_id).c_str());  // while still locked, see claim_run
      ::close(it->second);
    }
    claims_.erase(it);
  }

  Result<bool> run_claimed(const std::string& run_id) override {
    if (!valid_run_id(run_id)) return false;
    std::lock_guard lock(claims_mu_);
    if (claims_.count(run_id) != 0) return true;
    if (in_memory()) return false;
    int fd = ::open(claim_path(run_id).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return false;
      return unavailable(fmt::format("store {}: cannot check run {}: {}", path_, run_id, std::strerror(errno)));
    }
    bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd);  // also drops our shared lock when we got one
    return held;
  }

  Status finish_run(const std::string& run_id, RunState state, Timestamp now) override {
    std::lock_guard lock(mu_);
    Statement s(prepared_, "UPDATE runs SET state = ?, updated_at = ? WHERE id = ?");
    s.bind(1, to_string(state)).bind(2, millis(now)).bind(3, run_id);
    int rc = s.step();
    return rc == SQLITE_DONE ? Status() : error(rc, "finish a run");
  }

  Status record_submission(const std::string& run_id, const PendingSubmission& sub) override {
    Json::Array entities, signals;
    for (const std::string& e : sub.entities) entities.emplace_back(e);
    for (Signal s : sub.signals) signals.emplace_back(to_string(s));
    std::lock_guard lock(mu_);
    Statement s(prepared_, "INSERT OR REPLACE INTO run_submissions VALUES (?, ?, ?, ?)");
    s.bind(1, run_id).bind(2, sub.pipe0_run_id).bind(3, Json(std::move(entities)).dump()).bind(4, Json(std::move(signals)).dump());
    int rc = s.step();
    return rc == SQLITE_DONE ? Status() : error(rc, "record a submission");
  }

  Status forget_submission(const std::string& run_id, const std::string& pipe0_run_id) override {
    std::lock_guard lock(mu_);
    Statement s(prepared_, "DELETE FROM run_submissions WHERE run_id = ? AND pipe0_run_id = ?");
    s.bind(1, run_id).bind(2, pipe0_run_id);
    int rc = s.step();
    return rc == SQLITE_DONE ? Status() : error(rc, "forget a submission");
  }

  Result<std::vector<PendingSubmission>> pending_submissions(const std::string& run_id) override {
    std::lock_guard lock(mu_);
    Statement s(prepared_, "SELECT pipe0_run_id, entities, signals FROM run_submissions WHERE run_id = ?");
    s.bind(1, run_id);
    std::vector<PendingSubmission> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      PendingSubmission p;
      p.pipe0_run_id = s.text(0);
      Result<Json> entities = Json::parse(s.text(1));
      Result<Json> signals = Json::parse(s.text(2));
      if (!entities.ok() || !signals.ok() || !entities->is_array() || !signals->is_array()) continue;
      for (const Json& e : entities->as_array()) p.entities.push_back(e.is_string() ? e.as_string() : "");
      for (const Json& sig : signals->as_array()) {
        if (sig.is_string()) {
          if (Result<Signal> parsed = parse_signal(sig.as_string()); parsed.ok()) p.signals.push_back(*parsed);
        }
      }
      out.push_back(std::move(p));
    }
    if (rc != SQLITE_DONE) return error(rc, "read submissions");
    return out;
  }

  // ---- distributed runs: the work queue (internal/sqlite_work_queue.cc) shares the connection ----

  WorkQueue* work_queue() override { return work_queue_.get(); }

  // ---- lookup leases (single flight across processes; store.h). A row per leased key: its
  // owner (a random id per store object) and its expiry in wall-clock milliseconds, which the
  // owner's renewal thread pushes forward every lease_time / 3 while the object lives. ----

  bool shares_leases() const override { return !in_memory(); }

  Result<bool> acquire_lease(const CacheKey& key) override {
    if (!shares_leases()) return Store::acquire_lease(key);
    Result<std::vector<bool>> one = acquire_leases({key});
    if (!one.ok()) return one.status();
    return static_cast<bool>(one->front());
  }

  // One write transaction for the whole request's keys: a key is taken when nobody holds it,
  // when this owner already does, or when its holder let it expire.
  Result<std::vector<bool>> acquire_leases(const std::vector<CacheKey>& keys) override {
    if (!shares_leases()) return Store::acquire_leases(keys);
    std::vector<bool> out(keys.size(), false);
    if (keys.empty()) return out;
    std::int64_t now = wall_millis();
    std::map<std::string, bool> alive;  // owners looked at during this call
    {
      std::lock_guard lock(mu_);
      lock_owner_file_locked();
      LEADENRICH_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE", "take lookup leases"));
      for (std::size_t i = 0; i < keys.size(); ++i) {
        Statement s(prepared_,
                    "INSERT INTO lookup_leases VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                    "ON CONFLICT (signal, entity, pipe_id, config_hash) DO UPDATE SET owner = excluded.owner, "
                    "expires_at = excluded.expires_at WHERE lookup_leases.owner = excluded.owner OR "
                    "lookup_leases.expires_at <= ?7");
        int rc = s.ok() ? SQLITE_OK : s.rc();
        if (rc == SQLITE_OK) {
          bind_key(s, keys[i]);
          s.bind(5, owner_).bind(6, now + lease_time_.count()).bind(7, now);
          rc = s.step();
        }
        if (rc != SQLITE_DONE) {
          rollback();
          return error(rc, "take lookup leases");
        }
        out[i] = sqlite3_changes(db_) > 0;
        if (!out[i]) {
          Result<bool> taken = take_from_dead_owner_locked(keys[i], now, alive);
          if (!taken.ok()) {
            rollback();
            return taken.status();
          }
          out[i] = *taken;
        }
      }
      Status committed = exec("COMMIT", "take lookup leases");
      if (!committed.ok()) {
        rollback();
        return committed;
      }
    }
    start_renewing();
    return out;
  }

  Status release_lease(const CacheKey& key) override {
    if (!shares_leases()) return {};
    std::lock_guard lock(mu_);
    Statement s(prepared_,
                "DELETE FROM lookup_leases WHERE signal = ? AND entity = ? AND pipe_id = ? AND config_hash = ? "
                "AND owner = ?");
    if (!s.ok()) return error(s.rc(), "release a lookup lease");
    bind_key(s, key);
    s.bind(5, owner_);
    int rc = s.step();
    return rc == SQLITE_DONE ? Status() : error(rc, "release a lookup lease");
  }

  Result<bool> leased_elsewhere(const CacheKey& key) override {
    if (!shares_leases()) return false;
    std::lock_guard lock(mu_);
    Statement s(prepared_,
                "SELECT 1 FROM lookup_leases WHERE signal = ? AND entity = ? AND pipe_id = ? AND config_hash = ? "
                "AND owner <> ? AND expires_at > ?");
    if (!s.ok()) return error(s.rc(), "read lookup leases");
    bind_key(s, key);
    s.bind(5, owner_).bind(6, wall_millis());
    int rc = s.step();
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return error(rc, "read lookup leases");
  }

  void set_lease_time(std::chrono::milliseconds t) { lease_time_ = std::max(t, std::chrono::milliseconds(1)); }

 private:
  static std::int64_t wall_millis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  static void bind_key(Statement& s, const CacheKey& key) {
    s.bind(1, to_string(key.signal)).bind(2, key.entity).bind(3, key.pipe_id).bind(4, key.config_hash);
  }

  // Under mu_, inside put_many's transaction: an answer stored ends the lease on its key,
  // whoever held it (the waiters find the answer instead).
  Status end_lease_locked(const CacheKey& key) {
    Statement s(prepared_,
                "DELETE FROM lookup_leases WHERE signal = ? AND entity = ? AND pipe_id = ? AND config_hash = ?");
    if (!s.ok()) return error(s.rc(), "end a lookup lease");
    bind_key(s, key);
    int rc = s.step();
    return rc == SQLITE_DONE ? Status() : error(rc, "end a lookup lease");
  }

  // ---- owners' liveness: every owner of a store file holds an flock on a file of its own
  // beside the store (PATH-lease-OWNER.lock) from before its first lease. The kernel drops it
  // when the process dies, so a killed process's leases are taken over at once instead of after
  // the lease time; the expiry covers what a lock cannot see (a process that hangs, or an owner
  // that could not create its file: its id starts with 't', for "time only"). ----

  std::string owner_lock_path(const std::string& owner) const { return fmt::format("{}-lease-{}.lock", path_, owner); }

  // Under mu_, before this owner's first lease row. Also removes the files of dead owners.
  void lock_owner_file_locked() {
    if (owner_locked_) return;
    owner_locked_ = true;
    sweep_dead_owner_files();
    std::string id = owner_;
    owner_ = "t" + id;
    std::string path = owner_lock_path("f" + id);
    for (int attempt = 0; attempt < 3; ++attempt) {
      int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0) return;
      // A sweeper may unlink the file between our open and our lock: a lock on a file nobody
      // can find says nothing, so lock the one that is there now.
      struct stat held {}, there {};
      if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && ::fstat(fd, &held) == 0 && ::stat(path.c_str(), &there) == 0 &&
          held.st_ino == there.st_ino && held.st_dev == there.st_dev) {
        owner_fd_ = fd;
        owner_ = "f" + id;
        return;
      }
      ::close(fd);
    }
  }

  void unlock_owner_file() {
    if (owner_fd_ < 0) return;
    ::unlink(owner_lock_path(owner_).c_str());  // while still locked, see lock_owner_file_locked
    ::close(owner_fd_);
    owner_fd_ = -1;
  }

  // Whether `owner` may still be alive: false only when its lock file is gone or unlocked.
  bool owner_alive(const std::string& owner) const {
    if (owner.empty() || owner[0] != 'f') return true;  // time only
    std::string path = owner_lock_path(owner);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno != ENOENT;
    bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd);
    return held;
  }

  // Under mu_, inside acquire_leases' transaction: the lease on `key` is another owner's; take
  // it when that owner is dead.
  Result<bool> take_from_dead_owner_locked(const CacheKey& key, std::int64_t now, std::map<std::string, bool>& alive) {
    std::string holder;
    {
      Statement s(prepared_,
                  "SELECT owner FROM lookup_leases WHERE signal = ? AND entity = ? AND pipe_id = ? AND config_hash = ?");
      if (!s.ok()) return error(s.rc(), "read lookup leases");
      bind_key(s, key);
      int rc = s.step();
      if (rc == SQLITE_DONE) return false;
      if (rc != SQLITE_ROW) return error(rc, "read lookup leases");
      holder = s.text(0);
    }
    if (holder == owner_) return false;
    auto [it, inserted] = alive.try_emplace(holder, true);
    if (inserted) {
      it->second = owner_alive(holder);
      if (!it->second) ::unlink(owner_lock_path(holder).c_str());  // nobody else would remove it
    }
    if (it->second) return false;
    Statement u(prepared_,
                "UPDATE lookup_leases SET owner = ?, expires_at = ? WHERE signal = ? AND entity = ? AND pipe_id = ? "
                "AND config_hash = ? AND owner = ?");
    if (!u.ok()) return error(u.rc(), "take a lookup lease");
    u.bind(1, owner_).bind(2, now + lease_time_.count());
    u.bind(3, to_string(key.signal)).bind(4, key.entity).bind(5, key.pipe_id).bind(6, key.config_hash);
    u.bind(7, holder);
    int rc = u.step();
    if (rc != SQLITE_DONE) return error(rc, "take a lookup lease");
    return sqlite3_changes(db_) > 0;
  }

  // Lock files of owners that died (their processes were killed), which nobody else removes.
  void sweep_dead_owner_files() const {
    std::error_code ec;
    std::filesystem::path store(path_);
    std::filesystem::path dir = store.parent_path().empty() ? std::filesystem::path(".") : store.parent_path();
    std::string prefix = store.filename().string() + "-lease-";
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      std::string name = entry.path().filename().string();
      if (name.rfind(prefix, 0) != 0 || name.size() < 5 || name.compare(name.size() - 5, 5, ".lock") != 0) continue;
      std::string owner = name.substr(prefix.size(), name.size() - prefix.size() - 5);
      if (!owner_alive(owner)) ::unlink(entry.path().c_str());
    }
  }

  // The renewal thread starts with the first lease taken, so a store that never takes one (a
  // dry run, a reader) has none.
  void start_renewing() {
    std::lock_guard lock(renew_mu_);
    if (renewer_.joinable() || stop_renewal_) return;
    renewer_ = std::thread([this] { renew_loop(); });
  }

  void stop_renewing() {
    {
      std::lock_guard lock(renew_mu_);
      stop_renewal_ = true;
    }
    renew_cv_.notify_all();
    if (renewer_.joinable()) renewer_.join();
  }

  // One statement renews every lease this owner holds. A failed renewal is retried at the next
  // tick; should they all fail, the leases expire and another process takes them over, which
  // costs a repeated lookup at worst, never a lost one.
  void renew_loop() {
    std::unique_lock lock(renew_mu_);
    while (!renew_cv_.wait_for(lock, lease_time_ / 3, [this] { return stop_renewal_; })) {
      lock.unlock();
      {
        std::lock_guard db_lock(mu_);
        Statement s(prepared_, "UPDATE lookup_leases SET expires_at = ? WHERE owner = ?");
        if (s.ok()) {
          s.bind(1, wall_millis() + lease_time_.count()).bind(2, owner_);
          int rc = s.step();
          ignore_error(rc == SQLITE_DONE ? Status() : error(rc, "renew lookup leases"),
                       "retried at the next tick; an expired lease costs a repeated lookup at worst");
        }
      }
      lock.lock();
    }
  }

  void make_work_queue() {
    internal::SqliteConnection connection;
    connection.db = db_;
    connection.mu = &mu_;
    connection.prepared = &prepared_;
    connection.error = [this](int rc, std::string_view what) { return error(rc, what); };
    work_queue_ = internal::make_sqlite_work_queue(std::move(connection));
  }

  // PRAGMA user_version, with the statement reset at once so no read transaction stays open.
  Result<int> read_version() {
    Statement version(prepared_, "PRAGMA user_version");
    if (!version.ok()) return error(version.rc(), "read the schema version");
    int rc = version.step();
    if (rc != SQLITE_ROW) return error(rc, "read the schema version");
    return static_cast<int>(version.integer(0));
  }

  // Inside the migration's write transaction: re-reads the version (another process may have
  // migrated while this one waited) and applies what is missing.
  Status migrate_locked() {
    Result<int> current = read_version();
    if (!current.ok()) return current.status();
    int v = *current;
    if (v > kStoreSchemaVersion) {
      return Status(StatusCode::kFailedPrecondition,
                    fmt::format("store {}: written by a newer leadenrich (schema {}, this build knows {}): "
                                "upgrade leadenrich or use another store file",
                                path_, v, kStoreSchemaVersion))
          .with_provider(std::string(kStoreProvider));
    }
    if (v == 0) {
      Statement tables(prepared_, "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'");
      int rc = tables.step();
      if (rc != SQLITE_ROW) return error(rc, "read the schema");
      if (tables.integer(0) > 0) {
        return Status(StatusCode::kDataLoss,
                      fmt::format("store {}: not a leadenrich store (it holds other tables): "
                                  "choose another store file",
                                  path_))
            .with_provider(std::string(kStoreProvider));
      }
    }
    for (int next = v; next < kStoreSchemaVersion; ++next) {
      std::string sql = std::string(kMigrations[next]) + fmt::format("PRAGMA user_version = {};", next + 1);
      LEADENRICH_RETURN_IF_ERROR(exec(sql.c_str(), fmt::format("migrate to schema {}", next + 1)));
    }
    return {};
  }

  static std::string compact(Timestamp t) {
    std::string iso = format_timestamp(std::chrono::floor<std::chrono::seconds>(t));  // 2026-11-25T02:00:00Z
    std::string out;
    for (char c : iso) {
      if (c != '-' && c != ':') out.push_back(c);
    }
    return out;
  }

  Result<std::vector<RunRecord>> query_runs(const char* where, const std::string& arg) {
    std::lock_guard lock(mu_);
    std::string sql = fmt::format(
        "SELECT r.id, r.state, r.input, r.created_at, r.updated_at, "
        "(SELECT count(*) FROM run_leads l WHERE l.run_id = r.id) FROM runs r {} ORDER BY r.created_at DESC, r.id DESC",
        where);
    Statement s(prepared_, sql.c_str());
    if (!s.ok()) return error(s.rc(), "read runs");
    if (*where != '\0') s.bind(1, arg);
    std::vector<RunRecord> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      RunRecord r;
      r.id = s.text(0);
      std::string state = s.text(1);
      r.state = state == "finished" ? RunState::kFinished : state == "failed" ? RunState::kFailed
                : state == "cancelled" ? RunState::kCancelled : RunState::kRunning;
      r.input = s.text(2);
      r.created_at = from_millis(s.integer(3));
      r.updated_at = from_millis(s.integer(4));
      r.leads_done = static_cast<std::size_t>(s.integer(5));
      out.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return error(rc, "read runs");
    return out;
  }

  bool in_memory() const { return path_ == ":memory:" || path_.empty(); }
  std::string claim_path(const std::string& run_id) const { return fmt::format("{}-{}.lock", path_, run_id); }
  // Run ids become file names: letters, digits, '_' and '-' only.
  static bool valid_run_id(std::string_view id) {
    if (id.empty() || id.size() > 128) return false;
    for (char c : id) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
    }
    return true;
  }

  sqlite3* db_;
  std::string path_;
  PreparedStatements prepared_;
  std::mutex mu_;
  std::mutex claims_mu_;
  std::map<std::string, int> claims_;  ///< run id -> the locked file's descriptor (-1 in memory)
  mutable std::atomic<bool> busy_{false};  // set by error(), read by the opening thread
  std::unique_ptr<WorkQueue> work_queue_;

  // Leases: this object's owner id, and the thread that renews its leases.
  std::string owner_ = new_owner_id();  // "f" or "t" in front from the first lease on
  bool owner_locked_ = false;           // lock_owner_file_locked ran
  int owner_fd_ = -1;                   // the flock'ed owner file
  std::chrono::milliseconds lease_time_{30000};
  std::mutex renew_mu_;
  std::condition_variable renew_cv_;
  bool stop_renewal_ = false;
  std::thread renewer_;

  static std::string new_owner_id() {
    std::random_device rd;
    return fmt::format("{}-{:08x}{:08x}", ::getpid(), rd(), rd());
  }
};

}  // namespace

Result<std::shared_ptr<Store>> open_sqlite_store(const SqliteStoreOptions& options) {
  if (options.path != ":memory:") {
    std::error_code ec;
    std::filesystem::path path(options.path);
    if (std::filesystem::is_directory(path, ec)) {  // SQLite would only say "unable to open"
      return Status(StatusCode::kFailedPrecondition,
                    fmt::format("store {} is a directory: give the path of a store file, e.g. {}", options.path,
                                (path / "store.db").string()))
          .with_provider(std::string(kStoreProvider));
    }
    std::filesystem::path parent = path.parent_path();
    ec.clear();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) {
      return Status(StatusCode::kUnavailable, fmt::format("store {}: cannot create {}: {}: check the path and its "
                                                          "permissions, or use another store file",
                                                          options.path, parent.string(), ec.message()))
          .with_provider(std::string(kStoreProvider));
    }
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(options.path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    int code = db ? sqlite3_extended_errcode(db) : rc;
    sqlite3_close(db);
    return store_error(options.path, code, "cannot open");
  }
  sqlite3_extended_result_codes(db, 1);
  auto store = std::make_shared<SqliteStore>(db, options.path);
  store->set_lease_time(options.lease_time);
  sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout.count()));
  auto deadline = std::chrono::steady_clock::now() + options.busy_timeout;
  while (true) {
    // A file that is not a database fails here, on the first read of its header.
    Status st = store->exec("PRAGMA journal_mode = WAL", "open");
    if (st.ok()) st = store->exec("PRAGMA synchronous = NORMAL", "open");
    if (st.ok() && options.check_on_open) st = store->check_integrity();
    if (st.ok()) st = store->migrate();
    if (st.ok()) return std::shared_ptr<Store>(store);
    if (!store->take_busy() || std::chrono::steady_clock::now() >= deadline) return st;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace leadenrich
