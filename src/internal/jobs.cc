#include "internal/jobs.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "internal/hmac_sha256.h"
#include "leadenrich/aturiya.h"
#include "leadenrich/journal.h"
#include "internal/retry_loop.h"
#include "leadenrich/retry.h"
#include "leadenrich/store.h"

namespace leadenrich::internal {

namespace fs = std::filesystem;

namespace {

/// Deliveries shown per job: a job with a progress webhook every few leads makes many.
constexpr std::size_t kDeliveriesShown = 50;
/// The job file is rewritten at most this often while leads come in (and at every state change).
constexpr auto kPersistEvery = std::chrono::seconds(1);

Timestamp now_ms() { return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()); }

Json opt_time(const std::optional<Timestamp>& t) { return t ? Json(format_timestamp(*t)) : Json(); }

std::optional<Timestamp> read_time(const Json& object, std::string_view key) {
  const Json* v = object.find(key);
  if (!v || !v->is_string()) return std::nullopt;
  Result<Timestamp> t = parse_timestamp(v->as_string());
  return t.ok() ? std::optional<Timestamp>(*t) : std::nullopt;
}

std::size_t read_count(const Json& object, std::string_view key) {
  const Json* v = object.find(key);
  std::optional<std::int64_t> n = v ? v->to_int() : std::nullopt;
  return n && *n > 0 ? static_cast<std::size_t>(*n) : 0;
}

std::string read_text(const Json& object, std::string_view key) {
  const Json* v = object.find(key);
  return v && v->is_string() ? v->as_string() : std::string();
}

Json count(std::size_t n) { return Json(static_cast<std::int64_t>(n)); }

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string_view to_string(JobState s) {
  switch (s) {
    case JobState::kQueued: return "queued";
    case JobState::kRunning: return "running";
    case JobState::kFinished: return "finished";
    case JobState::kFailed: return "failed";
    case JobState::kCancelled: return "cancelled";
  }
  return "queued";
}

namespace {
std::optional<JobState> parse_job_state(std::string_view s) {
  for (JobState st : {JobState::kQueued, JobState::kRunning, JobState::kFinished, JobState::kFailed, JobState::kCancelled}) {
    if (to_string(st) == s) return st;
  }
  return std::nullopt;
}
bool ended(JobState s) { return s == JobState::kFinished || s == JobState::kFailed || s == JobState::kCancelled; }
}  // namespace

Status check_webhook_url(std::string_view url, const std::vector<std::string>& allowed_hosts) {
  if (url.size() > 2048) return invalid_argument("webhook_url: longer than 2048 characters");
  std::string_view rest;
  if (lower(std::string(url.substr(0, 7))) == "http://") {
    rest = url.substr(7);
  } else if (lower(std::string(url.substr(0, 8))) == "https://") {
    rest = url.substr(8);
  } else {
    return invalid_argument("webhook_url: must be an http:// or https:// URL");
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '\\') {
      return invalid_argument("webhook_url: has a space, a control character or a backslash");
    }
  }
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) {
    return invalid_argument("webhook_url: user info (user:password@) is not allowed; the signature authenticates us");
  }
  std::string_view host = authority;
  if (!host.empty() && host.front() == '[') {
    std::size_t close = host.find(']');
    if (close == std::string_view::npos) return invalid_argument("webhook_url: unclosed [ in the host");
    std::string_view after = host.substr(close + 1);
    if (!after.empty() && after.front() != ':') return invalid_argument("webhook_url: bad port");
    host = host.substr(0, close + 1);
  } else if (std::size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    std::string_view port = host.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
        std::stoi(std::string(port)) > 65535) {
      return invalid_argument("webhook_url: bad port");
    }
    host = host.substr(0, colon);
  }
  if (host.empty()) return invalid_argument("webhook_url: no host");
  std::string name = lower(std::string(host));
  if (name.size() > 2 && name.front() == '[') name = name.substr(1, name.size() - 2);  // "[::1]" is "::1"
  if (allowed_hosts.empty()) {
    return failed_precondition("webhook_url: webhooks are off on this server (set LEADENRICH_WEBHOOK_HOSTS)");
  }
  for (const std::string& allowed : allowed_hosts) {
    std::string entry = lower(allowed);
    if (entry.size() > 2 && entry.front() == '[' && entry.back() == ']') entry = entry.substr(1, entry.size() - 2);
    if (entry == "*" || entry == name) return ok_status();
  }
  return invalid_argument(fmt::format("webhook_url: host {} is not in LEADENRICH_WEBHOOK_HOSTS", name));
}

