// Merge: one signal's outcome from the fields pipe0 returned for one record.
#ifndef LEADENRICH_INTERNAL_MERGE_H_
#define LEADENRICH_INTERNAL_MERGE_H_

#include <string>
#include <variant>
#include <vector>

#include "leadenrich/json.h"
#include "leadenrich/lead.h"
#include "leadenrich/signals.h"
#include "signals/signal_table.h"

namespace leadenrich::internal {

/// One output field as pipe0 reported it, reduced to what merging needs.
struct ProviderField {
  std::string name;
  Json value;
  std::string status;  ///< completed | no_result | failed | skipped | pending | queued | processing
  std::string reason_code;
  std::string reason_message;
};

// SignalValue, one signal's typed value or none, is defined by the table of signals.

/// A looked-up signal: its outcome, its typed value (none unless found), and whether pipe0
/// bills it (at least one output completed).
struct LookupOutcome {
  SignalResult result;
  SignalValue value;
  bool billed = false;
};

/// Reads `spec`'s signal from `fields`:
/// - found when a completed output yields a usable typed value;
/// - no_result when the outputs say nothing exists (or completed empty);
/// - failed (reason from pipe0) when an output failed or is still pending;
/// - skipped (reason code from pipe0, e.g. RequirementUnmet) when pipe0 skipped it;
/// - failed with "missing_output" when none of the signal's field names came back.
LookupOutcome merge_signal(const SignalSpec& spec, const std::vector<ProviderField>& fields, Timestamp now);

/// Sets one signal's typed value on a lead from LookupOutcome::value (none leaves it as it is).
void apply_value(EnrichedLead& lead, Signal signal, const SignalValue& value);
/// The same, moving the value in (a lookup read back for one lead only).
void apply_value(EnrichedLead& lead, Signal signal, SignalValue&& value);

/// The value in signal_value_to_json's form (null for none): how the store keeps it.
Json value_to_json(const SignalValue& value);
/// Reads back what value_to_json wrote for `signal`. Returns kInvalidArgument naming the path when
/// the JSON does not fit the signal's type.
Result<SignalValue> value_from_json(Signal signal, const Json& value);

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_MERGE_H_
