// A work-queue chunk's leads as the stores keep them: one JSON text, [[index, lead], ...] with each
// lead as to_json(RawLead), so every store's queue reads what any other build of it wrote.
#ifndef LEADENRICH_INTERNAL_CHUNK_JSON_H_
#define LEADENRICH_INTERNAL_CHUNK_JSON_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "leadenrich/lead.h"
#include "leadenrich/status.h"
#include "leadenrich/work_queue.h"

namespace leadenrich::internal {

std::string chunk_leads_json(const WorkChunk& chunk);

/// kDataLoss naming what is wrong when `text` is not what chunk_leads_json writes.
Result<std::vector<std::pair<std::size_t, RawLead>>> parse_chunk_leads(std::string_view text);

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_CHUNK_JSON_H_
