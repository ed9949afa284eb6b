#include "internal/mcp_tools.h"


#include <fmt/format.h>

#include "internal/stored_result.h"
#include "leadenrich/aturiya.h"
#include "leadenrich/engine.h"
#include "leadenrich/store.h"
#include "leadenrich/version.h"

namespace leadenrich::internal::mcp {
namespace {

/// A schema written as JSON text in this file; a mistake in one is a programming error.
Json schema(std::string_view text) {
  Result<Json> parsed = Json::parse(text);
  if (!parsed.ok()) throw std::logic_error("mcp tool schema: " + parsed.status().message());
  return std::move(parsed).value();
}

/// open_world: the tool reaches Aturiya or pipe0 (outside services), not only the local store.
Json annotations(std::string_view title, bool read_only, bool open_world = true) {
  Json::Object a{{"title", Json(title)}, {"readOnlyHint", Json(read_only)}};
  if (!read_only) {
    // Enrichment adds to the cache and spends credits; it never deletes or overwrites anything
    // but the lead's last result.
    a.emplace_back("destructiveHint", Json(false));
    a.emplace_back("idempotentHint", Json(false));
  }
  a.emplace_back("openWorldHint", Json(open_world));
  return Json(std::move(a));
}

/// "30d", "12h", "90m": a freshness window as the CLI's --max-age writes it.
std::string duration(std::chrono::seconds s) {
  long long n = s.count();
  if (n > 0 && n % 86400 == 0) return fmt::format("{}d", n / 86400);
  if (n > 0 && n % 3600 == 0) return fmt::format("{}h", n / 3600);
  if (n > 0 && n % 60 == 0) return fmt::format("{}m", n / 60);
  return fmt::format("{}s", n);
}

/// "company_overview 1 credit per company (fresh 30d), ...": what the agent pays and for how long
/// an answer is reused, from the configured signal specs.
std::string price_list(const Config& config) {
  std::string out;
  for (Signal s : kAllSignals) {
    const SignalSpec& spec = config.spec(s);
    out += fmt::format("{}{} {} credit{} per {} (cached {})", out.empty() ? "" : "; ", to_string(s),
                       Json(spec.credits_per_lookup).dump(), spec.credits_per_lookup == 1 ? "" : "s",
                       spec.level == SignalLevel::kCompany ? "company" : "person", duration(spec.freshness));
  }
  return out;
}

// Ids (lead_id, campaign_id) follow the server's rule: letters, digits and _ . : @ -, 1 to 128
// characters, never "." or "..": they go into Aturiya's URLs, where those would be path steps.
constexpr std::string_view kSignalsSchema = R"({"type": "array", "description": "Signals to look up; default: the configured ones",
  "items": {"type": "string", "enum": ["company_overview", "tech_stack", "funding", "news", "linkedin_posts"]}, "minItems": 1, "maxItems": 5})";
constexpr std::string_view kMaxCreditsSchema = R"({"type": "number", "minimum": 0, "maximum": 1000000000,
  "description": "Hard budget in credits for this call; lookups past it are not made (status budget_exhausted). 0 answers only from the cache."})";
