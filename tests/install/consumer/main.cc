// A separate project using the installed library through its public headers only, built as
// C++17. It uses each component it was given.
#include <iostream>
#include <memory>

#include <leadenrich/identity.h>
#include <leadenrich/lead.h>
#include <leadenrich/transport.h>
#include <leadenrich/version.h>
#if CONSUMER_HAS_SQLITE
#include <leadenrich/sqlite_store.h>
#endif
#if CONSUMER_HAS_POSTGRESQL
#include <leadenrich/open_store.h>
#include <leadenrich/postgresql_store.h>
#endif
#if CONSUMER_HAS_SERVER
#include <leadenrich/server.h>
#endif
#if CONSUMER_HAS_TESTING
#include <leadenrich/testing/fake_clock.h>
#include <leadenrich/testing/sandbox.h>
#endif

int main() {
  leadenrich::Result<leadenrich::RawLead> lead =
      leadenrich::parse_raw_lead(R"({"lead_id": "1", "email": "jane@Acme.com"})");
  if (!lead.ok()) return 1;
  std::string domain = leadenrich::company_identity(*lead).domain.value_or("none");
  std::cout << "leadenrich " << leadenrich::kVersion << ": core " << domain;
  // The curl transport: core's one private network dependency.
  if (leadenrich::make_curl_transport() == nullptr) return 1;
#if CONSUMER_HAS_SQLITE
  leadenrich::SqliteStoreOptions store_options;
  store_options.path = ":memory:";
  leadenrich::Result<std::shared_ptr<leadenrich::Store>> store = leadenrich::open_sqlite_store(store_options);
  if (!store.ok()) {
    std::cerr << store.status().to_string() << "\n";
    return 1;
  }
  leadenrich::Result<std::string> run = (*store)->begin_run(domain, leadenrich::Timestamp{});
  if (!run.ok()) return 1;
  std::cout << ", sqlite " << *run;
#endif
#if CONSUMER_HAS_POSTGRESQL
  // libpq linked and working: a server that is not there is a store error, not a crash.
  leadenrich::Result<std::shared_ptr<leadenrich::Store>> pg = leadenrich::open_store("postgresql://u@127.0.0.1:1/x");
  if (pg.ok()) return 1;
  std::cout << ", postgresql " << leadenrich::to_string(pg.status().code());
#endif
#if CONSUMER_HAS_SERVER
  leadenrich::ServerOptions server_options;  // refused without keys: nothing is started
  leadenrich::Result<std::unique_ptr<leadenrich::Server>> server =
      leadenrich::Server::start(server_options, leadenrich::ServerBackend{});
  if (server.ok()) return 1;
  std::cout << ", server " << leadenrich::to_string(server.status().code());
#endif
#if CONSUMER_HAS_TESTING
  leadenrich::testing::FakeClock clock;
  leadenrich::SandboxOptions sandbox_options;
  sandbox_options.campaigns = 1;
  sandbox_options.leads_per_campaign = 1;
  leadenrich::Result<std::unique_ptr<leadenrich::Sandbox>> sandbox = leadenrich::Sandbox::start(sandbox_options);
  if (!sandbox.ok()) {
    std::cerr << sandbox.status().to_string() << "\n";
    return 1;
  }
  std::cout << ", testing " << ((*sandbox)->port() > 0 ? "sandbox" : "none") << " at "
            << leadenrich::format_timestamp(clock.now());
  (*sandbox)->stop();
#endif
  std::cout << "\n";
  return 0;
}
