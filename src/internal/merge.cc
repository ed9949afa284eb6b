#include "internal/merge.h"
#include "internal/signal_codec.h"

#include <type_traits>

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

template <typename T>
SignalValue value_of(std::optional<T>&& v) {
  if (!v) return {};
  return SignalValue(std::in_place_type<T>, std::move(*v));
}

// The typed value read from completed fields; none when nothing usable came.
SignalValue read_value(const SignalSpec& spec, const Json::Object& completed) {
  switch (spec.signal) {
    case Signal::kCompanyOverview: return value_of(read_company_overview(spec, completed));
    case Signal::kTechStack: return value_of(read_tech_stack(spec, completed));
    case Signal::kFunding: return value_of(read_funding(spec, completed));
    case Signal::kNews: return value_of(read_news(spec, completed));
    case Signal::kLinkedInPosts: return value_of(read_linkedin_posts(spec, completed));
  }
  return {};
}

// SignalValue's alternative i + 1 is the type of kAllSignals[i]'s value.
template <Signal S, typename T>
constexpr bool kAlternativeIs =
    std::is_same_v<std::variant_alternative_t<static_cast<std::size_t>(S) + 1, SignalValue>, T>;
static_assert(kAlternativeIs<Signal::kCompanyOverview, CompanyOverview> && kAlternativeIs<Signal::kTechStack, TechStack> &&
              kAlternativeIs<Signal::kFunding, Funding> && kAlternativeIs<Signal::kNews, News> &&
              kAlternativeIs<Signal::kLinkedInPosts, LinkedInPosts>);

// The lead member that holds a value of type T.
std::optional<CompanyOverview>& slot(EnrichedLead& lead, const CompanyOverview*) { return lead.company_overview; }
std::optional<TechStack>& slot(EnrichedLead& lead, const TechStack*) { return lead.tech_stack; }
std::optional<Funding>& slot(EnrichedLead& lead, const Funding*) { return lead.funding; }
std::optional<News>& slot(EnrichedLead& lead, const News*) { return lead.news; }
std::optional<LinkedInPosts>& slot(EnrichedLead& lead, const LinkedInPosts*) { return lead.linkedin_posts; }

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
    if (!std::holds_alternative<std::monostate>(out.value)) {
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

void apply_value(EnrichedLead& lead, Signal signal, const SignalValue& value) {
  // Each alternative's type says which member it fills (merge made it from `signal`'s spec).
  (void)signal;
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (!std::is_same_v<T, std::monostate>) slot(lead, static_cast<const T*>(nullptr)) = v;
      },
      value);
}

void apply_value(EnrichedLead& lead, Signal signal, SignalValue&& value) {
  (void)signal;
  std::visit(
      [&](auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (!std::is_same_v<T, std::monostate>) slot(lead, static_cast<const T*>(nullptr)) = std::move(v);
      },
      value);
}

Json value_to_json(const SignalValue& value) {
  EnrichedLead scratch;
  Signal signal = Signal::kCompanyOverview;
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (!std::is_same_v<T, std::monostate>) {
          slot(scratch, static_cast<const T*>(nullptr)) = v;
          signal = kAllSignals[value.index() - 1];
        }
      },
      value);
  return signal_value_to_json(scratch, signal);
}

Result<SignalValue> value_from_json(Signal signal, const Json& value) {
  EnrichedLead scratch;
  LEADENRICH_RETURN_IF_ERROR(set_signal_value_from_json(scratch, signal, value));
  switch (signal) {
    case Signal::kCompanyOverview: return value_of(std::move(scratch.company_overview));
    case Signal::kTechStack: return value_of(std::move(scratch.tech_stack));
    case Signal::kFunding: return value_of(std::move(scratch.funding));
    case Signal::kNews: return value_of(std::move(scratch.news));
    case Signal::kLinkedInPosts: return value_of(std::move(scratch.linkedin_posts));
  }
  return SignalValue();
}

}  // namespace leadenrich::internal
