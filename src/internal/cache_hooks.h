// The run's cache hooks over a Store: freshness per signal (or the run's max age), keyed by
// signal, entity, pipe id and output-field configuration.
#ifndef LEADENRICH_INTERNAL_CACHE_HOOKS_H_
#define LEADENRICH_INTERNAL_CACHE_HOOKS_H_

#include <memory>

#include "internal/run.h"

namespace leadenrich {
class Store;
}

namespace leadenrich::internal {

/// Empty hooks when `store` is null.
CacheHooks make_cache_hooks(std::shared_ptr<Store> store, const Config& config, const EngineOptions& options,
                            std::shared_ptr<Clock> clock);

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_CACHE_HOOKS_H_
