// The PostgreSQL store: the SQLite store's semantics over a connection pool, with every batch
// (put_many, record_leads) one statement over unnest()ed array parameters, run claims as session
// advisory locks on a connection of their own (the server drops them when the process dies), and
// lookup leases (pg_leases.cc) renewed in the background against the server's clock.
#include <mutex>
#include <random>
#include <set>

#include <fmt/format.h>

#include "leadenrich/postgresql_store.h"
#include "leadenrich/store.h"
#include "leadenrich/work_queue.h"
#include "postgresql/pg_connection.h"
#include "postgresql/pg_leases.h"
#include "postgresql/pg_schema.h"
#include "postgresql/pg_work_queue.h"

namespace leadenrich {
namespace {

using pg::key_arrays;
using pg::Params;
using pg::Rows;

std::int64_t millis(Timestamp t) { return t.time_since_epoch().count(); }
Timestamp from_millis(std::int64_t ms) { return Timestamp{std::chrono::milliseconds{ms}}; }

std::string compact(Timestamp t) {
  std::string iso = format_timestamp(std::chrono::floor<std::chrono::seconds>(t));  // 2026-11-25T02:00:00Z
  std::string out;
  for (char c : iso) {
    if (c != '-' && c != ':') out.push_back(c);
  }
  return out;
}

std::string random_hex(int digits) {
  std::random_device rd;
  std::string out;
  while (static_cast<int>(out.size()) < digits) out += fmt::format("{:08x}", rd());
  return out.substr(0, static_cast<std::size_t>(digits));
}

// A run claim's advisory lock key: 64 bits of the run id's md5, namespaced.
constexpr const char* kRunLockKey = "('x' || substr(md5('leadenrich.run:' || $1), 1, 16))::bit(64)::bigint";

class PgStore : public Store {
 public:
  PgStore(std::shared_ptr<pg::Pool> pool, std::chrono::milliseconds lease_time)
      : pool_(std::move(pool)), leases_(pool_, lease_time), queue_(pg::make_work_queue(pool_)) {}
  // Claims end with their connection; leases are left to expire (pg_leases.h).

  Result<Rows> q(std::string_view what, const char* name, const std::string& sql, const Params& p = {}) {
    return pg::run_query(*pool_, what, name, sql, p);
  }
  const std::string& display() const { return pool_->display(); }

  static Status cacheable(const CacheEntry& entry) {
    if (entry.status != SignalStatus::kFound && entry.status != SignalStatus::kNoResult) {
      return invalid_argument(fmt::format("only found and no_result answers are cached, not {}", to_string(entry.status)));
    }
    return {};
  }

  Result<std::optional<CacheEntry>> get(const CacheKey& key, Timestamp now, Freshness freshness) override {
    Params p;
    p.add(std::string(to_string(key.signal))).add(key.entity).add(key.pipe_id).add(key.config_hash);
    Result<Rows> r = q("read the cache", "get",
                       "SELECT status, value, source, fetched_at FROM leadenrich.cache "
                       "WHERE signal = $1 AND entity = $2 AND pipe_id = $3 AND config_hash = $4",
                       p);
    if (!r.ok()) return r.status();
    if (r->empty()) return std::optional<CacheEntry>();
    return entry(*r, 0, 0, key.signal, now, freshness);
  }

  // One statement for all of them (a round trip each would cost more than the reads).
  Result<std::vector<std::optional<CacheEntry>>> get_many(const std::vector<CacheKey>& keys, Timestamp now,
                                                          const std::vector<Freshness>& freshness) override {
    if (freshness.size() != keys.size()) return invalid_argument("get_many: one freshness per key");
    std::vector<std::optional<CacheEntry>> out(keys.size());
    if (keys.empty()) return out;
    std::vector<const CacheKey*> refs;
    refs.reserve(keys.size());
    for (const CacheKey& k : keys) refs.push_back(&k);
    Result<Rows> r = q("read the cache", "get_many",
                       "SELECT k.ord, c.status, c.value, c.source, c.fetched_at"
                       " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY"
                       "  AS k(signal, entity, pipe_id, config_hash, ord)"
                       " JOIN leadenrich.cache c ON c.signal = k.signal AND c.entity = k.entity"
                       "  AND c.pipe_id = k.pipe_id AND c.config_hash = k.config_hash",
                       key_arrays(refs));
    if (!r.ok()) return r.status();
    for (int row = 0; row < r->size(); ++row) {
      std::int64_t ord = r->integer(row, 0);
      if (ord < 1 || static_cast<std::size_t>(ord) > keys.size()) continue;
      std::size_t i = static_cast<std::size_t>(ord - 1);
      Result<std::optional<CacheEntry>> e = entry(*r, row, 1, keys[i].signal, now, freshness[i]);
      if (!e.ok()) return e.status();
      out[i] = std::move(e).value();
    }
    return out;
  }

