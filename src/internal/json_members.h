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

class JsonNode;

/// Takes one member; an error stops the walk and is returned by parse_object_members.
using MemberSink = std::function<Status(std::string_view key, Json&& value)>;

/// Parses `text` exactly as Json::parse does (the same errors for bad text). When the document is
/// an object, hands each member to `member` in order (each value a tree of its own) and returns
/// nullopt; any other document is returned whole, for the caller to name.
Result<std::optional<Json>> parse_object_members(std::string_view text, const MemberSink& member);

/// One value of a parsed document, read in place: its members walked one by one, or made into a
/// tree only where the caller wants one. Valid only inside the walk that hands it out.
class JsonNode {
 public:
  Json::Type type() const;
  bool is_object() const { return type() == Json::Type::kObject; }
  /// The value as a tree of its own.
  Json tree() const;
  /// A scalar's text as Json::to_text gives it (a string as it is, a number's text, a boolean's
  /// word); empty for null, arrays and objects.
  std::string text() const;
  /// Each member of an object in order (none for other values); an error stops the walk.
  Status members(const std::function<Status(std::string_view key, const JsonNode& value)>& member) const;

 private:
  friend Status walk_json(std::string_view, const std::function<Status(const JsonNode&)>&);
  explicit JsonNode(const void* element) : element_(element) {}
  const void* element_;  // a simdjson element, private to json_parse.cc
};

/// Parses `text` exactly as Json::parse does (the same errors for bad text) and hands its root to
/// `root` without building any tree.
Status walk_json(std::string_view text, const std::function<Status(const JsonNode& root)>& root);

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_JSON_MEMBERS_H_
