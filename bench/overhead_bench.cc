// overhead_bench: leadenrich's own cost per lead — parse the file, plan, merge, write JSON lines
// — with pipe0 answered in-process and instantly, so nothing but our code is measured; and the
// peak memory of streaming a large file (with --store it barely grows with the file; without a
// store every answer stays in memory so nothing is paid for twice).
//
//   overhead_bench [--leads 100000] [--companies 2000] [--linkedin-share 0.7] [--store] [--dir /tmp]
//
// The fake pipe0 builds real run objects (the sandbox's answers) from each request; the time
// spent building them is measured and taken out of the figures. Every figure is CPU time (wall
// time on a shared machine counts the time spent waiting for a core).
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "internal/sandbox_data.h"
#include "leadenrich/engine.h"
#include "leadenrich/output.h"
#include "leadenrich/pipe0.h"
#include "leadenrich/sources.h"
#include "leadenrich/sqlite_store.h"
#include "leadenrich/store.h"
#include "leadenrich/transport.h"

using namespace leadenrich;
using Steady = std::chrono::steady_clock;

namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

// CPU time of the calling thread: the writer runs on the engine's thread, and on a shared
// machine wall time would count the time spent waiting for a core.
double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// Streams `n` synthetic leads to a JSON lines file, never holding them in memory.
bool write_input(const std::filesystem::path& path, long n, long companies, double linkedin_share) {
  std::ofstream out(path, std::ios::binary);
  if (!out) return false;
  for (long i = 0; i < n; ++i) {
    long c = i % companies;
    RawLead l;
    l.lead_id = fmt::format("lead-{:07d}", i);
    l.name = fmt::format("Person {}", i);
    l.designation = "Head of Operations";
    l.organization = fmt::format("Company {}", c);
    l.email = fmt::format("person{}@company{}.com", i, c);
    if (i % 2 == 0) l.website = fmt::format("https://www.company{}.com/", c);
    if (static_cast<double>((i * 7919) % 100) < linkedin_share * 100) {
      l.linkedin_url = fmt::format("https://www.linkedin.com/in/person-{}", i);
    }
    out << to_json(l).dump() << '\n';
  }
  return static_cast<bool>(out);
}

// pipe0, answered in-process on the caller's thread (the engine's, so no locking): every
// request gets a completed run object with the sandbox's deterministic fields for each record
// and pipe. Unlike testing::FakeTransport it keeps nothing, so memory figures are the engine's.
class InstantPipe0 : public HttpTransport {
 public:
  HttpOutcome send(const HttpRequest& request) override { return answer(request); }
  void send_async(HttpRequest request, std::function<void(HttpOutcome)> done) override { done(answer(request)); }
  double seconds() const { return seconds_; }

 private:
  HttpOutcome answer(const HttpRequest& req) {
    double start = thread_cpu_seconds();  // answered on the engine's thread: its CPU time is the fake's
    ++requests_;
    HttpOutcome o;
    Json body = Json::parse(req.body).value();
    std::vector<const internal::SandboxPipe*> pipes;
    for (const Json& p : body.find("pipes")->as_array()) {
      pipes.push_back(internal::find_sandbox_pipe(p.find("pipe_id")->as_string()));
    }
    Json::Array order;
    Json::Object records;
    for (const Json& in : body.find("input")->as_array()) {
      std::string id = in.find("id")->to_text();
      Json::Object fields;
      for (const auto& [k, v] : in.as_object()) {
        if (k == "id") continue;
        Json::Object f{{"value", v}, {"status", Json("completed")}, {"type", Json("string")},
                       {"resolved_by", Json(Json::Object{{"ref", Json("input")}})}};
        fields.emplace_back(k, Json(std::move(f)));
      }
      for (const internal::SandboxPipe* pipe : pipes) {
        bool billed = false;
        std::string key;
        for (auto& kv : internal::sandbox_fields(7, *pipe, in.as_object(), billed, key)) fields.push_back(std::move(kv));
      }
      order.emplace_back(id);
      records.emplace_back(id, Json(Json::Object{{"id", Json(id)}, {"fields", Json(std::move(fields))}}));
    }
    Json run(Json::Object{{"id", Json(fmt::format("run{:08d}", requests_))},
                          {"status", Json("completed")},
                          {"order", Json(std::move(order))},
                          {"errors", Json(Json::Array{})},
                          {"records", Json(std::move(records))}});
    HttpHeaders headers;
    headers.add("X-Task-Priority", "1");
    headers.add("X-P1-Capacity", "1000");
    headers.add("X-P2-Capacity", "2000");
    headers.add("X-P3-Capacity", "3000");
    o.response = HttpResponse{req.url.ends_with("/run") ? 201 : 200, std::move(headers), run.dump()};
    seconds_ += thread_cpu_seconds() - start;
    return o;
  }