  Status put(const CacheKey& key, const CacheEntry& e) override { return put_many({{key, e}}); }

  // One statement: the entries (the last of a repeated key wins, as written in order would) and
  // the end of the leases on their keys, atomically.
  Status put_many(const std::vector<std::pair<CacheKey, CacheEntry>>& entries) override {
    if (entries.empty()) return {};
    std::vector<const CacheKey*> keys;
    std::vector<std::string> statuses, values, sources;
    std::vector<std::int64_t> fetched;
    for (const auto& [key, entry] : entries) {
      LEADENRICH_RETURN_IF_ERROR(cacheable(entry));
      keys.push_back(&key);
      statuses.emplace_back(to_string(entry.status));
      values.push_back(entry.value.dump());
      sources.push_back(entry.source);
      fetched.push_back(millis(entry.fetched_at));
    }
    Params p = key_arrays(keys);
    p.add_array(statuses).add_array(values).add_array(sources).add_array(fetched);
    return q("write the cache", "put_many",
             "WITH k AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],"
             "  $7::text[], $8::bigint[]) WITH ORDINALITY"
             "  AS k(signal, entity, pipe_id, config_hash, status, value, source, fetched_at, ord)),"
             " last AS (SELECT DISTINCT ON (signal, entity, pipe_id, config_hash) * FROM k"
             "  ORDER BY signal, entity, pipe_id, config_hash, ord DESC),"
             " written AS (INSERT INTO leadenrich.cache (signal, entity, pipe_id, config_hash, status, value, source,"
             "  fetched_at) SELECT signal, entity, pipe_id, config_hash, status, value, source, fetched_at FROM last"
             "  ON CONFLICT (signal, entity, pipe_id, config_hash) DO UPDATE SET status = EXCLUDED.status,"
             "  value = EXCLUDED.value, source = EXCLUDED.source, fetched_at = EXCLUDED.fetched_at RETURNING 1)"
             " DELETE FROM leadenrich.lookup_leases l USING last WHERE l.signal = last.signal"
             "  AND l.entity = last.entity AND l.pipe_id = last.pipe_id AND l.config_hash = last.config_hash",
             p)
        .status();
  }

  Result<std::vector<std::pair<std::string, std::size_t>>> cache_stats() override {
    Result<Rows> r = q("read the cache", "cache_stats",
                       "SELECT signal, count(*) FROM leadenrich.cache GROUP BY signal ORDER BY signal");
    if (!r.ok()) return r.status();
    std::vector<std::pair<std::string, std::size_t>> out;
    for (int i = 0; i < r->size(); ++i) out.emplace_back(r->text(i, 0), static_cast<std::size_t>(r->integer(i, 1)));
    return out;
  }

  Result<std::string> begin_run(const std::string& input, Timestamp now) override {
    std::string id = fmt::format("run_{}_{}", compact(now), random_hex(6));
    Params p;
    p.add(id).add(input).add(millis(now));
    Result<Rows> r = q("begin a run", "begin_run",
                       "INSERT INTO leadenrich.runs VALUES ($1, $2, 'running', $3::bigint, $3::bigint)", p);
    if (!r.ok()) return r.status();
    return id;
  }

  Result<RunRecord> run(const std::string& run_id) override {
    Result<std::vector<RunRecord>> runs = query_runs("run", "WHERE r.id = $1", run_id);
    if (!runs.ok()) return runs.status();
    if (runs->empty()) return not_found(fmt::format("no run {} in store {}", run_id, display()));
    return runs->front();
  }

