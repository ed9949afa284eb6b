// The pipe0 client: speaks contracts/pipe0.md. A public Pipe0Connection interface (so tests can
// replace it) and one factory over an HttpTransport.
#ifndef LEADENRICH_PIPE0_H_
#define LEADENRICH_PIPE0_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "leadenrich/clock.h"
#include "leadenrich/config.h"
#include "leadenrich/json.h"
#include "leadenrich/retry.h"
#include "leadenrich/status.h"
#include "leadenrich/transport.h"

namespace leadenrich {

/// At most this many input records per request (the contract's hard limit).
inline constexpr std::size_t kPipe0MaxRecords = 100;

struct Pipe0Options {
  std::string base_url = "https://api.pipe0.com";
  Secret api_key;
  Pipe0Environment environment = Pipe0Environment::kProduction;
  RetryPolicy retry;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{30'000};
  /// pipe0 answers a sync run within 3 minutes (then 408); wait a little longer than that.
  std::chrono::milliseconds sync_timeout{200'000};
  std::chrono::milliseconds poll_initial{1000};
  std::chrono::milliseconds poll_max{3000};
};
/// The options a Config gives (base URL, key, environment).
Pipe0Options pipe0_options(const Config& config);

/// One pipe of a request, with the input keys it requires (from SignalSpec::required_inputs).
struct Pipe0PipeRef {
  std::string pipe_id;  ///< with @version
  std::vector<std::string> required_inputs;
  Json config;          ///< the per-pipe "config" object, or null
};

struct Pipe0InputRecord {
  std::string id;       ///< unique within the request
  Json::Object inputs;
};

struct Pipe0RunRequest {
  std::vector<Pipe0PipeRef> pipes;
  std::vector<Pipe0InputRecord> records;
};

struct Pipe0Reason {
  std::string code;
  std::string summary;
  std::string message;
};

struct Pipe0Field {
  std::string name;
  Json value;                 ///< as sent: any JSON type
  std::string status;         ///< completed, no_result, failed, skipped, pending, queued, processing
  std::string type;           ///< string, number, boolean, json, unknown
  std::string format;
  std::optional<Pipe0Reason> reason;
  std::string resolved_by;    ///< resolved_by.ref; "input" for echoed inputs
  bool is_input() const { return resolved_by == "input"; }
};

struct Pipe0Record {
  std::string id;
  std::vector<Pipe0Field> fields;
  /// The field named `name`, or nullptr.
  const Pipe0Field* field(std::string_view name) const;
};

struct Pipe0RunError {
  std::string code;
  std::string message;
  std::string path;
};

struct Pipe0Run {
  std::string id;
  std::string status;  ///< pending, processing, completed, failed, canceled
  std::vector<std::string> order;
  std::vector<Pipe0Record> records;  ///< in `order`, then any others
  std::vector<Pipe0RunError> errors;
  bool terminal() const { return status == "completed" || status == "failed" || status == "canceled"; }
};

/// X-Task-Priority and X-P1/P2/P3-Capacity, as far as present.
struct Pipe0Capacity {
  std::optional<int> priority;
  std::optional<int> p1;
  std::optional<int> p2;
  std::optional<int> p3;
};

struct Pipe0Response {
  Pipe0Run run;
  Pipe0Capacity capacity;
  int attempts = 1;
};

using Pipe0Callback = std::function<void(Result<Pipe0Response>)>;

/// Talks to pipe0. Thread-safe.
///
/// The *_async calls make one attempt each and call `done` exactly once, on a transport
/// thread: the caller (the engine) owns pacing and retries. A failure that provably never
/// reached pipe0 has error_type "not_sent". The blocking calls retry per the options' policy
/// (idempotent calls on any transient failure; run-creating calls only when not accepted).
class Pipe0Connection {
 public:
  virtual ~Pipe0Connection() = default;

  /// POST /v1/pipes/run/sync. A 408 (or a body cut short that names its run) is answered as
  /// that run, status "processing", for the caller to follow with check_async — never by
  /// re-submitting, and with no thread of the connection's own.
  virtual void run_sync_async(Pipe0RunRequest request, Pipe0Callback done) = 0;
  /// POST /v1/pipes/run: the accepted run, usually pending.
  virtual void create_run_async(Pipe0RunRequest request, Pipe0Callback done) = 0;
  /// GET /v1/pipes/check/{id}.
  virtual void check_async(std::string run_id, Pipe0Callback done) = 0;

  /// Blocking forms. run_sync follows a 408'd run with wait() until it ends.
  virtual Result<Pipe0Response> run_sync(const Pipe0RunRequest& request) = 0;
  virtual Result<Pipe0Response> create_run(const Pipe0RunRequest& request) = 0;
  virtual Result<Pipe0Response> check(const std::string& run_id) = 0;
  /// Polls check (1 s growing to 3 s) until the run ends. kDeadlineExceeded naming the run id
  /// when `timeout` passes first.
  virtual Result<Pipe0Run> wait(const std::string& run_id, std::chrono::milliseconds timeout) = 0;
  /// POST /v1/pipes/cancel/{id}; kAborted once the run is processing or finished.
  virtual Result<Pipe0Run> cancel(const std::string& run_id) = 0;
  /// POST /v1/pipes/validate (free): ok, or the problem as kInvalidArgument.
  virtual Status validate(const Pipe0RunRequest& request) = 0;
  /// GET /v1/credit-balance (a number or a numeric string).
  virtual Result<double> credit_balance() = 0;
};

/// A connection over `transport`. Returns kFailedPrecondition naming PIPE0_API_KEY when the key
/// is empty (nothing is sent), kInvalidArgument for a base URL that is not http(s).
Result<std::shared_ptr<Pipe0Connection>> make_pipe0_connection(Pipe0Options options,
                                                               std::shared_ptr<HttpTransport> transport,
                                                               std::shared_ptr<Clock> clock = nullptr);

}  // namespace leadenrich

#endif  // LEADENRICH_PIPE0_H_
