// leadenrich campaigns | leads | doctor | sandbox
#include <iostream>

#include <fmt/format.h>

#include "commands.h"
#include "internal/csv_write.h"
#include "leadenrich/output.h"
#include "leadenrich/open_store.h"
#include "sandbox_runner.h"
#include "wiring.h"

namespace leadenrich::cli {

int run_campaigns(const GlobalOptions& global, bool sandbox) {
  Reporter reporter(global);
  ConnectOptions opts;
  opts.sandbox = sandbox;
  opts.need_aturiya = true;
  Result<Connections> conn = connect(global, opts, reporter);
  if (!conn.ok()) {
    reporter.error(conn.status().message());
    return exit_code_for(conn.status());
  }
  Result<std::vector<Campaign>> campaigns = conn->aturiya->campaigns();
  if (!campaigns.ok()) {
    reporter.error(campaigns.status().message());
    return exit_code_for(campaigns.status());
  }
  for (const Campaign& c : *campaigns) fmt::print("{}\t{}\n", c.id, c.name);
  return kExitOk;
}

int run_leads(const GlobalOptions& global, const LeadsOptions& options) {
  Reporter reporter(global);
  ConnectOptions opts;
  opts.sandbox = options.sandbox;
  opts.need_aturiya = true;
  Result<Connections> conn = connect(global, opts, reporter);
  if (!conn.ok()) {
    reporter.error(conn.status().message());
    return exit_code_for(conn.status());
  }
  Result<std::unique_ptr<LeadSource>> source = aturiya_source(*conn, options.campaign_id, options.limit, reporter);
  if (!source.ok()) {
    reporter.error(source.status().message());
    return exit_code_for(source.status());
  }
  bool first = true;
  int bad = 0;
  if (options.format == "json") std::cout << "[";
  if (options.format == "csv") {
    std::string header;
    std::vector<std::string> names(raw_lead_field_names().begin(), raw_lead_field_names().end());
    append_csv_record(header, names);
    std::cout << header;
  }
  while (std::optional<SourceItem> item = (*source)->next()) {
    if (!item->lead.ok()) {
      reporter.warn(fmt::format("{}: {}", item->location, item->lead.status().message()));
      if (item->fatal) return exit_code_for(item->lead.status());
      ++bad;
      continue;
    }
    if (options.format == "csv") {
      Json j = to_json(*item->lead);
      std::vector<std::string> cells;
      for (std::string_view name : raw_lead_field_names()) {
        const Json* v = j.find(name);
        cells.push_back(v != nullptr && v->is_string() ? v->as_string() : "");
      }
      std::string row;
      append_csv_record(row, cells);
      std::cout << row;
    } else {
      if (options.format == "json") std::cout << (first ? "\n" : ",\n");
      std::cout << to_json(*item->lead).dump();
      if (options.format == "jsonl") std::cout << "\n";
    }
    first = false;
  }
  if (options.format == "json") std::cout << (first ? "]\n" : "\n]\n");
  return bad > 0 ? kExitPartial : kExitOk;
}

namespace {
/// `text` with the user:password of every URL in it replaced by "***" (a base URL may carry
/// credentials for a proxy; doctor's output is pasted into tickets). Error messages name URLs
/// without their scheme too ("GET user:pass@host/path"), so any "name:secret@" is masked.
std::string mask_url_credentials(std::string text) {
  std::size_t at = 0;
  while ((at = text.find('@', at)) != std::string::npos) {
    std::size_t start = text.find_last_of(" \t\r\n/\"'(<=", at);
    start = start == std::string::npos ? 0 : start + 1;
    if (text.find(':', start) < at) {
      text.replace(start, at - start, "***");
      at = start + 3;
    }
    ++at;
  }
  return text;
}
}  // namespace

int run_doctor(const GlobalOptions& global, bool sandbox) {
  Reporter reporter(global);
  int code = kExitOk;
  ConnectOptions opts;
  opts.sandbox = sandbox;
  Result<Connections> conn = connect(global, opts, reporter);
  if (!conn.ok()) {
    reporter.error(mask_url_credentials(conn.status().message()));
    return exit_code_for(conn.status());
  }
  const Config& c = conn->config;
  fmt::print("configuration:\n{}", mask_url_credentials(c.to_string()));
  auto check = [&](const char* what, const Status& st) {
    fmt::print("{:<28} {}\n", what, st.ok() ? "ok" : mask_url_credentials(st.message()));
    if (!st.ok() && code == kExitOk) code = exit_code_for(st);
  };
  check("aturiya credentials", c.check_aturiya());
  check("pipe0 credentials", c.check_pipe0());
  if (c.check_aturiya().ok()) {
    Result<std::shared_ptr<AturiyaConnection>> a = make_aturiya_connection(aturiya_options(c), conn->transport);
    if (a.ok()) {
      Result<AturiyaUser> me = (*a)->me();
      check("aturiya reachable (me)", me.status());
      if (me.ok()) fmt::print("{:<28} {} <{}>\n", "aturiya user", me->full_name, me->email);
      Result<std::vector<Campaign>> campaigns = (*a)->campaigns();
      check("aturiya campaigns", campaigns.status());
      if (campaigns.ok()) fmt::print("{:<28} {}\n", "campaigns", campaigns->size());
    }
  }
  if (c.check_pipe0().ok()) {
    Result<std::shared_ptr<Pipe0Connection>> p = make_pipe0_connection(pipe0_options(c), conn->transport);
    if (p.ok()) {
      Result<double> balance = (*p)->credit_balance();
      check("pipe0 reachable (balance)", balance.status());
      if (balance.ok()) fmt::print("{:<28} {}\n", "pipe0 credit balance", *balance);
    }
  }
  return code;
}

int run_runs(const GlobalOptions& global, const std::optional<std::string>& store_path, bool sandbox) {
  Reporter reporter(global);
  std::string name = store_path.value_or(default_store_path(sandbox));
  if (!store_path && !sandbox) {  // LEADENRICH_STORE, from the environment or .env
    LoadOptions load;
    load.dotenv_path = global.env_file;
    Result<Config> config = load_config(load);
    if (!config.ok()) {
      reporter.error(config.status().message());
      return exit_code_for(config.status());
    }
    if (!config->store.empty()) name = config->store;
  }
  Result<std::shared_ptr<Store>> store = open_store(name);
  if (!store.ok()) {
    reporter.error(store.status().message());
    return exit_code_for(store.status());
  }
  Result<std::vector<RunRecord>> runs = (*store)->list_runs();
  if (!runs.ok()) {
    reporter.error(runs.status().message());
    return exit_code_for(runs.status());
  }
  for (const RunRecord& r : *runs) {
    fmt::print("{}\t{}\t{} leads\t{}\t{}\n", r.id, to_string(r.state), r.leads_done, format_timestamp(r.updated_at), r.input);
    print_distributed_run(**store, r);
  }
  return kExitOk;
}

int run_sandbox(const GlobalOptions& global, int port, std::uint64_t seed) {
  Reporter reporter(global);
  SandboxOptions options;
  options.port = port;
  options.seed = seed;
  if (global.verbose) options.log = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };
  int code = apps::run_sandbox_in_foreground(options, [&](const std::string& reason) { reporter.error(reason); });
  return code == 0 ? kExitOk : kExitUpstream;
}

}  // namespace leadenrich::cli