  Result<std::optional<RunRecord>> find_unfinished_run(const std::string& input) override {
    Result<std::vector<RunRecord>> runs = query_runs("unfinished_runs", "WHERE r.input = $1 AND r.state <> 'finished'", input);
    if (!runs.ok()) return runs.status();
    return first_unclaimed(*runs);
  }

  Result<std::vector<RunRecord>> list_runs() override { return query_runs("list_runs", "", ""); }

  Status record_leads(const std::string& run_id, const std::vector<std::pair<std::size_t, EnrichedLead>>& leads,
                      Timestamp now) override {
    if (leads.empty()) return {};
    std::vector<std::int64_t> indexes;
    std::vector<std::string> texts;
    for (const auto& [index, lead] : leads) {
      indexes.push_back(static_cast<std::int64_t>(index));
      texts.push_back(to_json(lead).dump());
    }
    Params p;
    p.add(run_id).add_array(indexes).add_array(texts).add(millis(now));
    return q("record leads in the journal", "record_leads",
             "WITH t AS (SELECT DISTINCT ON (idx) idx, lead FROM unnest($2::bigint[], $3::text[]) WITH ORDINALITY"
             "  AS t(idx, lead, ord) ORDER BY idx, ord DESC),"
             " l AS (INSERT INTO leadenrich.run_leads (run_id, idx, lead) SELECT $1, idx, lead FROM t"
             "  ON CONFLICT (run_id, idx) DO UPDATE SET lead = EXCLUDED.lead RETURNING 1)"
             " UPDATE leadenrich.runs SET updated_at = $4::bigint WHERE id = $1",
             p)
        .status();
  }

  Result<std::vector<std::pair<std::size_t, EnrichedLead>>> run_leads(const std::string& run_id) override {
    Result<Rows> r = q("read a run", "run_leads", "SELECT idx, lead FROM leadenrich.run_leads WHERE run_id = $1 ORDER BY idx",
                       Params().add(run_id));
    if (!r.ok()) return r.status();
    std::vector<std::pair<std::size_t, EnrichedLead>> out;
    for (int i = 0; i < r->size(); ++i) {
      Result<EnrichedLead> lead = parse_enriched_lead(r->text(i, 1));
      if (!lead.ok()) {
        return pg::store_status(StatusCode::kDataLoss, display(), "read a run",
                                fmt::format("run {} lead {} is unreadable: {}", run_id, r->integer(i, 0),
                                            lead.status().message()));
      }
      out.emplace_back(static_cast<std::size_t>(r->integer(i, 0)), std::move(lead).value());
    }
    return out;
  }

  Status finish_run(const std::string& run_id, RunState state, Timestamp now) override {
    Params p;
    p.add(run_id).add(std::string(to_string(state))).add(millis(now));
    return q("finish a run", "finish_run", "UPDATE leadenrich.runs SET state = $2, updated_at = $3::bigint WHERE id = $1", p)
        .status();
  }

  // ---- run claims: a session advisory lock per run, on a connection kept for the claims ----

  Status claim_run(const std::string& run_id) override {
    std::lock_guard lock(claims_mu_);
    if (claims_.count(run_id) != 0) {
      return failed_precondition(fmt::format("run {} is already being worked on in this process", run_id));
    }
    if (claim_conn_ == nullptr || claim_conn_->broken()) {
      claims_.clear();  // the server dropped them with the old connection
      Result<std::unique_ptr<pg::Connection>> c = pool_->dedicated();
      if (!c.ok()) return c.status();
      claim_conn_ = std::move(c).value();
    }
    Result<Rows> r = claim_conn_->query(fmt::format("claim run {}", run_id),
                                        fmt::format("SELECT pg_try_advisory_lock({})", kRunLockKey), Params().add(run_id),
                                        "claim_run");
    if (!r.ok()) return r.status();
    if (!r->boolean(0, 0)) return failed_precondition(fmt::format("run {} is still going in another process", run_id));
    claims_.insert(run_id);
    return {};
  }

