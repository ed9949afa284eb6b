// What the distributed run's parts (src/distributed*.cc) share.
#ifndef LEADENRICH_INTERNAL_DISTRIBUTED_QUEUE_H_
#define LEADENRICH_INTERNAL_DISTRIBUTED_QUEUE_H_

#include "leadenrich/clock.h"
#include "leadenrich/status.h"
#include "leadenrich/store.h"
#include "leadenrich/work_queue.h"

namespace leadenrich::internal {

inline Timestamp distributed_now() { return system_clock()->now(); }

/// The store's work queue; null with `error` set when it has none.
inline WorkQueue* work_queue_of(Store& store, Status& error) {
  WorkQueue* q = store.work_queue();
  if (q == nullptr) {
    error = failed_precondition(
        "this store has no work queue: a distributed run needs a store that processes share (a SQLite file or "
        "PostgreSQL, not --no-cache)");
  }
  return q;
}

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_DISTRIBUTED_QUEUE_H_
