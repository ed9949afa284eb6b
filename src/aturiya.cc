#include "leadenrich/aturiya.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "internal/retry_loop.h"
#include "internal/url.h"
#include "leadenrich/version.h"

namespace leadenrich {
namespace {

// The text of a scalar member, or "" when absent or not a scalar.
std::string json_text(const Json* v) { return v != nullptr ? v->to_text() : std::string(); }

constexpr const char* kProvider = "aturiya";



std::optional<long long> int_of(const Json* v) {
  if (v == nullptr) return std::nullopt;
  if (auto i = v->to_int()) return *i;
  if (v->is_string()) {
    try {
      return std::stoll(v->as_string());
    } catch (...) {
    }
  }
  return std::nullopt;
}

StatusCode code_for(int http) {
  if (http == 400 || http == 422) return StatusCode::kInvalidArgument;
  if (http == 401) return StatusCode::kUnauthenticated;
  if (http == 403) return StatusCode::kPermissionDenied;
  if (http == 404) return StatusCode::kNotFound;
  if (http == 429) return StatusCode::kResourceExhausted;
  if (http >= 500) return StatusCode::kUnavailable;
  return StatusCode::kUnknown;
}

Result<Campaign> campaign_from(const Json& j) {
  if (!j.is_object()) return invalid_argument(fmt::format("Aturiya sent a campaign that is {}", j.type_name()));
  Campaign c;
  for (const auto& [k, v] : j.as_object()) {
    if (k == "id") c.id = json_text(&v);
    else if (k == "name") c.name = json_text(&v);
    else c.extra.emplace_back(k, v);
  }
  if (c.id.empty()) return invalid_argument("Aturiya sent a campaign without an id");
  return c;
}

class AturiyaConnectionImpl : public AturiyaConnection {
 public:
  AturiyaConnectionImpl(AturiyaOptions options, std::shared_ptr<HttpTransport> transport, std::shared_ptr<Clock> clock)
      : options_(std::move(options)), transport_(std::move(transport)), clock_(std::move(clock)) {}

  Result<AturiyaUser> me() override {
    Result<Json> body = get("/users/auth/me", "me");
    if (!body.ok()) return body.status();
    AturiyaUser u;
    const Json* data = body->find("data");
    u.full_name = json_text(body->find("full_name"));
    u.email = json_text(body->find("email"));
    if (u.full_name.empty() && data != nullptr) u.full_name = json_text(data->find("full_name"));
    if (u.email.empty() && data != nullptr) u.email = json_text(data->find("email"));
    return u;
  }

  Result<std::vector<Campaign>> campaigns() override {
    Result<Json> body = get(agent_path() + "/campaigns", "campaigns");
    if (!body.ok()) return body.status();
    const Json* data = body->find("data");
    if (data == nullptr || !data->is_array()) return data_loss("Aturiya sent campaigns without a data list");
    std::vector<Campaign> out;
    for (const Json& c : data->as_array()) {
      Result<Campaign> campaign = campaign_from(c);
      if (campaign.ok()) out.push_back(std::move(campaign).value());
    }
    return out;
  }

  Result<Campaign> campaign(const std::string& campaign_id) override {
    Result<Json> body = get(agent_path() + "/campaigns/" + internal::percent_encode(campaign_id), "campaign " + campaign_id);
    if (!body.ok()) return body.status();
    const Json* data = body->find("data");
    if (data == nullptr) return data_loss("Aturiya sent a campaign response without data");
    return campaign_from(*data);
  }

