#include "internal/cache_hooks.h"

namespace leadenrich::internal {

CacheHooks make_cache_hooks(std::shared_ptr<Store> store, const Config& config, const EngineOptions& options,
                            std::shared_ptr<Clock> clock) {
  (void)config;
  (void)options;
  (void)clock;
  if (!store) return {};
  return {};
}

}  // namespace leadenrich::internal
