// The sandbox: one cpp-httplib server carrying both emulators (pipe0_emulator.cc,
// aturiya_emulator.cc) over shared options, faults and counters (sandbox_guards.cc).
#include "leadenrich/testing/sandbox.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "internal/sandbox_data.h"
#include "leadenrich/json.h"
#include "testing/aturiya_emulator.h"
#include "testing/pipe0_emulator.h"
#include "testing/sandbox_guards.h"

namespace leadenrich {

std::size_t SandboxCounters::total_billed() const {
  std::size_t n = 0;
  for (const auto& [pipe, count] : billed) n += count;
  return n;
}

std::size_t SandboxCounters::total_requests() const {
  std::size_t n = 0;
  for (const auto& [name, count] : requests) n += count;
  return n;
}

namespace {
using std::chrono::milliseconds;
constexpr const char* kSandboxKey = "sandbox-key";
}  // namespace

struct Sandbox::State {
  internal::SandboxShared shared;
  internal::SandboxWorld world;
  internal::Pipe0Emulator pipe0{shared};
  internal::AturiyaEmulator aturiya{shared, world};
  httplib::Server server;
  std::thread thread;
  int port = 0;
  std::string accepted_key;
  bool stopped = false;  // guarded by shared.mu

  void routes() {
    pipe0.add_routes(server);
    aturiya.add_routes(server);
    server.Get("/sandbox/counters", [this](const httplib::Request&, httplib::Response& r) {
      SandboxCounters c;
      std::size_t in_flight = 0;
      {
        std::lock_guard lock(shared.mu);
        c = shared.counters;
        in_flight = pipe0.records_in_flight();
      }
      Json::Object o;
      auto map_json = [](const std::map<std::string, std::size_t>& m) {
        Json::Object j;
        for (const auto& [k, v] : m) j.emplace_back(k, Json(static_cast<std::int64_t>(v)));
        return Json(std::move(j));
      };
      o.emplace_back("requests", map_json(c.requests));
      o.emplace_back("records", Json(static_cast<std::int64_t>(c.records)));
      o.emplace_back("lookups", map_json(c.lookups));
      o.emplace_back("billed", map_json(c.billed));
      o.emplace_back("repeated_billing", Json(static_cast<std::int64_t>(c.repeated_billing)));
      o.emplace_back("peak_records_in_flight", Json(static_cast<std::int64_t>(c.peak_records_in_flight)));
      o.emplace_back("records_in_flight", Json(static_cast<std::int64_t>(in_flight)));
      Json::Object priorities;
      for (const auto& [p, n] : c.runs_by_priority) priorities.emplace_back(std::to_string(p), Json(static_cast<std::int64_t>(n)));
      o.emplace_back("runs_by_priority", Json(std::move(priorities)));
      o.emplace_back("faults", map_json(c.faults));
      o.emplace_back("rate_limited", Json(static_cast<std::int64_t>(c.rate_limited)));
      internal::send_json(r, 200, Json(std::move(o)));
    });
    if (shared.options.log) {
      server.set_logger([this](const httplib::Request& q, const httplib::Response& r) {
        shared.options.log(fmt::format("{} {} {}", q.method, q.path, r.status));
      });
    }
  }
};

Sandbox::Sandbox(std::unique_ptr<State> state) : state_(std::move(state)) {}

Sandbox::~Sandbox() { stop(); }

Result<std::unique_ptr<Sandbox>> Sandbox::start(const SandboxOptions& options) {
  auto state = std::make_unique<State>();
  state->shared.options = options;
  state->shared.faults = options.faults;
  state->accepted_key = options.require_key.empty() ? kSandboxKey : options.require_key;
  state->world = internal::make_world(options.seed, options.campaigns, options.leads_per_campaign);
  int threads = std::max(2, options.threads);
  state->server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
  state->server.set_payload_max_length(8 << 20);
  // Responses go out in several writes; without this, Nagle holds the last one for a delayed ACK.
  state->server.set_tcp_nodelay(true);
  state->routes();
  // cpp-httplib listens with a backlog of 5: a burst of new connections (an engine opening its
  // first wave of requests) would see SYNs dropped and retried a second later. Keep the socket
  // to raise the backlog once it listens.
  auto listen_socket = std::make_shared<int>(-1);
  state->server.set_socket_options([listen_socket](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    *listen_socket = sock;
  });
  int port = options.port == 0 ? state->server.bind_to_any_port(options.host)
                                : (state->server.bind_to_port(options.host, options.port) ? options.port : -1);
  if (port <= 0) {
    return unavailable(fmt::format("the sandbox cannot listen on {}:{}", options.host, options.port));
  }
  state->port = port;
  if (*listen_socket >= 0) ::listen(*listen_socket, 1024);
  State* raw = state.get();
  state->thread = std::thread([raw] { raw->server.listen_after_bind(); });
  for (int i = 0; i < 500 && !state->server.is_running(); ++i) std::this_thread::sleep_for(milliseconds(2));
  return std::unique_ptr<Sandbox>(new Sandbox(std::move(state)));
}

std::string Sandbox::base_url() const { return fmt::format("http://{}:{}", state_->shared.options.host, state_->port); }
int Sandbox::port() const { return state_->port; }
const std::string& Sandbox::user_id() const { return state_->world.user_id; }
const std::string& Sandbox::agent_id() const { return state_->world.agent_id; }
std::string Sandbox::api_key() const { return state_->accepted_key; }

Config Sandbox::config() const {
  Config c;
  c.aturiya_base_url = base_url();
  c.pipe0_base_url = base_url();
  c.aturiya_bearer_token = Secret(api_key());
  c.pipe0_api_key = Secret(api_key());
  c.aturiya_user_id = user_id();
  c.aturiya_agent_id = agent_id();
  return c;
}

std::string Sandbox::environment() const {
  Config c = config();
  return fmt::format("PIPE0_BASE_URL={}\nATURIYA_BASE_URL={}\nPIPE0_API_KEY={}\nATURIYA_BEARER_TOKEN={}\n"
                     "ATURIYA_USER_ID={}\nATURIYA_AGENT_ID={}\n",
                     c.pipe0_base_url, c.aturiya_base_url, c.pipe0_api_key.reveal(), c.aturiya_bearer_token.reveal(),
                     c.aturiya_user_id, c.aturiya_agent_id);
}

void Sandbox::set_faults(const SandboxFaults& faults) {
  std::lock_guard lock(state_->shared.mu);
  state_->shared.faults = faults;
}

SandboxCounters Sandbox::counters() const {
  std::lock_guard lock(state_->shared.mu);
  return state_->shared.counters;
}

void Sandbox::reset_counters() {
  std::lock_guard lock(state_->shared.mu);
  state_->shared.counters = SandboxCounters{};
  state_->pipe0.forget_billing();
}

void Sandbox::stop() {
  {
    std::lock_guard lock(state_->shared.mu);
    if (state_->stopped) return;
    state_->stopped = true;
  }
  state_->server.stop();
  if (state_->thread.joinable()) state_->thread.join();
}

}  // namespace leadenrich
