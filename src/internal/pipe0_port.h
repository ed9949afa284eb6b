// The engine's view of pipe0: batches in, per-record fields out, asynchronously. One adapter
// implements it over Pipe0Connection; engine unit tests implement it directly.
#ifndef LEADENRICH_INTERNAL_PIPE0_PORT_H_
#define LEADENRICH_INTERNAL_PIPE0_PORT_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "internal/merge.h"
#include "leadenrich/json.h"
#include "leadenrich/signals.h"
#include "leadenrich/status.h"

namespace leadenrich {
class Pipe0Connection;
}

namespace leadenrich::internal {

struct BatchRecord {
  std::string id;         ///< unique within the batch
  Json::Object inputs;    ///< every required input key present (null where unknown)
};

struct BatchRequest {
  std::vector<std::string> pipe_ids;
  std::vector<BatchRecord> records;
};

struct BatchRecordResult {
  std::string id;
  std::vector<ProviderField> fields;
};

struct BatchResponse {
  std::string run_id;
  std::string status;  ///< pending | processing | completed | failed | canceled
  std::vector<BatchRecordResult> records;
  std::vector<std::string> errors;  ///< run-level errors ("CreditBalanceInsufficient: ...")
  std::optional<int> priority;  ///< X-Task-Priority of a run-creating answer
  std::optional<int> p1_capacity;
  std::optional<int> p2_capacity;
  int attempts = 1;  ///< HTTP attempts the client made
};

using BatchCallback = std::function<void(Result<BatchResponse>)>;

/// Implementations call each callback exactly once, on any thread.
class Pipe0Port {
 public:
  virtual ~Pipe0Port() = default;
  /// A synchronous run: the callback gets the finished run — or, after a 408 or a body cut
  /// short, the run still processing, which the engine follows with check().
  virtual void run_sync(BatchRequest request, BatchCallback done) = 0;
  /// An async run: the callback gets the accepted run, usually pending.
  virtual void create_run(BatchRequest request, BatchCallback done) = 0;
  /// One check of an async run.
  virtual void check(std::string run_id, BatchCallback done) = 0;
};

/// The port over a real pipe0 connection (src/internal/pipe0_port.cc).
/// Each pipe's required inputs come from `specs` (matched by pipe id).
std::shared_ptr<Pipe0Port> make_pipe0_port(std::shared_ptr<Pipe0Connection> connection,
                                           const std::vector<SignalSpec>& specs);

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_PIPE0_PORT_H_
