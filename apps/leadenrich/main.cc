// leadenrich: batch enrichment of campaigns and lead files.
#include <cmath>
#include <cstdlib>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.h"
#include "leadenrich/version.h"

namespace {

using namespace leadenrich;
using namespace leadenrich::cli;

// "30d", "12h", "90m", "45s" or plain seconds; at most 100 years.
std::optional<std::chrono::seconds> parse_duration(const std::string& text) {
  std::size_t digits = std::min(text.find_first_not_of("0123456789"), text.size());
  if (digits == 0 || digits > 12) return std::nullopt;
  long long n = std::stoll(text.substr(0, digits));
  std::string unit = text.substr(digits);
  long long per = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : 0;
  constexpr long long kMax = 100LL * 365 * 86400;
  if (per == 0 || n > kMax / per) return std::nullopt;
  return std::chrono::seconds(n * per);
}

// A whole number from `min` to `max` (plain digits: no sign, no fraction, no exponent).
std::optional<std::uint64_t> parse_whole(const std::string& text, std::uint64_t min, std::uint64_t max) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  std::uint64_t v = std::stoull(text);
  if (v < min || v > max) return std::nullopt;
  return v;
}

// A finite number of credits, 0 or more (0: spend nothing, answer only from the cache).
std::optional<double> parse_credits(const std::string& text) {
  if (text.empty() || text.find_first_not_of("0123456789.") != std::string::npos) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v) || v < 0) return std::nullopt;
  return v;
}

// Every numeric option is read as text and checked here, so nonsense ("-1", "nan", "1e999",
// "5x") is a usage error naming the option instead of a silently different run.
struct NumberCheck {
  const Reporter& reporter;
  bool ok = true;
  template <typename T>
  void whole(const char* option, const std::optional<std::string>& text, std::uint64_t min, std::uint64_t max,
             const char* what, T& out) {
    if (!text || !ok) return;
    std::optional<std::uint64_t> v = parse_whole(*text, min, max);
    if (!v) {
      reporter.error(fmt::format("{} '{}': expected a whole number of {} from {} to {}", option, *text, what, min, max));
      ok = false;
      return;
    }
    out = static_cast<T>(*v);
  }
};

// "tab" (or a literal tab) or one character that cannot be part of CSV quoting or line ends.
std::optional<char> parse_delimiter(const std::string& text) {
  if (text == "tab" || text == "\\t") return '\t';
  if (text.size() != 1 || text[0] == '"' || text[0] == '\n' || text[0] == '\r' || text[0] == '\0') return std::nullopt;
  return text[0];
}

// --lease: a duration of at least a second (renewals go every third of it).
bool parse_lease(const std::string& text, const Reporter& reporter, std::chrono::milliseconds& out) {
  std::optional<std::chrono::seconds> d = parse_duration(text);
  if (!d || d->count() < 1 || *d > std::chrono::hours(24)) {
    reporter.error(fmt::format("--lease '{}': expected a duration from 1s to 24h, like 30s or 5m", text));
    return false;
  }
  out = *d;
  return true;
}