  void release_run(const std::string& run_id) override {
    std::lock_guard lock(claims_mu_);
    if (claims_.erase(run_id) == 0 || claim_conn_ == nullptr) return;
    ignore_error(claim_conn_->query("release a run", fmt::format("SELECT pg_advisory_unlock({})", kRunLockKey),
                                    Params().add(run_id), "release_run")
                     .status(),
                 "a lock that cannot be released goes with the connection");
  }

  Result<bool> run_claimed(const std::string& run_id) override {
    {
      std::lock_guard lock(claims_mu_);
      if (claims_.count(run_id) != 0) return true;
    }
    // Held when we cannot take it; when we can, let go at once in the same statement.
    Result<Rows> r = q(fmt::format("check run {}", run_id), "run_claimed",
                       fmt::format("SELECT CASE WHEN pg_try_advisory_lock({0}) THEN NOT pg_advisory_unlock({0}) "
                                   "ELSE true END",
                                   kRunLockKey),
                       Params().add(run_id));
    if (!r.ok()) return r.status();
    return r->boolean(0, 0);
  }

  // ---- submissions and lead results ----

  Status record_submission(const std::string& run_id, const PendingSubmission& sub) override {
    Json::Array entities, signals;
    for (const std::string& e : sub.entities) entities.emplace_back(e);
    for (Signal s : sub.signals) signals.emplace_back(to_string(s));
    Params p;
    p.add(run_id).add(sub.pipe0_run_id).add(Json(std::move(entities)).dump()).add(Json(std::move(signals)).dump());
    return q("record a submission", "record_submission",
             "INSERT INTO leadenrich.run_submissions VALUES ($1, $2, $3, $4) ON CONFLICT (run_id, pipe0_run_id) "
             "DO UPDATE SET entities = EXCLUDED.entities, signals = EXCLUDED.signals",
             p)
        .status();
  }

  Status forget_submission(const std::string& run_id, const std::string& pipe0_run_id) override {
    return q("forget a submission", "forget_submission",
             "DELETE FROM leadenrich.run_submissions WHERE run_id = $1 AND pipe0_run_id = $2",
             Params().add(run_id).add(pipe0_run_id))
        .status();
  }

  Result<std::vector<PendingSubmission>> pending_submissions(const std::string& run_id) override {
    Result<Rows> r = q("read submissions", "pending_submissions",
                       "SELECT pipe0_run_id, entities, signals FROM leadenrich.run_submissions WHERE run_id = $1 "
                       "ORDER BY pipe0_run_id",
                       Params().add(run_id));
    if (!r.ok()) return r.status();
    std::vector<PendingSubmission> out;
    for (int i = 0; i < r->size(); ++i) {
      PendingSubmission p;
      p.pipe0_run_id = r->text(i, 0);
      Result<Json> entities = Json::parse(r->text(i, 1));
      Result<Json> signals = Json::parse(r->text(i, 2));
      if (!entities.ok() || !signals.ok() || !entities->is_array() || !signals->is_array()) continue;
      for (const Json& e : entities->as_array()) p.entities.push_back(e.is_string() ? e.as_string() : "");
      for (const Json& sig : signals->as_array()) {
        if (sig.is_string()) {
          if (Result<Signal> parsed = parse_signal(sig.as_string()); parsed.ok()) p.signals.push_back(*parsed);
        }
      }
      out.push_back(std::move(p));
    }
    return out;
  }

  Status save_lead_result(const EnrichedLead& lead, Timestamp now) override {
    if (lead.lead.lead_id.empty()) return invalid_argument("save_lead_result: the lead has no lead_id");
    Params p;
    p.add(lead.lead.lead_id).add(to_json(lead).dump()).add(millis(now));
    return q("save a lead result", "save_lead_result",
             "INSERT INTO leadenrich.lead_results VALUES ($1, $2, $3::bigint) ON CONFLICT (lead_id) "
             "DO UPDATE SET lead = EXCLUDED.lead, saved_at = EXCLUDED.saved_at",
             p)
        .status();
  }

