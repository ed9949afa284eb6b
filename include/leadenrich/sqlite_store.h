// The SQLite store: the embedded default behind the Store interface (leadenrich::sqlite).
#ifndef LEADENRICH_SQLITE_STORE_H_
#define LEADENRICH_SQLITE_STORE_H_

#include <chrono>
#include <memory>
#include <string>

#include "leadenrich/status.h"
#include "leadenrich/store.h"

namespace leadenrich {

struct SqliteStoreOptions {
  std::string path = ".leadenrich/store.db";  ///< parent directories are created; ":memory:" works
  std::chrono::milliseconds busy_timeout{5000};
  /// Check every page of the file at open (PRAGMA quick_check): a damaged file is refused before
  /// a run can pay for lookups it cannot cache. Costs a read of the whole file (docs/store.md).
  bool check_on_open = true;
  /// How long a lookup lease (store.h) outlives its owner: the store renews its leases in the
  /// background, so a killed process's leases are taken over after this long.
  std::chrono::milliseconds lease_time{30000};
};

/// Opens (creating or migrating) a SQLite store. Errors name the path and what to do, and carry
/// provider kStoreProvider: kDataLoss when the file is damaged or not a leadenrich store,
/// kFailedPrecondition when it is a directory or was written by a newer version, kUnavailable
/// when it cannot be opened or stays locked past the busy timeout. Reads of damaged pages later
/// are kDataLoss too, never a silent miss.
Result<std::shared_ptr<Store>> open_sqlite_store(const SqliteStoreOptions& options = {});

/// The schema version this build writes.
inline constexpr int kStoreSchemaVersion = 4;

}  // namespace leadenrich

#endif  // LEADENRICH_SQLITE_STORE_H_
