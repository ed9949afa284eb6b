// leadenrich-server: the runtime HTTP API and the web UI. Configured like the CLI (environment and
// .env), plus LEADENRICH_API_KEYS, LEADENRICH_CORS_ORIGINS, LEADENRICH_ALLOWED_HOSTS,
// LEADENRICH_MAX_BATCH, LEADENRICH_WEBHOOK_SECRET and LEADENRICH_WEBHOOK_HOSTS. SIGTERM or Ctrl-C stops it after the requests received are answered.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include "internal/api_keys.h"
#include "leadenrich/aturiya.h"
#include "leadenrich/engine.h"
#include "leadenrich/pipe0.h"
#include "leadenrich/server.h"
#include "leadenrich/open_store.h"
#include "leadenrich/store.h"
#include "leadenrich/testing/sandbox.h"
#include "leadenrich/transport.h"
#include "leadenrich/version.h"

namespace {

using namespace leadenrich;

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitUnavailable = 3;
/// --max-batch and LEADENRICH_MAX_BATCH, one range for both.
constexpr std::size_t kMaxBatchLimit = 10000;

struct Flags {
  std::string host = "127.0.0.1";
  int port = 8000;
  bool sandbox = false;
  std::string env_file = ".env";
  std::optional<std::string> store_path;
  std::optional<std::string> web_root;
  int threads = 32;
  bool insecure_no_auth = false;
  std::optional<std::size_t> max_batch;
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_connections = 512;
  long long header_timeout_ms = 10'000;
  long long request_timeout_ms = 30'000;
  long long idle_timeout_ms = 30'000;
  long long drain_timeout_ms = 10'000;
  long long upstream_timeout_ms = 30'000;
  long long sandbox_latency_ms = 0;
  std::optional<std::string> jobs_dir;
  std::size_t max_jobs = 2;
  std::size_t max_queued_jobs = 16;
  int webhook_attempts = 5;
  long long webhook_retry_ms = 1000;
  bool quiet = false;
};

void log_line(const std::string& line) {
  auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  fmt::print(stderr, "{:%Y-%m-%dT%H:%M:%S}Z {}\n", now, line);
}

/// The environment, with the .env file's variables under it (the environment wins).
Result<EnvLookup> environment(const std::string& env_file) {
  std::map<std::string, std::string> dotenv;
  std::error_code ec;
  if (!env_file.empty() && std::filesystem::exists(env_file, ec)) {
    std::ifstream in(env_file);
    std::stringstream text;
    text << in.rdbuf();
    Result<std::map<std::string, std::string>> parsed = parse_dotenv(text.str(), env_file);
    if (!parsed.ok()) return parsed.status();
    dotenv = std::move(parsed).value();
  }
  EnvLookup process = process_env();
  return EnvLookup([process, dotenv = std::move(dotenv)](std::string_view name) -> std::optional<std::string> {
    if (std::optional<std::string> v = process(name)) return v;
    auto it = dotenv.find(std::string(name));
    if (it != dotenv.end()) return it->second;
    return std::nullopt;
  });
}

/// The built UI: the flag, LEADENRICH_WEB_ROOT, this build tree's web/dist, the installed copy.
std::string find_web_root(const Flags& flags, const EnvLookup& env) {
  if (flags.web_root) return *flags.web_root;
  if (std::optional<std::string> v = env("LEADENRICH_WEB_ROOT")) return *v;
  std::error_code ec;
  for (const char* dir : {LEADENRICH_SOURCE_WEB_ROOT, LEADENRICH_INSTALLED_WEB_ROOT}) {
    if (std::filesystem::is_regular_file(std::filesystem::path(dir) / "index.html", ec)) return dir;
  }
  return LEADENRICH_SOURCE_WEB_ROOT;
}

/// A whole number from `min` to `max` in an environment variable, with the rules of its flag:
/// digits only (no sign, no blanks), in range. The error names the variable and the range.
Result<std::size_t> env_number(std::string_view name, const std::string& text, std::size_t min, std::size_t max) {
  bool digits = !text.empty() && text.size() <= 18 && text.find_first_not_of("0123456789") == std::string::npos;
  std::size_t value = digits ? std::stoull(text) : 0;
  if (!digits || value < min || value > max) {
    return invalid_argument(fmt::format("{} must be a whole number from {} to {}, not \"{}\"", name, min, max, text));
  }
  return value;
}

bool is_loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1";
}

