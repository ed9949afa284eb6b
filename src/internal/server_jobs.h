// The server's /v1/jobs routes over a JobManager (internal/jobs.h). Kept apart from server.cc,
// which only registers them, requires a key for them and stops them first.
#ifndef LEADENRICH_INTERNAL_SERVER_JOBS_H_
#define LEADENRICH_INTERNAL_SERVER_JOBS_H_

#include <httplib.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "internal/jobs.h"

namespace leadenrich::internal {

class JobRoutes {
 public:
  /// The route templates (for the metrics' labels) and their cpp-httplib patterns.
  struct RouteInfo {
    const char* method;
    const char* label;
    const char* pattern;
  };
  static const std::vector<RouteInfo>& routes();
  /// Adds the routes, the JobId parameter and the Job schema to an OpenAPI document.
  static void add_to_openapi(Json& document);

  /// Starts the job manager (resuming unfinished jobs) and registers the routes on `http`.
  /// `max_streams`: result streams served at once (each holds a worker while its job runs).
  static Result<std::unique_ptr<JobRoutes>> start(httplib::Server& http, JobManager::Deps deps, std::size_t max_streams);
  /// Ends result streams and interrupts running jobs (they resume at the next start).
  void stop();

 private:
  void create(const httplib::Request& req, httplib::Response& res);
  void list(const httplib::Request& req, httplib::Response& res);
  void get(const httplib::Request& req, httplib::Response& res);
  void cancel(const httplib::Request& req, httplib::Response& res);
  void results(const httplib::Request& req, httplib::Response& res);

  JobManager::Deps deps_;
  std::unique_ptr<JobManager> jobs_;
  std::size_t max_streams_ = 1;
  std::atomic<std::size_t> streams_{0};
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_SERVER_JOBS_H_
