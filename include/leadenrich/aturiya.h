// The Aturiya client: campaigns and their leads (contracts/aturiya.md), with defensive paging.
#ifndef LEADENRICH_ATURIYA_H_
#define LEADENRICH_ATURIYA_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "leadenrich/clock.h"
#include "leadenrich/config.h"
#include "leadenrich/json.h"
#include "leadenrich/lead.h"
#include "leadenrich/retry.h"
#include "leadenrich/sources.h"
#include "leadenrich/status.h"
#include "leadenrich/transport.h"

namespace leadenrich {

struct AturiyaOptions {
  std::string base_url = "https://api.aturiya.ai";
  Secret token;
  std::string user_id;
  std::string agent_id;
  RetryPolicy retry;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{30'000};
};
AturiyaOptions aturiya_options(const Config& config);

struct Campaign {
  std::string id;
  std::string name;
  Json::Object extra;  ///< every other key, kept
};

struct AturiyaUser {
  std::string full_name;
  std::string email;
};

struct LeadPaging {
  std::size_t per_page = 100;
  std::optional<std::size_t> limit;  ///< stop after this many leads (applied while paging)
  std::size_t max_pages = 1000;      ///< a server that always says "next page" stops here
};

/// Talks to Aturiya. Thread-safe. Every call retries transient failures (GETs only).
class AturiyaConnection {
 public:
  virtual ~AturiyaConnection() = default;
  /// GET /users/auth/me.
  virtual Result<AturiyaUser> me() = 0;
  virtual Result<std::vector<Campaign>> campaigns() = 0;
  /// kNotFound for an unknown campaign.
  virtual Result<Campaign> campaign(const std::string& campaign_id) = 0;
  /// One page of leads: the leads (or per-item errors), and whether another page follows.
  struct Page {
    std::vector<Result<RawLead>> leads;
    bool has_next = false;
    std::size_t dropped_other_campaign = 0;  ///< leads of another campaign the server sent anyway
  };
  /// GET .../leads?campaign_id=&page=&per_page=&limit= (page is 1-based). `has_next` follows the
  /// contract's stop rules: has_next_page false, page >= total_pages, an empty page, or a short
  /// page without a pagination object.
  virtual Result<Page> leads_page(const std::string& campaign_id, std::size_t page, std::size_t per_page) = 0;
  /// kNotFound for an unknown lead.
  virtual Result<RawLead> lead(const std::string& lead_id) = 0;

  /// Every lead of a campaign, paging with `paging`'s limit and page cap.
  Result<std::vector<RawLead>> leads(const std::string& campaign_id, const LeadPaging& paging = {});
};

/// Returns kFailedPrecondition naming each missing variable (token, user id, agent id) before
/// anything is sent.
Result<std::shared_ptr<AturiyaConnection>> make_aturiya_connection(AturiyaOptions options,
                                                                   std::shared_ptr<HttpTransport> transport,
                                                                   std::shared_ptr<Clock> clock = nullptr);

/// A lead source over a campaign, fetching pages as they are pulled; the limit applies while
/// paging. A failed page ends the source with a fatal item.
std::unique_ptr<LeadSource> make_aturiya_source(std::shared_ptr<AturiyaConnection> connection, std::string campaign_id,
                                                LeadPaging paging = {});

}  // namespace leadenrich

#endif  // LEADENRICH_ATURIYA_H_