std::string webhook_signature(std::string_view secret, std::string_view timestamp, std::string_view body) {
  std::string message;
  message.reserve(timestamp.size() + 1 + body.size());
  message.append(timestamp).append(".").append(body);
  return to_hex(hmac_sha256(secret, message));
}

struct JobManager::Job {
  std::string id;
  JobSpec spec;
  Timestamp created_at;
  std::optional<Timestamp> started_at;
  std::optional<Timestamp> finished_at;
  JobState state = JobState::kQueued;
  std::string run_id;
  std::string error;
  std::size_t attempts = 0;  ///< starts of its run: 1, plus one per resume
  std::size_t leads_done = 0;
  std::optional<std::size_t> leads_total;
  std::size_t bad_rows = 0;
  std::size_t billed_lookups = 0;  ///< over the delivered leads (journaled ones as first billed)
  std::size_t cache_hits = 0;
  std::size_t from_journal = 0;  ///< of the last start
  std::size_t results_bytes = 0;
  struct Attempt {
    Timestamp at;
    int status = 0;  ///< the receiver's HTTP status; 0 when none arrived
    std::string error;
  };
  struct Delivery {
    std::string id;
    std::string event;  ///< "job.progress" or "job.finished"
    std::string state = "pending";  ///< "pending", "delivered", "failed"
    std::vector<Attempt> attempts;
  };
  std::vector<Delivery> deliveries;
  std::size_t deliveries_total = 0;
  bool progress_pending = false;  ///< a progress delivery waits: no second one is queued
  std::size_t next_progress_at = 0;
  std::shared_ptr<CancellationToken> cancel;
  bool cancel_requested = false;
  std::uint64_t version = 0;  ///< bumped by every change; the file keeps the newest
  std::uint64_t written = 0;
  std::chrono::steady_clock::time_point last_persist{};
};

namespace {

Json spec_json(const JobSpec& spec, bool with_leads) {
  Json::Object o;
  if (spec.campaign_id) {
    o.emplace_back("campaign_id", Json(*spec.campaign_id));
  } else if (with_leads && !spec.leads.empty()) {
    Json::Array leads;
    for (const RawLead& lead : spec.leads) leads.push_back(to_json(lead));
    o.emplace_back("leads", Json(std::move(leads)));
  } else {
    o.emplace_back("leads", count(spec.lead_count));
  }
  Json::Array signals;
  for (Signal s : spec.signals) signals.emplace_back(std::string(to_string(s)));
  o.emplace_back("signals", signals.empty() ? Json() : Json(std::move(signals)));  // null: the configured ones
  o.emplace_back("webhook_url", spec.webhook_url.empty() ? Json() : Json(spec.webhook_url));
  o.emplace_back("progress_every", spec.progress_every ? count(spec.progress_every) : Json());
  return Json(std::move(o));
}

Result<JobSpec> spec_from_json(const Json& o) {
  JobSpec spec;
  if (const Json* c = o.find("campaign_id"); c && c->is_string()) spec.campaign_id = c->as_string();
  if (const Json* leads = o.find("leads"); leads && leads->is_array()) {
    for (const Json& l : leads->as_array()) {
      Result<RawLead> lead = raw_lead_from_json(l);
      if (!lead.ok()) return lead.status();
      spec.leads.push_back(std::move(lead).value());
    }
    spec.lead_count = spec.leads.size();
  } else {
    spec.lead_count = read_count(o, "leads");  // an ended job keeps only their number
  }
  if (const Json* signals = o.find("signals"); signals && signals->is_array()) {
    for (const Json& s : signals->as_array()) {
      Result<Signal> signal = parse_signal(s.to_text());
      if (!signal.ok()) return signal.status();
      spec.signals.push_back(*signal);
    }
  }
  spec.webhook_url = read_text(o, "webhook_url");
  spec.progress_every = read_count(o, "progress_every");
  return spec;
}

/// Writes `text` to `path` through a temporary file and a rename: a reader (or a restart after a
/// kill) sees the old file or the new one, never half of one.
Status write_file_atomically(const fs::path& path, const std::string& text) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return unavailable(fmt::format("cannot write {}", tmp.string()));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return unavailable(fmt::format("cannot write {}: {}", path.string(), ec.message()));
  return ok_status();
}

}  // namespace

JobManager::JobManager(Deps deps) : deps_(std::move(deps)) {
  rng_ = std::random_device{}() | (std::uint64_t{std::random_device{}()} << 32) | 1;
}