  Result<std::optional<std::string>> lead_result(const std::string& lead_id) override {
    Result<Rows> r = q("read a lead result", "lead_result", "SELECT lead FROM leadenrich.lead_results WHERE lead_id = $1",
                       Params().add(lead_id));
    if (!r.ok()) return r.status();
    if (r->empty()) return std::optional<std::string>();
    return std::optional<std::string>(r->text(0, 0));
  }

  // ---- lookup leases ----

  bool shares_leases() const override { return true; }

  Result<bool> acquire_lease(const CacheKey& key) override {  // see acquire_leases
    Result<std::vector<bool>> held = acquire_leases({key});
    if (!held.ok()) return held.status();
    return static_cast<bool>(held->front());
  }

  Result<std::vector<bool>> acquire_leases(const std::vector<CacheKey>& keys) override { return leases_.acquire(keys); }
  Status release_lease(const CacheKey& key) override { return leases_.release(key); }
  Result<bool> leased_elsewhere(const CacheKey& key) override { return leases_.held_elsewhere(key); }

  WorkQueue* work_queue() override { return queue_.get(); }

 private:
  // The cache row at `row` (status, value, source, fetched_at from column `col`) when fresh.
  Result<std::optional<CacheEntry>> entry(const Rows& r, int row, int col, Signal s, Timestamp now,
                                          Freshness freshness) {
    CacheEntry e;
    Result<SignalStatus> status = parse_signal_status(r.text(row, col));
    if (!status.ok()) return std::optional<CacheEntry>();  // a status this build does not know is a miss
    e.status = *status;
    Result<Json> value = Json::parse(r.text(row, col + 1));
    if (!value.ok()) {
      return pg::store_status(StatusCode::kDataLoss, display(), "read the cache",
                              fmt::format("a cached {} value is unreadable", to_string(s)));
    }
    e.value = std::move(value).value();
    e.source = r.text(row, col + 2);
    e.fetched_at = from_millis(r.integer(row, col + 3));
    std::chrono::seconds window = e.status == SignalStatus::kFound ? freshness.found : freshness.no_result;
    if (now - e.fetched_at >= window) return std::optional<CacheEntry>();
    return std::optional<CacheEntry>(std::move(e));
  }

  Result<std::vector<RunRecord>> query_runs(const char* name, std::string_view where, const std::string& arg) {
    std::string sql = fmt::format(
        "SELECT r.id, r.state, r.input, r.created_at, r.updated_at, "
        "(SELECT count(*) FROM leadenrich.run_leads l WHERE l.run_id = r.id) FROM leadenrich.runs r {} "
        "ORDER BY r.created_at DESC, r.id DESC",
        where);
    Params p;
    if (!where.empty()) p.add(arg);
    Result<Rows> r = q("read runs", name, sql, p);
    if (!r.ok()) return r.status();
    std::vector<RunRecord> out;
    for (int i = 0; i < r->size(); ++i) {
      RunRecord rec;
      rec.id = r->text(i, 0);
      std::string state = r->text(i, 1);
      rec.state = state == "finished" ? RunState::kFinished : state == "failed" ? RunState::kFailed
                  : state == "cancelled" ? RunState::kCancelled : RunState::kRunning;
      rec.input = r->text(i, 2);
      rec.created_at = from_millis(r->integer(i, 3));
      rec.updated_at = from_millis(r->integer(i, 4));
      rec.leads_done = static_cast<std::size_t>(r->integer(i, 5));
      out.push_back(std::move(rec));
    }
    return out;
  }

  std::shared_ptr<pg::Pool> pool_;
  pg::Leases leases_;
  std::unique_ptr<WorkQueue> queue_;

  std::mutex claims_mu_;
  std::unique_ptr<pg::Connection> claim_conn_;
  std::set<std::string> claims_;
};

}  // namespace

Result<std::shared_ptr<Store>> open_postgresql_store(const PostgresqlStoreOptions& options) {
  auto pool = std::make_shared<pg::Pool>(options.conninfo, options.pool_size);
  LEADENRICH_RETURN_IF_ERROR(pool->run([](pg::Connection& c) { return pg::migrate(c); }));
  return std::shared_ptr<Store>(std::make_shared<PgStore>(std::move(pool), options.lease_time));
}

}  // namespace leadenrich
