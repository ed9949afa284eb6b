#include "internal/run_lookups.h"

#include <algorithm>

#include <fmt/format.h>

#include "internal/batch_tracker.h"
#include "internal/retry_loop.h"
#include "leadenrich/store.h"

namespace leadenrich::internal {

RunLookups::RunLookups(const RunContext& ctx, Delivery& delivery, Batcher& batcher, RunSummary& summary,
                       Progress& progress, std::shared_ptr<Mailbox> mailbox)
    : ctx_(ctx), opts_(*ctx.options), delivery_(delivery), batcher_(batcher), summary_(summary), progress_(progress),
      mailbox_(std::move(mailbox)), table_(kKeptCompanyLookups) {
  for (Signal s : opts_.signals.empty() ? ctx.config->enabled_signals : opts_.signals) {
    auto& keys = spec(s).level == SignalLevel::kCompany ? company_inputs_ : person_inputs_;
    for (const std::string& in : spec(s).required_inputs) {
      if (std::find(keys.begin(), keys.end(), in) == keys.end()) keys.push_back(in);
    }
  }
  if (ctx_.cache.acquire_leases) watcher_ = std::make_unique<LeaseWatcher>(ctx_.cache);
  if (ctx_.cache.get) read_ = [this](Signal s, const std::string& entity) { return read(s, entity); };
}

void RunLookups::need(PendingLead& lead, Signal s, const std::string& entity, const RawLead& raw,
                      const LeadPlan& plan) {
  Lookup* lk = table_.find(entity, s);
  if (lk == nullptr) {
    if (std::optional<Lookup> back = table_.restore(s, entity, read_, ctx_.clock->now())) {
      delivery_.apply_once(lead, std::move(*back));
      return;
    }
    Lookup fresh;
    fresh.signal = s;
    fresh.entity = entity;
    SignalLevel level = spec(s).level;
    Json::Object inputs = entity_inputs(raw, plan, level == SignalLevel::kCompany ? company_inputs_ : person_inputs_, level);
    lk = &table_.insert(start(std::move(fresh), std::move(inputs)));
  }
  if (lk->done) {
    delivery_.apply(lead, *lk);
    settle(*lk);
  } else {
    lk->waiters.push_back(lead.seq);
    ++lead.pending;
  }
}

// A lookup nobody in this run has: from the store, from another run, refused, or owned.
Lookup RunLookups::start(Lookup lk, Json::Object inputs) {
  auto done = [&](LookupOutcome o, bool from_cache) {
    lk.done = true;
    lk.outcome = std::move(o);
    lk.from_cache = lk.in_store = from_cache;
    if (from_cache) {
      ++summary_.cache_hits;
      ++progress_.cache_hits;
    }
    return std::move(lk);
  };
  if (ctx_.cache.get) {
    if (std::optional<LookupOutcome> hit = read(lk.signal, lk.entity)) return done(std::move(*hit), true);
  }
  if (!fatal_.ok()) return done(failed_outcome(lk.signal, fatal_), false);
  if (ctx_.flights != nullptr) {
    std::string key = lookup_key(lk.entity, lk.signal);
    std::shared_ptr<Mailbox> mailbox = mailbox_;
    if (!ctx_.flights->claim(key, [mailbox](Landing l) { mailbox->post(std::move(l)); })) {
      lk.standby_inputs = std::move(inputs);  // another run flies it; kept should it give up
      ++standby_;
      return lk;
    }
    // The run that flew it may have landed (stored) between our read of the store and the
    // claim; when no other run landed anything since, the read still holds.
    if (ctx_.cache.get && landed_by_others() != read_mark_) {
      if (std::optional<LookupOutcome> hit = ctx_.cache.get(lk.signal, lk.entity)) {
        land_flight(key, *hit, "");
        return done(std::move(*hit), true);
      }
    }
  }
  double price = spec(lk.signal).credits_per_lookup;
  if (opts_.budget_credits && spent_ + reserved_ + price > *opts_.budget_credits + 1e-9) {
    // Another run may afford it.
    if (ctx_.flights != nullptr) land_flight(lookup_key(lk.entity, lk.signal), std::nullopt, "");
    LookupOutcome o;
    o.result.status = SignalStatus::kBudgetExhausted;
    o.result.source = spec(lk.signal).pipe_id;
    o.result.reason = Reason{"budget_exhausted", fmt::format("the run's budget of {} credits is spent", *opts_.budget_credits)};
    summary_.budget_exhausted = true;
    return done(std::move(o), false);
  }
  reserved_ += price;
  ++summary_.lookups;
  ++progress_.lookups_planned;
  lk.owned = true;
  auto [it, inserted] = entities_.try_emplace(lk.entity);
  if (inserted) it->second.inputs = std::move(inputs);
  ++it->second.open;
  if (!(it->second.active & bit(lk.signal))) {
    it->second.active |= bit(lk.signal);
    auto f = std::find_if(fresh_.begin(), fresh_.end(), [&](const auto& p) { return p.first == lk.entity; });
    if (f == fresh_.end()) f = fresh_.insert(fresh_.end(), {lk.entity, 0});
    f->second |= bit(lk.signal);
  }
  return lk;
}

void RunLookups::enqueue_fresh() {
  for (const auto& [entity, mask] : fresh_) batcher_.enqueue(entity, mask);
  fresh_.clear();
}

void RunLookups::conclude(const std::string& entity, Mask mask, const std::string& run_id, bool may_retry,
                          const std::function<LookupOutcome(Signal)>& outcome_of) {
  Mask again = 0;
  int attempt = 1;
  for (Signal s : kAllSignals) {
    if (!(mask & bit(s))) continue;
    LookupOutcome o = outcome_of(s);
    auto eit = entities_.find(entity);
    bool retry = may_retry && opts_.retry_failed_at_end && fatal_.ok() && eit != entities_.end() &&
                 o.result.status == SignalStatus::kFailed && is_transient(o.result.reason) &&
                 ++eit->second.failures[idx(s)] < opts_.retry.limits.max_attempts;
    if (!retry) {
      finish(entity, s, std::move(o), run_id);
      continue;
    }
    again |= bit(s);
    attempt = std::max(attempt, eit->second.failures[idx(s)]);
  }
  if (again == 0) return;
  ++summary_.retries;
  mark_active(entity, again);
  Clock::SteadyTime at = ctx_.clock->steady_now() + backoff_delay(opts_.retry.backoff, attempt, next_unit(jitter_));
  batcher_.park(at, Group{again, {entity}});
}

void RunLookups::conclude_answer(const Batch& b, const BatchResponse& resp) {
  if (resp.status != "completed") {
    std::string why = fmt::format("pipe0 run {} {}", resp.run_id, resp.status);
    if (!resp.errors.empty()) why += ": " + resp.errors.front();
    bool credits = std::any_of(resp.errors.begin(), resp.errors.end(), [](const std::string& e) {
      return e.find("Credit") != std::string::npos || e.find("credit") != std::string::npos;
    });
    Status st(credits ? StatusCode::kFailedPrecondition : StatusCode::kUnavailable, why);
    if (credits) fatal_ = st;  // pipe0 says stop: no more spend this run
    return conclude_all(b.entities, b.mask, st, resp.run_id, !credits);
  }
  std::unordered_map<std::string, const BatchRecordResult*> by_id;
  for (const BatchRecordResult& r : resp.records) by_id[r.id] = &r;
  Timestamp t = ctx_.clock->now();
  Status missing(StatusCode::kDataLoss, "pipe0 returned no record for this lookup");
  bool outer = !holding_;
  if (outer) hold_answers();
  for (std::size_t k = 0; k < b.entities.size(); ++k) {
    auto rit = by_id.find(std::to_string(k + 1));
    conclude(b.entities[k], b.mask, resp.run_id, true, [&](Signal s) {
      return rit == by_id.end() ? failed_outcome(s, missing) : merge_signal(spec(s), rit->second->fields, t);
    });
  }
  if (outer) {
    release_answers();
  } else if (unsaved_.size() >= kMaxHeldLookups) {
    store_unsaved();  // a whole answer at a time, and memory stays flat however many came in
  }
}

void RunLookups::hold_answers() { holding_ = true; }

void RunLookups::release_answers() {
  holding_ = false;
  store_unsaved();
}

// The answer's lookups go to the store in one call; only then are they shared with other runs
// (which would otherwise read the store, miss and pay again) and handed to their leads.
void RunLookups::store_unsaved() {
  if (unsaved_.empty()) return;
  // The lookups are still there, at their addresses: a lookup not in the store never settles.
  std::vector<CachePut> puts;
  puts.reserve(unsaved_.size());
  for (const Lookup* lk : unsaved_) puts.push_back(CachePut{lk->signal, &lk->entity, &lk->outcome});
  std::vector<bool> stored = ctx_.cache.put_many(puts);
  for (std::size_t i = 0; i < unsaved_.size(); ++i) {
    unsaved_[i]->in_store = i < stored.size() && stored[i];
    if (unsaved_[i]->in_store) unsaved_[i]->leased = false;  // storing it ended its lease
    end_lease(*unsaved_[i]);
    land(*unsaved_[i]);
  }
  unsaved_.clear();
}

Group RunLookups::take_back(const Batch& b, const Status& st, int& attempt) {
  Group again{b.mask, {}};
  for (const std::string& entity : b.entities) {
    int resends = ++entities_.at(entity).resends;
    if (resends >= opts_.retry.limits.max_attempts) {
      conclude_all({entity}, b.mask, st, "", false);
    } else {
      mark_active(entity, b.mask);
      again.entities.push_back(entity);
      attempt = std::max(attempt, resends);
    }
  }
  return again;
}

void RunLookups::conclude_all(const std::vector<std::string>& entities, Mask mask, const Status& st,
                              const std::string& run_id, bool may_retry) {
  for (const std::string& entity : entities) {
    conclude(entity, mask, run_id, may_retry, [&](Signal s) { return failed_outcome(s, st); });
  }
}

void RunLookups::finish(const std::string& entity, Signal s, LookupOutcome outcome, const std::string& run_id) {
  Lookup* lk = table_.find(entity, s);
  if (lk == nullptr || lk->done) return;
  if (lk->standby_inputs) {
    lk->standby_inputs.reset();
    --standby_;
  }
  if (lk->watching) {
    watcher_->forget(LookupKey{s, entity});
    lk->watching = false;
  }
  if (lk->owned) {
    double price = spec(s).credits_per_lookup;
    reserved_ = std::max(0.0, reserved_ - price);
    if (outcome.billed) {
      spent_ += price;
      ++summary_.billed_lookups;
      summary_.estimated_credits += price;
    }
  }
  lk->done = true;
  lk->outcome = std::move(outcome);
  lk->run_id = run_id;
  ++progress_.lookups_done;
  auto eit = entities_.find(entity);
  if (lk->owned && eit != entities_.end() && --eit->second.open <= 0 && eit->second.active == 0) entities_.erase(eit);
  if (lk->answered_elsewhere) {
    lk->in_store = true;  // the process that paid for it stored it
    end_lease(*lk);       // taken at send time just as the answer came: nothing to send
    return land(*lk);
  }
  SignalStatus st = lk->outcome.result.status;
  bool answer = st == SignalStatus::kFound || st == SignalStatus::kNoResult;
  if (lk->owned && answer && holding_ && ctx_.cache.put_many) {
    unsaved_.push_back(lk);  // stored, shared and handed out with the rest of its answer
    return;
  }
  if (lk->owned && answer && ctx_.cache.put) lk->in_store = ctx_.cache.put(s, entity, lk->outcome);
  // Storing an answer ended its lease; anything else lets go of it so a waiting process sends it.
  if (lk->in_store) lk->leased = false;
  end_lease(*lk);
  land(*lk);
}

void RunLookups::land(Lookup& lk) {
  if (lk.owned && ctx_.flights != nullptr) {
    // A cancelled lookup is no answer: the runs waiting for it claim it again.
    SignalStatus st = lk.outcome.result.status;
    bool gave_up = st == SignalStatus::kFailed && lk.outcome.result.reason &&
                   lk.outcome.result.reason->code == to_string(StatusCode::kCancelled);
    land_flight(lookup_key(lk.entity, lk.signal), gave_up ? std::nullopt : std::optional<LookupOutcome>(lk.outcome),
                lk.run_id);
  }
  fan_out(lk);
}

void RunLookups::land_flight(const std::string& key, const std::optional<LookupOutcome>& outcome,
                             const std::string& run_id) {
  if (outcome) ++own_landings_;
  ctx_.flights->land(key, outcome, run_id);
}

std::uint64_t RunLookups::landed_by_others() const {
  return ctx_.flights != nullptr ? ctx_.flights->landings() - own_landings_ : 0;
}

void RunLookups::fan_out(Lookup& lk) {
  for (std::size_t seq : lk.waiters) delivery_.answer(seq, lk);
  lk.waiters.clear();
  lk.waiters.shrink_to_fit();
  settle(lk);
}

void RunLookups::settle(Lookup& lk) {
  std::optional<Timestamp> keep_until;
  const std::optional<Timestamp>& at = lk.outcome.result.fetched_at;
  if (at && spec(lk.signal).level == SignalLevel::kCompany) {
    // As long as the store would give it back.
    Freshness f = freshness_for(spec(lk.signal), opts_.max_age);
    keep_until = *at + (lk.outcome.result.status == SignalStatus::kFound ? f.found : f.no_result);
  }
  table_.settle(lk, static_cast<bool>(ctx_.cache.get), keep_until);
}

void RunLookups::on_landing(Landing& l) {
  std::optional<std::pair<std::string_view, Signal>> named = split_lookup_key(l.key);
  Lookup* lk = named ? table_.find(named->first, named->second) : nullptr;
  if (lk == nullptr || lk->done || !lk->standby_inputs) return;
  if (l.outcome) {
    // Another call looked it up (and paid, and stored it): to this run's leads it is an answer
    // already known, like a cache hit.
    l.outcome->billed = false;
    lk->from_cache = true;
    ctx_.flights->note_shared();
    return finish(lk->entity, lk->signal, std::move(*l.outcome), l.run_id);
  }
  // The run that flew it gave up: claim it again (this run may now fly it).
  Json::Object inputs = std::move(*lk->standby_inputs);
  lk->standby_inputs.reset();
  --standby_;
  Lookup fresh;
  fresh.signal = lk->signal;
  fresh.entity = lk->entity;
  fresh.waiters = std::move(lk->waiters);
  Lookup& again = table_.insert(start(std::move(fresh), std::move(inputs)));
  enqueue_fresh();
  if (again.done) fan_out(again);
}

void RunLookups::fail_open(const Status& st) {
  for (const auto& [entity, s] : table_.open()) finish(entity, s, failed_outcome(s, st), "");
}

LookupOutcome RunLookups::failed_outcome(Signal s, const Status& st) const {
  LookupOutcome o;
  o.result.status = SignalStatus::kFailed;
  o.result.source = spec(s).pipe_id;
  std::string message = st.message();
  if (st.http_status() != 0) message += fmt::format(" (HTTP {})", st.http_status());
  o.result.reason = Reason{std::string(to_string(st.code())), std::move(message)};
  return o;
}

}  // namespace leadenrich::internal