Result<std::unique_ptr<JobManager>> JobManager::start(Deps deps) {
  if (!deps.enricher || !deps.enricher->store()) return invalid_argument("jobs: an enricher with a store is required");
  std::unique_ptr<JobManager> m(new JobManager(std::move(deps)));
  std::error_code ec;
  if (m->deps_.options.dir.empty()) {
    // No directory: jobs live as long as the process; their results still go to files.
    std::string pattern = (fs::temp_directory_path(ec) / "leadenrich-jobs-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return unavailable("jobs: cannot create a temporary directory");
    m->dir_ = pattern;
    m->temporary_dir_ = true;
  } else {
    m->dir_ = m->deps_.options.dir;
    fs::create_directories(m->dir_, ec);
    if (ec) return unavailable(fmt::format("jobs directory {}: {}", m->dir_, ec.message()));
    // One process per jobs directory: another one would queue this one's unfinished jobs again
    // and both would write the same files (two replicas started in one directory, say). The
    // kernel drops the lock when the process ends, however it ends.
    std::string lock_path = (fs::path(m->dir_) / ".lock").string();
    m->dir_lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (m->dir_lock_fd_ < 0) return unavailable(fmt::format("jobs directory {}: {}", m->dir_, std::strerror(errno)));
    if (::flock(m->dir_lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      return failed_precondition(fmt::format("jobs directory {} is in use by another leadenrich-server: give each "
                                             "server its own --jobs-dir",
                                             m->dir_));
    }
  }
  // Jobs from an earlier process: ended ones are shown, the others are queued again, oldest first.
  std::vector<std::shared_ptr<Job>> loaded;
  for (const fs::directory_entry& entry : fs::directory_iterator(m->dir_, ec)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    Result<Json> parsed = Json::parse(text.str());
    if (!parsed.ok() || !parsed->is_object()) {
      m->log(fmt::format("warning: job file {} is unreadable and was skipped", entry.path().string()));
      continue;
    }
    const Json* spec_object = parsed->find("spec");
    Result<JobSpec> spec = spec_object ? spec_from_json(*spec_object) : Result<JobSpec>(invalid_argument("no spec"));
    std::optional<JobState> state = parse_job_state(read_text(*parsed, "state"));
    std::optional<Timestamp> created = read_time(*parsed, "created_at");
    if (!spec.ok() || !state || !created || read_text(*parsed, "id") + ".json" != entry.path().filename().string()) {
      m->log(fmt::format("warning: job file {} is not a job and was skipped", entry.path().string()));
      continue;
    }
    auto job = std::make_shared<Job>();
    job->id = read_text(*parsed, "id");
    job->spec = std::move(spec).value();
    job->created_at = *created;
    job->started_at = read_time(*parsed, "started_at");
    job->finished_at = read_time(*parsed, "finished_at");
    job->state = *state;
    job->run_id = read_text(*parsed, "run_id");
    job->error = read_text(*parsed, "error");
    job->attempts = read_count(*parsed, "attempts");
    job->leads_done = read_count(*parsed, "leads_done");
    if (const Json* t = parsed->find("leads_total"); t && t->is_number()) job->leads_total = read_count(*parsed, "leads_total");
    job->bad_rows = read_count(*parsed, "bad_rows");
    job->billed_lookups = read_count(*parsed, "billed_lookups");
    job->cache_hits = read_count(*parsed, "cache_hits");
    job->from_journal = read_count(*parsed, "from_journal");
    job->deliveries_total = read_count(*parsed, "deliveries_total");
    if (const Json* ds = parsed->find("deliveries"); ds && ds->is_array()) {
      for (const Json& d : ds->as_array()) {
        Job::Delivery delivery{read_text(d, "id"), read_text(d, "event"), read_text(d, "state"), {}};
        if (const Json* as = d.find("attempts"); as && as->is_array()) {
          for (const Json& a : as->as_array()) {
            delivery.attempts.push_back(Job::Attempt{read_time(a, "at").value_or(Timestamp{}),
                                                     static_cast<int>(read_count(a, "status")), read_text(a, "error")});
          }
        }
        job->deliveries.push_back(std::move(delivery));
      }
    }
    std::error_code size_ec;
    auto size = fs::file_size(fs::path(m->dir_) / (job->id + ".jsonl"), size_ec);
    job->results_bytes = size_ec ? 0 : static_cast<std::size_t>(size);
    loaded.push_back(std::move(job));
  }
  std::sort(loaded.begin(), loaded.end(), [](const auto& a, const auto& b) { return a->created_at < b->created_at; });
  std::size_t resumed = 0;
  for (std::shared_ptr<Job>& job : loaded) {
    if (!ended(job->state)) {
      job->results_bytes = 0;  // rewritten from the first lead when the run resumes
      // A job the last process was running (or had queued) goes first: its run is resumed.
      job->state = JobState::kQueued;
      job->cancel = std::make_shared<CancellationToken>();
      m->queue_.push_back(job->id);
      ++resumed;
    }
    for (std::size_t i = 0; i < job->deliveries.size(); ++i) {
      // A finished job's last word is sent even if the process stopped while sending it.
      if (job->deliveries[i].state == "pending" && job->deliveries[i].event == "job.finished") {
        m->deliveries_.emplace_back(job->id, job->deliveries[i].id);
      }
    }
    m->jobs_.emplace(job->id, job);
  }
  if (resumed > 0) m->log(fmt::format("jobs: {} unfinished job(s) queued again to resume", resumed));
  std::size_t runners = std::max<std::size_t>(1, m->deps_.options.max_running);
  for (std::size_t i = 0; i < runners; ++i) m->runners_.emplace_back([p = m.get()] { p->runner(); });
  m->webhook_thread_ = std::thread([p = m.get()] { p->webhook_loop(); });
  return m;
}

JobManager::~JobManager() {
  stop();
  if (temporary_dir_) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  if (dir_lock_fd_ >= 0) ::close(dir_lock_fd_);  // lets go of the directory
}

void JobManager::stop() {
  std::lock_guard stop_lock(stop_mu_);  // a second caller waits for the first
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopping_ = true;
    for (auto& [id, job] : jobs_) {
      if (job->state == JobState::kRunning && job->cancel) job->cancel->cancel();
    }
  }
  work_cv_.notify_all();
  changed_cv_.notify_all();
  webhook_cv_.notify_all();
  for (std::thread& t : runners_) {
    if (t.joinable()) t.join();
  }
  if (webhook_thread_.joinable()) webhook_thread_.join();
  std::lock_guard lock(mu_);
  stopped_ = true;
}

Result<std::string> JobManager::submit(JobSpec spec) {
  auto job = std::make_shared<Job>();
  job->spec = std::move(spec);
  job->created_at = now_ms();
  job->cancel = std::make_shared<CancellationToken>();
  job->spec.lead_count = job->spec.leads.size();
  if (!job->spec.campaign_id) job->leads_total = job->spec.lead_count;
  job->next_progress_at = job->spec.progress_every;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return unavailable("the server is stopping");
    if (queue_.size() >= deps_.options.max_queued) {
      return Status(StatusCode::kResourceExhausted,
                    fmt::format("{} jobs are waiting already (at most {}): try again when one has started",
                                queue_.size(), deps_.options.max_queued));
    }
    std::uint64_t r = static_cast<std::uint64_t>(next_unit(rng_) * 16777216.0);
    job->id = fmt::format("job_{:%Y%m%dT%H%M%S}Z_{:06x}", std::chrono::floor<std::chrono::seconds>(job->created_at), r);
    while (jobs_.count(job->id) != 0) job->id += "x";
    jobs_.emplace(job->id, job);
    queue_.push_back(job->id);
  }
  persist(job);
  work_cv_.notify_one();
  prune();
  return job->id;
}

