// leadenrich enrich: a campaign or a file in, JSON / CSV / JSONL out, with a summary.
#include <sys/stat.h>

#include <csignal>
#include <filesystem>

#include <fmt/format.h>

#include "commands.h"
#include "leadenrich/distributed.h"
#include "leadenrich/open_store.h"
#include "leadenrich/journal.h"
#include "leadenrich/work_queue.h"
#include "leadenrich/output.h"
#include "leadenrich/sources.h"
#include "signal_watcher.h"
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

// What a run enriched, as a person reads it, so a resume can check it continues the same work:
// "file /data/leads.csv (5120 bytes, modified 2026-11-25T02:00:00.123Z); signals news".
std::string fingerprint(const EnrichOptions& opts, const LeadSource& source, const Config& config) {
  std::string input;
  if (opts.input) {
    if (*opts.input == "-") return "";  // stdin cannot be read twice: no journal
    std::error_code ec;
    std::filesystem::path path = std::filesystem::absolute(*opts.input, ec);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return "";
    Timestamp mtime{std::chrono::milliseconds(static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 +
                                              st.st_mtim.tv_nsec / 1'000'000)};
    input = fmt::format("file {} ({} bytes, modified {})", path.string(), st.st_size, format_timestamp(mtime));
  } else {
    input = fmt::format("{} of agent {}", source.describe(), config.aturiya_agent_id);
  }
  std::string signals;
  for (Signal s : config.enabled_signals) signals += (signals.empty() ? "" : ",") + std::string(to_string(s));
  return fmt::format("{}; signals {}{}", input, signals, opts.limit ? fmt::format("; limit {}", *opts.limit) : "");
}

struct Output {
  OutputFormat format;
  std::unique_ptr<AtomicFile> file;
  std::unique_ptr<LeadWriter> writer;
};

// Files under --output-dir (or -o), or JSON lines on stdout with -o -.
Result<std::vector<Output>> open_outputs(const EnrichOptions& opts) {
  std::vector<Output> outputs;
  OutputShape shape = opts.shape == "original" ? OutputShape::kOriginal : OutputShape::kLeadenrich;
  if (opts.output && *opts.output == "-") {
    Output out{OutputFormat::kJsonl, AtomicFile::standard_output(), nullptr};
    out.writer = make_writer(OutputFormat::kJsonl, out.file->stream(), shape);
    outputs.push_back(std::move(out));
    return outputs;
  }
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
    if (!file.ok()) return file.status();
    Output out{f, std::move(file).value(), nullptr};
    out.writer = make_writer(f, out.file->stream(), shape);
    outputs.push_back(std::move(out));
  }
  return outputs;
}

// Errors a journaled run can meet before it starts enriching that are the user's to fix (an
// unknown run id, another input, a run busy in another process); any other is the store's.
int journal_start_exit_code(const Status& st) {
  switch (st.code()) {
    case StatusCode::kNotFound:
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
      return kExitUsage;
    default:
      return kExitStore;
  }
}

struct DistributedOutcome {
  std::string run_id;
  RunSummary summary;
  bool collected = false;  ///< false: stopped before every chunk was done
};

// --distributed: the input goes into the store's work queue in chunks; this process works on
// them too, then writes every lead in input order. The first signal releases the chunk at hand.
Result<DistributedOutcome> enrich_distributed(Enricher& enricher, LeadSource& source,
                                              const std::function<void(EnrichedLead&&)>& write,
                                              const std::string& input_id, const EnrichOptions& opts,
                                              const EngineOptions& eopts,
                                              const std::function<void(const std::string&, const Status&)>& on_bad_row,
                                              const Reporter& reporter) {
  Result<DistributedSpec> spec = distributed_spec(eopts);
  if (!spec.ok()) return spec.status();
  SubmitOptions so;
  so.input = input_id;
  so.resume = opts.resume;
  so.chunk_size = opts.chunk_size;
  so.on_bad_row = on_bad_row;
  Result<Submitted> submitted = submit_distributed(*enricher.store(), source, *spec, so);
  if (!submitted.ok()) return submitted.status();
  // The command that joins this run, as the user would type it (a password shown as ***).
  std::string worker = "leadenrich worker";
  if (opts.sandbox) worker += " --sandbox";
  if (opts.store_path) worker += " --store " + store_display_name(*opts.store_path);
  reporter.info(fmt::format("distributed run {}{}: {} leads in {} chunks; add workers with `{}`", submitted->run_id,
                            submitted->resumed ? " (resumed)" : "", submitted->leads, submitted->chunks, worker));
  if (submitted->unfinished) {
    // Its chunks stay in the queue, and workers take the oldest run first.
    reporter.warn(fmt::format("an unfinished run over this input exists ({} leads done): workers finish its chunks "
                              "first; add --resume {} --distributed to collect it instead of starting over",
                              submitted->unfinished->leads_done, submitted->unfinished->id));
  }
  WorkerOptions wo;
  wo.lease = opts.lease;
  wo.abandon = eopts.cancel;
  wo.engine.mode = eopts.mode;
  wo.engine.max_records_in_flight = eopts.max_records_in_flight;
  DistributedOutcome out;
  out.run_id = submitted->run_id;
  Result<CollectSummary> collected = collect_distributed(enricher, submitted->run_id, write, wo);
  if (!collected.ok()) return Status(collected.status().code(), fmt::format("run {}: {}", out.run_id,
                                                                            collected.status().message()))
                           .with_provider(collected.status().provider());
  out.collected = !collected->stopped;
  out.summary = collected->totals;
  out.summary.bad_rows = submitted->bad_rows;
  return out;
}

}  // namespace

