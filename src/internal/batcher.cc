#include "internal/batcher.h"

#include <algorithm>

#include "leadenrich/pipe0.h"

namespace leadenrich::internal {

void Batcher::enqueue(const std::string& entity, Mask mask) {
  if (mask == 0) return;
  queues_[mask].push_back(entity);
  ++queued_;
  ++planned_;
}

void Batcher::park(Clock::SteadyTime at, Group group) {
  if (group.entities.empty()) return;
  parked_records_ += group.entities.size();
  parked_.emplace(at, std::move(group));
}

void Batcher::unpark_due(Clock::SteadyTime now) {
  while (!parked_.empty() && parked_.begin()->first <= now) {
    Group g = std::move(parked_.begin()->second);
    parked_.erase(parked_.begin());
    parked_records_ -= g.entities.size();
    queued_ += g.entities.size();
    std::deque<std::string>& q = queues_[g.mask];
    q.insert(q.begin(), std::make_move_iterator(g.entities.begin()), std::make_move_iterator(g.entities.end()));
  }
}

std::optional<Clock::SteadyTime> Batcher::next_unpark() const {
  if (parked_.empty()) return std::nullopt;
  return parked_.begin()->first;
}

std::size_t Batcher::waiting() const { return queued_ + parked_records_; }

bool Batcher::next_is_sync() {
  switch (options_.mode) {
    case RunMode::kSync: return true;
    case RunMode::kAsync: return false;
    case RunMode::kAuto:
      // Latched: once the plan is large, the rest of the run stays async.
      if (planned_ > options_.auto_async_threshold) async_latched_ = true;
      return !async_latched_;
  }
  return true;
}

std::optional<Group> Batcher::take(std::size_t room, bool sync) {
  std::size_t size = sync ? options_.sync_batch_size : options_.async_batch_size;
  std::size_t cap = std::clamp<std::size_t>(size, 1, kPipe0MaxRecords);
  for (auto& [mask, queue] : queues_) {
    if (queue.empty()) continue;
    std::size_t n = std::min({cap, queue.size(), std::max<std::size_t>(1, room)});
    Group g;
    g.mask = mask;
    for (std::size_t k = 0; k < n; ++k) {
      g.entities.push_back(std::move(queue.front()));
      queue.pop_front();
    }
    queued_ -= n;
    return g;
  }
  return std::nullopt;
}

std::vector<Group> Batcher::drain() {
  std::vector<Group> out;
  for (auto& [mask, queue] : queues_) {
    if (!queue.empty()) out.push_back(Group{mask, {std::make_move_iterator(queue.begin()), std::make_move_iterator(queue.end())}});
  }
  queues_.clear();
  for (auto& [at, g] : parked_) out.push_back(std::move(g));
  parked_.clear();
  queued_ = 0;
  parked_records_ = 0;
  return out;
}

}  // namespace leadenrich::internal