Json JobManager::job_json(const Job& job, bool with_attempts) const {
  Json::Object o;
  o.emplace_back("id", Json(job.id));
  o.emplace_back("state", Json(to_string(job.state)));
  o.emplace_back("created_at", Json(format_timestamp(job.created_at)));
  o.emplace_back("started_at", opt_time(job.started_at));
  o.emplace_back("finished_at", opt_time(job.finished_at));
  o.emplace_back("spec", spec_json(job.spec, false));
  o.emplace_back("progress", Json(Json::Object{{"leads_done", count(job.leads_done)},
                                               {"leads_total", job.leads_total ? count(*job.leads_total) : Json()},
                                               {"bad_rows", count(job.bad_rows)}}));
  o.emplace_back("counts", Json(Json::Object{{"billed_lookups", count(job.billed_lookups)},
                                             {"cache_hits", count(job.cache_hits)},
                                             {"from_journal", count(job.from_journal)},
                                             {"attempts", count(job.attempts)}}));
  o.emplace_back("run_id", job.run_id.empty() ? Json() : Json(job.run_id));
  o.emplace_back("error", job.error.empty() ? Json() : Json(job.error));
  o.emplace_back("results_url", Json("/v1/jobs/" + job.id + "/results"));
  if (!job.spec.webhook_url.empty()) {
    Json::Object webhook{{"url", Json(job.spec.webhook_url)}, {"deliveries_total", count(job.deliveries_total)}};
    if (with_attempts) {
      Json::Array ds;
      for (const Job::Delivery& d : job.deliveries) {
        Json::Array attempts;
        for (const Job::Attempt& a : d.attempts) {
          attempts.emplace_back(Json::Object{{"at", Json(format_timestamp(a.at))},
                                             {"status", a.status ? Json(a.status) : Json()},
                                             {"error", a.error.empty() ? Json() : Json(a.error)}});
        }
        ds.emplace_back(Json::Object{{"id", Json(d.id)}, {"event", Json(d.event)}, {"state", Json(d.state)},
                                     {"attempts", Json(std::move(attempts))}});
      }
      webhook.emplace_back("deliveries", Json(std::move(ds)));
    }
    o.emplace_back("webhook", Json(std::move(webhook)));
  }
  return Json(std::move(o));
}

