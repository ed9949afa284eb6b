// A Store that hands every call to another one: tests derive from it and override only the calls
// they watch or break.
#ifndef LEADENRICH_TESTS_UNIT_FORWARDING_STORE_H_
#define LEADENRICH_TESTS_UNIT_FORWARDING_STORE_H_

#include <memory>
#include <utility>

#include "leadenrich/store.h"

namespace leadenrich::testing {

class ForwardingStore : public Store {
 public:
  explicit ForwardingStore(std::shared_ptr<Store> inner) : inner_(std::move(inner)) {}

  Result<std::optional<CacheEntry>> get(const CacheKey& k, Timestamp now, Freshness f) override {
    return inner_->get(k, now, f);
  }
  Result<std::vector<std::optional<CacheEntry>>> get_many(const std::vector<CacheKey>& keys, Timestamp now,
                                                          const std::vector<Freshness>& f) override {
    return inner_->get_many(keys, now, f);
  }
  Status put(const CacheKey& k, const CacheEntry& e) override { return inner_->put(k, e); }
  Status put_many(const std::vector<std::pair<CacheKey, CacheEntry>>& entries) override {
    return inner_->put_many(entries);
  }
  Result<std::vector<std::pair<std::string, std::size_t>>> cache_stats() override { return inner_->cache_stats(); }
  Result<std::string> begin_run(const std::string& input, Timestamp now) override { return inner_->begin_run(input, now); }
  Result<RunRecord> run(const std::string& id) override { return inner_->run(id); }
  Result<std::optional<RunRecord>> find_unfinished_run(const std::string& input) override {
    return inner_->find_unfinished_run(input);
  }
  Result<std::vector<RunRecord>> list_runs() override { return inner_->list_runs(); }
  Status record_lead(const std::string& id, std::size_t i, const EnrichedLead& l, Timestamp now) override {
    return inner_->record_lead(id, i, l, now);
  }
  Status record_leads(const std::string& id, const std::vector<std::pair<std::size_t, EnrichedLead>>& leads,
                      Timestamp now) override {
    return inner_->record_leads(id, leads, now);
  }
  Result<std::vector<std::pair<std::size_t, EnrichedLead>>> run_leads(const std::string& id) override {
    return inner_->run_leads(id);
  }
  Status finish_run(const std::string& id, RunState st, Timestamp now) override { return inner_->finish_run(id, st, now); }
  Status claim_run(const std::string& id) override { return inner_->claim_run(id); }
  void release_run(const std::string& id) override { inner_->release_run(id); }
  Result<bool> run_claimed(const std::string& id) override { return inner_->run_claimed(id); }
  Status record_submission(const std::string& id, const PendingSubmission& p) override {
    return inner_->record_submission(id, p);
  }
  Status forget_submission(const std::string& id, const std::string& p) override { return inner_->forget_submission(id, p); }
  Result<std::vector<PendingSubmission>> pending_submissions(const std::string& id) override {
    return inner_->pending_submissions(id);
  }
  Status save_lead_result(const EnrichedLead& l, Timestamp now) override { return inner_->save_lead_result(l, now); }
  Result<std::optional<std::string>> lead_result(const std::string& id) override { return inner_->lead_result(id); }

 protected:
  std::shared_ptr<Store> inner_;
};

}  // namespace leadenrich::testing

#endif  // LEADENRICH_TESTS_UNIT_FORWARDING_STORE_H_