constexpr std::string_view kLeadSchema = R"({"type": "object", "required": ["lead_id"],
  "description": "A raw lead as Aturiya sends it: lead_id, name, email, organization, website, linkedin_url, ...; unknown keys are kept",
  "properties": {"lead_id": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^(?!\\.\\.?$)[A-Za-z0-9_.:@-]+$"}}})";

/// The enriched lead as docs/output.md describes it (the members an agent relies on).
constexpr std::string_view kEnrichedLeadSchema = R"({"type": "object",
  "required": ["lead", "signals", "signals_found", "signals_missed", "quality_score", "billed_lookups", "estimated_credits", "sandbox"],
  "properties": {
    "lead": {"type": "object"},
    "company_key": {"type": ["string", "null"]},
    "person_key": {"type": ["string", "null"]},
    "signals": {"type": "object", "additionalProperties": {"type": "object",
      "required": ["status", "reason", "source", "fetched_at", "from_cache", "value"],
      "properties": {
        "status": {"type": "string", "enum": ["found", "no_result", "skipped", "failed", "disabled", "budget_exhausted"]},
        "reason": {"type": ["object", "null"]},
        "source": {"type": "string"},
        "fetched_at": {"type": ["string", "null"]},
        "from_cache": {"type": "boolean"}}}},
    "signals_found": {"type": "array", "items": {"type": "string"}},
    "signals_missed": {"type": "array", "items": {"type": "string"}},
    "quality_score": {"type": "integer", "minimum": 0, "maximum": 100},
    "enriched_at": {"type": ["string", "null"]},
    "provider_run_ids": {"type": "array", "items": {"type": "string"}},
    "billed_lookups": {"type": "integer"},
    "estimated_credits": {"type": "number"},
    "sandbox": {"type": "boolean"}}})";

/// Per signal counts, as the run summary and the plan give them.
constexpr std::string_view kPerSignalSchema = R"({"type": "object", "additionalProperties": {"type": "integer"}})";

Json per_signal(const std::array<std::size_t, kSignalCount>& counts) {
  Json::Object out;
  for (Signal s : kAllSignals) out.emplace_back(std::string(to_string(s)), Json(static_cast<std::int64_t>(counts[static_cast<std::size_t>(s)])));
  return Json(std::move(out));
}

Json count(std::size_t n) { return Json(static_cast<std::int64_t>(n)); }

/// Leads fetched from Aturiya one by one as the engine pulls them; an unknown id is a bad row
/// (reported, counted), not the end of the run.
class LeadIdSource final : public LeadSource {
 public:
  LeadIdSource(std::shared_ptr<AturiyaConnection> aturiya, std::vector<std::string> ids)
      : aturiya_(std::move(aturiya)), ids_(std::move(ids)) {}
  std::optional<SourceItem> next() override {
    if (next_ >= ids_.size() || failed_) return std::nullopt;
    std::size_t i = next_++;
    SourceItem item;
    item.location = fmt::format("lead_ids[{}] ({})", i, ids_[i]);
    item.lead = aturiya_->lead(ids_[i]);
    // Anything but "no such lead" means Aturiya itself is in trouble: stop there.
    item.fatal = !item.lead.ok() && item.lead.status().code() != StatusCode::kNotFound;
    failed_ = item.fatal;
    return item;
  }
  std::string describe() const override { return "Aturiya leads by id"; }

 private:
  std::shared_ptr<AturiyaConnection> aturiya_;
  std::vector<std::string> ids_;
  std::size_t next_ = 0;
  bool failed_ = false;
};

class Tools {
 public:
  explicit Tools(McpBackend backend) : b_(std::move(backend)) {}

