#include "internal/batch_tracker.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "internal/pipe0_wire.h"
#include "leadenrich/pipe0.h"

namespace leadenrich::internal {

using std::chrono::milliseconds;

Verdict judge_failure(const Status& st, const Batch& b, Clock::SteadyTime now, milliseconds deadline) {
  StatusCode c = st.code();
  if (c == StatusCode::kUnauthenticated || c == StatusCode::kPermissionDenied || c == StatusCode::kFailedPrecondition) {
    return Verdict::kFatal;
  }
  bool not_accepted = c == StatusCode::kResourceExhausted || st.http_status() == 503 || st.error_type() == kPipe0NotSent;
  if (b.run_id.empty() && not_accepted) return Verdict::kResend;
  if (!b.run_id.empty()) {
    // The run was accepted: keep asking for it until its deadline, never submit it again.
    if (c == StatusCode::kNotFound || now - b.sent > deadline) return Verdict::kFinal;
    return Verdict::kPollAgain;
  }
  if (c == StatusCode::kInvalidArgument || c == StatusCode::kNotFound || c == StatusCode::kCancelled) return Verdict::kFinal;
  return Verdict::kRetry;
}

bool is_transient(const std::optional<Reason>& reason) {
  if (!reason) return true;
  std::string code = reason->code;
  std::transform(code.begin(), code.end(), code.begin(), [](unsigned char c) { return std::tolower(c); });
  for (std::string_view permanent : {"invalid", "requirement", "credit", "balance", "unauthenticated", "unauthorized",
                                     "permission", "precondition", "cancel", "not_found", "missing_output", "budget"}) {
    if (code.find(permanent) != std::string::npos) return false;
  }
  return true;
}

bool is_terminal(const std::string& s) {
  return s == "completed" || s == "failed" || s == "canceled" || s == "cancelled";
}

std::size_t BatchTracker::add(Batch b) {
  records_in_flight_ += b.entities.size();
  std::size_t id = next_id_++;
  batches_.emplace(id, std::move(b));
  return id;
}

Batch* BatchTracker::find(std::size_t id) {
  auto it = batches_.find(id);
  return it == batches_.end() ? nullptr : &it->second;
}

Batch BatchTracker::take(std::size_t id) {
  auto it = batches_.find(id);
  Batch b = std::move(it->second);
  batches_.erase(it);
  records_in_flight_ -= std::min(records_in_flight_, b.entities.size());
  for (auto p = polls_.begin(); p != polls_.end();) p = p->second == id ? polls_.erase(p) : std::next(p);
  return b;
}

std::vector<std::size_t> BatchTracker::ids() const {
  std::vector<std::size_t> out;
  for (const auto& [id, b] : batches_) out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

void BatchTracker::schedule_poll(std::size_t id, Clock::SteadyTime now) {
  Batch& b = batches_.at(id);
  Clock::SteadyTime at;
  if (b.polls == 0) {
    // The first check near when the run should end, by the latency seen so far.
    b.poll_interval = latency_ ? std::clamp(*latency_, milliseconds(20), options_.poll_max) : options_.poll_initial;
    at = std::max(now, b.sent + b.poll_interval);
  } else if (b.polls == 1) {
    // Not done at the check near its expected end: it should be close, so look again soon.
    b.poll_interval = std::max(milliseconds(20), b.poll_interval / 4);
    at = now + b.poll_interval;
  } else {
    b.poll_interval = std::min(options_.poll_max, std::max(milliseconds(20), b.poll_interval * 3 / 2));
    at = now + b.poll_interval;
  }
  ++b.polls;
  polls_.emplace(at, id);
}

std::vector<std::size_t> BatchTracker::due_polls(Clock::SteadyTime now) {
  std::vector<std::size_t> out;
  while (!polls_.empty() && polls_.begin()->first <= now) {
    out.push_back(polls_.begin()->second);
    polls_.erase(polls_.begin());
  }
  return out;
}

std::optional<Clock::SteadyTime> BatchTracker::next_poll() const {
  if (polls_.empty()) return std::nullopt;
  return polls_.begin()->first;
}

void BatchTracker::observe(const Batch& b, Clock::SteadyTime now, bool finished) {
  double elapsed = static_cast<double>(std::chrono::duration_cast<milliseconds>(now - b.sent).count());
  double sample = 0;
  if (b.sync && finished) {
    sample = elapsed;
  } else if (!b.sync && b.polls == 1) {
    // Its first check: done means it ended some time before (look earlier next time, halving
    // the distance); not done means it takes longer.
    sample = finished ? elapsed * 0.5 : elapsed * 1.5;
  } else {
    return;  // a later check says little about when the run ended
  }
  bool first = !latency_;
  double weight = b.sync ? 0.25 : 0.5;  // a sync round trip is a measurement, a check a bracket
  double next = latency_ ? static_cast<double>(latency_->count()) * (1 - weight) + sample * weight : sample;
  latency_ = milliseconds(static_cast<long long>(next));
  if (!first) return;
  // Runs sent before any latency was known wait for poll_initial: bring their first check near it.
  std::vector<std::size_t> early;
  for (auto p = polls_.begin(); p != polls_.end();) {
    auto it = batches_.find(p->second);
    if (it != batches_.end() && it->second.polls == 1) {
      early.push_back(p->second);
      p = polls_.erase(p);
    } else {
      ++p;
    }
  }
  for (std::size_t id : early) {
    Batch& e = batches_.at(id);
    e.poll_interval = std::clamp(*latency_, milliseconds(20), options_.poll_max);
    polls_.emplace(std::max(now, e.sent + e.poll_interval), id);
  }
}

}  // namespace leadenrich::internal
