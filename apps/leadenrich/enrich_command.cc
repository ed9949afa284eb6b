// leadenrich enrich: a campaign or a file in, JSON / CSV / JSONL out, with a summary.
#include <csignal>
#include <deque>
#include <filesystem>
#include <map>
#include <iostream>

#include <fmt/format.h>

#include "commands.h"
#include "leadenrich/output.h"
#include "leadenrich/sources.h"
#include "wiring.h"

namespace leadenrich::cli {
namespace {

// Stops after `limit` good leads, so a limit applies while reading (bad rows do not count).
class LimitSource : public LeadSource {
 public:
  LimitSource(std::unique_ptr<LeadSource> inner, std::optional<std::size_t> limit)
      : inner_(std::move(inner)), limit_(limit) {}
  std::optional<SourceItem> next() override {
    if (limit_ && taken_ >= *limit_) return std::nullopt;
    std::optional<SourceItem> item = inner_->next();
    if (item && item->lead.ok()) ++taken_;
    return item;
  }
  std::string describe() const override { return inner_->describe(); }

 private:
  std::unique_ptr<LeadSource> inner_;
  std::optional<std::size_t> limit_;
  std::size_t taken_ = 0;
};

// Numbers good leads in input order, and holds back those a resumed run already finished.
class IndexedSource : public LeadSource {
 public:
  IndexedSource(LeadSource& inner, const std::map<std::size_t, EnrichedLead>& done) : inner_(inner), done_(done) {}
  std::optional<SourceItem> next() override {
    while (std::optional<SourceItem> item = inner_.next()) {
      if (!item->lead.ok()) return item;
      std::size_t index = next_index_++;
      if (done_.count(index) != 0) continue;
      passed_.push_back(index);
      return item;
    }
    return std::nullopt;
  }
  std::string describe() const override { return inner_.describe(); }
  /// The input index of the next lead the engine delivers (it delivers in order).
  std::size_t pop_index() {
    std::size_t i = passed_.front();
    passed_.pop_front();
    return i;
  }

