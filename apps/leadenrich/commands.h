// The leadenrich subcommands.
#ifndef LEADENRICH_APPS_COMMANDS_H_
#define LEADENRICH_APPS_COMMANDS_H_

#include <map>
#include <optional>
#include <string>

#include "cli.h"
#include "leadenrich/sources.h"
#include "leadenrich/store.h"

namespace leadenrich::cli {

struct EnrichOptions {
  std::optional<std::string> campaign_id;
  std::optional<std::string> input;
  FileFormat input_format = FileFormat::kAuto;
  std::map<std::string, std::string> column_map;
  std::optional<char> delimiter;  ///< CSV separator; unset: detected from the header line
  std::optional<std::size_t> limit;
  std::string format = "both";
  /// "leadenrich" (docs/output.md) or "original": the original pipeline's EnrichedLead, for its readers.
  std::string shape = "leadenrich";
  std::string output_dir = "output";
  std::optional<std::string> output;
  std::optional<std::string> signals;
  RunMode mode = RunMode::kAuto;
  std::optional<std::size_t> concurrency;
  std::optional<double> budget;
  bool dry_run = false;
  bool sandbox = false;
  std::optional<std::string> pipe0_environment;
  std::optional<std::string> store_path;
  bool no_cache = false;
  std::optional<std::chrono::seconds> max_age;
  std::optional<std::string> resume;
  /// Cut the input into chunks in the store's work queue for `leadenrich worker`s to share.
  bool distributed = false;
  std::size_t chunk_size = 200;
  std::chrono::milliseconds lease{30'000};
};

int run_enrich(const GlobalOptions& global, const EnrichOptions& options);

struct LeadsOptions {
  std::optional<std::string> campaign_id;
  std::optional<std::size_t> limit;
  std::string format = "jsonl";
  bool sandbox = false;
};

struct McpOptions {
  bool sandbox = false;
  std::chrono::milliseconds sandbox_latency{0};
  std::optional<std::string> store_path;
  bool no_cache = false;
  std::optional<std::string> signals;
  std::size_t max_leads = 1000;
};

/// Serves leadenrich's MCP tools over stdin and stdout (docs/mcp.md).
int run_mcp(const GlobalOptions& global, const McpOptions& options);

int run_campaigns(const GlobalOptions& global, bool sandbox);
int run_leads(const GlobalOptions& global, const LeadsOptions& options);
int run_doctor(const GlobalOptions& global, bool sandbox);
int run_sandbox(const GlobalOptions& global, int port, std::uint64_t seed);
int run_runs(const GlobalOptions& global, const std::optional<std::string>& store_path, bool sandbox);

struct WorkerCommandOptions {
  bool sandbox = false;  ///< the built-in sandbox's pipe0, and its store (.leadenrich/sandbox.db)
  std::optional<std::string> store_path;
  std::optional<std::string> pipe0_environment;
  std::optional<std::string> run_id;  ///< only this run's chunks; exit once it is done
  bool exit_when_idle = false;
  std::chrono::milliseconds lease{30'000};
  /// A ceiling on this worker's records in flight (default: learned from pipe0's capacity
  /// headers, which are the org's: the fleet shares them).
  std::optional<std::size_t> concurrency;
};

/// leadenrich worker (worker_command.cc).
int run_worker_command(const GlobalOptions& global, const WorkerCommandOptions& options);
/// For `leadenrich runs`: a distributed run's chunks (nothing for other runs).
void print_distributed_run(Store& store, const RunRecord& run);

}  // namespace leadenrich::cli

#endif  // LEADENRICH_APPS_COMMANDS_H_