  double seconds_ = 0;
  std::size_t requests_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"overhead_bench: leadenrich's own cost per lead and memory when streaming"};
  long leads_n = 100'000, companies = 2'000;
  double linkedin = 0.7;
  std::string dir = std::filesystem::temp_directory_path().string();
  std::string mode = "sync";
  bool with_store = false;
  app.add_option("--leads", leads_n)->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--companies", companies)->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--linkedin-share", linkedin, "Share of leads with a LinkedIn URL (all distinct)")->capture_default_str();
  app.add_option("--mode", mode)->check(CLI::IsMember({"sync", "async"}))->capture_default_str();
  app.add_flag("--store", with_store, "Use a SQLite store (a new file in --dir), as the CLI does by default");
  app.add_option("--dir", dir, "Where the input and output files go")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::filesystem::path input = std::filesystem::path(dir) / fmt::format("overhead_bench_{}.jsonl", ::getpid());
  std::filesystem::path output = std::filesystem::path(dir) / fmt::format("overhead_bench_{}.out.jsonl", ::getpid());
  if (!write_input(input, leads_n, companies, linkedin)) {
    fmt::print(stderr, "overhead_bench: cannot write {} (--dir must be a writable folder)\n", input.string());
    return 2;
  }
  double input_mib = static_cast<double>(std::filesystem::file_size(input)) / (1024.0 * 1024.0);
  double rss_before = peak_rss_mib();

  // 1. Reading alone: the JSON lines source, one lead at a time.
  double cpu0 = cpu_seconds();
  std::size_t read = 0;
  {
    auto source = open_file_source(input.string()).value();
    while (auto item = source->next()) read += item->lead.ok() ? 1 : 0;
  }
  double read_cpu = cpu_seconds() - cpu0;

  // 2. The whole pipeline: read, plan, dedupe, build requests, parse answers, merge, write.
  Config config;
  config.pipe0_base_url = "http://pipe0.invalid";
  config.pipe0_api_key = Secret("bench-key");
  auto pipe0_answers = std::make_shared<InstantPipe0>();
  auto pipe0 = make_pipe0_connection(pipe0_options(config), pipe0_answers).value();
  std::filesystem::path store_path = std::filesystem::path(dir) / fmt::format("overhead_bench_{}.db", ::getpid());
  std::shared_ptr<Store> store;
  if (with_store) store = open_sqlite_store({store_path.string()}).value();
  Enricher enricher(config, pipe0, store);
  EngineOptions opts;
  opts.mode = parse_run_mode(mode).value();
  opts.max_records_in_flight = 1000;

  std::ofstream out(output, std::ios::binary);
  auto writer = make_writer(OutputFormat::kJsonl, out);
  auto source = open_file_source(input.string()).value();
  double write_seconds = 0;
  std::size_t written = 0;
  auto wall0 = Steady::now();
  cpu0 = cpu_seconds();
  opts.progress = [&](const Progress&) {  // as the CLI does: JSON lines leave after each engine step
    double w0 = thread_cpu_seconds();
    ignore_error(writer->flush(), "a failed stream shows in finish() below");
    write_seconds += thread_cpu_seconds() - w0;
  };
  // Reading the thread's CPU clock is a system call (about 0.4 µs): around every lead it cost more
  // than a tenth of what is measured, so one lead in kTimedEvery is timed and the writing time
  // is scaled up from them (the leads are alike).
  constexpr std::size_t kTimedEvery = 16;
  double timed_write_seconds = 0;
  std::size_t timed = 0;
  Result<RunSummary> summary = enricher.enrich(*source, [&](EnrichedLead&& lead) {
    if (written % kTimedEvery != 0) {
      if (writer->write(lead).ok()) ++written;
      return;
    }
    double w0 = thread_cpu_seconds();
    if (writer->write(lead).ok()) ++written;
    timed_write_seconds += thread_cpu_seconds() - w0;
    ++timed;
  }, opts);
  if (timed > 0) write_seconds += timed_write_seconds * static_cast<double>(written) / static_cast<double>(timed);
  Status finished = writer->finish();
  double run_cpu = cpu_seconds() - cpu0;
  double wall = std::chrono::duration<double>(Steady::now() - wall0).count();
  out.close();
  double output_mib = static_cast<double>(std::filesystem::file_size(output)) / (1024.0 * 1024.0);
  std::filesystem::remove(input);
  std::filesystem::remove(output);
  store.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(store_path.string() + suffix);
  if (!summary.ok() || !finished.ok()) {
    fmt::print(stderr, "overhead_bench: {}\n", summary.ok() ? finished.to_string() : summary.status().to_string());
    return 1;
  }

  auto per_lead_us = [&](double seconds) { return 1e6 * seconds / static_cast<double>(leads_n); };
  double ours = run_cpu - pipe0_answers->seconds();
  fmt::print("leads {}  companies {}  people {}  mode {}  store {}  input {:.1f} MiB  output {:.1f} MiB\n", leads_n,
             summary->companies, summary->people, mode, with_store ? "sqlite" : "none", input_mib, output_mib);
  fmt::print("read alone          {:>8.2f} µs/lead  ({} leads read)\n", per_lead_us(read_cpu), read);
  fmt::print("whole run, CPU      {:>8.2f} µs/lead  wall {:.2f} s, {} pipe0 requests, {} records\n",
             per_lead_us(run_cpu), wall, summary->requests, summary->records_sent);
  fmt::print("  fake pipe0        {:>8.2f} µs/lead  (building its answers; not ours, taken out below)\n",
             per_lead_us(pipe0_answers->seconds()));
  fmt::print("  JSONL writing     {:>8.2f} µs/lead  (CPU; one lead in {} timed)\n", per_lead_us(write_seconds), kTimedEvery);
  fmt::print("leadenrich overhead {:>8.2f} µs/lead  (read + plan + requests + parse + merge + write)\n",
             per_lead_us(ours));
  fmt::print("peak RSS            {:>8.1f} MiB  (before the run {:.1f} MiB)\n", peak_rss_mib(), rss_before);
  fmt::print("leads out           {} of {}\n", written, leads_n);
  return written == static_cast<std::size_t>(leads_n) ? 0 : 1;
}
