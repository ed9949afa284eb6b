// Background jobs of the server (POST /v1/jobs): a campaign or a list of leads enriched as a
// journaled run in the server's store, results kept as JSON lines in input order, and signed
// webhooks. Each job's definition and state live in a file of their own in the jobs directory, so
// a restarted server finds its unfinished jobs and resumes their runs (enrich_journaled), paying
// only for the leads the journal does not have.
#ifndef LEADENRICH_INTERNAL_JOBS_H_
#define LEADENRICH_INTERNAL_JOBS_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "leadenrich/engine.h"
#include "leadenrich/json.h"
#include "leadenrich/lead.h"
#include "leadenrich/server.h"
#include "leadenrich/transport.h"

namespace leadenrich {
class AturiyaConnection;
}

namespace leadenrich::internal {

/// What a job enriches and whom it tells.
struct JobSpec {
  std::optional<std::string> campaign_id;  ///< else `leads`
  std::vector<RawLead> leads;  ///< let go once the job has ended (nothing resumes it then)
  std::size_t lead_count = 0;  ///< leads.size() as given
  std::vector<Signal> signals;  ///< empty: the configuration's
  std::string webhook_url;      ///< empty: no webhook
  std::size_t progress_every = 0;  ///< with a webhook: a "job.progress" delivery every N leads
};

enum class JobState { kQueued, kRunning, kFinished, kFailed, kCancelled };
std::string_view to_string(JobState s);

/// Checks a webhook URL against the rules of docs/server.md: http or https, no user info, a host
/// in `allowed_hosts` ("*" allows any). The error names what is wrong, for a one-line 400.
Status check_webhook_url(std::string_view url, const std::vector<std::string>& allowed_hosts);

/// "t=<timestamp>" signing: the hex HMAC-SHA256 of `timestamp + "." + body` under `secret`.
std::string webhook_signature(std::string_view secret, std::string_view timestamp, std::string_view body);

class JobManager {
 public:
  struct Deps {
    std::shared_ptr<Enricher> enricher;
    std::shared_ptr<AturiyaConnection> aturiya;  ///< may be null: campaign jobs are refused
    ServerJobOptions options;
    bool sandbox = false;
    std::function<void(const std::string&)> log;
    std::shared_ptr<HttpTransport> transport;  ///< for webhooks; null: a curl transport when needed
  };
  /// Loads the jobs directory (creating it), queues unfinished jobs again, starts the runners.
  static Result<std::unique_ptr<JobManager>> start(Deps deps);
  ~JobManager();

  /// Queues a job; its id. kResourceExhausted when the queue is full.
  Result<std::string> submit(JobSpec spec);
  /// The job as GET /v1/jobs/{id} shows it; kNotFound.
  Result<Json> describe(const std::string& id);
  /// Every job, newest first, without their webhook attempts.
  Json list();
  /// Cancels a queued or running job. kNotFound; kFailedPrecondition when it has ended.
  Status cancel(const std::string& id);

  /// Where a job's results are and how far they are written.
  struct ResultsView {
    std::string path;
    std::size_t bytes = 0;  ///< complete lines written so far
    bool ended = false;     ///< nothing more will be written (the job ended, or the server stops)
  };
  /// Waits up to `timeout` for more than `offset` bytes of results or the end. kNotFound.
  Result<ResultsView> wait_results(const std::string& id, std::size_t offset, std::chrono::milliseconds timeout);

  /// Stops runners and webhook deliveries. Running jobs are interrupted, not cancelled: they stay
  /// unfinished on disk and the next start resumes them. Idempotent.
  void stop();

  struct Job;

 private:
  explicit JobManager(Deps deps);
  void runner();
  void run_job(const std::shared_ptr<Job>& job);
  void webhook_loop();
  void deliver(const std::shared_ptr<Job>& job, const std::string& delivery_id);
  void enqueue_delivery(const std::shared_ptr<Job>& job, std::string event);  // mu_ held
  void persist(const std::shared_ptr<Job>& job);                               // mu_ not held
  Json job_json(const Job& job, bool with_attempts) const;                    // mu_ held
  void prune();                                                                // mu_ not held
  void log(const std::string& line) const {
    if (deps_.log) deps_.log(line);
  }

  Deps deps_;
  std::string dir_;
  bool temporary_dir_ = false;
  int dir_lock_fd_ = -1;  ///< holds an exclusive flock on dir_/.lock while this manager lives
  std::mutex mu_;
  std::condition_variable work_cv_;     ///< queue_ or stopping_
  std::condition_variable changed_cv_;  ///< results grew, a job ended, or stopping_
  std::condition_variable webhook_cv_;  ///< deliveries_ or stopping_
  bool stopping_ = false;
  bool stopped_ = false;
  std::mutex stop_mu_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::deque<std::string> queue_;
  std::deque<std::pair<std::string, std::string>> deliveries_;  ///< (job id, delivery id)
  std::vector<std::thread> runners_;
  std::thread webhook_thread_;
  std::mutex io_mu_;  ///< job files are written one at a time
  std::uint64_t rng_;
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_JOBS_H_