Result<Json> JobManager::describe(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return not_found(fmt::format("no job {}", id));
  return job_json(*it->second, true);
}

Json JobManager::list() {
  std::lock_guard lock(mu_);
  std::vector<const Job*> all;
  for (const auto& [id, job] : jobs_) all.push_back(job.get());
  std::sort(all.begin(), all.end(), [](const Job* a, const Job* b) {
    return a->created_at != b->created_at ? a->created_at > b->created_at : a->id > b->id;
  });
  Json::Array out;
  for (const Job* job : all) out.push_back(job_json(*job, false));
  return Json(Json::Object{{"jobs", Json(std::move(out))}});
}

Status JobManager::cancel(const std::string& id) {
  std::shared_ptr<Job> job;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return not_found(fmt::format("no job {}", id));
    job = it->second;
    if (ended(job->state)) {
      return failed_precondition(fmt::format("job {} has already ended ({})", id, to_string(job->state)));
    }
    job->cancel_requested = true;
    if (job->cancel) job->cancel->cancel();
    if (job->state == JobState::kQueued) {
      queue_.erase(std::remove(queue_.begin(), queue_.end(), id), queue_.end());
      job->state = JobState::kCancelled;
      job->finished_at = now_ms();
      job->spec.leads = {};
      ++job->version;
      if (!job->spec.webhook_url.empty()) enqueue_delivery(job, "job.finished");
    }
  }
  changed_cv_.notify_all();
  persist(job);
  return ok_status();
}

Result<JobManager::ResultsView> JobManager::wait_results(const std::string& id, std::size_t offset,
                                                         std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return not_found(fmt::format("no job {}", id));
  std::shared_ptr<Job> job = it->second;
  changed_cv_.wait_for(lock, timeout, [&] { return stopping_ || ended(job->state) || job->results_bytes > offset; });
  return ResultsView{(fs::path(dir_) / (job->id + ".jsonl")).string(), job->results_bytes,
                     stopping_ || ended(job->state)};
}

void JobManager::persist(const std::shared_ptr<Job>& job) {
  std::string text;
  std::uint64_t version = 0;
  {
    std::lock_guard lock(mu_);
    version = job->version;
    Json o = job_json(*job, true);
    // The file has what describe() shows, plus what a restart needs: the whole spec, counters.
    o.set("spec", spec_json(job->spec, true));
    o.set("attempts", count(job->attempts));
    o.set("leads_done", count(job->leads_done));
    o.set("leads_total", job->leads_total ? count(*job->leads_total) : Json());
    o.set("bad_rows", count(job->bad_rows));
    o.set("billed_lookups", count(job->billed_lookups));
    o.set("cache_hits", count(job->cache_hits));
    o.set("from_journal", count(job->from_journal));
    o.set("deliveries_total", count(job->deliveries_total));
    Json::Array ds;
    if (const Json* w = o.find("webhook"); w) {
      if (const Json* d = w->find("deliveries"); d) ds = d->as_array();
    }
    o.set("deliveries", Json(std::move(ds)));
    text = o.dump();
  }
  std::lock_guard io(io_mu_);
  if (version < job->written) return;  // a newer state is on disk already
  job->written = version;
  Status st = write_file_atomically(fs::path(dir_) / (job->id + ".json"), text);
  if (!st.ok()) log("warning: job " + job->id + ": " + st.message());
}

