#include "internal/merge.h"

#include <fmt/format.h>

namespace leadenrich::internal {
namespace {

bool is_output_of(const SignalSpec& spec, const std::string& name) {
  for (const OutputField& out : spec.outputs) {
    for (const std::string& n : out.names) {
      if (n == name) return true;
    }
  }
  return false;
}

// The typed value read from completed fields, as JSON; null when nothing usable came.
Json read_value(const SignalSpec& spec, const Json::Object& completed) {
  EnrichedLead scratch;
  switch (spec.signal) {
    case Signal::kCompanyOverview: scratch.company_overview = read_company_overview(spec, completed); break;
    case Signal::kTechStack: scratch.tech_stack = read_tech_stack(spec, completed); break;
    case Signal::kFunding: scratch.funding = read_funding(spec, completed); break;
    case Signal::kNews: scratch.news = read_news(spec, completed); break;
    case Signal::kLinkedInPosts: scratch.linkedin_posts = read_linkedin_posts(spec, completed); break;
  }
  return signal_value_to_json(scratch, spec.signal);
}

}  // namespace

LookupOutcome merge_signal(const SignalSpec& spec, const std::vector<ProviderField>& fields, Timestamp now) {
  LookupOutcome out;
  out.result.source = spec.pipe_id;
  Json::Object completed;
  const ProviderField* failed = nullptr;
  const ProviderField* skipped = nullptr;
  const ProviderField* unfinished = nullptr;
  bool any_no_result = false;
  for (const ProviderField& f : fields) {
    if (!is_output_of(spec, f.name)) continue;
    if (f.status == "completed") {
      completed.emplace_back(f.name, f.value);
    } else if (f.status == "no_result") {
      any_no_result = true;
    } else if (f.status == "failed") {
      if (failed == nullptr) failed = &f;
    } else if (f.status == "skipped") {
      if (skipped == nullptr) skipped = &f;
    } else if (unfinished == nullptr) {
      unfinished = &f;  // pending, queued, processing, or a status we do not know
    }
  }
  out.billed = !completed.empty();
  if (!completed.empty()) {
    out.value = read_value(spec, completed);
    if (!out.value.is_null()) {
      out.result.status = SignalStatus::kFound;
      out.result.fetched_at = now;
      return out;
    }
    any_no_result = true;  // completed, but nothing usable in it
  }
  if (failed != nullptr) {
    out.result.status = SignalStatus::kFailed;
    out.result.reason = Reason{failed->reason_code.empty() ? "provider_failed" : failed->reason_code,
                               failed->reason_message.empty() ? fmt::format("pipe0 failed {}", failed->name)
                                                              : failed->reason_message};
    return out;
  }
  if (unfinished != nullptr) {
    out.result.status = SignalStatus::kFailed;
    out.result.reason = Reason{"not_finished", fmt::format("pipe0 left {} {}", unfinished->name, unfinished->status)};
    return out;
  }
  if (any_no_result) {
    out.result.status = SignalStatus::kNoResult;
    out.result.fetched_at = now;
    return out;
  }
  if (skipped != nullptr) {
    out.result.status = SignalStatus::kSkipped;
    out.result.reason = Reason{skipped->reason_code.empty() ? "skipped" : skipped->reason_code,
                               skipped->reason_message.empty() ? fmt::format("pipe0 skipped {}", skipped->name)
                                                               : skipped->reason_message};
    return out;
  }
  out.result.status = SignalStatus::kFailed;
  std::string names;
  for (const OutputField& o : spec.outputs) {
    for (const std::string& n : o.names) names += (names.empty() ? "" : ", ") + n;
  }
  out.result.reason = Reason{"missing_output", fmt::format("pipe0 returned none of {}", names)};
  return out;
}

void apply_value(EnrichedLead& lead, Signal signal, const Json& value) {
  // The value was produced by signal_value_to_json, so it always fits its signal.
  (void)set_signal_value_from_json(lead, signal, value);
}

}  // namespace leadenrich::internal