  Result<Page> leads_page(const std::string& campaign_id, std::size_t page, std::size_t per_page) override {
    // The web app sends `limit`, the pipeline sent `per_page`: send both.
    std::string path = fmt::format("{}/leads?campaign_id={}&page={}&per_page={}&limit={}", agent_path(),
                                   internal::percent_encode(campaign_id), page, per_page, per_page);
    Result<Json> body = get(path, fmt::format("leads of campaign {} page {}", campaign_id, page));
    if (!body.ok()) return body.status();
    const Json* data = body->find("data");
    if (data != nullptr && data->is_object()) {
      // Some deployments nest the list: {"data": {"leads": [...], "pagination": {...}}}.
      if (const Json* inner = data->find("leads")) data = inner;
    }
    if (data == nullptr || !data->is_array()) return data_loss("Aturiya sent a leads page without a data list");
    Page out;
    std::size_t index = 0;
    for (const Json& item : data->as_array()) {
      ++index;
      Result<RawLead> lead = raw_lead_from_json(item);
      if (lead.ok() && lead->campaign_id && *lead->campaign_id != campaign_id) {
        ++out.dropped_other_campaign;  // the server ignored the filter: never leak another campaign
        continue;
      }
      if (!lead.ok()) {
        lead = invalid_argument(fmt::format("page {} item {}: {}", page, index, lead.status().message()));
      }
      out.leads.push_back(std::move(lead));
    }
    const Json* pagination = body->find("pagination");
    if (pagination == nullptr && body->find("data") != nullptr) pagination = body->find("data")->find("pagination");
    std::size_t received = data->as_array().size();
    if (received == 0) {
      out.has_next = false;
    } else if (pagination != nullptr && pagination->is_object()) {
      const Json* hn = pagination->find("has_next_page");
      std::optional<long long> total_pages = int_of(pagination->find("total_pages"));
      out.has_next = true;
      if (hn != nullptr && hn->is_bool() && !hn->as_bool()) out.has_next = false;
      if (total_pages && static_cast<long long>(page) >= *total_pages) out.has_next = false;
    } else {
      out.has_next = received >= per_page;
    }
    return out;
  }

  Result<RawLead> lead(const std::string& lead_id) override {
    Result<Json> body = get(agent_path() + "/leads/" + internal::percent_encode(lead_id), "lead " + lead_id);
    if (!body.ok()) return body.status();
    const Json* data = body->find("data");
    if (data == nullptr) return data_loss("Aturiya sent a lead response without data");
    return raw_lead_from_json(*data);
  }

 private:
  std::string agent_path() const {
    return fmt::format("/users/{}/agents/sdr/{}", internal::percent_encode(options_.user_id), internal::percent_encode(options_.agent_id));
  }

  Result<Json> get(const std::string& path, const std::string& what) {
    HttpRequest r;
    r.url = options_.base_url + path;
    r.headers.add("Authorization", "Bearer " + options_.token.reveal());
    r.headers.add("Accept", "application/json");
    r.headers.add("User-Agent", fmt::format("leadenrich/{}", kVersion));
    r.connect_timeout = options_.connect_timeout;
    r.total_timeout = options_.request_timeout;
    HttpOutcome o = send_with_retry(*transport_, r, options_.retry, Idempotency::kIdempotent, *clock_);
    if (!o.response.ok()) {
      return Status(o.response.status().code(), fmt::format("Aturiya is unreachable ({}): {}", what,
                                                             o.response.status().message()))
          .with_provider(kProvider);
    }
    const HttpResponse& resp = *o.response;
    Result<Json> body = Json::parse(resp.body);
    std::string server_message;
    if (body.ok() && body->is_object()) server_message = json_text(body->find("message"));
    if (resp.status / 100 != 2) {
      std::string message =
          resp.status == 401 ? fmt::format("Aturiya rejected the token (ATURIYA_BEARER_TOKEN) for {}{}", what,
                                           server_message.empty() ? "" : ": " + server_message)
                             : fmt::format("Aturiya answered HTTP {} for {}{}", resp.status, what,
                                           server_message.empty() ? "" : ": " + server_message);
      return Status(code_for(resp.status), message).with_http_status(resp.status).with_provider(kProvider);
    }
    if (!body.ok()) {
      return Status(StatusCode::kDataLoss, fmt::format("Aturiya sent unreadable JSON for {}: {}", what,
                                                        body.status().message()))
          .with_provider(kProvider);
    }
    if (!body->is_object()) return data_loss(fmt::format("Aturiya sent {} for {}", body->type_name(), what));
    // An error can also hide inside an HTTP 200 envelope.
    if (std::optional<long long> code = int_of(body->find("code")); code && (*code < 200 || *code > 299)) {
      return Status(code_for(static_cast<int>(*code)) == StatusCode::kUnknown ? StatusCode::kUnavailable
                                                                               : code_for(static_cast<int>(*code)),
                    fmt::format("Aturiya reported code {} for {}{}", *code, what,
                                server_message.empty() ? "" : ": " + server_message))
          .with_http_status(static_cast<int>(*code))
          .with_provider(kProvider);
    }
    return body;
  }