void JobManager::prune() {
  std::vector<std::string> removed;
  {
    std::lock_guard lock(mu_);
    std::vector<std::shared_ptr<Job>> done;
    for (const auto& [id, job] : jobs_) {
      if (ended(job->state)) done.push_back(job);
    }
    if (done.size() <= deps_.options.keep_finished) return;
    std::sort(done.begin(), done.end(), [](const auto& a, const auto& b) { return a->created_at < b->created_at; });
    for (std::size_t i = 0; i + deps_.options.keep_finished < done.size(); ++i) {
      bool delivering = false;
      for (const auto& [jid, index] : deliveries_) delivering = delivering || jid == done[i]->id;
      if (delivering) continue;
      removed.push_back(done[i]->id);
      jobs_.erase(done[i]->id);
    }
  }
  std::lock_guard io(io_mu_);
  for (const std::string& id : removed) {
    std::error_code ec;
    fs::remove(fs::path(dir_) / (id + ".json"), ec);
    fs::remove(fs::path(dir_) / (id + ".jsonl"), ec);
  }
}

void JobManager::runner() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = jobs_.at(queue_.front());
      queue_.pop_front();
      job->state = JobState::kRunning;
      if (!job->started_at) job->started_at = now_ms();
      ++job->attempts;
      ++job->version;
    }
    persist(job);
    run_job(job);
    prune();
  }
}

void JobManager::run_job(const std::shared_ptr<Job>& job) {
  const JobSpec& spec = job->spec;
  std::unique_ptr<LeadSource> source;
  std::string input;
  std::string signal_names;
  for (Signal s : spec.signals) signal_names += (signal_names.empty() ? "" : ",") + std::string(to_string(s));
  if (signal_names.empty()) signal_names = "configured";
  if (spec.campaign_id) {
    if (!deps_.aturiya) {
      std::lock_guard lock(mu_);
      job->state = JobState::kFailed;
      job->error = "Aturiya is not configured";
    } else {
      LeadPaging paging;
      paging.limit = deps_.options.max_leads;
      source = make_aturiya_source(deps_.aturiya, *spec.campaign_id, paging);
    }
    // The job id makes the fingerprint the job's own: its run is resumed by id, never matched.
    input = fmt::format("job {}: aturiya campaign {}; signals {}", job->id, *spec.campaign_id, signal_names);
  } else {
    source = make_vector_source(spec.leads, "job " + job->id);
    input = fmt::format("job {}: {}", job->id, describe_leads(spec.leads, spec.signals));
  }

  std::string results_path = (fs::path(dir_) / (job->id + ".jsonl")).string();
  // Every start writes the results from the first lead: a resumed run delivers the journal's
  // leads again, in order, before the rest.
  std::FILE* out = source ? std::fopen(results_path.c_str(), "wb") : nullptr;
  if (source && !out) {
    std::lock_guard lock(mu_);
    job->state = JobState::kFailed;
    job->error = "cannot write the results file " + results_path;
  }
  {
    std::lock_guard lock(mu_);
    job->leads_done = 0;
    job->results_bytes = 0;
    job->billed_lookups = 0;
    job->cache_hits = 0;
    job->bad_rows = 0;
    job->next_progress_at = spec.progress_every;
    ++job->version;
  }
  changed_cv_.notify_all();

  Result<JournaledSummary> summary = Status(StatusCode::kUnknown, "not run");
  bool write_failed = false;
  if (out) {
    JournalOptions journal;
    journal.input = input;
    if (!job->run_id.empty()) journal.resume = job->run_id;
    journal.on_start = [&](const JournalStart& start) {
      {
        std::lock_guard lock(mu_);
        job->run_id = start.run_id;
        job->from_journal = start.from_journal;
        ++job->version;
      }
      persist(job);
      if (start.resumed) {
        log(fmt::format("job {}: resuming run {} ({} leads from the journal, {} lookups recovered)", job->id,
                        start.run_id, start.from_journal, start.recovered_lookups));
      }
    };
    EngineOptions options;
    options.sandbox = deps_.sandbox;
    options.signals = spec.signals;
    options.cancel = job->cancel;
    options.progress = [&](const Progress& p) {
      if (!p.source_done || !spec.campaign_id) return;
      std::lock_guard lock(mu_);
      job->leads_total = job->from_journal + p.leads_read;
    };
    std::string line;
    auto sink = [&](EnrichedLead&& lead) {
      line.clear();
      to_json(lead).dump_to(line);
      line.push_back('\n');
      if (!write_failed && (std::fwrite(line.data(), 1, line.size(), out) != line.size() || std::fflush(out) != 0)) {
        write_failed = true;
        job->cancel->cancel();
      }
      bool save = false;
      {
        std::lock_guard lock(mu_);
        if (!write_failed) {
          ++job->leads_done;
          job->results_bytes += line.size();
          job->billed_lookups += lead.billed_lookups;
          for (Signal s : kAllSignals) job->cache_hits += lead.result(s).from_cache ? 1 : 0;
        }
        if (spec.progress_every && !spec.webhook_url.empty() && job->leads_done >= job->next_progress_at) {
          job->next_progress_at = job->leads_done + spec.progress_every;
          if (!job->progress_pending) enqueue_delivery(job, "job.progress");
        }
        ++job->version;
        auto now = std::chrono::steady_clock::now();
        if (now - job->last_persist >= kPersistEvery) {
          job->last_persist = now;
          save = true;
        }
      }
      changed_cv_.notify_all();
      if (save) persist(job);
    };
    auto on_bad_row = [&](const std::string&, const Status&) {
      std::lock_guard lock(mu_);
      ++job->bad_rows;
    };
    summary = enrich_journaled(*deps_.enricher, *source, sink, journal, options, on_bad_row);
    std::fclose(out);
  }

  bool interrupted = false;
  {
    std::lock_guard lock(mu_);
    if (job->state == JobState::kFailed) {
      // failed before it started (written above)
    } else if (stopping_ && !job->cancel_requested &&
               !(summary.ok() && summary->journal.ok() && summary->state == RunState::kFinished)) {
      // The server is stopping: the run is left unfinished in the journal and resumed next time.
      job->state = JobState::kQueued;
      interrupted = true;
    } else if (write_failed) {
      job->state = JobState::kFailed;
      job->error = "cannot write the results file " + results_path;
    } else if (!summary.ok()) {
      job->state = JobState::kFailed;
      job->error = summary.status().to_string();
    } else if (!summary->journal.ok()) {
      job->state = JobState::kFailed;
      job->error = summary->journal.to_string();
    } else if (job->cancel_requested || summary->state == RunState::kCancelled) {
      job->state = JobState::kCancelled;
    } else {
      job->state = summary->state == RunState::kFinished ? JobState::kFinished : JobState::kFailed;
    }
    if (summary.ok() && !interrupted) {
      job->from_journal = summary->from_journal;
      if (job->state == JobState::kFinished) job->leads_total = job->leads_done;
    }
    if (!interrupted) {
      job->finished_at = now_ms();
      job->spec.leads = {};  // an ended job is never run again: its leads are only counted
      if (!spec.webhook_url.empty()) enqueue_delivery(job, "job.finished");
    }
    ++job->version;
  }
  changed_cv_.notify_all();
  persist(job);
  log(fmt::format("job {}: {} ({} leads{})", job->id, interrupted ? "interrupted, resumes at the next start" : to_string(job->state),
                  job->leads_done, job->error.empty() ? "" : ", " + job->error));
}

