#include "leadenrich/open_store.h"
#include "wiring.h"

#include <fmt/format.h>

namespace leadenrich::cli {

Result<Connections> connect(const GlobalOptions& global, const ConnectOptions& options, const Reporter& reporter) {
  Connections c;
  LoadOptions load;
  load.dotenv_path = global.env_file;
  Result<Config> config = load_config(load);
  if (!config.ok()) return config.status();
  c.config = std::move(config).value();

  if (options.sandbox) {
    SandboxOptions so;
    so.faults.latency = options.sandbox_latency;
    Result<std::unique_ptr<Sandbox>> sandbox = Sandbox::start(so);
    if (!sandbox.ok()) return sandbox.status();
    c.sandbox = std::move(sandbox).value();
    Config sc = c.sandbox->config();
    c.config.aturiya_base_url = sc.aturiya_base_url;
    c.config.pipe0_base_url = sc.pipe0_base_url;
    c.config.aturiya_bearer_token = sc.aturiya_bearer_token;
    c.config.pipe0_api_key = sc.pipe0_api_key;
    c.config.aturiya_user_id = sc.aturiya_user_id;
    c.config.aturiya_agent_id = sc.aturiya_agent_id;
    c.config.pipe0_environment = Pipe0Environment::kSandbox;
    reporter.info(fmt::format("sandbox: serving synthetic Aturiya and pipe0 data at {}", c.sandbox->base_url()));
  }
  if (options.pipe0_environment) {
    c.config.pipe0_environment =
        *options.pipe0_environment == "sandbox" ? Pipe0Environment::kSandbox : Pipe0Environment::kProduction;
  }
  if (options.signals) {
    Result<std::vector<Signal>> signals = parse_signal_list(*options.signals);
    if (!signals.ok()) return Status(StatusCode::kInvalidArgument, "--signals: " + signals.status().message());
    if (signals->empty()) return invalid_argument("--signals names no signal");
    c.config.enabled_signals = *signals;
  }

  c.transport = make_curl_transport();
  if (options.need_aturiya) {
    Result<std::shared_ptr<AturiyaConnection>> a = make_aturiya_connection(aturiya_options(c.config), c.transport);
    if (!a.ok()) return a.status();
    c.aturiya = std::move(a).value();
  }
  if (options.need_pipe0) {
    Result<std::shared_ptr<Pipe0Connection>> p = make_pipe0_connection(pipe0_options(c.config), c.transport);
    if (!p.ok()) return p.status();
    c.pipe0 = std::move(p).value();
  }
  if (options.need_store && !options.no_cache) {
    bool sandbox_data = options.sandbox || c.config.pipe0_environment == Pipe0Environment::kSandbox;
    std::string configured = sandbox_data || c.config.store.empty() ? default_store_path(sandbox_data) : c.config.store;
    Result<std::shared_ptr<Store>> store = open_store(options.store_path.value_or(configured));
    if (!store.ok()) return store.status();
    c.store = std::move(store).value();
  }
  c.enricher = std::make_unique<Enricher>(c.config, c.pipe0, c.store);
  return c;
}

std::string default_store_path(bool sandbox) {
  return sandbox ? ".leadenrich/sandbox.db" : ".leadenrich/store.db";
}

Result<std::unique_ptr<LeadSource>> aturiya_source(Connections& conn, const std::optional<std::string>& campaign_id,
                                                   const std::optional<std::size_t>& limit, const Reporter& reporter) {
  std::string id;
  if (campaign_id) {
    id = *campaign_id;
  } else {
    Result<std::vector<Campaign>> campaigns = conn.aturiya->campaigns();
    if (!campaigns.ok()) return campaigns.status();
    if (campaigns->empty()) return not_found("Aturiya lists no campaign for this agent");
    id = campaigns->front().id;
    reporter.info(fmt::format("no --campaign-id: using the first campaign, {} ({})", id, campaigns->front().name));
  }
  LeadPaging paging;
  paging.limit = limit;
  return make_aturiya_source(conn.aturiya, id, paging);
}

}  // namespace leadenrich::cli