  std::vector<Tool> all(const std::shared_ptr<Tools>& self) const {
    auto bind = [self](ToolResult (Tools::*fn)(const Json&, const ToolContext&)) {
      return [self, fn](const Json& args, const ToolContext& ctx) { return ((*self).*fn)(args, ctx); };
    };
    const Config& config = b_.enricher->config();
    std::string prices = price_list(config);
    std::string batch_inputs = fmt::format(
        R"("lead_ids": {{"type": "array", "items": {{"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^(?!\\.\\.?$)[A-Za-z0-9_.:@-]+$"}}, "minItems": 1, "maxItems": {0},
            "description": "Aturiya lead ids"}},
          "leads": {{"type": "array", "items": {1}, "minItems": 1, "maxItems": {0}, "description": "Raw lead objects"}},
          "campaign_id": {{"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^(?!\\.\\.?$)[A-Za-z0-9_.:@-]+$", "description": "An Aturiya campaign: its leads, up to limit"}},
          "limit": {{"type": "integer", "minimum": 1, "maximum": {0}, "description": "With campaign_id: at most this many leads; default and most: {0}"}},
          "signals": {2})",
        b_.max_leads, kLeadSchema, kSignalsSchema);
    std::vector<Tool> tools;
    tools.push_back(Tool{
        "list_campaigns", "List campaigns",
        "The Aturiya campaigns of the configured agent: id and name. Free: reads Aturiya, spends no credits.",
        schema(R"({"type": "object", "properties": {}, "additionalProperties": false})"),
        schema(R"({"type": "object", "required": ["campaigns"], "properties": {"campaigns": {"type": "array", "items":
          {"type": "object", "required": ["id", "name"], "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}}}})"),
        annotations("List campaigns", true), bind(&Tools::list_campaigns)});
    tools.push_back(Tool{
        "list_leads", "List a campaign's leads",
        "One page of a campaign's leads from Aturiya, each with a summary of its last stored enrichment (quality score, "
        "signals found and missed, statuses, when) or null. Free: spends no credits.",
        schema(R"({"type": "object", "required": ["campaign_id"], "additionalProperties": false, "properties": {
          "campaign_id": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^(?!\\.\\.?$)[A-Za-z0-9_.:@-]+$"},
          "page": {"type": "integer", "minimum": 1, "maximum": 100000, "description": "1-based; default 1"},
          "per_page": {"type": "integer", "minimum": 1, "maximum": 200, "description": "default 50"}}})"),
        schema(R"({"type": "object", "required": ["campaign_id", "page", "per_page", "has_next", "leads", "bad_leads"], "properties": {
          "campaign_id": {"type": "string"}, "page": {"type": "integer"}, "per_page": {"type": "integer"}, "has_next": {"type": "boolean"},
          "leads": {"type": "array", "items": {"type": "object", "required": ["lead", "enrichment"],
            "properties": {"lead": {"type": "object"}, "enrichment": {"type": ["object", "null"]}}}},
          "bad_leads": {"type": "array", "items": {"type": "object"}}}})"),
        annotations("List a campaign's leads", true), bind(&Tools::list_leads)});
    tools.push_back(Tool{
        "enrich_lead", "Enrich one lead",
        fmt::format("Enriches one lead (an Aturiya lead id, or a lead object) with company and person signals from pipe0 and "
                    "returns the enriched lead: each signal's status, reason, source pipe, fetched_at, from_cache and "
                    "value, and a quality score (0-100). SPENDS CREDITS for lookups not in the cache: {}. Answers are "
                    "cached per company or person for the freshness shown, so asking again within it is free; a company "
                    "is looked up once for all its leads. Use max_credits to cap the cost and estimate_cost first for "
                    "many leads. The result is stored (get_enrichment reads it back).",
                    prices),
        schema(fmt::format(R"({{"type": "object", "additionalProperties": false, "minProperties": 1, "properties": {{
          "lead_id": {{"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^(?!\\.\\.?$)[A-Za-z0-9_.:@-]+$", "description": "An Aturiya lead id, fetched from Aturiya"}},
          "lead": {0}, "signals": {1}, "max_credits": {2}}}}})",
                           kLeadSchema, kSignalsSchema, kMaxCreditsSchema)),
        schema(kEnrichedLeadSchema), annotations("Enrich one lead", false), bind(&Tools::enrich_lead)});
    tools.push_back(Tool{
        "enrich_leads", "Enrich many leads",
        fmt::format("Enriches up to {} leads in one run (lead ids, lead objects, or a campaign), looking each company and "
                    "person up once, and reports progress (notifications/progress: leads done plus lookups answered) "
                    "when the call has a progressToken; cancelling the request stops spending. Returns the run's summary (lookups, cache "
                    "hits, billed lookups, estimated credits) and each lead's quality score and signal statuses; the full "
                    "results are stored (get_enrichment). SPENDS CREDITS for lookups not in the cache: {}. Answers are "
                    "cached per signal freshness. Call estimate_cost first; cap with max_credits.",
                    b_.max_leads, prices),
        schema(fmt::format(R"({{"type": "object", "additionalProperties": false, "minProperties": 1, "properties": {{
          {0}, "max_credits": {1}}}}})",
                           batch_inputs, kMaxCreditsSchema)),
        schema(R"({"type": "object", "required": ["summary", "leads", "bad_leads"], "properties": {
          "summary": {"type": "object", "required": ["leads", "billed_lookups", "estimated_credits", "cache_hits", "lookups",
            "budget_exhausted", "cancelled"], "properties": {
            "leads": {"type": "integer"}, "bad_rows": {"type": "integer"}, "companies": {"type": "integer"},
            "people": {"type": "integer"}, "lookups": {"type": "integer"}, "cache_hits": {"type": "integer"},
            "billed_lookups": {"type": "integer"}, "estimated_credits": {"type": "number"},
            "budget_exhausted": {"type": "boolean"}, "cancelled": {"type": "boolean"}}},
          "leads": {"type": "array", "items": {"type": "object", "required": ["lead_id", "quality_score", "statuses"], "properties": {
            "lead_id": {"type": "string"}, "company_key": {"type": ["string", "null"]}, "quality_score": {"type": "integer"},
            "billed_lookups": {"type": "integer"}, "statuses": {"type": "object", "additionalProperties": {"type": "string"}}}}},
          "bad_leads": {"type": "array", "items": {"type": "object", "required": ["location", "error"],
            "properties": {"location": {"type": "string"}, "error": {"type": "string"}}}}}})"),
        annotations("Enrich many leads", false), bind(&Tools::enrich_leads)});
    tools.push_back(Tool{
        "get_enrichment", "Get a lead's stored enrichment",
        "The last stored enrichment of a lead (what enrich_lead or enrich_leads returned for it), without looking "
        "anything up. Free.",
        schema(R"({"type": "object", "required": ["lead_id"], "additionalProperties": false, "properties": {
          "lead_id": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^(?!\\.\\.?$)[A-Za-z0-9_.:@-]+$"}}})"),
        schema(kEnrichedLeadSchema), annotations("Get a lead's stored enrichment", true, false), bind(&Tools::get_enrichment)});
    tools.push_back(Tool{
        "estimate_cost", "Estimate the cost of enriching leads",
        fmt::format("A dry run: for the same inputs as enrich_leads, the lookups a run would make per signal after "
                    "deduplication and the cache, the cache hits, the leads skipped for missing input, and the "
                    "estimated credits (an upper bound). Sends nothing to pipe0 and spends nothing. Prices: {}.",
                    prices),
        schema(fmt::format(R"({{"type": "object", "additionalProperties": false, "minProperties": 1, "properties": {{{0}}}}})",
                           batch_inputs)),
        schema(fmt::format(R"({{"type": "object", "required": ["leads", "lookups", "cache_hits", "skipped", "estimated_credits",
            "credits_per_lookup"], "properties": {{
          "leads": {{"type": "integer"}}, "bad_rows": {{"type": "integer"}}, "companies": {{"type": "integer"}},
          "people": {{"type": "integer"}}, "leads_without_identity": {{"type": "integer"}},
          "lookups": {0}, "cache_hits": {0}, "skipped": {0}, "records": {{"type": "integer"}},
          "estimated_credits": {{"type": "number"}},
          "credits_per_lookup": {{"type": "object", "additionalProperties": {{"type": "number"}}}}}}}})",
                           kPerSignalSchema)),
        annotations("Estimate the cost of enriching leads", true), bind(&Tools::estimate_cost)});
    return tools;
  }

 private:
  std::optional<ToolResult> need_aturiya() const {
    if (b_.aturiya) return std::nullopt;
    return ToolResult::error("Aturiya is not configured (ATURIYA_BEARER_TOKEN, ATURIYA_USER_ID, ATURIYA_AGENT_ID)");
  }

  /// The engine's options from a call's signals and max_credits (already checked by the schema).
  EngineOptions engine_options(const Json& args, const ToolContext& ctx) const {
    EngineOptions o;
    o.sandbox = b_.sandbox;
    o.cancel = ctx.cancel;
    if (const Json* signals = args.find("signals")) {
      for (const Json& name : signals->as_array()) {
        Signal s = parse_signal(name.as_string()).value();
        if (std::find(o.signals.begin(), o.signals.end(), s) == o.signals.end()) o.signals.push_back(s);
      }
    }
    if (const Json* credits = args.find("max_credits")) o.budget_credits = credits->to_double();
    return o;
  }

  Timestamp now() const {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  }

  /// Why a whole enrichment is an error result: no signal got an answer because pipe0 failed, or
  /// because the budget stopped every lookup. nullopt when some signal was answered.
  static std::optional<std::string> lead_failure(const EnrichedLead& lead) {
    std::optional<std::string> failure;
    bool budget = false;
    for (Signal s : kAllSignals) {
      const SignalResult& r = lead.result(s);
      if (r.status == SignalStatus::kFound || r.status == SignalStatus::kNoResult) return std::nullopt;
      if (r.status == SignalStatus::kBudgetExhausted) budget = true;
      if (r.status == SignalStatus::kFailed && r.reason && !failure) {
        failure = fmt::format("pipe0 failed: {} ({})", r.reason->message, r.reason->code);
      }
    }
    if (failure) return failure;
    if (budget) return std::string("budget exhausted: max_credits does not cover the lookups this lead needs (see estimate_cost)");
    return std::nullopt;
  }

  /// A source that could not be set up: the caller's mistake as it is, else Aturiya's trouble.
  static std::string source_message(const Status& st) {
    if (st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kFailedPrecondition) return st.message();
    return upstream_message("Aturiya", st);
  }

  static std::string upstream_message(std::string_view api, const Status& st) {
    if (st.code() == StatusCode::kNotFound) return st.message();
    if (st.code() == StatusCode::kDeadlineExceeded) return fmt::format("{} did not answer in time: {}", api, st.message());
    return fmt::format("{} failed: {}", api, st.to_string());
  }

  void save(const EnrichedLead& lead) const {
    if (!b_.store) return;
    // A result not kept costs a get_enrichment later, never this call's answer.
    (void)b_.store->save_lead_result(lead, now());
  }

  ToolResult list_campaigns(const Json&, const ToolContext&) {
    if (auto e = need_aturiya()) return *e;
    Result<std::vector<Campaign>> list = b_.aturiya->campaigns();
    if (!list.ok()) return ToolResult::error(upstream_message("Aturiya", list.status()));
    Json::Array out;
    std::string text;
    for (const Campaign& c : *list) {
      out.emplace_back(Json::Object{{"id", Json(c.id)}, {"name", Json(c.name)}});
      text += fmt::format("\n- {} ({})", c.name, c.id);
    }
    return ToolResult{Json(Json::Object{{"campaigns", Json(std::move(out))}}),
                      fmt::format("{} campaigns:{}", list->size(), text)};
  }

  ToolResult list_leads(const Json& args, const ToolContext&) {
    if (auto e = need_aturiya()) return *e;
    std::string campaign_id = args.find("campaign_id")->as_string();
    std::size_t page = args.find("page") ? static_cast<std::size_t>(*args.find("page")->to_int()) : 1;
    std::size_t per_page = args.find("per_page") ? static_cast<std::size_t>(*args.find("per_page")->to_int()) : 50;
    Result<AturiyaConnection::Page> got = b_.aturiya->leads_page(campaign_id, page, per_page);
    if (!got.ok()) return ToolResult::error(upstream_message("Aturiya", got.status()));
    Json::Array leads;
    Json::Array bad;
    for (std::size_t i = 0; i < got->leads.size(); ++i) {
      const Result<RawLead>& lead = got->leads[i];
      if (!lead.ok()) {
        bad.emplace_back(Json::Object{{"index", count(i)}, {"error", Json(lead.status().message())}});
        continue;
      }
      leads.emplace_back(Json::Object{{"lead", to_json(*lead)}, {"enrichment", stored_summary(lead->lead_id)}});
    }
    std::string text = fmt::format("campaign {} page {}: {} leads{}{}", campaign_id, page, leads.size(),
                                   bad.empty() ? "" : fmt::format(", {} unreadable", bad.size()),
                                   got->has_next ? "; more pages follow" : "; last page");
    return ToolResult{Json(Json::Object{{"campaign_id", Json(campaign_id)},
                                        {"page", count(page)},
                                        {"per_page", count(per_page)},
                                        {"has_next", Json(got->has_next)},
                                        {"leads", Json(std::move(leads))},
                                        {"bad_leads", Json(std::move(bad))}}),
                      std::move(text)};
  }

  /// The stored result's quality score, statuses and time, or null.
  Json stored_summary(const std::string& lead_id) const {
    if (!b_.store) return Json();
    Result<std::optional<std::string>> stored = b_.store->lead_result(lead_id);
    if (!stored.ok() || !stored->has_value()) return Json();
    return stored_result_summary(**stored);
  }

  static std::string lead_text(const EnrichedLead& lead) {
    std::string statuses;
    for (Signal s : kAllSignals) {
      statuses += fmt::format("{}{}={}", statuses.empty() ? "" : ", ", to_string(s), to_string(lead.result(s).status));
    }
    return fmt::format("lead {}: quality score {}; {}; {} lookups billed", lead.lead.lead_id, lead.quality_score, statuses,
                       lead.billed_lookups);
  }

  ToolResult enrich_lead(const Json& args, const ToolContext& ctx) {
    const Json* id = args.find("lead_id");
    const Json* object = args.find("lead");
    if ((id == nullptr) == (object == nullptr)) return ToolResult::error("arguments: give lead_id or lead, not both");
    RawLead lead;
    if (object) {
      Result<RawLead> parsed = raw_lead_from_json(*object);
      if (!parsed.ok()) return ToolResult::error(fmt::format("arguments.lead: {}", parsed.status().message()));
      lead = std::move(parsed).value();
    } else {
      if (auto e = need_aturiya()) return *e;
      Result<RawLead> fetched = b_.aturiya->lead(id->as_string());
      if (!fetched.ok()) return ToolResult::error(upstream_message("Aturiya", fetched.status()));
      lead = std::move(fetched).value();
    }
    Result<EnrichedLead> out = b_.enricher->enrich_one(lead, engine_options(args, ctx));
    if (!out.ok()) return ToolResult::error(upstream_message("pipe0", out.status()));
    if (std::optional<std::string> failure = lead_failure(*out)) return ToolResult::error(*failure);
    save(*out);
    return ToolResult{to_json(*out), lead_text(*out)};
  }

  /// The leads an enrich_leads or estimate_cost call names, as a source; an error result when
  /// the arguments do not name them right.
  Result<std::unique_ptr<LeadSource>> source(const Json& args, std::optional<double>& total) const {
    const Json* ids = args.find("lead_ids");
    const Json* leads = args.find("leads");
    const Json* campaign = args.find("campaign_id");
    if ((ids != nullptr) + (leads != nullptr) + (campaign != nullptr) != 1) {
      return invalid_argument("arguments: give exactly one of lead_ids, leads or campaign_id");
    }
    if (args.find("limit") && !campaign) return invalid_argument("arguments.limit: only with campaign_id");
    if (leads) {
      std::vector<RawLead> raw;
      for (std::size_t i = 0; i < leads->as_array().size(); ++i) {
        Result<RawLead> lead = raw_lead_from_json(leads->as_array()[i]);
        if (!lead.ok()) return invalid_argument(fmt::format("arguments.leads[{}]: {}", i, lead.status().message()));
        raw.push_back(std::move(lead).value());
      }
      total = static_cast<double>(raw.size());
      return make_vector_source(std::move(raw), "leads");
    }
    if (!b_.aturiya) return failed_precondition("Aturiya is not configured (ATURIYA_BEARER_TOKEN, ATURIYA_USER_ID, ATURIYA_AGENT_ID)");
    if (ids) {
      std::vector<std::string> list;
      for (const Json& id : ids->as_array()) list.push_back(id.as_string());
      total = static_cast<double>(list.size());
      return std::unique_ptr<LeadSource>(std::make_unique<LeadIdSource>(b_.aturiya, std::move(list)));
    }
    // A campaign's size is known only once read: progress then has no total.
    Result<Campaign> known = b_.aturiya->campaign(campaign->as_string());
    if (!known.ok()) return known.status();
    LeadPaging paging;
    paging.limit = args.find("limit") ? static_cast<std::size_t>(*args.find("limit")->to_int()) : b_.max_leads;
    if (args.find("limit")) total = static_cast<double>(*paging.limit);
    return make_aturiya_source(b_.aturiya, campaign->as_string(), paging);
  }

  ToolResult enrich_leads(const Json& args, const ToolContext& ctx) {
    std::optional<double> total;
    Result<std::unique_ptr<LeadSource>> src = source(args, total);
    if (!src.ok()) return ToolResult::error(source_message(src.status()));
    EngineOptions options = engine_options(args, ctx);
    // Progress counts units of work: leads finished plus pipe0 lookups answered, so it moves with
    // each answer (leads are delivered in input order and may finish together at the end). The
    // total is known once every lead has been read and planned.
    options.progress = [&](const Progress& p) {
      std::optional<double> units_total;
      std::size_t leads = p.leads_read - p.bad_rows;  // bad rows are reported, never done
      if (p.source_done) units_total = static_cast<double>(leads + p.lookups_planned);
      std::string leads_total = p.source_done ? fmt::format(" of {}", leads) : total ? fmt::format(" of {}", *total) : "";
      ctx.progress(static_cast<double>(p.leads_done + p.lookups_done), units_total,
                   fmt::format("{}{} leads done; {} of {} lookups answered; {} cache hits", p.leads_done, leads_total,
                               p.lookups_done, p.lookups_planned, p.cache_hits));
    };
    Json::Array leads;
    Json::Array bad;
    auto sink = [&](EnrichedLead&& lead) {
      save(lead);
      Json::Object statuses;
      for (Signal s : kAllSignals) statuses.emplace_back(std::string(to_string(s)), Json(to_string(lead.result(s).status)));
      leads.emplace_back(Json::Object{{"lead_id", Json(lead.lead.lead_id)},
                                      {"company_key", lead.company_key ? Json(*lead.company_key) : Json()},
                                      {"quality_score", Json(lead.quality_score)},
                                      {"billed_lookups", Json(lead.billed_lookups)},
                                      {"statuses", Json(std::move(statuses))}});
    };
    auto on_bad = [&](const std::string& location, const Status& st) {
      bad.emplace_back(Json::Object{{"location", Json(location)}, {"error", Json(st.message())}});
    };
    Result<RunSummary> run = b_.enricher->enrich(**src, sink, options, on_bad);
    if (!run.ok()) return ToolResult::error(upstream_message("Aturiya", run.status()));
    const RunSummary& s = *run;
    Json summary(Json::Object{{"leads", count(s.leads)},
                              {"bad_rows", count(s.bad_rows)},
                              {"companies", count(s.companies)},
                              {"people", count(s.people)},
                              {"lookups", count(s.lookups)},
                              {"cache_hits", count(s.cache_hits)},
                              {"billed_lookups", count(s.billed_lookups)},
                              {"estimated_credits", Json(s.estimated_credits)},
                              {"budget_exhausted", Json(s.budget_exhausted)},
                              {"cancelled", Json(s.cancelled)}});
    std::string text = fmt::format(
        "enriched {} leads ({} companies, {} people): {} lookups, {} billed (about {} credits), {} cache hits{}{}{}. "
        "Full results: get_enrichment with a lead_id.",
        s.leads, s.companies, s.people, s.lookups, s.billed_lookups, Json(s.estimated_credits).dump(), s.cache_hits,
        s.bad_rows ? fmt::format(", {} bad leads", s.bad_rows) : "", s.budget_exhausted ? "; the budget ran out" : "",
        s.cancelled ? "; cancelled" : "");
    return ToolResult{Json(Json::Object{{"summary", std::move(summary)}, {"leads", Json(std::move(leads))}, {"bad_leads", Json(std::move(bad))}}),
                      std::move(text)};
  }

  ToolResult get_enrichment(const Json& args, const ToolContext&) {
    const std::string& lead_id = args.find("lead_id")->as_string();
    if (!b_.store) return ToolResult::error("no store: results are not kept (started without one)");
    Result<std::optional<std::string>> stored = b_.store->lead_result(lead_id);
    if (!stored.ok()) return ToolResult::error(fmt::format("store: {}", stored.status().message()));
    if (!stored->has_value()) return ToolResult::error(fmt::format("no enrichment stored for lead {}: enrich it first", lead_id));
    Result<EnrichedLead> lead = parse_enriched_lead(**stored);
    if (!lead.ok()) return ToolResult::error(fmt::format("store: the result of lead {} is unreadable: {}", lead_id, lead.status().message()));
    Result<Json> parsed = Json::parse(**stored);
    return ToolResult{std::move(parsed).value(), lead_text(*lead)};
  }

  ToolResult estimate_cost(const Json& args, const ToolContext& ctx) {
    std::optional<double> total;
    Result<std::unique_ptr<LeadSource>> src = source(args, total);
    if (!src.ok()) return ToolResult::error(source_message(src.status()));
    Result<Plan> plan = b_.enricher->plan(**src, engine_options(args, ctx));
    if (!plan.ok()) return ToolResult::error(upstream_message("Aturiya", plan.status()));
    const Plan& p = *plan;
    Json::Object prices;
    std::size_t lookups = 0;
    for (Signal s : kAllSignals) {
      prices.emplace_back(std::string(to_string(s)), Json(b_.enricher->config().spec(s).credits_per_lookup));
      lookups += p.lookups[static_cast<std::size_t>(s)];
    }
    std::string text = fmt::format("{} leads ({} companies, {} people): {} lookups, about {} credits at most; nothing spent.",
                                   p.leads, p.companies, p.people, lookups, Json(p.estimated_credits).dump());
    return ToolResult{Json(Json::Object{{"leads", count(p.leads)},
                                        {"bad_rows", count(p.bad_rows)},
                                        {"companies", count(p.companies)},
                                        {"people", count(p.people)},
                                        {"leads_without_identity", count(p.leads_without_identity)},
                                        {"lookups", per_signal(p.lookups)},
                                        {"cache_hits", per_signal(p.cache_hits)},
                                        {"skipped", per_signal(p.skipped)},
                                        {"records", count(p.records)},
                                        {"estimated_credits", Json(p.estimated_credits)},
                                        {"credits_per_lookup", Json(std::move(prices))}}),
                      std::move(text)};
  }

  McpBackend b_;
};

}  // namespace

std::vector<Tool> make_tools(const McpBackend& backend) {
  auto tools = std::make_shared<Tools>(backend);
  return tools->all(tools);
}

std::unique_ptr<Session> make_session(const McpBackend& backend) {
  return std::make_unique<Session>(
      make_tools(backend), "leadenrich", std::string(kVersion),
      "leadenrich enriches B2B sales leads with company and person signals. Tools that read (list_campaigns, "
      "list_leads, get_enrichment, estimate_cost) are free; enrich_lead and enrich_leads spend pipe0 credits for "
      "lookups not in the cache. Call estimate_cost before large runs and pass max_credits to cap spending.");
}

}  // namespace leadenrich::internal::mcp