void JobManager::enqueue_delivery(const std::shared_ptr<Job>& job, std::string event) {
  Job::Delivery d;
  d.id = fmt::format("{}-{}", job->id, ++job->deliveries_total);
  d.event = std::move(event);
  if (d.event == "job.progress") job->progress_pending = true;
  job->deliveries.push_back(std::move(d));
  deliveries_.emplace_back(job->id, job->deliveries.back().id);
  // Only the newest deliveries are kept (never one still pending).
  while (job->deliveries.size() > kDeliveriesShown && job->deliveries.front().state != "pending") {
    job->deliveries.erase(job->deliveries.begin());
  }
  webhook_cv_.notify_one();
}

void JobManager::webhook_loop() {
  for (;;) {
    std::shared_ptr<Job> job;
    std::string delivery;
    {
      std::unique_lock lock(mu_);
      webhook_cv_.wait(lock, [&] { return stopping_ || !deliveries_.empty(); });
      if (stopping_) return;
      auto [id, delivery_id] = deliveries_.front();
      auto it = jobs_.find(id);
      if (it == jobs_.end()) {
        deliveries_.pop_front();
        continue;
      }
      job = it->second;
      delivery = delivery_id;
    }
    deliver(job, delivery);
    std::lock_guard lock(mu_);
    if (!deliveries_.empty()) deliveries_.pop_front();
  }
}

namespace {
JobManager::Job::Delivery* find_delivery(JobManager::Job& job, const std::string& id) {
  for (JobManager::Job::Delivery& d : job.deliveries) {
    if (d.id == id) return &d;
  }
  return nullptr;
}
}  // namespace