 private:
  LeadSource& inner_;
  const std::map<std::size_t, EnrichedLead>& done_;
  std::size_t next_index_ = 0;
  std::deque<std::size_t> passed_;
};

// What a run enriched, so a resume can check it is continuing the same work.
std::string fingerprint(const EnrichOptions& opts, const LeadSource& source, const Config& config) {
  std::string input;
  if (opts.input) {
    if (*opts.input == "-") return "";  // stdin cannot be read twice: no journal
    std::error_code ec;
    std::filesystem::path path = std::filesystem::absolute(*opts.input, ec);
    auto size = std::filesystem::file_size(path, ec);
    auto mtime = std::filesystem::last_write_time(path, ec).time_since_epoch().count();
    input = fmt::format("file {} ({} bytes, modified {})", path.string(), size, mtime);
  } else {
    input = fmt::format("{} of agent {}", source.describe(), config.aturiya_agent_id);
  }
  std::string signals;
  for (Signal s : config.enabled_signals) signals += (signals.empty() ? "" : ",") + std::string(to_string(s));
  return fmt::format("{}; signals {}{}", input, signals, opts.limit ? fmt::format("; limit {}", *opts.limit) : "");
}

std::shared_ptr<CancellationToken> g_cancel;

void on_interrupt(int) {
  if (g_cancel) g_cancel->cancel();
}

struct Output {
  OutputFormat format;
  std::string path;  // "-" for stdout
  std::unique_ptr<AtomicFile> file;
  std::unique_ptr<LeadWriter> writer;
};

}  // namespace

int run_enrich(const GlobalOptions& global, const EnrichOptions& opts) {
  Reporter reporter(global);
  if (opts.campaign_id && opts.input) {
    reporter.error("give either --campaign-id or --input, not both");
    return kExitUsage;
  }

  ConnectOptions connect_options;
  connect_options.sandbox = opts.sandbox;
  connect_options.pipe0_environment = opts.pipe0_environment;
  connect_options.need_aturiya = !opts.input.has_value();
  connect_options.need_pipe0 = !opts.dry_run;
  connect_options.store_path = opts.store_path;
  connect_options.no_cache = opts.no_cache;
  connect_options.signals = opts.signals;
  connect_options.need_store = true;
  Result<Connections> conn = connect(global, connect_options, reporter);
  if (!conn.ok()) {
    reporter.error(conn.status().message());
    return exit_code_for(conn.status());
  }

  // The source.
  std::unique_ptr<LeadSource> source;
  if (opts.input) {
    FileSourceOptions fopts;
    fopts.format = opts.input_format;
    fopts.column_map = opts.column_map;
    fopts.delimiter = opts.delimiter;
    Result<std::unique_ptr<LeadSource>> file = open_file_source(*opts.input, fopts);
    if (!file.ok()) {
      reporter.error(file.status().message());
      return kExitUsage;
    }
    source = std::move(file).value();
  } else {
    Result<std::unique_ptr<LeadSource>> campaign = aturiya_source(*conn, opts.campaign_id, opts.limit, reporter);
    if (!campaign.ok()) {
      reporter.error(campaign.status().message());
      return exit_code_for(campaign.status());
    }
    source = std::move(campaign).value();
  }
  LimitSource limited(std::move(source), opts.limit);

  // The journal: a run id, the leads it finished, and (for --resume) what it had finished before.
  std::shared_ptr<Store> store = conn->store;
  std::string input_id = store ? fingerprint(opts, limited, conn->config) : "";
  std::map<std::size_t, EnrichedLead> done;
  std::string run_id;
  if (opts.resume) {
    if (!store || input_id.empty()) {
      reporter.error("--resume needs the store and a file or campaign input (not --no-cache, not stdin)");
      return kExitUsage;
    }
    Result<RunRecord> previous = store->run(*opts.resume);
    if (!previous.ok()) {
      reporter.error(previous.status().message());
      return kExitUsage;
    }
    if (previous->input != input_id) {
      reporter.error(fmt::format("run {} was over {}, not over this input", *opts.resume, previous->input));
      return kExitUsage;
    }
    Result<std::vector<std::pair<std::size_t, EnrichedLead>>> finished = store->run_leads(*opts.resume);
    if (!finished.ok()) {
      reporter.error(finished.status().message());
      return exit_code_for(finished.status());
    }
    for (auto& [index, lead] : *finished) done.emplace(index, std::move(lead));
    run_id = *opts.resume;
    if (!opts.dry_run) {
      Result<std::size_t> recovered = conn->enricher->recover_submissions(run_id, std::chrono::minutes(5));
      if (recovered.ok() && *recovered > 0) {
        reporter.info(fmt::format("recovered {} lookups from pipe0 runs the interrupted run had submitted", *recovered));
      }
    }
    reporter.info(fmt::format("resuming {}: {} leads already done", run_id, done.size()));
  } else if (store && !input_id.empty() && !opts.dry_run) {
    Result<std::optional<RunRecord>> unfinished = store->find_unfinished_run(input_id);
    if (unfinished.ok() && unfinished->has_value()) {
      reporter.warn(fmt::format("an unfinished run over this input exists ({} leads done): add --resume {} to "
                                "continue it and pay only for what it had not finished",
                                (*unfinished)->leads_done, (*unfinished)->id));
    }
    Result<std::string> begun = store->begin_run(input_id, system_clock()->now());
    if (!begun.ok()) {
      reporter.error(begun.status().message());
      return exit_code_for(begun.status());
    }
    run_id = *begun;
  }
  IndexedSource indexed(limited, done);

  EngineOptions eopts;
  eopts.journal_run_id = run_id;
  eopts.signals = conn->config.enabled_signals;
  eopts.mode = opts.mode;
  if (opts.concurrency) eopts.max_records_in_flight = *opts.concurrency;
  eopts.budget_credits = opts.budget;
  eopts.max_age = opts.max_age;
  eopts.sandbox = opts.sandbox || conn->config.pipe0_environment == Pipe0Environment::kSandbox;
  g_cancel = std::make_shared<CancellationToken>();
  eopts.cancel = g_cancel;
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);

  if (opts.dry_run) {
    Result<Plan> plan = conn->enricher->plan(indexed, eopts);
    if (!plan.ok()) {
      reporter.error(plan.status().message());
      return exit_code_for(plan.status());
    }
    reporter.plan(*plan, conn->config);
    return plan->bad_rows > 0 ? kExitPartial : kExitOk;
  }

  // The outputs: files under --output-dir, or JSON lines on stdout with -o -.
  std::vector<Output> outputs;
  if (opts.output && *opts.output == "-") {
    outputs.push_back(Output{OutputFormat::kJsonl, "-", nullptr, make_writer(OutputFormat::kJsonl, std::cout)});
  } else {
    std::vector<OutputFormat> formats;
    if (opts.format == "both") formats = {OutputFormat::kJson, OutputFormat::kCsv};
    else if (opts.format == "json") formats = {OutputFormat::kJson};
    else if (opts.format == "csv") formats = {OutputFormat::kCsv};
    else formats = {OutputFormat::kJsonl};
    for (OutputFormat f : formats) {
      std::string path = opts.output && formats.size() == 1
                             ? *opts.output
                             : fmt::format("{}/enriched_leads.{}", opts.output_dir, extension(f));
      Result<std::unique_ptr<AtomicFile>> file = AtomicFile::create(path);
      if (!file.ok()) {
        reporter.error(file.status().message());
        return kExitUsage;
      }
      Output out{f, path, std::move(file).value(), nullptr};
      out.writer = make_writer(f, out.file->stream());
      outputs.push_back(std::move(out));
    }
  }

