// pipe0 on the wire: the request body, the run object, capacity headers and the one mapping
// from an HTTP answer to a Status (contracts/pipe0.md).
// Not installed: declarations that used to be public keep the leadenrich namespace, so callers
// only change their #include. Unit tests may include this header.
#ifndef LEADENRICH_INTERNAL_PIPE0_WIRE_H_
#define LEADENRICH_INTERNAL_PIPE0_WIRE_H_

#include <optional>
#include <string>
#include <string_view>

#include "leadenrich/pipe0.h"
#include "leadenrich/time.h"
#include "leadenrich/transport.h"

namespace leadenrich {

/// The request body. Every required input key of every pipe is present on every record (null
/// where the record has none): a key absent from all records would fail the whole request.
/// Returns kInvalidArgument for no pipes, no records, more than 100 records or a duplicate id.
Result<std::string> build_pipe0_payload(const Pipe0RunRequest& request, Pipe0Environment environment);

/// Parses a run object leniently: unknown keys ignored, missing optional keys tolerated, ids
/// numeric or string. Returns kDataLoss for truncated or invalid JSON, kInvalidArgument when it
/// is JSON but not a run object (no id).
Result<Pipe0Run> parse_pipe0_run(std::string_view body);

/// X-Task-Priority and X-P1/P2/P3-Capacity, as far as present.
Pipe0Capacity parse_pipe0_capacity(const HttpHeaders& headers);

/// The one mapping from a non-2xx pipe0 response to a Status (the contract's table): 400/422
/// kInvalidArgument, 401 kUnauthenticated, 403 kPermissionDenied, 404 kNotFound, 408
/// kDeadlineExceeded, 409 kAborted, 429 kResourceExhausted with retry_after, 5xx kUnavailable;

/// a 4xx naming credits or balance kFailedPrecondition. The problem `type` slug goes to
/// error_type, `detail` to the message; provider "pipe0".
Status pipe0_error_status(const HttpResponse& response, Timestamp now);

/// The run id inside a 408's detail text ("... run xgvxuqk2771d8t17n60vphu9 is still ..."), if any.
std::optional<std::string> run_id_from_detail(std::string_view detail);

/// error_type of a Status for a request that provably never reached pipe0 (safe to re-send).
inline constexpr std::string_view kPipe0NotSent = "not_sent";

}  // namespace leadenrich

#endif  // LEADENRICH_INTERNAL_PIPE0_WIRE_H_
