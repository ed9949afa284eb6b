#include "testing/aturiya_emulator.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

namespace leadenrich::internal {

using std::chrono::milliseconds;

void AturiyaEmulator::add_routes(httplib::Server& server) {
  server.Get("/users/auth/me", [this](const httplib::Request& q, httplib::Response& r) {
    if (!aturiya_guard(q, r, "me")) return;
    Json::Object me;
    me.emplace_back("user_id", Json(world_.user_id));
    me.emplace_back("full_name", Json("Sandbox User"));
    me.emplace_back("email", Json("sandbox@leadenrich.local"));
    Json body = envelope(200, "ok", Json(me));
    body.set("full_name", Json("Sandbox User"));
    body.set("email", Json("sandbox@leadenrich.local"));
    send_json(r, 200, body);
  });
  const std::string base = R"(/users/([^/]+)/agents/sdr/([^/]+))";
  server.Get(base + "/campaigns", [this](const httplib::Request& q, httplib::Response& r) {
    if (!aturiya_guard(q, r, "campaigns")) return;
    send_json(r, 200, envelope(200, "ok", Json(Json::Array(world_.campaigns.begin(), world_.campaigns.end()))));
    shared_.maybe_truncate(r);
  });
  server.Get(base + "/campaigns/([^/]+)", [this](const httplib::Request& q, httplib::Response& r) {
    if (!aturiya_guard(q, r, "campaign")) return;
    const Json* c = campaign(q.matches[3]);
    if (c == nullptr) return send_json(r, 404, envelope(404, "campaign not found", Json()));
    send_json(r, 200, envelope(200, "ok", *c));
  });
  server.Get(base + "/leads", [this](const httplib::Request& q, httplib::Response& r) { handle_leads(q, r); });
  server.Get(base + "/leads/([^/]+)", [this](const httplib::Request& q, httplib::Response& r) {
    if (!aturiya_guard(q, r, "lead")) return;
    std::string id = q.matches[3];
    for (const auto& leads : world_.leads) {
      for (const Json& l : leads) {
        if (l.find("lead_id")->to_text() == id) return send_json(r, 200, envelope(200, "ok", l));
      }
    }
    send_json(r, 404, envelope(404, "lead not found", Json()));
  });
}

bool AturiyaEmulator::aturiya_guard(const httplib::Request& req, httplib::Response& res, const char* endpoint) {
  shared_.count(fmt::format("aturiya {}", endpoint));
  if (!shared_.authorized(req)) {
    send_json(res, 401, envelope(401, "Invalid or expired token", Json()));
    return false;
  }
  if (shared_.pre_fault(res, false)) return false;
  milliseconds latency;
  {
    std::lock_guard lock(shared_.mu);
    latency = shared_.faults.latency / 10;
  }
  if (latency.count() > 0) std::this_thread::sleep_for(latency);
  if (req.matches.size() >= 3 && (req.matches[1] != world_.user_id || req.matches[2] != world_.agent_id)) {
    send_json(res, 404, envelope(404, "unknown user or agent", Json()));
    return false;
  }
  return true;
}

const Json* AturiyaEmulator::campaign(const std::string& id) const {
  for (const Json& c : world_.campaigns) {
    if (c.find("id")->to_text() == id) return &c;
  }
  return nullptr;
}

void AturiyaEmulator::handle_leads(const httplib::Request& req, httplib::Response& res) {
  if (!aturiya_guard(req, res, "leads")) return;
  std::string cid = req.get_param_value("campaign_id");
  auto number = [&](const char* name, long long fallback) {
    if (!req.has_param(name)) return fallback;
    try {
      return std::stoll(req.get_param_value(name));
    } catch (...) {
      return fallback;
    }
  };
  long long page = std::max(1LL, number("page", 1));
  long long per_page = std::clamp(number("per_page", number("limit", 20)), 1LL, 100LL);
  std::vector<const Json*> all;
  for (std::size_t c = 0; c < world_.campaigns.size(); ++c) {
    bool match = cid.empty() || shared_.options.ignore_campaign_filter || world_.campaigns[c].find("id")->to_text() == cid;
    if (!match) continue;
    for (const Json& l : world_.leads[c]) all.push_back(&l);
  }
  long long total = static_cast<long long>(all.size());
  long long total_pages = std::max(1LL, (total + per_page - 1) / per_page);
  long long shown = shared_.options.always_next_page ? std::min(page, total_pages) : page;
  Json::Array data;
  for (long long i = (shown - 1) * per_page; i < std::min(total, shown * per_page); ++i) {
    data.push_back(*all[static_cast<std::size_t>(i)]);
  }
  Json::Object pagination;
  pagination.emplace_back("page", Json(static_cast<std::int64_t>(page)));
  pagination.emplace_back("per_page", Json(static_cast<std::int64_t>(per_page)));
  pagination.emplace_back("total", Json(static_cast<std::int64_t>(total)));
  pagination.emplace_back("total_pages", Json(static_cast<std::int64_t>(shared_.options.always_next_page ? page + 1 : total_pages)));
  pagination.emplace_back("has_next_page", Json(shared_.options.always_next_page || page < total_pages));
  Json body = envelope(200, "ok", Json(std::move(data)));
  body.set("pagination", Json(std::move(pagination)));
  send_json(res, 200, body);
  shared_.maybe_truncate(res);
}

}  // namespace leadenrich::internal
