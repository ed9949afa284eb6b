// Builds what a command needs from configuration: the sandbox (with --sandbox), the transport,
// the pipe0 and Aturiya connections, the store and the enricher.
#ifndef LEADENRICH_APPS_WIRING_H_
#define LEADENRICH_APPS_WIRING_H_

#include <memory>
#include <optional>
#include <string>

#include "cli.h"
#include "leadenrich/aturiya.h"
#include "leadenrich/engine.h"
#include "leadenrich/pipe0.h"
#include "leadenrich/store.h"
#include "leadenrich/testing/sandbox.h"
#include "leadenrich/transport.h"

namespace leadenrich::cli {

struct ConnectOptions {
  bool sandbox = false;
  /// With sandbox: the service time of each pipe0 run (to watch progress and cancellation).
  std::chrono::milliseconds sandbox_latency{0};
  std::optional<std::string> pipe0_environment;
  std::optional<std::string> signals;
  bool need_aturiya = false;
  bool need_pipe0 = false;
  std::optional<std::string> store_path;
  bool no_cache = false;
  bool need_store = false;
};

/// The default store: sandbox data never shares a file with real data.
std::string default_store_path(bool sandbox);

struct Connections {
  Config config;
  std::unique_ptr<Sandbox> sandbox;
  std::shared_ptr<HttpTransport> transport;
  std::shared_ptr<AturiyaConnection> aturiya;
  std::shared_ptr<Pipe0Connection> pipe0;
  std::shared_ptr<Store> store;  ///< null with --no-cache
  std::unique_ptr<Enricher> enricher;
};

/// Loads the configuration (.env, environment, flags), starts the sandbox when asked and opens
/// the connections the command needs. Errors name the missing variable or the bad value.
Result<Connections> connect(const GlobalOptions& global, const ConnectOptions& options, const Reporter& reporter);

/// The leads of `campaign_id`, or of the first campaign when none is given.
Result<std::unique_ptr<LeadSource>> aturiya_source(Connections& conn, const std::optional<std::string>& campaign_id,
                                                   const std::optional<std::size_t>& limit, const Reporter& reporter);

}  // namespace leadenrich::cli

#endif  // LEADENRICH_APPS_WIRING_H_
