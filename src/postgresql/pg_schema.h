// The PostgreSQL store's schema: everything in schema `leadenrich`, versioned in
// leadenrich.schema_version, migrated on open under a transaction-scoped advisory lock so that
// several processes opening a new database at once migrate it exactly once.
#ifndef LEADENRICH_SRC_POSTGRESQL_PG_SCHEMA_H_
#define LEADENRICH_SRC_POSTGRESQL_PG_SCHEMA_H_

#include <iterator>
#include <string>

#include <fmt/format.h>

#include "postgresql/pg_connection.h"

namespace leadenrich::pg {

// Each migration takes the schema from version i to i + 1. Times the caller gives (fetched_at,
// created_at) are epoch milliseconds as in SQLite; expiry times (leases) are the server's
// timestamptz, so machines' clocks never decide who holds what.
inline constexpr const char* kMigrations[] = {
    // 1: cache, run journal, lead results, lookup leases, distributed runs.
    "CREATE TABLE leadenrich.cache ("
    "  signal text NOT NULL, entity text NOT NULL, pipe_id text NOT NULL, config_hash text NOT NULL,"
    "  status text NOT NULL, value text NOT NULL, source text NOT NULL, fetched_at bigint NOT NULL,"
    "  PRIMARY KEY (signal, entity, pipe_id, config_hash));"
    "CREATE TABLE leadenrich.runs ("
    "  id text PRIMARY KEY, input text NOT NULL, state text NOT NULL,"
    "  created_at bigint NOT NULL, updated_at bigint NOT NULL);"
    "CREATE INDEX runs_by_input ON leadenrich.runs (input, state);"
    "CREATE TABLE leadenrich.run_leads (run_id text NOT NULL, idx bigint NOT NULL, lead text NOT NULL,"
    "  PRIMARY KEY (run_id, idx));"
    "CREATE TABLE leadenrich.run_submissions (run_id text NOT NULL, pipe0_run_id text NOT NULL,"
    "  entities text NOT NULL, signals text NOT NULL, PRIMARY KEY (run_id, pipe0_run_id));"
    "CREATE TABLE leadenrich.lead_results (lead_id text PRIMARY KEY, lead text NOT NULL, saved_at bigint NOT NULL);"
    "CREATE TABLE leadenrich.lookup_leases ("
    "  signal text NOT NULL, entity text NOT NULL, pipe_id text NOT NULL, config_hash text NOT NULL,"
    "  owner text NOT NULL, expires_at timestamptz NOT NULL,"
    "  PRIMARY KEY (signal, entity, pipe_id, config_hash));"
    "CREATE INDEX lookup_leases_by_owner ON leadenrich.lookup_leases (owner);"
    "CREATE TABLE leadenrich.distributed_runs (run_id text PRIMARY KEY, spec text NOT NULL,"
    "  sealed boolean NOT NULL DEFAULT false);"
    "CREATE TABLE leadenrich.run_chunks ("
    "  run_id text NOT NULL, chunk bigint NOT NULL, first_idx bigint NOT NULL, leads bigint NOT NULL,"
    "  input text NOT NULL, state text NOT NULL DEFAULT 'queued', worker text NOT NULL DEFAULT '',"
    "  lease_until timestamptz, claims bigint NOT NULL DEFAULT 0, PRIMARY KEY (run_id, chunk));"
    "CREATE INDEX run_chunks_by_state ON leadenrich.run_chunks (state, run_id, chunk);",
};

/// The schema version this build writes.
inline constexpr int kPgSchemaVersion = static_cast<int>(std::size(kMigrations));

/// Brings the database to kPgSchemaVersion; kFailedPrecondition when a newer leadenrich wrote it.
inline Status migrate(Connection& c) {
  // The lock first: CREATE SCHEMA IF NOT EXISTS itself races (a unique violation) when two
  // sessions run it at once. The key is a constant of our own ("leadenri" in ASCII).
  if (Status st = c.exec("migrate", "BEGIN; SELECT pg_advisory_xact_lock(7306916068916045417);"
                                    "CREATE SCHEMA IF NOT EXISTS leadenrich;"
                                    "CREATE TABLE IF NOT EXISTS leadenrich.schema_version (version integer NOT NULL);");
      !st.ok()) {
    c.rollback();
    return st;
  }
  Result<Rows> v = c.query("read the schema version", "SELECT coalesce(max(version), 0) FROM leadenrich.schema_version");
  if (!v.ok()) {
    c.rollback();
    return v.status();
  }
  int current = static_cast<int>(v->integer(0, 0));
  if (current > kPgSchemaVersion) {
    c.rollback();
    return store_status(StatusCode::kFailedPrecondition, c.display(), "open",
                        fmt::format("written by a newer leadenrich (schema {}, this build knows {}): "
                                    "upgrade leadenrich or use another database",
                                    current, kPgSchemaVersion));
  }
  for (int next = current; next < kPgSchemaVersion; ++next) {
    std::string sql = std::string(kMigrations[next]) +
                      fmt::format("DELETE FROM leadenrich.schema_version; INSERT INTO leadenrich.schema_version VALUES ({});",
                                  next + 1);
    if (Status st = c.exec(fmt::format("migrate to schema {}", next + 1), sql); !st.ok()) {
      c.rollback();
      return st;
    }
  }
  Status committed = c.exec("migrate", "COMMIT");
  if (!committed.ok()) c.rollback();
  return committed;
}

}  // namespace leadenrich::pg

#endif  // LEADENRICH_SRC_POSTGRESQL_PG_SCHEMA_H_
