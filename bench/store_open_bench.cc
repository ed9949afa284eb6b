// store_open_bench: what the integrity check at open costs. Fills a store with N cached values
// of a realistic size through the Store API, closes it, then opens it repeatedly with and
// without SqliteStoreOptions::check_on_open and prints the median open time of each.
//
//   store_open_bench [--values 20000] [--value-bytes 1500] [--opens 5] [--dir /tmp]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "leadenrich/clock.h"
#include "leadenrich/sqlite_store.h"
#include "leadenrich/store.h"

using namespace leadenrich;
using Steady = std::chrono::steady_clock;

namespace {

double median_open_ms(const std::string& path, bool check, int opens) {
  std::vector<double> ms;
  for (int i = 0; i < opens; ++i) {
    SqliteStoreOptions o;
    o.path = path;
    o.check_on_open = check;
    auto start = Steady::now();
    Result<std::shared_ptr<Store>> store = open_sqlite_store(o);
    ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - start).count());
    if (!store.ok()) {
      fmt::print(stderr, "{}\n", store.status().message());
      std::exit(1);
    }
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"store_open_bench: the cost of checking a store's pages at open"};
  int values = 20000, value_bytes = 1500, opens = 5;
  std::string dir = std::filesystem::temp_directory_path().string();
  app.add_option("--values", values, "Cached values in the store")->check(CLI::Range(1, 10'000'000))->capture_default_str();
  app.add_option("--value-bytes", value_bytes, "Bytes per value")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  app.add_option("--opens", opens, "Opens timed for each setting")->check(CLI::Range(1, 1000))->capture_default_str();
  app.add_option("--dir", dir, "Where the store file goes")->check(CLI::ExistingDirectory)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::string path = (std::filesystem::path(dir) / fmt::format("store_open_bench_{}.db", ::getpid())).string();
  {
    SqliteStoreOptions o;
    o.path = path;
    std::shared_ptr<Store> store = open_sqlite_store(o).value();
    const SignalSpec& spec = find_spec(default_signal_specs(), Signal::kNews);
    Timestamp now = system_clock()->now();
    for (int i = 0; i < values; ++i) {
      CacheKey key{Signal::kNews, fmt::format("company:c{}.com", i), spec.pipe_id, config_hash(spec)};
      Status st = store->put(key, {SignalStatus::kFound, Json(std::string(static_cast<std::size_t>(value_bytes), 'n')), "p", now});
      if (!st.ok()) {
        fmt::print(stderr, "{}\n", st.message());
        return 1;
      }
    }
  }
  auto mib = static_cast<double>(std::filesystem::file_size(path)) / (1 << 20);
  double with = median_open_ms(path, true, opens);
  double without = median_open_ms(path, false, opens);
  fmt::print("store of {} values ({:.1f} MiB): open {:.1f} ms with the check, {:.1f} ms without "
             "(median of {}, file in the page cache)\n",
             values, mib, with, without, opens);
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  return 0;
}