void JobManager::deliver(const std::shared_ptr<Job>& job, const std::string& delivery_id) {
  std::string body;
  std::string event;
  {
    std::lock_guard lock(mu_);
    Job::Delivery* d = find_delivery(*job, delivery_id);
    if (d == nullptr) return;
    event = d->event;
    if (event == "job.progress") job->progress_pending = false;
    Json payload(Json::Object{{"event", Json(event)}, {"delivery_id", Json(delivery_id)}, {"job", job_json(*job, false)}});
    body = payload.dump();  // the same bytes on every attempt of this delivery
  }
  // The settings may have changed since the delivery was queued (a restart): never send unsigned,
  // never to a host no longer allowed.
  Status allowed = check_webhook_url(job->spec.webhook_url, deps_.options.webhook_hosts);
  if (allowed.ok() && deps_.options.webhook_secret.empty()) {
    allowed = failed_precondition("no LEADENRICH_WEBHOOK_SECRET: a delivery is never sent unsigned");
  }
  if (!allowed.ok()) {
    {
      std::lock_guard lock(mu_);
      if (Job::Delivery* d = find_delivery(*job, delivery_id)) {
        d->attempts.push_back(Job::Attempt{now_ms(), 0, allowed.message()});
        d->state = "failed";
      }
      ++job->version;
    }
    persist(job);
    log(fmt::format("job {}: webhook {} not sent: {}", job->id, event, allowed.message()));
    return;
  }
  if (!deps_.transport) deps_.transport = make_curl_transport();
  BackoffPolicy backoff;
  backoff.initial = deps_.options.webhook_backoff;
  backoff.maximum = std::max(deps_.options.webhook_backoff, std::chrono::milliseconds(60'000));
  backoff.jitter = 0.2;
  int attempts = std::max(1, deps_.options.webhook_attempts);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    // A fresh timestamp per attempt: receivers refuse old ones (replays), and a retry is not old.
    std::string timestamp = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                               std::chrono::system_clock::now().time_since_epoch()).count());
    HttpRequest request;
    request.method = "POST";
    request.url = job->spec.webhook_url;
    request.body = body;
    request.total_timeout = deps_.options.webhook_timeout;
    request.connect_timeout = std::min(deps_.options.webhook_timeout, std::chrono::milliseconds(10'000));
    request.headers.add("Content-Type", "application/json");
    request.headers.add("X-Leadenrich-Event", event);
    request.headers.add("X-Leadenrich-Delivery", delivery_id);
    request.headers.add("X-Leadenrich-Timestamp", timestamp);
    request.headers.add("X-Leadenrich-Signature",
                        "sha256=" + webhook_signature(deps_.options.webhook_secret.reveal(), timestamp, body));
    // Sent asynchronously so that a stop need not wait for a slow receiver: the delivery then
    // stays pending and is sent again after the next start (receivers deduplicate on its id).
    struct Pending {
      std::mutex mu;
      std::condition_variable cv;
      std::optional<HttpOutcome> outcome;
    };
    auto pending = std::make_shared<Pending>();
    deps_.transport->send_async(request, [pending](HttpOutcome o) {
      std::lock_guard lock(pending->mu);
      pending->outcome = std::move(o);
      pending->cv.notify_all();
    });
    std::optional<HttpOutcome> answered;
    for (;;) {
      {
        std::unique_lock lock(pending->mu);
        if (pending->cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return pending->outcome.has_value(); })) {
          answered = std::move(pending->outcome);
          break;
        }
      }
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    HttpOutcome& outcome = *answered;
    Job::Attempt a{now_ms(), 0, ""};
    bool delivered = false;
    if (outcome.response.ok()) {
      a.status = outcome.response->status;
      delivered = a.status >= 200 && a.status < 300;
      if (!delivered) a.error = fmt::format("HTTP {}", a.status);
    } else {
      a.error = outcome.response.status().message();
    }
    bool stop_now = false;
    {
      std::unique_lock lock(mu_);
      if (Job::Delivery* d = find_delivery(*job, delivery_id)) {
        d->attempts.push_back(a);
        if (delivered) {
          d->state = "delivered";
        } else if (attempt == attempts) {
          d->state = "failed";
        }
      }
      ++job->version;
      if (!delivered && attempt < attempts) {
        std::chrono::milliseconds wait = backoff_delay(backoff, attempt, next_unit(rng_));
        stop_now = webhook_cv_.wait_for(lock, wait, [&] { return stopping_; });
      }
    }
    persist(job);
    if (!delivered && attempt == attempts) {
      log(fmt::format("job {}: webhook {} not delivered after {} attempts ({})", job->id, event, attempts, a.error));
    }
    if (delivered || stop_now) return;
  }
}

}  // namespace leadenrich::internal
