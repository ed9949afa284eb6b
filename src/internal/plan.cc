#include "internal/plan.h"

#include <algorithm>

#include <fmt/format.h>

#include "leadenrich/identity.h"

namespace leadenrich::internal {

std::string entity_id(SignalLevel level, std::string_view key) {
  return fmt::format("{}:{}", level == SignalLevel::kCompany ? "company" : "person", key);
}

namespace {

bool blank(const std::optional<std::string>& s) { return !s || s->find_first_not_of(" \t\r\n") == std::string::npos; }

}  // namespace

bool has_input(const RawLead& lead, const LeadPlan& plan, std::string_view input_key) {
  if (input_key == "company_website_url" || input_key == "company_domain") return plan.company_key.has_value();
  if (input_key == "company_name") return !blank(lead.organization);
  if (input_key == "profile_url") return plan.person_key.has_value();
  if (input_key == "name") return !blank(lead.name);
  if (input_key == "email") return !blank(lead.email);
  return false;
}

std::optional<std::string> lead_input(const RawLead& lead, const LeadPlan& plan, std::string_view input_key) {
  auto non_empty = [](const std::optional<std::string>& s) -> std::optional<std::string> {
    if (blank(s)) return std::nullopt;
    return s;
  };
  if (input_key == "company_website_url") {
    if (plan.company_key) return "https://" + *plan.company_key;
    return std::nullopt;
  }
  if (input_key == "company_domain") return plan.company_key;
  if (input_key == "company_name") return non_empty(lead.organization);
  if (input_key == "profile_url") return plan.person_key;
  if (input_key == "name") return non_empty(lead.name);
  if (input_key == "email") return non_empty(lead.email);
  return std::nullopt;
}

LeadPlan plan_lead(const RawLead& lead, const std::vector<Signal>& enabled, const std::vector<SignalSpec>& specs) {
  LeadPlan plan;
  CompanyIdentity company = company_identity(lead);
  plan.company_key = company.domain;
  std::string person_reason = "no LinkedIn profile URL";
  if (lead.linkedin_url && lead.linkedin_url->find_first_not_of(" \t") != std::string::npos) {
    Result<std::string> person = normalize_linkedin_profile(*lead.linkedin_url);
    if (person.ok()) {
      plan.person_key = *person;
    } else {
      person_reason = person.status().message();
    }
  }
  // Each level's entity id, built once for all its signals.
  std::string company_entity, person_entity;
  for (Signal s : kAllSignals) {
    auto i = static_cast<std::size_t>(s);
    const SignalSpec& spec = find_spec(specs, s);
    SignalResult& local = plan.local[i];
    local.source = spec.pipe_id;
    if (std::find(enabled.begin(), enabled.end(), s) == enabled.end()) {
      local.status = SignalStatus::kDisabled;
      continue;
    }
    std::vector<std::string> missing;
    for (const std::string& input : spec.required_inputs) {
      if (!has_input(lead, plan, input)) missing.push_back(input);
    }
    const std::optional<std::string>& key = spec.level == SignalLevel::kCompany ? plan.company_key : plan.person_key;
    if (!missing.empty() || !key) {
      local.status = SignalStatus::kSkipped;
      std::string why = spec.level == SignalLevel::kCompany
                            ? (company.domain ? "" : fmt::format("no company domain ({})", company.reason))
                            : (plan.person_key ? "" : person_reason);
      if (why.empty()) {
        std::string names;
        for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
        why = fmt::format("the lead has no {}", names);
      }
      local.reason = Reason{"missing_input", why};
      continue;
    }
    std::string& entity = spec.level == SignalLevel::kCompany ? company_entity : person_entity;
    if (entity.empty()) entity = entity_id(spec.level, *key);
    plan.entity[i] = entity;
  }
  return plan;
}

Json::Object entity_inputs(const RawLead& lead, const LeadPlan& plan, const std::vector<std::string>& input_keys,
                           SignalLevel level) {
  Json::Object inputs;
  auto add = [&](const std::string& key) {
    for (const auto& [k, v] : inputs) {
      if (k == key) return;
    }
    std::optional<std::string> v = lead_input(lead, plan, key);
    inputs.emplace_back(key, v ? Json(*v) : Json());
  };
  for (const std::string& key : input_keys) add(key);
  if (level == SignalLevel::kCompany && has_input(lead, plan, "company_name")) add("company_name");
  return inputs;
}

}  // namespace leadenrich::internal
