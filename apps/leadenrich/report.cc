#include <unistd.h>

#include <fmt/format.h>

#include "cli.h"
#include "leadenrich/store.h"
#include "leadenrich/json.h"

namespace leadenrich::cli {

Reporter::Reporter(const GlobalOptions& options) : options_(options), tty_(::isatty(STDERR_FILENO) == 1) {}

void Reporter::log(const char* level, const std::string& message) const {
  if (options_.log_format == LogFormat::kJson) {
    Json::Object line;
    line.emplace_back("level", Json(level));
    line.emplace_back("message", Json(message));
    fmt::print(stderr, "{}\n", Json(std::move(line)).dump());
  } else {
    fmt::print(stderr, "{}{}\n", std::string_view(level) == "info" ? "" : std::string(level) + ": ", message);
  }
}

void Reporter::info(const std::string& message) const {
  if (!options_.quiet) log("info", message);
}
void Reporter::warn(const std::string& message) const { log("warning", message); }
void Reporter::error(const std::string& message) const { log("error", message); }

void Reporter::progress(const Progress& p) {
  if (options_.quiet) return;
  auto now = std::chrono::steady_clock::now();
  auto interval = tty_ && options_.log_format == LogFormat::kText ? std::chrono::milliseconds(100)
                                                                   : std::chrono::milliseconds(5000);
  if (now - last_draw_ < interval) return;
  last_draw_ = now;
  std::string line = fmt::format("{} leads done of {} read, lookups {}/{}, cache hits {}, requests {}, in flight {}",
                                 p.leads_done, p.leads_read, p.lookups_done, p.lookups_planned, p.cache_hits,
                                 p.requests, p.records_in_flight);
  if (tty_ && options_.log_format == LogFormat::kText) {
    std::size_t width = 24;
    std::size_t filled = p.leads_read == 0 ? 0 : width * p.leads_done / p.leads_read;
    fmt::print(stderr, "\r[{}{}] {}\x1b[K", std::string(filled, '#'), std::string(width - filled, '.'), line);
    bar_drawn_ = true;
  } else {
    log("info", "progress: " + line);
  }
}

void Reporter::end_progress() {
  if (bar_drawn_) fmt::print(stderr, "\n");
  bar_drawn_ = false;
}

void Reporter::summary(const RunSummary& s, const std::vector<std::string>& outputs, bool sandbox) const {
  if (options_.log_format == LogFormat::kJson) {
    Json::Object o;
    o.emplace_back("leads", Json(static_cast<std::int64_t>(s.leads)));
    o.emplace_back("bad_rows", Json(static_cast<std::int64_t>(s.bad_rows)));
    o.emplace_back("companies", Json(static_cast<std::int64_t>(s.companies)));
    o.emplace_back("people", Json(static_cast<std::int64_t>(s.people)));
    Json::Object signals;
    for (Signal sig : kAllSignals) {
      Json::Object counts;
      for (SignalStatus st : {SignalStatus::kFound, SignalStatus::kNoResult, SignalStatus::kSkipped,
                              SignalStatus::kFailed, SignalStatus::kBudgetExhausted, SignalStatus::kDisabled}) {
        counts.emplace_back(std::string(to_string(st)), Json(static_cast<std::int64_t>(s.count(sig, st))));
      }
      signals.emplace_back(std::string(to_string(sig)), Json(std::move(counts)));
    }
    o.emplace_back("signals", Json(std::move(signals)));
    o.emplace_back("requests", Json(static_cast<std::int64_t>(s.requests)));
    o.emplace_back("cache_hits", Json(static_cast<std::int64_t>(s.cache_hits)));
    o.emplace_back("billed_lookups", Json(static_cast<std::int64_t>(s.billed_lookups)));
    o.emplace_back("estimated_credits", Json(s.estimated_credits));
    o.emplace_back("wall_time_ms", Json(static_cast<std::int64_t>(s.wall_time.count())));
    o.emplace_back("sandbox", Json(sandbox));
    Json::Array files;
    for (const auto& f : outputs) files.emplace_back(f);
    o.emplace_back("outputs", Json(std::move(files)));
    Json::Object line;
    line.emplace_back("level", Json("info"));
    line.emplace_back("summary", Json(std::move(o)));
    fmt::print(stderr, "{}\n", Json(std::move(line)).dump());
    return;
  }
  if (options_.quiet) return;
  std::string out;
  out += fmt::format("\nleadenrich summary{}\n", sandbox ? " (SANDBOX DATA: synthetic, not real companies)" : "");
  out += fmt::format("  leads        {:>7}   bad rows {}   without company or person {}\n", s.leads, s.bad_rows,
                     s.leads_without_identity);
  out += fmt::format("  distinct     {:>7} companies, {} people\n", s.companies, s.people);
  out += fmt::format("  {:<16} {:>7} {:>9} {:>7} {:>7} {:>8} {:>8}\n", "signal", "found", "no_result", "skipped",
                     "failed", "budget", "disabled");
  for (Signal sig : kAllSignals) {
    out += fmt::format("  {:<16} {:>7} {:>9} {:>7} {:>7} {:>8} {:>8}\n", to_string(sig),
                       s.count(sig, SignalStatus::kFound), s.count(sig, SignalStatus::kNoResult),
                       s.count(sig, SignalStatus::kSkipped), s.count(sig, SignalStatus::kFailed),
                       s.count(sig, SignalStatus::kBudgetExhausted), s.count(sig, SignalStatus::kDisabled));
  }
  out += fmt::format("  requests     {:>7}   records sent {}   retries {}   cache hits {}\n", s.requests, s.records_sent,
                     s.retries, s.cache_hits);
  out += fmt::format("  billed       {:>7} lookups, about {} credits{}\n", s.billed_lookups, s.estimated_credits,
                     s.budget_exhausted ? "  (budget reached)" : "");
  out += fmt::format("  wall time    {:>7.2f} s{}\n", static_cast<double>(s.wall_time.count()) / 1000.0,
                     s.cancelled ? "  (cancelled)" : "");
  for (const auto& f : outputs) out += fmt::format("  wrote        {}\n", f);
  fmt::print(stderr, "{}", out);
}

void Reporter::plan(const Plan& p, const Config& config) const {
  if (options_.log_format == LogFormat::kJson) {
    Json::Object o;
    o.emplace_back("leads", Json(static_cast<std::int64_t>(p.leads)));
    o.emplace_back("bad_rows", Json(static_cast<std::int64_t>(p.bad_rows)));
    o.emplace_back("companies", Json(static_cast<std::int64_t>(p.companies)));
    o.emplace_back("people", Json(static_cast<std::int64_t>(p.people)));
    o.emplace_back("records", Json(static_cast<std::int64_t>(p.records)));
    Json::Object lookups;
    for (Signal s : kAllSignals) {
      Json::Object one;
      one.emplace_back("lookups", Json(static_cast<std::int64_t>(p.lookups[static_cast<std::size_t>(s)])));
      one.emplace_back("cache_hits", Json(static_cast<std::int64_t>(p.cache_hits[static_cast<std::size_t>(s)])));
      one.emplace_back("skipped", Json(static_cast<std::int64_t>(p.skipped[static_cast<std::size_t>(s)])));
      lookups.emplace_back(std::string(to_string(s)), Json(std::move(one)));
    }
    o.emplace_back("signals", Json(std::move(lookups)));
    o.emplace_back("estimated_credits", Json(p.estimated_credits));
    Json::Object line;
    line.emplace_back("level", Json("info"));
    line.emplace_back("plan", Json(std::move(o)));
    fmt::print(stderr, "{}\n", Json(std::move(line)).dump());
    return;
  }
  std::string out = "dry run: nothing was sent and nothing was spent\n";
  out += fmt::format("  leads {}   bad rows {}   distinct companies {}   people {}\n", p.leads, p.bad_rows,
                     p.companies, p.people);
  out += fmt::format("  {:<16} {:>8} {:>10} {:>8} {:>9}\n", "signal", "lookups", "cache hits", "skipped", "credits");
  for (Signal s : kAllSignals) {
    std::size_t i = static_cast<std::size_t>(s);
    out += fmt::format("  {:<16} {:>8} {:>10} {:>8} {:>9}\n", to_string(s), p.lookups[i], p.cache_hits[i],
                       p.skipped[i], static_cast<double>(p.lookups[i]) * config.spec(s).credits_per_lookup);
  }
  out += fmt::format("  pipe0 records {}   estimated credits at most {}\n", p.records, p.estimated_credits);
  fmt::print(stderr, "{}", out);
}

int exit_code_for(const Status& status) {
  // The store's errors come in several codes (damaged, locked, a directory, newer); all of them
  // are fixed by the user on their own machine, never by retrying the API.
  if (status.provider() == kStoreProvider) return kExitStore;
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kNotFound:
      return kExitUsage;
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kResourceExhausted:
    case StatusCode::kDataLoss:
      return kExitUpstream;
    default:
      return kExitPartial;
  }
}

}  // namespace leadenrich::cli
