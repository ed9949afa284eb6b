// The run's cache hooks over a Store: freshness per signal (or the run's max age), keyed by
// signal, entity, pipe id and output-field configuration.
#ifndef LEADENRICH_INTERNAL_CACHE_HOOKS_H_
#define LEADENRICH_INTERNAL_CACHE_HOOKS_H_

#include <memory>
#include <mutex>

#include "internal/run.h"

namespace leadenrich {
class Store;
}

namespace leadenrich::internal {

/// The first error a run's store reads gave. A read error is never taken for a miss (that would
/// pay pipe0 again for what the store may hold): the lookup fails unpaid with the store's error,
/// the run stops taking leads (stop_on_store_fault) and the caller returns this error.
/// Thread-safe.
class StoreFault {
 public:
  void note(const Status& status);
  /// Ok while the store has not failed.
  Status status() const;

 private:
  mutable std::mutex mu_;
  Status first_;
};

/// Empty hooks when `store` is null. Read errors are noted in `fault` when given.
CacheHooks make_cache_hooks(std::shared_ptr<Store> store, const Config& config, const EngineOptions& options,
                            std::shared_ptr<Clock> clock, std::shared_ptr<StoreFault> fault = nullptr);

/// `inner`, ending with the store's error as a fatal item once `fault` holds one, so the run
/// sends nothing for leads it has not read yet.
std::unique_ptr<LeadSource> stop_on_store_fault(LeadSource& inner, std::shared_ptr<const StoreFault> fault);

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_CACHE_HOOKS_H_
