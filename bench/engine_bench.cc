// engine_bench: the engine against the in-process sandbox, with knobs, and the original
// pipeline's way (sync batches of 9 leads, one at a time, no dedupe) measured in the same run.
//
//   engine_bench [--leads 1000] [--companies 400] [--latency-ms 300] [--p1 150]
//                [--fail-5xx 0] [--fail-429 0] [--fail-truncated 0] [--fail-provider 0]
//                [--concurrency N] [--baseline] [--mode auto]
#include <chrono>
#include <set>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "leadenrich/engine.h"
#include "leadenrich/identity.h"
#include "leadenrich/pipe0.h"
#include "leadenrich/testing/sandbox.h"

using namespace leadenrich;
using WallClock = std::chrono::steady_clock;

namespace {

std::vector<RawLead> make_leads(int n, int companies, double linkedin_share) {
  std::vector<RawLead> leads;
  for (int i = 0; i < n; ++i) {
    RawLead l;
    l.lead_id = fmt::format("bench-{:06d}", i);
    int c = i % companies;
    l.name = fmt::format("Person {}", i);
    l.organization = fmt::format("Company {}", c);
    l.email = fmt::format("person{}@company{}.com", i, c);
    if (i % 2 == 0) l.website = fmt::format("https://www.company{}.com/", c);
    if (static_cast<double>((i * 7919) % 100) < linkedin_share * 100) {
      l.linkedin_url = fmt::format("https://www.linkedin.com/in/person-{}", i);
    }
    leads.push_back(std::move(l));
  }
  return leads;
}

struct Figures {
  double seconds = 0;
  std::size_t leads = 0;
  std::size_t records = 0;
  std::size_t requests = 0;
  std::size_t billed_company = 0;
  std::size_t billed_person = 0;
  std::size_t repeated = 0;
  std::size_t faults = 0;
  std::size_t peak = 0;
  std::size_t signals_found = 0;
  std::size_t runs = 0;
  std::size_t runs_below_p1 = 0;
};

Figures from_counters(const SandboxCounters& c, double seconds, std::size_t leads) {
  Figures f;
  f.seconds = seconds;
  f.leads = leads;
  f.records = c.records;
  f.requests = c.total_requests();
  for (const auto& [pipe, n] : c.billed) (pipe.rfind("people:", 0) == 0 ? f.billed_person : f.billed_company) += n;
  f.repeated = c.repeated_billing;
  f.peak = c.peak_records_in_flight;
  for (const auto& [kind, n] : c.faults) f.faults += n;
  for (const auto& [priority, n] : c.runs_by_priority) {
    f.runs += n;
    if (priority >= 2) f.runs_below_p1 += n;
  }
  return f;
}

void print(const char* name, const Figures& f, double limit) {
  double rps = static_cast<double>(f.records) / f.seconds;
  fmt::print("{:<9} {:>8.2f} s {:>9.1f} leads/s {:>9.1f} records/s ({:>5.1f}% of limit) {:>6} requests "
             "{:>6} records  billed company {:>5}  person {:>5}  repeated {:>5}  peak in flight {:>4}  "
             "faults {:>4}  signals found {:>6}  runs {:>4} (at P2 or worse {:>3})\n",
             name, f.seconds, static_cast<double>(f.leads) / f.seconds, rps, 100.0 * rps / limit, f.requests, f.records,
             f.billed_company, f.billed_person, f.repeated, f.peak, f.faults, f.signals_found, f.runs,
             f.runs_below_p1);
}

// The original pipeline: batches of 9 leads, one request at a time, every lead its own record
// with every pipe (no dedupe), waiting for each answer before sending the next.
Figures run_baseline(Sandbox& sandbox, const std::vector<RawLead>& leads, const Config& config) {
  auto pipe0 = make_pipe0_connection(pipe0_options(config), make_curl_transport()).value();
  sandbox.reset_counters();
  auto start = WallClock::now();
  std::size_t found = 0;
  for (std::size_t i = 0; i < leads.size(); i += 9) {
    Pipe0RunRequest req;
    for (const SignalSpec& s : config.signal_specs) req.pipes.push_back({s.pipe_id, s.required_inputs, Json()});
    for (std::size_t k = i; k < std::min(leads.size(), i + 9); ++k) {
      Json::Object in;
      CompanyIdentity id = company_identity(leads[k]);
      in.emplace_back("company_website_url", id.domain ? Json("https://" + *id.domain) : Json());
      in.emplace_back("company_name", leads[k].organization ? Json(*leads[k].organization) : Json());
      in.emplace_back("profile_url", leads[k].linkedin_url ? Json(*leads[k].linkedin_url) : Json());
      req.records.push_back({std::to_string(k - i + 1), in});
    }
    Result<Pipe0Response> r = pipe0->run_sync(req);
    if (!r.ok()) continue;
    // A signal is found for a lead when any output field of its pipe completed.
    for (const Pipe0Record& rec : r->run.records) {
      for (const SignalSpec& s : config.signal_specs) {
        bool any = false;
        for (const OutputField& o : s.outputs) {
          for (const std::string& n : o.names) {
            const Pipe0Field* f = rec.field(n);
            any = any || (f != nullptr && f->status == "completed");
          }
        }
        found += any ? 1 : 0;
      }
    }
  }
  double seconds = std::chrono::duration<double>(WallClock::now() - start).count();
  Figures f = from_counters(sandbox.counters(), seconds, leads.size());
  f.signals_found = found;
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"engine_bench: leadenrich's engine against the in-process sandbox"};
  int leads_n = 1000, companies = 400, p1 = 150;
  long long latency_ms = 300;
  double linkedin = 0.7, f5xx = 0, f429 = 0, ftrunc = 0, fprovider = 0;
  bool baseline = false;
  std::string mode = "auto";
  std::size_t concurrency = 0;
  app.add_option("--leads", leads_n)->capture_default_str();
  app.add_option("--companies", companies)->capture_default_str();
  app.add_option("--latency-ms", latency_ms)->capture_default_str();
  app.add_option("--p1", p1, "P1 capacity in records")->capture_default_str();
  app.add_option("--linkedin-share", linkedin, "Share of leads with a LinkedIn URL")->capture_default_str();
  app.add_option("--fail-5xx", f5xx)->capture_default_str();
  app.add_option("--fail-429", f429)->capture_default_str();
  app.add_option("--fail-truncated", ftrunc)->capture_default_str();
  app.add_option("--fail-provider", fprovider, "Share of record x pipe answered failed/ProviderError")
      ->capture_default_str();
  app.add_option("--mode", mode)->check(CLI::IsMember({"auto", "sync", "async"}))->capture_default_str();
  app.add_option("--concurrency", concurrency, "A ceiling on records in flight (default: none; the engine learns the capacity)");
  app.add_flag("--baseline", baseline, "Also run the original pipeline's way");
  CLI11_PARSE(app, argc, argv);

