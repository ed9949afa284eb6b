// Error model: Status and Result<T>. Every fallible leadenrich call returns one.
#ifndef LEADENRICH_STATUS_H_
#define LEADENRICH_STATUS_H_

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace leadenrich {

/// What went wrong, coarse enough to decide what to do about it.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     ///< bad input: a malformed file row, an invalid id, a 400 from a provider
  kNotFound,            ///< the thing asked for does not exist (404, expired run id)
  kUnauthenticated,     ///< credential missing, bad or expired (401)
  kPermissionDenied,    ///< credential valid but not allowed (403)
  kResourceExhausted,   ///< rate or queue limit (429); retry_after says when to try again
  kUnavailable,         ///< transient: 5xx, connection refused or reset
  kDeadlineExceeded,    ///< a timeout, or a pipe0 sync run that answered 408
  kFailedPrecondition,  ///< configuration error, or a provider refusing (e.g. credits exhausted)
  kAborted,             ///< a conflict, e.g. cancel of a started run (409)
  kCancelled,           ///< the caller cancelled
  kDataLoss,            ///< a response that could not be parsed (truncated or invalid JSON)
  kInternal,            ///< a bug in leadenrich
  kUnknown,             ///< anything else, e.g. an unexpected HTTP status
};

/// The snake_case name of a code, e.g. "invalid_argument".
std::string_view to_string(StatusCode code);

/// An outcome: ok, or a code with a one-line message and optional provider context.
/// Value type; copyable; not synchronised. [[nodiscard]]: an error is acted on, or dropped
/// visibly with ignore_error().
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  /// The HTTP status that caused this error, 0 when none.
  int http_status() const { return http_status_; }
  /// Which service answered: "pipe0", "aturiya", "store" (kStoreProvider), or empty.
  const std::string& provider() const { return provider_; }
  /// The provider's machine-readable error slug (pipe0 problem `type`), if any.
  const std::string& error_type() const { return error_type_; }
  /// How long the provider asked us to wait before trying again, if it said.
  std::optional<std::chrono::milliseconds> retry_after() const { return retry_after_; }

  Status& with_http_status(int status) & { http_status_ = status; return *this; }
  Status&& with_http_status(int status) && { http_status_ = status; return std::move(*this); }
  Status& with_provider(std::string provider) & { provider_ = std::move(provider); return *this; }
  Status&& with_provider(std::string provider) && { provider_ = std::move(provider); return std::move(*this); }
  Status& with_error_type(std::string type) & { error_type_ = std::move(type); return *this; }
  Status&& with_error_type(std::string type) && { error_type_ = std::move(type); return std::move(*this); }
  Status& with_retry_after(std::chrono::milliseconds d) & { retry_after_ = d; return *this; }
  Status&& with_retry_after(std::chrono::milliseconds d) && { retry_after_ = d; return std::move(*this); }

  /// One line: "unavailable: pipe0 answered 503 (HTTP 503, pipe0)".
  std::string to_string() const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_ && a.http_status_ == b.http_status_ &&
           a.provider_ == b.provider_ && a.error_type_ == b.error_type_ &&
           a.retry_after_ == b.retry_after_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  int http_status_ = 0;
  std::string provider_;
  std::string error_type_;
  std::optional<std::chrono::milliseconds> retry_after_;
};

/// Shorthand constructors.
inline Status ok_status() { return Status(); }
Status invalid_argument(std::string message);
Status not_found(std::string message);
Status unavailable(std::string message);
Status failed_precondition(std::string message);
Status internal_error(std::string message);
Status data_loss(std::string message);

/// Thrown only by Result<T>::value() on an error, and at the Python boundary.
class StatusError : public std::runtime_error {
 public:
  explicit StatusError(Status status)
      : std::runtime_error(status.to_string()), status_(std::move(status)) {}
  const Status& status() const { return status_; }

 private:
  Status status_;
};

/// A T or the Status that says why there is none. [[nodiscard]], like Status.
template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<T, Status>, "Result<Status> is meaningless");

 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    if (std::get<Status>(v_).ok()) v_ = Status(StatusCode::kInternal, "Result built from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  /// The error; an ok Status when there is a value.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  /// The value; throws StatusError if there is none.
  T& value() & { check(); return std::get<T>(v_); }
  const T& value() const& { check(); return std::get<T>(v_); }
  T&& value() && { check(); return std::get<T>(std::move(v_)); }

  T value_or(T fallback) const { return ok() ? std::get<T>(v_) : std::move(fallback); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void check() const {
    if (!ok()) throw StatusError(std::get<Status>(v_));
  }
  std::variant<T, Status> v_;
};

/// Drops an error on purpose. Status and Result are [[nodiscard]]; an error the caller does not
/// act on goes through here, with `why` saying what makes it harmless there (e.g. "best effort:
/// the run has already failed"), so the choice is visible to a reader and to a search.
inline void ignore_error(const Status& /*status*/, std::string_view /*why*/) {}
template <typename T>
void ignore_error(const Result<T>& /*result*/, std::string_view /*why*/) {}

}  // namespace leadenrich

/// Returns the Status of `expr` from the enclosing function when it is an error.
#define LEADENRICH_RETURN_IF_ERROR(expr)              \
  do {                                                \
    ::leadenrich::Status leadenrich_status_ = (expr); \
    if (!leadenrich_status_.ok()) return leadenrich_status_; \
  } while (false)

#endif  // LEADENRICH_STATUS_H_