  Status write_error;
  std::size_t failed_leads = 0;
  auto write = [&](const EnrichedLead& lead) {
    for (Signal s : kAllSignals) {
      if (lead.result(s).status == SignalStatus::kFailed) {
        ++failed_leads;
        break;
      }
    }
    for (Output& out : outputs) {
      Status st = out.writer->write(lead);
      if (!st.ok() && write_error.ok()) {
        write_error = Status(st.code(), fmt::format("{}: {}", out.path == "-" ? "stdout" : out.path, st.message()));
        g_cancel->cancel();
      }
    }
  };
  auto done_cursor = done.begin();
  auto write_done_before = [&](std::size_t index) {
    for (; done_cursor != done.end() && done_cursor->first < index; ++done_cursor) write(done_cursor->second);
  };
  auto sink = [&](EnrichedLead&& lead) {
    std::size_t index = indexed.pop_index();
    write_done_before(index);
    write(lead);
    if (!run_id.empty()) {
      Status st = store->record_lead(run_id, index, lead, system_clock()->now());
      if (!st.ok()) reporter.warn(fmt::format("the journal could not record lead {}: {}", lead.lead.lead_id, st.message()));
    }
  };
  auto on_bad_row = [&](const std::string& location, const Status& st) {
    reporter.end_progress();
    reporter.warn(fmt::format("{}: {} (skipped)", location, st.message()));
  };
  eopts.progress = [&](const Progress& p) { reporter.progress(p); };

  reporter.info(fmt::format("enriching {} with {}{}", indexed.describe(),
                            [&] {
                              std::string names;
                              for (Signal s : eopts.signals) names += (names.empty() ? "" : ", ") + std::string(to_string(s));
                              return names;
                            }(),
                            eopts.sandbox ? " (sandbox data)" : ""));
  Result<RunSummary> summary = conn->enricher->enrich(indexed, sink, eopts, on_bad_row);
  reporter.end_progress();
  if (summary.ok() && !summary->cancelled) write_done_before(SIZE_MAX);
  if (!run_id.empty()) {
    RunState state = !summary.ok() ? RunState::kFailed : summary->cancelled ? RunState::kCancelled : RunState::kFinished;
    (void)store->finish_run(run_id, state, system_clock()->now());
    if (state != RunState::kFinished) reporter.warn(fmt::format("to continue this run: --resume {}", run_id));
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);

  std::vector<std::string> written;
  for (Output& out : outputs) {
    Status st = out.writer->finish();
    if (st.ok() && out.file && !(summary.ok() && summary->cancelled)) st = out.file->commit();
    if (!st.ok()) {
      reporter.error(fmt::format("{}: {}", out.path, st.message()));
      if (write_error.ok()) write_error = st;
    } else if (out.file && !(summary.ok() && summary->cancelled)) {
      written.push_back(out.path);
    }
  }
  if (!write_error.ok()) {
    reporter.error(write_error.message());
    return kExitPartial;
  }
  if (!summary.ok()) {
    reporter.error(fmt::format("{}: {}", indexed.describe(), summary.status().message()));
    return exit_code_for(summary.status());
  }
  if (summary->cancelled) {
    reporter.warn("the run was interrupted: no output file was written under its final name");
  }
  if (!done.empty()) {
    reporter.info(fmt::format("{} leads came from the journal of {}, {} were enriched now", done.size(), run_id, summary->leads));
    for (const auto& [index, lead] : done) {
      for (Signal sig : kAllSignals) {
        if (lead.result(sig).status == SignalStatus::kFailed) {
          ++failed_leads;
          break;
        }
      }
    }
  }
  reporter.summary(*summary, written, eopts.sandbox);
  // Nothing could be looked up because an API refused or was unreachable.
  if (summary->lookups > 0 && summary->billed_lookups == 0 && failed_leads == summary->leads && summary->leads > 0) {
    return kExitUpstream;
  }
  if (summary->cancelled) return kExitPartial;
  return (failed_leads > 0 || summary->bad_rows > 0) ? kExitPartial : kExitOk;
}

}  // namespace leadenrich::cli
