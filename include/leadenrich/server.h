// leadenrich-server: the runtime HTTP API an SDR agent calls per lead, and the web UI's backend.
// Routes, errors and metrics are documented in docs/server.md; GET /openapi.json describes them.
#ifndef LEADENRICH_SERVER_H_
#define LEADENRICH_SERVER_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "leadenrich/config.h"
#include "leadenrich/status.h"

namespace leadenrich {

class AturiyaConnection;  // aturiya.h
class Enricher;           // engine.h
class Store;              // store.h

/// Background jobs (POST /v1/jobs): whole campaigns or lists of leads, run as journaled runs in
/// the store, with signed webhooks. docs/server.md.
struct ServerJobOptions {
  /// Where each job's definition, state and results (JSON lines) are kept, so a restarted server
  /// resumes unfinished jobs. Empty: jobs are kept in memory only and do not outlive the process.
  std::string dir;
  std::size_t max_running = 2;   ///< jobs enriching at once
  std::size_t max_queued = 16;   ///< jobs waiting for a slot; past it POST /v1/jobs answers 429
  std::size_t max_leads = 100000;  ///< leads per job (given in the body, or read from a campaign)
  std::size_t keep_finished = 200;  ///< finished jobs kept (with their results); older ones are removed
  /// Hosts webhook_url may name (exact names or IP literals; "*" for any). Empty: no webhooks.
  std::vector<std::string> webhook_hosts;
  /// Signs every delivery (HMAC-SHA256). Webhooks are refused without one.
  Secret webhook_secret;
  int webhook_attempts = 5;  ///< per delivery, including the first
  std::chrono::milliseconds webhook_backoff{1000};  ///< before the 2nd attempt; doubles after each
  std::chrono::milliseconds webhook_timeout{10'000};
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;  ///< 0 picks a free port
  /// Worker threads: requests served at once (an enrichment holds one while it waits upstream).
  int threads = 32;
  /// Bearer keys accepted on every route but /api/health. Empty refuses to start unless
  /// insecure_no_auth is set.
  std::vector<Secret> api_keys;
  bool insecure_no_auth = false;
  /// Larger request bodies get 413, whatever their framing (Content-Length or chunked).
  std::size_t max_body_bytes = 1 << 20;
  /// Open connections at most (also kept under the process's descriptor limit). At the cap the
  /// oldest idle connection is closed for a new one, then the oldest still sending its request.
  std::size_t max_connections = 512;
  /// A request's head must arrive within header_timeout of its first byte, the whole request
  /// within request_timeout; else 408 and the connection is closed.
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds request_timeout{30'000};
  /// A connection with no request under way is closed after this long.
  std::chrono::milliseconds idle_timeout{30'000};
  /// stop(): requests already received are answered for this long; those still waiting then
  /// get 503 with Retry-After.
  std::chrono::milliseconds drain_timeout{10'000};
  /// With insecure_no_auth: Host names served besides IP literals, localhost and `host`; any
  /// other Host is refused (DNS rebinding).
  std::vector<std::string> allowed_hosts;
  /// Leads per POST /v1/enrich, at most.
  std::size_t max_batch = 100;
  /// per_page of GET /v1/campaigns/{id}/leads, at most.
  std::size_t max_per_page = 200;
  /// Origins allowed to call the API from a browser; empty sends no CORS headers at all.
  std::vector<std::string> cors_origins;
  /// The built web UI (index.html and assets); empty or missing serves a page saying how to build it.
  std::string web_root;
  /// Reported by /api/health; results carry sandbox=true anyway.
  bool sandbox = false;
  /// One line per request ("GET /api/health 200 0.1ms") and lifecycle messages; never a secret.
  std::function<void(const std::string&)> log;
  ServerJobOptions jobs;
};

/// What the server talks to. `aturiya` may be null (then campaign routes and enrich-by-id answer
/// 503); `enricher` and `store` are required.
struct ServerBackend {
  std::shared_ptr<AturiyaConnection> aturiya;
  std::shared_ptr<Enricher> enricher;
  std::shared_ptr<Store> store;
};

/// A running server. Thread-safe.
class Server {
 public:
  /// Binds and starts serving before it returns. kFailedPrecondition with no keys and no
  /// insecure_no_auth; kInvalidArgument for a missing backend part; kUnavailable when it
  /// cannot bind.
  static Result<std::unique_ptr<Server>> start(ServerOptions options, ServerBackend backend);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// "http://HOST:PORT".
  std::string base_url() const;
  int port() const;
  /// Stops accepting connections, answers the requests already received (503 with Retry-After
  /// for those still waiting at the drain timeout), lets requests in progress finish, then
  /// returns. Idempotent and thread-safe: every caller returns once the server has stopped.
  void stop();
  /// Blocks until the server has stopped (after stop() from another thread).
  void wait();

 private:
  struct State;  // defined where it is implemented
  explicit Server(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace leadenrich

#endif  // LEADENRICH_SERVER_H_
