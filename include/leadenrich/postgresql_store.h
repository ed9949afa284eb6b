// The PostgreSQL store: the shared one behind the Store interface (leadenrich::postgresql), for a
// fleet of workers and server replicas. It also hands out lookup leases (single flight across
// processes) and a work queue for distributed runs. docs/store.md describes the schema.
#ifndef LEADENRICH_POSTGRESQL_STORE_H_
#define LEADENRICH_POSTGRESQL_STORE_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "leadenrich/status.h"
#include "leadenrich/store.h"

namespace leadenrich {

struct PostgresqlStoreOptions {
  /// A libpq URI (postgresql://user:password@host:5432/db) or key=value conninfo.
  std::string conninfo;
  /// Connections kept open: enough for the engine's and the server's threads.
  std::size_t pool_size = 8;
  /// How long a lookup lease (store.h) outlives its owner: the store renews its leases in the
  /// background every third of this, so a killed process's leases are taken over after this long.
  std::chrono::milliseconds lease_time{30000};
};

/// Connects, then creates or migrates the schema `leadenrich`. Errors carry provider
/// kStoreProvider and name the server with its password as ***: kUnavailable when the server
/// cannot be reached, kInvalidArgument for a malformed URI, kFailedPrecondition when a newer
/// leadenrich wrote the schema.
Result<std::shared_ptr<Store>> open_postgresql_store(const PostgresqlStoreOptions& options);

}  // namespace leadenrich

#endif  // LEADENRICH_POSTGRESQL_STORE_H_
