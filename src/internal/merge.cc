#include "internal/merge.h"

#include <fmt/format.h>

#include "signals/signal_codec.h"

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
    out.value = signal_codec(spec.signal).read(spec, completed);
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
  signal_codec(signal).apply(lead, value);
}

void apply_value(EnrichedLead& lead, Signal signal, SignalValue&& value) {
  signal_codec(signal).apply(lead, std::move(value));
}

Json value_to_json(const SignalValue& value) {
  // Alternative i + 1 holds Signal i's value (signal_table.h).
  if (value.index() == 0) return Json();
  return signal_codecs()[value.index() - 1]->value_json(value);
}

Result<SignalValue> value_from_json(Signal signal, const Json& value) {
  EnrichedLead scratch;
  LEADENRICH_RETURN_IF_ERROR(set_signal_value_from_json(scratch, signal, value));
  return signal_codec(signal).take(scratch);
}

}  // namespace leadenrich::internal