int run_enrich(const GlobalOptions& global, const EnrichOptions& opts) {
  Reporter reporter(global);
  SignalWatcher signals(reporter);  // first: before connect() starts any thread
  // A closed stdout (`-o - | head`) is a write error reported once, not a silent SIGPIPE death.
  std::signal(SIGPIPE, SIG_IGN);
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

  // The journal needs the store and an input that can be read again.
  std::shared_ptr<Store> store = conn->store;
  std::string input_id = store ? fingerprint(opts, limited, conn->config) : "";
  if (opts.resume && input_id.empty()) {
    reporter.error("--resume needs the store and a file or campaign input (not --no-cache, not stdin)");
    return kExitUsage;
  }
  if (opts.resume && !opts.distributed && store && store->work_queue() != nullptr) {
    // Its chunks may be with workers right now: only a distributed resume waits for them.
    Result<std::optional<DistributedRun>> d = store->work_queue()->distributed_run(*opts.resume);
    if (d.ok() && d->has_value()) {
      reporter.error(fmt::format("run {} is a distributed run: add --distributed to resume it", *opts.resume));
      return kExitUsage;
    }
  }
  if (opts.distributed && !opts.dry_run && (input_id.empty() || store->work_queue() == nullptr)) {
    reporter.error("--distributed needs a store that processes share (a SQLite file or PostgreSQL, not --no-cache) "
                   "and a file or campaign input (not stdin)");
    return kExitUsage;
  }

  EngineOptions eopts;
  eopts.signals = conn->config.enabled_signals;
  eopts.mode = opts.mode;
  if (opts.concurrency) eopts.max_records_in_flight = *opts.concurrency;
  eopts.budget_credits = opts.budget;
  eopts.max_age = opts.max_age;
  eopts.sandbox = opts.sandbox || conn->config.pipe0_environment == Pipe0Environment::kSandbox;
  auto cancel = std::make_shared<CancellationToken>();
  eopts.cancel = cancel;

  if (opts.dry_run) {  // with --resume: what resuming would still do
    JournalOptions journal;
    journal.input = input_id;
    journal.resume = opts.resume;
    Result<Plan> plan = opts.resume ? plan_journaled(*conn->enricher, limited, journal, eopts)
                                    : conn->enricher->plan(limited, eopts);
    if (!plan.ok()) {
      reporter.error(plan.status().message());
      return opts.resume ? journal_start_exit_code(plan.status()) : exit_code_for(plan.status());
    }
    reporter.plan(*plan, conn->config);
    return plan->bad_rows > 0 ? kExitPartial : kExitOk;
  }

  // The outputs, opened before the journal begins a run, so that an output that cannot be
  // written never leaves a run behind.
  Result<std::vector<Output>> opened = open_outputs(opts);
  if (!opened.ok()) {
    reporter.error(opened.status().message());
    return kExitUsage;
  }
  std::vector<Output> outputs = std::move(opened).value();

  Status write_error;  // the first one only: one line, with the system's reason
  // True when `st` is fine; otherwise keeps the first error (with the system's reason) and stops the run.
  auto write_ok = [&](Output& out, const Status& st) {
    if (st.ok()) return true;
    Status why = out.file->write_status();
    write_error = why.ok() ? Status(st.code(), fmt::format("{}: {}", out.file->path(), st.message())) : why;
    cancel->cancel();  // nowhere to put the results: stop spending
    return false;
  };
  std::size_t delivered = 0, failed_leads = 0, unfinished = 0;
  auto write = [&](EnrichedLead&& lead) {
    if (unfinished_by_cancel(lead)) {  // (the journaled run never passes these on)
      ++unfinished;
      return;
    }
    ++delivered;
    for (Signal s : kAllSignals) {
      if (lead.result(s).status == SignalStatus::kFailed) {
        ++failed_leads;
        break;
      }
    }
    if (!write_error.ok()) return;
    for (Output& out : outputs) {
      if (!write_ok(out, out.writer->write(lead))) return;
    }
  };
  // JSON lines leave after each engine step, so `-o -` and a file being tailed show each lead as
  // soon as its burst is done, without a write(2) per lead.
  auto flush_outputs = [&] {
    for (Output& out : outputs) {
      if (!write_error.ok() || !write_ok(out, out.writer->flush())) return;
    }
  };
  auto on_bad_row = [&](const std::string& location, const Status& st) {
    reporter.end_progress();
    reporter.warn(fmt::format("{}: {} (skipped)", location, st.message()));
  };
  eopts.progress = [&](const Progress& p) {
    flush_outputs();
    reporter.progress(p);
  };

  if (opts.distributed) {
    signals.enriching(cancel, "what is finished stays journaled, the rest goes back to the queue; `--resume` the run "
                              "to collect it (again to stop at once)");
  } else {
    signals.enriching(cancel);
  }
  reporter.info(fmt::format("enriching {} with {}{}", limited.describe(),
                            [&] {
                              std::string names;
                              for (Signal s : eopts.signals) names += (names.empty() ? "" : ", ") + std::string(to_string(s));
                              return names;
                            }(),
                            eopts.sandbox ? " (sandbox data)" : ""));

  Result<RunSummary> summary = Status(StatusCode::kUnknown, "not run");
  std::string run_id;
  std::size_t from_journal = 0;
  Status journal_error;
  RunState state = RunState::kFinished;
  bool collected = true;
  if (opts.distributed) {
    Result<DistributedOutcome> d = enrich_distributed(*conn->enricher, limited, write, input_id, opts, eopts,
                                                      on_bad_row, reporter);
    if (!d.ok()) {
      reporter.error(d.status().message());
      return journal_start_exit_code(d.status());
    }
    run_id = d->run_id;
    summary = d->summary;
    collected = d->collected;
    state = collected ? RunState::kFinished : RunState::kRunning;
  } else if (!input_id.empty()) {
    JournalOptions journal;
    journal.input = input_id;
    journal.resume = opts.resume;
    journal.on_start = [&](const JournalStart& start) {
      run_id = start.run_id;
      if (start.resumed) {
        if (start.recovered_lookups > 0) {
          reporter.info(fmt::format("recovered {} lookups from pipe0 runs the interrupted run had submitted",
                                    start.recovered_lookups));
        }
        reporter.info(fmt::format("resuming {}: {} leads already done", run_id, start.from_journal));
      } else if (start.unfinished) {
        reporter.warn(fmt::format("an unfinished run over this input exists ({} leads done): add --resume {} to "
                                  "continue it and pay only for what it had not finished",
                                  start.unfinished->leads_done, start.unfinished->id));
      }
    };
    Result<JournaledSummary> js = enrich_journaled(*conn->enricher, limited, write, journal, eopts, on_bad_row);
    reporter.end_progress();
    if (!js.ok() && run_id.empty()) {
      reporter.error(js.status().message());
      return journal_start_exit_code(js.status());
    }
    if (js.ok()) {
      summary = js->summary;
      from_journal = js->from_journal;
      journal_error = js->journal;
      state = js->state;
      unfinished += js->unfinished;
    } else {
      summary = js.status();
      state = RunState::kFailed;
    }
  } else {
    summary = conn->enricher->enrich(limited, write, eopts, on_bad_row);
    reporter.end_progress();
  }

  if (!collected) {  // interrupted before every chunk was done: the workers go on
    reporter.warn(fmt::format("interrupted: nothing written; the workers go on with run {}: to collect it, "
                              "--resume {} --distributed",
                              run_id, run_id));
    return kExitPartial;
  }
  std::vector<std::string> written;
  for (Output& out : outputs) {
    if (!write_error.ok()) break;  // the broken output's temporary file is removed
    Status st = out.writer->finish();
    if (st.ok()) st = out.file->commit();
    if (!st.ok()) {
      Status why = out.file->write_status();
      write_error = why.ok() ? Status(st.code(), fmt::format("{}: {}", out.file->path(), st.message())) : why;
    } else if (out.file->path() != "stdout") {
      written.push_back(out.file->path());
    }
  }
  bool interrupted = summary.ok() && summary->cancelled && journal_error.ok() && write_error.ok();
  if (!journal_error.ok()) {
    reporter.error(fmt::format("{} (the run was stopped; free space or fix the store, then --resume {})",
                               journal_error.message(), run_id));
  }
  if (!write_error.ok()) reporter.error(write_error.message());
  if (!summary.ok()) reporter.error(fmt::format("{}: {}", limited.describe(), summary.status().message()));
  if (interrupted) {
    reporter.warn(fmt::format("interrupted: the output holds the {} leads finished before the interrupt{}", delivered,
                              unfinished > 0 ? fmt::format(", not the {} left unfinished", unfinished) : ""));
  }
  if (!run_id.empty() && state != RunState::kFinished) {
    reporter.warn(fmt::format("to complete this run: --resume {}", run_id));
  }
  if (from_journal > 0) {
    reporter.info(fmt::format("{} leads came from the journal of {}, {} were enriched now", from_journal, run_id,
                              delivered - from_journal));
  }
  if (summary.ok()) reporter.summary(*summary, written, eopts.sandbox);

  if (!journal_error.ok()) return kExitStore;
  if (!write_error.ok()) return kExitPartial;
  if (!summary.ok()) return exit_code_for(summary.status());
  if (summary->cancelled) return kExitPartial;
  // Nothing could be looked up because an API refused or was unreachable.
  if (summary->lookups > 0 && summary->billed_lookups == 0 && failed_leads == delivered && delivered > 0) {
    return kExitUpstream;
  }
  return (failed_leads > 0 || summary->bad_rows > 0) ? kExitPartial : kExitOk;
}

}  // namespace leadenrich::cli
