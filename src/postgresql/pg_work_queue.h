// The PostgreSQL work queue of distributed runs (tables distributed_runs and run_chunks).
#ifndef LEADENRICH_SRC_POSTGRESQL_PG_WORK_QUEUE_H_
#define LEADENRICH_SRC_POSTGRESQL_PG_WORK_QUEUE_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "leadenrich/work_queue.h"
#include "postgresql/pg_connection.h"

namespace leadenrich::pg {

std::unique_ptr<WorkQueue> make_work_queue(std::shared_ptr<Pool> pool);

}  // namespace leadenrich::pg

#endif  // LEADENRICH_SRC_POSTGRESQL_PG_WORK_QUEUE_H_