  SandboxOptions so;
  so.p1_capacity = p1;
  so.p2_capacity = p1 * 2;
  so.faults.latency = std::chrono::milliseconds(latency_ms);
  so.rate_limit_per_minute = 1'000'000;  // measure capacity pacing, not the request-rate limit
  so.threads = 256;
  std::unique_ptr<Sandbox> sandbox = Sandbox::start(so).value();
  Config config = sandbox->config();
  std::vector<RawLead> leads = make_leads(leads_n, companies, linkedin);
  std::set<std::string> distinct_companies, distinct_people;
  for (const RawLead& l : leads) {
    if (auto d = company_identity(l).domain) distinct_companies.insert(*d);
    if (l.linkedin_url) distinct_people.insert(normalize_linkedin_profile(*l.linkedin_url).value());
  }
  double limit = static_cast<double>(p1) / (static_cast<double>(latency_ms) / 1000.0);
  fmt::print("leads {}  distinct companies {}  distinct people {}  latency {} ms  P1 capacity {}  "
             "limit {:.0f} records/s  faults 5xx {} 429 {} truncated {}\n",
             leads.size(), distinct_companies.size(), distinct_people.size(), latency_ms, p1, limit, f5xx, f429, ftrunc);

  SandboxFaults faults = so.faults;
  faults.p_5xx = f5xx;
  faults.p_429 = f429;
  faults.p_truncated = ftrunc;
  faults.p_provider_error = fprovider;
  sandbox->set_faults(faults);