int run(const Flags& flags) {
  Result<EnvLookup> env = environment(flags.env_file);
  if (!env.ok()) {
    log_line("leadenrich-server: " + env.status().message());
    return kExitUsage;
  }
  LoadOptions load;
  load.dotenv_path = "";
  load.env = *env;
  Result<Config> loaded = load_config(load);
  if (!loaded.ok()) {
    log_line("leadenrich-server: " + loaded.status().message());
    return kExitUsage;
  }
  Config config = std::move(loaded).value();

  ServerOptions options;
  options.host = flags.host;
  options.port = flags.port;
  options.threads = flags.threads;
  options.sandbox = flags.sandbox;
  options.max_body_bytes = flags.max_body_bytes;
  options.insecure_no_auth = flags.insecure_no_auth;
  options.api_keys = parse_api_keys((*env)("LEADENRICH_API_KEYS").value_or(""));
  if (std::optional<std::string> origins = (*env)("LEADENRICH_CORS_ORIGINS")) {
    for (const Secret& o : parse_api_keys(*origins)) options.cors_origins.push_back(o.reveal());
  }
  if (flags.max_batch) {
    options.max_batch = *flags.max_batch;
  } else if (std::optional<std::string> v = (*env)("LEADENRICH_MAX_BATCH")) {
    Result<std::size_t> n = env_number("LEADENRICH_MAX_BATCH", *v, 1, kMaxBatchLimit);
    if (!n.ok()) {
      log_line("leadenrich-server: " + n.status().message());
      return kExitUsage;
    }
    options.max_batch = *n;
  }
  if (std::optional<std::string> hosts = (*env)("LEADENRICH_ALLOWED_HOSTS")) {
    for (const Secret& h : parse_api_keys(*hosts)) options.allowed_hosts.push_back(h.reveal());
  }
  options.max_connections = flags.max_connections;
  options.header_timeout = std::chrono::milliseconds(flags.header_timeout_ms);
  options.request_timeout = std::chrono::milliseconds(flags.request_timeout_ms);
  options.idle_timeout = std::chrono::milliseconds(flags.idle_timeout_ms);
  options.drain_timeout = std::chrono::milliseconds(flags.drain_timeout_ms);
  options.web_root = find_web_root(flags, *env);
  if (!flags.quiet) options.log = log_line;
  if (flags.quiet && flags.insecure_no_auth) log_line("WARNING: --insecure-no-auth: the API answers without an API key");

  std::unique_ptr<Sandbox> sandbox;
  if (flags.sandbox) {
    SandboxOptions so;
    so.faults.latency = std::chrono::milliseconds(flags.sandbox_latency_ms);
    Result<std::unique_ptr<Sandbox>> started = Sandbox::start(so);
    if (!started.ok()) {
      log_line("leadenrich-server: " + started.status().message());
      return kExitUnavailable;
    }
    sandbox = std::move(started).value();
    Config sc = sandbox->config();
    config.aturiya_base_url = sc.aturiya_base_url;
    config.pipe0_base_url = sc.pipe0_base_url;
    config.aturiya_bearer_token = sc.aturiya_bearer_token;
    config.pipe0_api_key = sc.pipe0_api_key;
    config.aturiya_user_id = sc.aturiya_user_id;
    config.aturiya_agent_id = sc.aturiya_agent_id;
    config.pipe0_environment = Pipe0Environment::kSandbox;
    log_line(fmt::format("sandbox: serving synthetic Aturiya and pipe0 data at {}", sandbox->base_url()));
    if (options.api_keys.empty() && !options.insecure_no_auth) {
      if (!is_loopback(flags.host)) {
        log_line("leadenrich-server: --sandbox on a non-loopback address needs LEADENRICH_API_KEYS or --insecure-no-auth");
        return kExitUsage;
      }
      options.insecure_no_auth = true;
      log_line("sandbox demo: no LEADENRICH_API_KEYS, so the API needs no key (loopback only, synthetic data)");
    }
  }

  std::shared_ptr<HttpTransport> transport = make_curl_transport();
  std::chrono::milliseconds timeout(flags.upstream_timeout_ms);
  ServerBackend backend;
  AturiyaOptions aturiya = aturiya_options(config);
  aturiya.request_timeout = timeout;
  if (Result<std::shared_ptr<AturiyaConnection>> a = make_aturiya_connection(aturiya, transport); a.ok()) {
    backend.aturiya = std::move(a).value();
  } else {
    log_line("Aturiya not configured, campaign routes answer 503: " + a.status().message());
  }
  Pipe0Options pipe0 = pipe0_options(config);
  pipe0.request_timeout = timeout;
  pipe0.sync_timeout = timeout;
  Result<std::shared_ptr<Pipe0Connection>> p = make_pipe0_connection(pipe0, transport);
  if (!p.ok()) {
    log_line("leadenrich-server: " + p.status().message());
    return kExitUsage;
  }
  bool sandbox_data = flags.sandbox || config.pipe0_environment == Pipe0Environment::kSandbox;
  std::string store_name = flags.store_path.value_or(sandbox_data                ? ".leadenrich/sandbox.db"
                                                     : !config.store.empty() ? config.store
                                                                             : ".leadenrich/store.db");
  Result<std::shared_ptr<Store>> store = open_store(store_name);
  if (!store.ok()) {
    log_line("leadenrich-server: " + store.status().message());
    return kExitUsage;
  }
  backend.store = *store;
  // Jobs are files: beside a SQLite store, or in the working directory for a server's store.
  options.jobs.dir = flags.jobs_dir.value_or(is_postgresql_uri(store_name) ? ".leadenrich/server.jobs" : store_name + ".jobs");
  options.jobs.max_running = flags.max_jobs;
  options.jobs.max_queued = flags.max_queued_jobs;
  options.jobs.webhook_attempts = flags.webhook_attempts;
  options.jobs.webhook_backoff = std::chrono::milliseconds(flags.webhook_retry_ms);
  options.jobs.webhook_secret = Secret((*env)("LEADENRICH_WEBHOOK_SECRET").value_or(""));
  if (std::optional<std::string> hosts = (*env)("LEADENRICH_WEBHOOK_HOSTS")) {
    for (const Secret& h : parse_api_keys(*hosts)) options.jobs.webhook_hosts.push_back(h.reveal());
  }
  if (!options.jobs.webhook_hosts.empty() && options.jobs.webhook_secret.empty()) {
    log_line("leadenrich-server: LEADENRICH_WEBHOOK_HOSTS is set but LEADENRICH_WEBHOOK_SECRET is not: webhooks "
             "would be unsigned, so jobs with a webhook_url are refused");
  }
  backend.enricher = std::make_shared<Enricher>(config, std::move(p).value(), *store);

  Result<std::unique_ptr<Server>> server = Server::start(options, backend);
  if (!server.ok()) {
    log_line("leadenrich-server: " + server.status().message());
    return server.status().code() == StatusCode::kUnavailable ? kExitUnavailable : kExitUsage;
  }
  log_line(fmt::format("leadenrich-server {} listening on {} (store {}, jobs {}, UI {})", kVersion,
                       (*server)->base_url(), store_display_name(store_name), options.jobs.dir, options.web_root));

  // Wait for SIGTERM or SIGINT on this thread; every other thread has them blocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  int received = 0;
  sigwait(&signals, &received);
  log_line(fmt::format("{}: answering the requests received (for at most {} ms), then stopping",
                       received == SIGTERM ? "SIGTERM" : "SIGINT", flags.drain_timeout_ms));
  (*server)->stop();
  if (sandbox) sandbox->stop();
  log_line("stopped");
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  // Block the stop signals before any thread starts, so they are only ever taken by sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  CLI::App app{"leadenrich-server: the runtime enrichment API and web UI"};
  app.set_version_flag("--version", std::string("leadenrich-server ") + kVersion);
  Flags f;
  app.add_option("--host", f.host, "Address to listen on")->capture_default_str();
  app.add_option("--port", f.port, "Port (0 picks a free one)")->capture_default_str();
  app.add_flag("--sandbox", f.sandbox, "Serve synthetic Aturiya and pipe0 data from an in-process sandbox (no credentials)");
  app.add_option("--env-file", f.env_file, ".env file to read (the environment wins)")->capture_default_str();
  app.add_option("--store", f.store_path, "Store: a SQLite file path or a postgresql:// URI (default .leadenrich/store.db, or sandbox.db with --sandbox)");
  app.add_option("--web-root", f.web_root, "Directory of the built web UI (default: web/dist of this build)");
  app.add_option("--threads", f.threads, "Requests served at once")->capture_default_str()->check(CLI::Range(2, 1024));
  app.add_flag("--insecure-no-auth", f.insecure_no_auth, "Serve the API without API keys (logged as a warning)");
  app.add_option("--max-batch", f.max_batch, "Leads per POST /v1/enrich, at most (default 100, or LEADENRICH_MAX_BATCH)")
      ->check(CLI::Range(std::size_t{1}, kMaxBatchLimit));
  app.add_option("--max-body-bytes", f.max_body_bytes, "Request bodies over this get 413")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30));
  app.add_option("--max-connections", f.max_connections,
                 "Open connections at most; at the cap the oldest idle one is closed for a new one")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{4}, std::size_t{1'000'000}));
  app.add_option("--header-timeout-ms", f.header_timeout_ms, "A request's head must arrive within this (else 408)")
      ->capture_default_str()
      ->check(CLI::Range(100LL, 600'000LL));
  app.add_option("--request-timeout-ms", f.request_timeout_ms, "A whole request must arrive within this (else 408)")
      ->capture_default_str()
      ->check(CLI::Range(100LL, 600'000LL));
  app.add_option("--idle-timeout-ms", f.idle_timeout_ms, "Idle keep-alive connections are closed after this")
      ->capture_default_str()
      ->check(CLI::Range(100LL, 3'600'000LL));
  app.add_option("--drain-timeout-ms", f.drain_timeout_ms,
                 "On SIGTERM, requests received are answered for this long, then get 503")
      ->capture_default_str()
      ->check(CLI::Range(0LL, 600'000LL));
  app.add_option("--upstream-timeout-ms", f.upstream_timeout_ms, "Timeout of each Aturiya and pipe0 request")
      ->capture_default_str()
      ->check(CLI::Range(1LL, 600'000LL));
  app.add_option("--sandbox-latency-ms", f.sandbox_latency_ms, "With --sandbox: service time of each pipe0 run")
      ->capture_default_str()
      ->check(CLI::Range(0LL, 600'000LL));
  app.add_option("--jobs-dir", f.jobs_dir, "Where background jobs are kept (default: the store's path + .jobs; .leadenrich/server.jobs for PostgreSQL)");
  app.add_option("--max-jobs", f.max_jobs, "Background jobs running at once")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{64}));
  app.add_option("--max-queued-jobs", f.max_queued_jobs, "Background jobs waiting at most (then POST /v1/jobs is 429)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{0}, std::size_t{10000}));
  app.add_option("--webhook-attempts", f.webhook_attempts, "Attempts per webhook delivery")
      ->capture_default_str()
      ->check(CLI::Range(1, 20));
  app.add_option("--webhook-retry-ms", f.webhook_retry_ms, "Wait before a webhook's 2nd attempt; doubles after each")
      ->capture_default_str()
      ->check(CLI::Range(1LL, 600'000LL));
  app.add_flag("-q,--quiet", f.quiet, "Do not log requests");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  return run(f);
}
