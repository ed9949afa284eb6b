// store_ops_bench: what a store's hot operations cost, SQLite against PostgreSQL. For each store
// named, from --threads threads at once: get (a cache hit), put_many and acquire_leases of --batch
// keys (a pipe0 request's lookups), record_leads of --batch leads. Prints calls and rows per second.
//
//   store_ops_bench [--store PATH_OR_URI]... [--calls 500] [--batch 20] [--threads 4]
//   scripts/with_postgres.sh bash -c 'build/bench/store_ops_bench --store /tmp/b.db --store "$LEADENRICH_TEST_POSTGRES"'
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "leadenrich/open_store.h"
#include "leadenrich/store.h"

using namespace leadenrich;
using Steady = std::chrono::steady_clock;

namespace {

struct Bench {
  int calls = 500;
  int batch = 20;
  int threads = 4;
};

// Runs `op(thread, call)` calls × threads times and prints the rate.
void measure(const Bench& b, const char* name, const std::function<Status(int, int)>& op) {
  std::atomic<int> failures{0};
  std::string first_error;
  std::vector<std::thread> threads;
  auto start = Steady::now();
  for (int t = 0; t < b.threads; ++t) {
    threads.emplace_back([&, t] {
      for (int c = 0; c < b.calls; ++c) {
        if (Status st = op(t, c); !st.ok() && failures++ == 0) first_error = st.to_string();
      }
    });
  }
  for (auto& th : threads) th.join();
  double secs = std::chrono::duration<double>(Steady::now() - start).count();
  double calls = static_cast<double>(b.calls) * b.threads;
  fmt::print("  {:<16} {:>10.0f} calls/s", name, calls / secs);
  if (std::string_view(name) != "get") fmt::print(" {:>10.0f} rows/s", calls * b.batch / secs);
  fmt::print("\n");
  if (failures > 0) fmt::print(stderr, "  {} calls failed, the first: {}\n", failures.load(), first_error);
}

void run(const Bench& b, const std::string& name) {
  Result<std::shared_ptr<Store>> opened = open_store(name);
  if (!opened.ok()) {
    fmt::print(stderr, "{}\n", opened.status().to_string());
    std::exit(1);
  }
  std::shared_ptr<Store> store = *opened;
  fmt::print("{} ({} threads, batches of {})\n", store_display_name(name), b.threads, b.batch);
  const SignalSpec& spec = find_spec(default_signal_specs(), Signal::kNews);
  std::string tag = fmt::format("{}", ::getpid());
  auto key = [&](int t, int c, int i) {
    return CacheKey{Signal::kNews, fmt::format("company:b{}-{}-{}-{}.com", tag, t, c, i), spec.pipe_id, config_hash(spec)};
  };
  Timestamp now{std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())};
  Json value(std::string(1500, 'n'));
  measure(b, "put_many", [&](int t, int c) {
    std::vector<std::pair<CacheKey, CacheEntry>> entries;
    for (int i = 0; i < b.batch; ++i) entries.push_back({key(t, c, i), {SignalStatus::kFound, value, "bench", now}});
    return store->put_many(entries);
  });
  measure(b, "get", [&](int t, int c) {
    return store->get(key(t, c, c % b.batch), now, freshness_for(spec)).status();
  });
  measure(b, "acquire_leases", [&](int t, int c) {
    std::vector<CacheKey> keys;
    for (int i = 0; i < b.batch; ++i) keys.push_back(key(t, c, i + b.batch));
    return store->acquire_leases(keys).status();
  });
  Result<std::string> run_id = store->begin_run("store_ops_bench " + tag, now);
  if (!run_id.ok()) return;
  measure(b, "record_leads", [&](int t, int c) {
    std::vector<std::pair<std::size_t, EnrichedLead>> leads;
    for (int i = 0; i < b.batch; ++i) {
      EnrichedLead lead;
      lead.lead.lead_id = fmt::format("l{}-{}-{}", t, c, i);
      leads.emplace_back(static_cast<std::size_t>((t * b.calls + c) * b.batch + i), std::move(lead));
    }
    return store->record_leads(*run_id, leads, now);
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"store_ops_bench: a store's hot operations per second, SQLite against PostgreSQL"};
  Bench b;
  std::vector<std::string> stores;
  app.add_option("--store", stores, "A SQLite path or postgresql:// URI (repeatable; default: a temporary SQLite "
                                    "file and $LEADENRICH_TEST_POSTGRES when set)");
  app.add_option("--calls", b.calls, "Calls per thread and operation")->check(CLI::Range(1, 1'000'000))->capture_default_str();
  app.add_option("--batch", b.batch, "Rows per batch call")->check(CLI::Range(1, 10'000))->capture_default_str();
  app.add_option("--threads", b.threads, "Threads at once")->check(CLI::Range(1, 64))->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::string temp;
  if (stores.empty()) {
    temp = (std::filesystem::temp_directory_path() / fmt::format("store_ops_bench_{}.db", ::getpid())).string();
    stores.push_back(temp);
    if (const char* pg = std::getenv("LEADENRICH_TEST_POSTGRES")) stores.emplace_back(pg);
  }
  for (const std::string& s : stores) run(b, s);
  if (!temp.empty()) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(temp + suffix);
  }
  return 0;
}