  Pipe0Options po = pipe0_options(config);
  auto pipe0 = make_pipe0_connection(po, make_curl_transport()).value();
  Enricher enricher(config, pipe0);
  EngineOptions opts;
  opts.mode = parse_run_mode(mode).value();
  opts.max_records_in_flight = concurrency;  // 0: learned from pipe0's capacity headers
  opts.retry.backoff.initial = std::chrono::milliseconds(50);
  auto start = WallClock::now();
  Result<std::vector<EnrichedLead>> out = enricher.enrich(leads, opts);
  double seconds = std::chrono::duration<double>(WallClock::now() - start).count();
  if (!out.ok()) {
    fmt::print(stderr, "engine_bench: {}\n", out.status().to_string());
    return 1;
  }
  Figures engine = from_counters(sandbox->counters(), seconds, out->size());
  std::size_t exactly_once = 0;
  for (std::size_t i = 0; i < out->size(); ++i) {
    exactly_once += (*out)[i].lead.lead_id == leads[i].lead_id ? 1 : 0;
    engine.signals_found += (*out)[i].signals_found.size();
  }
  print("engine", engine, limit);
  // Lookups (entity x signal) that ended failed, against all the run looked up.
  std::set<std::string> looked_up, failed;
  for (const EnrichedLead& e : *out) {
    for (Signal s : kAllSignals) {
      const SignalResult& r = e.result(s);
      if (r.status == SignalStatus::kSkipped || r.status == SignalStatus::kDisabled) continue;
      const std::optional<std::string>& key = config.spec(s).level == SignalLevel::kCompany ? e.company_key : e.person_key;
      if (!key) continue;
      std::string id = *key + "/" + std::string(to_string(s));
      looked_up.insert(id);
      if (r.status == SignalStatus::kFailed) failed.insert(id);
    }
  }
  fmt::print("          lookups ended failed: {} of {} ({:.3f}%)\n", failed.size(), looked_up.size(),
             100.0 * static_cast<double>(failed.size()) / static_cast<double>(std::max<std::size_t>(1, looked_up.size())));
  SandboxCounters counters = sandbox->counters();
  fmt::print("          every lead out once, in order: {} of {}\n", exactly_once, leads.size());
  for (const SignalSpec& s : config.signal_specs) {
    fmt::print("          {:<32} looked up {:>5}  billed {:>5}  (distinct {} {})\n", s.pipe_id, counters.lookups[s.pipe_id],
               counters.billed[s.pipe_id], s.level == SignalLevel::kCompany ? "companies" : "people",
               s.level == SignalLevel::kCompany ? distinct_companies.size() : distinct_people.size());
  }
  if (baseline) {
    sandbox->set_faults(SandboxFaults{so.faults.latency, {}, 0, 0, 0, 0, 0});
    Figures base = run_baseline(*sandbox, leads, config);
    print("baseline", base, limit);
    fmt::print("speed-up {:.1f}x wall time; billed lookups {} vs {} ({:.1f}x fewer)\n", base.seconds / engine.seconds,
               engine.billed_company + engine.billed_person, base.billed_company + base.billed_person,
               static_cast<double>(base.billed_company + base.billed_person) /
                   static_cast<double>(std::max<std::size_t>(1, engine.billed_company + engine.billed_person)));
  }
  return exactly_once == leads.size() ? 0 : 1;
}