// -o names one file: its format is --format's when given (one format, not both), else its
// extension's. A silent fallback to output/enriched_leads.* would leave the user looking for the
// file they named.
bool output_format_for(const std::string& path, bool format_given, std::string& format, const Reporter& reporter) {
  if (format_given) {
    if (format != "both") return true;
    reporter.error(fmt::format("-o '{}' names one file and --format both writes two: give --format json, jsonl or "
                               "csv, or --output-dir for both",
                               path));
    return false;
  }
  auto ends_with = [&](std::string_view ext) {
    return path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0;
  };
  if (ends_with(".jsonl") || ends_with(".ndjson")) format = "jsonl";
  else if (ends_with(".json")) format = "json";
  else if (ends_with(".csv")) format = "csv";
  else {
    reporter.error(fmt::format("-o '{}': name a .json, .jsonl or .csv file, or give --format", path));
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"leadenrich: turns raw B2B sales leads into outreach-ready lead objects"};
  app.set_version_flag("--version", std::string("leadenrich ") + kVersion);
  app.require_subcommand(1);
  app.fallthrough();  // global options work after the subcommand too: `leadenrich enrich ... -q`

  GlobalOptions global;
  std::string log_format = "text";
  app.add_flag("-q,--quiet", global.quiet, "Print only warnings, errors and data");
  app.add_flag("-v,--verbose", global.verbose, "Print more detail");
  app.add_option("--log-format", log_format, "Format of messages on stderr")
      ->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  app.add_option("--env-file", global.env_file, "The .env file to read (the environment wins)")->capture_default_str();

  // enrich
  EnrichOptions eo;
  std::string input_format = "auto", mode = "auto", max_age;
  std::vector<std::string> maps;
  std::optional<std::string> limit, concurrency, budget;
  CLI::App* enrich = app.add_subcommand("enrich", "Enrich a campaign or a lead file");
  enrich->add_option("--campaign-id", eo.campaign_id, "Aturiya campaign to enrich (default: the first campaign)");
  enrich->add_option("-i,--input", eo.input, "Lead file: CSV (Apollo export), JSON array or JSON lines; - for stdin");
  enrich->add_option("--input-format", input_format, "Input format")
      ->check(CLI::IsMember({"auto", "csv", "json", "jsonl"}))->capture_default_str();
  enrich->add_option("--map", maps, "CSV column to lead field, e.g. --map 'Contact Email=email' (repeatable)");
  std::optional<std::string> delimiter;
  enrich->add_option("--delimiter", delimiter, "CSV separator: one character such as ';' or '|', or 'tab' "
                                               "(default: detected from the header line)");
  enrich->add_option("--limit", limit, "Enrich at most N leads (applied while reading)");
  enrich->add_option("--format", eo.format, "Output format")
      ->check(CLI::IsMember({"json", "csv", "jsonl", "both"}))->capture_default_str();
  enrich->add_option("--shape", eo.shape, "Each lead as leadenrich's object, or the original pipeline's EnrichedLead")
      ->check(CLI::IsMember({"leadenrich", "original"}))->capture_default_str();
  enrich->add_option("--output-dir", eo.output_dir, "Directory for enriched_leads.{json,csv,jsonl}")->capture_default_str();
  enrich->add_option("-o,--output", eo.output, "Output file; - streams JSON lines to stdout");
  std::string signal_names;
  for (Signal s : kAllSignals) signal_names += fmt::format("{}{}", signal_names.empty() ? "" : ",", to_string(s));
  enrich->add_option("--signals", eo.signals, "Comma list: " + signal_names);
  enrich->add_option("--mode", mode, "pipe0 run mode")->check(CLI::IsMember({"auto", "sync", "async"}))->capture_default_str();
  enrich->add_option("--concurrency", concurrency, "A ceiling on records in flight (default: learned from pipe0's capacity headers)");
  enrich->add_option("--budget", budget, "Hard budget in credits; lookups past it are budget_exhausted");
  enrich->add_flag("--dry-run", eo.dry_run, "Plan and estimate cost; send and spend nothing");
  enrich->add_flag("--sandbox", eo.sandbox, "Run against the built-in sandbox (no credentials, no network)");
  enrich->add_option("--pipe0-environment", eo.pipe0_environment, "pipe0 environment")
      ->check(CLI::IsMember({"production", "sandbox"}));
  enrich->add_option("--store", eo.store_path, "Cache and journal: a SQLite file path or a postgresql:// URI (default .leadenrich/store.db)");
  enrich->add_flag("--no-cache", eo.no_cache, "Neither read nor write the cache");
  enrich->add_option("--max-age", max_age, "Use cached values younger than this (30d, 12h, 90m, 45s)");
  enrich->add_option("--resume", eo.resume, "Continue an interrupted run (see `leadenrich runs`)");
  std::optional<std::string> chunk_size, enrich_lease;
  enrich->add_flag("--distributed", eo.distributed,
                   "Share the run with `leadenrich worker`s through the store's work queue");
  enrich->add_option("--chunk-size", chunk_size, "With --distributed: leads per chunk (default 200)");
  enrich->add_option("--lease", enrich_lease, "With --distributed: how long a silent worker keeps a chunk (default 30s)");

  // campaigns / leads / doctor / sandbox
  bool campaigns_sandbox = false;
  CLI::App* campaigns = app.add_subcommand("campaigns", "List Aturiya campaigns");
  campaigns->add_flag("--sandbox", campaigns_sandbox, "Use the built-in sandbox");

  LeadsOptions lo;
  std::optional<std::string> leads_limit;
  CLI::App* leads = app.add_subcommand("leads", "Print a campaign's raw leads");
  leads->add_option("--campaign-id", lo.campaign_id, "Campaign (default: the first)");
  leads->add_option("--limit", leads_limit, "At most N leads");
  leads->add_option("--format", lo.format, "Output format")->check(CLI::IsMember({"json", "jsonl", "csv"}))->capture_default_str();
  leads->add_flag("--sandbox", lo.sandbox, "Use the built-in sandbox");

  bool doctor_sandbox = false;
  CLI::App* doctor = app.add_subcommand("doctor", "Check configuration and reachability");
  doctor->add_flag("--sandbox", doctor_sandbox, "Check against the built-in sandbox");

  std::optional<std::string> runs_store;
  bool runs_sandbox = false;
  CLI::App* runs = app.add_subcommand("runs", "List enrichment runs and their state");
  runs->add_option("--store", runs_store, "Store: a SQLite file path or a postgresql:// URI (default .leadenrich/store.db)");
  runs->add_flag("--sandbox", runs_sandbox, "The sandbox's store (.leadenrich/sandbox.db)");

  WorkerCommandOptions wko;
  std::optional<std::string> worker_lease, worker_concurrency;
  CLI::App* worker = app.add_subcommand("worker", "Enrich chunks of distributed runs (enrich --distributed)");
  worker->add_option("--store", wko.store_path, "The store the submitter uses (default .leadenrich/store.db)");
  worker->add_flag("--sandbox", wko.sandbox,
                   "Enrich against a built-in sandbox, on the sandbox's store (joins `enrich --sandbox --distributed`)");
  worker->add_option("--run", wko.run_id, "Only this run's chunks; exit once it is done");
  worker->add_flag("--exit-when-idle", wko.exit_when_idle, "Exit when there is no chunk to claim");
  worker->add_option("--lease", worker_lease, "How long a silent worker keeps a chunk (default 30s)");
  worker->add_option("--concurrency", worker_concurrency,
                     "A ceiling on this worker's records in flight (default: learned from pipe0's capacity headers)");
  worker->add_option("--pipe0-environment", wko.pipe0_environment, "pipe0 environment")
      ->check(CLI::IsMember({"production", "sandbox"}));

  int port = 0;
  std::uint64_t seed = 42;
  std::optional<std::string> port_text, seed_text;
  CLI::App* sandbox = app.add_subcommand("sandbox", "Run the API emulator in the foreground");
  sandbox->add_option("--port", port_text, "Port on 127.0.0.1 (default 0: a free one)");
  sandbox->add_option("--seed", seed_text, "Seed of the synthetic data (default 42)");

  McpOptions mo;
  std::optional<std::string> mcp_latency, mcp_max_leads;
  CLI::App* mcp = app.add_subcommand("mcp", "Serve leadenrich's tools to an AI agent over MCP (stdio)");
  mcp->add_flag("--sandbox", mo.sandbox, "Use the built-in sandbox (no credentials, no network)");
  mcp->add_option("--store", mo.store_path, "Cache and results: a SQLite file path or a postgresql:// URI (default .leadenrich/store.db)");
  mcp->add_flag("--no-cache", mo.no_cache, "Neither read nor write the cache");
  mcp->add_option("--signals", mo.signals, "Default signals: comma list of company_overview,tech_stack,funding,news,linkedin_posts");
  mcp->add_option("--max-leads", mcp_max_leads, "Leads per enrich_leads call, at most (default 1000)");
  mcp->add_option("--sandbox-latency-ms", mcp_latency, "With --sandbox: service time of each pipe0 run");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  global.log_format = log_format == "json" ? LogFormat::kJson : LogFormat::kText;
  Reporter reporter(global);

  if (enrich->parsed()) {
    eo.input_format = parse_file_format(input_format).value();
    eo.mode = parse_run_mode(mode).value();
    NumberCheck check{reporter};
    std::size_t n = 0;
    check.whole("--limit", limit, 1, 1'000'000'000'000, "leads", n);
    if (limit && check.ok) eo.limit = n;
    check.whole("--concurrency", concurrency, 1, 100'000, "records", n);
    if (concurrency && check.ok) eo.concurrency = n;
    if (!check.ok) return kExitUsage;
    if (budget) {
      eo.budget = parse_credits(*budget);
      if (!eo.budget) {
        reporter.error(fmt::format("--budget '{}': expected a number of credits, 0 or more (e.g. 250 or 12.5)", *budget));
        return kExitUsage;
      }
    }
    for (const std::string& m : maps) {
      std::size_t eq = m.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == m.size()) {
        reporter.error(fmt::format("--map '{}': expected COLUMN=FIELD", m));
        return kExitUsage;
      }
      eo.column_map[m.substr(0, eq)] = m.substr(eq + 1);
    }
    if (delimiter) {
      std::optional<char> d = parse_delimiter(*delimiter);
      if (!d) {
        reporter.error(fmt::format("--delimiter '{}': expected one character such as ';' or '|', or 'tab'", *delimiter));
        return kExitUsage;
      }
      eo.delimiter = d;
    }
    check.whole("--chunk-size", chunk_size, 1, 100'000, "leads", n);
    if (chunk_size && check.ok) eo.chunk_size = n;
    if (!check.ok) return kExitUsage;
    if ((chunk_size || enrich_lease) && !eo.distributed) {
      reporter.error("--chunk-size and --lease go with --distributed");
      return kExitUsage;
    }
    if (eo.distributed && eo.budget) {
      reporter.error("--budget cannot bound a distributed run (each worker would spend up to it): drop --budget or "
                     "--distributed");
      return kExitUsage;
    }
    if (enrich_lease && !parse_lease(*enrich_lease, reporter, eo.lease)) return kExitUsage;
    if (eo.output && *eo.output != "-" && !output_format_for(*eo.output, enrich->count("--format") > 0, eo.format,
                                                             reporter)) {
      return kExitUsage;
    }
    if (!max_age.empty()) {
      eo.max_age = parse_duration(max_age);
      if (!eo.max_age) {
        reporter.error(fmt::format("--max-age '{}': expected a duration like 30d, 12h, 90m or 45s (at most 100 years)",
                                   max_age));
        return kExitUsage;
      }
    }
    return run_enrich(global, eo);
  }
  if (campaigns->parsed()) return run_campaigns(global, campaigns_sandbox);
  if (leads->parsed()) {
    NumberCheck check{reporter};
    std::size_t n = 0;
    check.whole("--limit", leads_limit, 1, 1'000'000'000'000, "leads", n);
    if (!check.ok) return kExitUsage;
    if (leads_limit) lo.limit = n;
    return run_leads(global, lo);
  }
  if (doctor->parsed()) return run_doctor(global, doctor_sandbox);
  if (sandbox->parsed()) {
    NumberCheck check{reporter};
    check.whole("--port", port_text, 0, 65535, "port", port);
    check.whole("--seed", seed_text, 0, 999'999'999'999'999'999, "seed", seed);
    if (!check.ok) return kExitUsage;
    return run_sandbox(global, port, seed);
  }
  if (runs->parsed()) return run_runs(global, runs_store, runs_sandbox);
  if (worker->parsed()) {
    if (worker_lease && !parse_lease(*worker_lease, reporter, wko.lease)) return kExitUsage;
    NumberCheck check{reporter};
    std::size_t n = 0;
    check.whole("--concurrency", worker_concurrency, 1, 100'000, "records", n);
    if (!check.ok) return kExitUsage;
    if (worker_concurrency) wko.concurrency = n;
    return run_worker_command(global, wko);
  }
  if (mcp->parsed()) {
    NumberCheck check{reporter};
    long long latency = 0;
    check.whole("--sandbox-latency-ms", mcp_latency, 0, 600'000, "milliseconds", latency);
    check.whole("--max-leads", mcp_max_leads, 1, 100'000, "leads", mo.max_leads);
    if (!check.ok) return kExitUsage;
    mo.sandbox_latency = std::chrono::milliseconds(latency);
    return run_mcp(global, mo);
  }
  return kExitUsage;
}
