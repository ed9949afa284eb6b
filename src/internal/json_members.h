// Reading a JSON object member by member, without building the object itself: a caller that
// turns each member into something else at once (a raw lead's fields) skips the tree's largest
// allocation and a copy of every key.
#ifndef LEADENRICH_INTERNAL_JSON_MEMBERS_H_
#define LEADENRICH_INTERNAL_JSON_MEMBERS_H_

#include <functional>
#include <optional>
#include <string_view>

#include "leadenrich/json.h"
#include "leadenrich/status.h"

namespace leadenrich::internal {

/// Takes one member; an error stops the walk and is returned by parse_object_members.
using MemberSink = std::function<Status(std::string_view key, Json&& value)>;

/// Parses `text` exactly as Json::parse does (the same errors for bad text). When the document is
/// an object, hands each member to `member` in order (each value a tree of its own) and returns
/// nullopt; any other document is returned whole, for the caller to name.
Result<std::optional<Json>> parse_object_members(std::string_view text, const MemberSink& member);

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_JSON_MEMBERS_H_
