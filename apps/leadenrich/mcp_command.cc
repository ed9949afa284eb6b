// leadenrich mcp: the MCP tools over stdio, for an agent host that starts this program. stdout
// carries protocol messages only; every other line goes to stderr.
#include <unistd.h>

#include <csignal>

#include <fmt/format.h>

#include "commands.h"
#include "leadenrich/mcp.h"
#include "wiring.h"

namespace leadenrich::cli {

int run_mcp(const GlobalOptions& global, const McpOptions& options) {
  Reporter reporter(global);
  ConnectOptions opts;
  opts.sandbox = options.sandbox;
  opts.sandbox_latency = options.sandbox_latency;
  opts.need_pipe0 = true;
  opts.need_store = true;
  opts.store_path = options.store_path;
  opts.no_cache = options.no_cache;
  opts.signals = options.signals;
  Result<Connections> conn = connect(global, opts, reporter);
  if (!conn.ok()) {
    reporter.error(conn.status().message());
    return exit_code_for(conn.status());
  }
  McpBackend backend;
  // Without Aturiya the tools still enrich lead objects; the campaign tools say what is missing.
  Result<std::shared_ptr<AturiyaConnection>> aturiya = make_aturiya_connection(aturiya_options(conn->config), conn->transport);
  if (aturiya.ok()) {
    backend.aturiya = std::move(aturiya).value();
  } else {
    reporter.warn(fmt::format("campaign tools unavailable: {}", aturiya.status().message()));
  }
  backend.enricher = std::shared_ptr<Enricher>(std::move(conn->enricher));
  backend.store = conn->store;
  backend.sandbox = options.sandbox;
  backend.max_leads = options.max_leads;
  // A host that closes our stdout makes writes fail (and calls under way stop), not a SIGPIPE death.
  std::signal(SIGPIPE, SIG_IGN);
  reporter.info("mcp: serving leadenrich's tools on stdin/stdout");
  Status served = serve_mcp_stdio(backend, STDIN_FILENO, STDOUT_FILENO, [&reporter](const std::string& line) { reporter.warn(line); });
  if (!served.ok()) {
    reporter.error(served.message());
    return exit_code_for(served);
  }
  return kExitOk;
}

}  // namespace leadenrich::cli