  AturiyaOptions options_;
  std::shared_ptr<HttpTransport> transport_;
  std::shared_ptr<Clock> clock_;
};

class AturiyaSource : public LeadSource {
 public:
  AturiyaSource(std::shared_ptr<AturiyaConnection> c, std::string campaign_id, LeadPaging paging)
      : connection_(std::move(c)), campaign_id_(std::move(campaign_id)), paging_(paging) {
    // With a small limit, ask for small pages: the limit applies while paging, not after.
    if (paging_.limit && *paging_.limit < paging_.per_page) paging_.per_page = std::max<std::size_t>(1, *paging_.limit);
    paging_.per_page = std::max<std::size_t>(1, paging_.per_page);
  }

  std::optional<SourceItem> next() override {
    while (buffer_index_ >= buffer_.size()) {
      if (done_) return std::nullopt;
      if (paging_.limit && taken_ >= *paging_.limit) return std::nullopt;
      if (page_ >= paging_.max_pages) return std::nullopt;
      ++page_;
      Result<AturiyaConnection::Page> page = connection_->leads_page(campaign_id_, page_, paging_.per_page);
      if (!page.ok()) {
        done_ = true;
        return SourceItem{page.status(), describe(), true};
      }
      buffer_ = std::move(page->leads);
      buffer_index_ = 0;
      done_ = !page->has_next;
    }
    Result<RawLead>& lead = buffer_[buffer_index_++];
    if (lead.ok()) ++taken_;
    return SourceItem{std::move(lead), fmt::format("{} page {}", describe(), page_), false};
  }

  std::string describe() const override { return fmt::format("aturiya campaign {}", campaign_id_); }

 private:
  std::shared_ptr<AturiyaConnection> connection_;
  std::string campaign_id_;
  LeadPaging paging_;
  std::vector<Result<RawLead>> buffer_;
  std::size_t buffer_index_ = 0;
  std::size_t page_ = 0;
  std::size_t taken_ = 0;
  bool done_ = false;
};

}  // namespace

AturiyaOptions aturiya_options(const Config& config) {
  AturiyaOptions o;
  o.base_url = config.aturiya_base_url;
  o.token = config.aturiya_bearer_token;
  o.user_id = config.aturiya_user_id;
  o.agent_id = config.aturiya_agent_id;
  return o;
}

Result<std::vector<RawLead>> AturiyaConnection::leads(const std::string& campaign_id, const LeadPaging& paging) {
  std::vector<RawLead> out;
  AturiyaSource source(std::shared_ptr<AturiyaConnection>(this, [](AturiyaConnection*) {}), campaign_id, paging);
  while (std::optional<SourceItem> item = source.next()) {
    if (item->fatal) return item->lead.status();
    if (item->lead.ok()) out.push_back(std::move(item->lead).value());
    if (paging.limit && out.size() >= *paging.limit) break;
  }
  return out;
}

Result<std::shared_ptr<AturiyaConnection>> make_aturiya_connection(AturiyaOptions options,
                                                                   std::shared_ptr<HttpTransport> transport,
                                                                   std::shared_ptr<Clock> clock) {
  Config check;
  check.aturiya_bearer_token = options.token;
  check.aturiya_user_id = options.user_id;
  check.aturiya_agent_id = options.agent_id;
  LEADENRICH_RETURN_IF_ERROR(check.check_aturiya());
  while (!options.base_url.empty() && options.base_url.back() == '/') options.base_url.pop_back();
  if (!transport) return invalid_argument("make_aturiya_connection needs a transport");
  if (!clock) clock = system_clock();
  return std::shared_ptr<AturiyaConnection>(
      std::make_shared<AturiyaConnectionImpl>(std::move(options), std::move(transport), std::move(clock)));
}

std::unique_ptr<LeadSource> make_aturiya_source(std::shared_ptr<AturiyaConnection> connection, std::string campaign_id,
                                                LeadPaging paging) {
  return std::make_unique<AturiyaSource>(std::move(connection), std::move(campaign_id), paging);
}

}  // namespace leadenrich
