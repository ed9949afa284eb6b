// The SQLite store's work queue (work_queue.h): tables distributed_runs and run_chunks of the
// store's own file, used through the store's connection and under its mutex, so processes that
// share the file share the queue.
#ifndef LEADENRICH_INTERNAL_SQLITE_WORK_QUEUE_H_
#define LEADENRICH_INTERNAL_SQLITE_WORK_QUEUE_H_

#include <sqlite3.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string_view>

#include "internal/sqlite_statement.h"
#include "leadenrich/status.h"
#include "leadenrich/work_queue.h"

namespace leadenrich::internal {

/// The store's connection, as the queue borrows it (the store outlives the queue).
struct SqliteConnection {
  sqlite3* db = nullptr;
  std::mutex* mu = nullptr;  ///< guards `db` for every user of the connection
  PreparedStatements* prepared = nullptr;  ///< the connection's statements (under `mu`)
  /// The store's error for a SQLite result code: names the file and the way out.
  std::function<Status(int rc, std::string_view what)> error;
};

std::unique_ptr<WorkQueue> make_sqlite_work_queue(SqliteConnection connection);

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_SQLITE_WORK_QUEUE_H_
