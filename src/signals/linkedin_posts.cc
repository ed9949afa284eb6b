// The linkedin_posts signal: a person's recent LinkedIn posts (pipe0's people:posts:crustdata
// pipe).
#include "signals/provider_values.h"
#include "signals/signal_codec.h"

namespace leadenrich {

using namespace std::chrono_literals;

std::optional<LinkedInPosts> read_linkedin_posts(const SignalSpec& spec, const Json::Object& fields) {
  using internal::member;
  using internal::text_of;
  const Json* v = internal::role_value(spec, fields, "posts");
  if (v == nullptr) return std::nullopt;
  LinkedInPosts out;
  Json list = internal::unwrap_list(*v);
  if (list.is_array()) {
    for (const Json& item : list.as_array()) {
      LinkedInPost p;
      if (item.is_object()) {
        const Json* t = member(item, {"text", "content", "post_text", "commentary", "body", "message", "post"});
        std::optional<std::string> text = t ? text_of(*t) : std::nullopt;
        if (!text) continue;
        p.text = std::move(*text);
        if (const Json* d = member(item, {"posted_at", "date", "posted_on", "created_at", "published_at", "time"}))
          p.posted_at = text_of(*d);
        if (const Json* u = member(item, {"url", "post_url", "share_url", "link"})) p.url = text_of(*u);
        if (const Json* r = member(item, {"reactions", "num_reactions", "total_reactions", "reaction_count",
                                          "likes", "num_likes"})) {
          if (r->is_object()) {
            std::int64_t sum = 0;
            for (const auto& [k, n] : r->as_object()) sum += n.to_int().value_or(0);
            p.reactions = sum;
          } else if (auto range = parse_number_range(*r)) {
            p.reactions = static_cast<std::int64_t>(range->min);
          }
        }
      } else if (auto text = text_of(item)) {
        p.text = std::move(*text);
      } else {
        continue;
      }
      out.posts.push_back(std::move(p));
    }
  } else if (auto text = text_of(list)) {
    out.posts.push_back(LinkedInPost{std::move(*text), std::nullopt, std::nullopt, std::nullopt});
  }
  if (out.posts.empty()) return std::nullopt;
  return out;
}

namespace internal {
namespace {

Json to_json(const LinkedInPosts& v) {
  Json::Array posts;
  for (const LinkedInPost& p : v.posts) {
    Json::Object o;
    o.emplace_back("text", Json(p.text));
    o.emplace_back("posted_at", optional_text(p.posted_at));
    o.emplace_back("url", optional_text(p.url));
    o.emplace_back("reactions", p.reactions ? Json(*p.reactions) : Json());
    posts.emplace_back(std::move(o));
  }
  Json::Object o;
  o.emplace_back("posts", Json(std::move(posts)));
  return Json(std::move(o));
}

void append_json(std::string& out, const LinkedInPosts& v) {
  ObjectOut o(out);
  append_array(o.key("posts"), v.posts, [&](const LinkedInPost& p) {
    ObjectOut item(out);
    item.text("text", p.text);
    item.maybe_text("posted_at", p.posted_at);
    item.maybe_text("url", p.url);
    p.reactions ? item.integer("reactions", *p.reactions) : item.null("reactions");
    item.close();
  });
  o.close();
}

Result<LinkedInPosts> from_json(const ObjectReader& r) {
  LinkedInPosts v;
  Status s = for_each_item(r, "posts", [&](const Json& item, const Path& path) -> Status {
    ObjectReader ir(item, path);
    LEADENRICH_RETURN_IF_ERROR(ir.check_object());
    LinkedInPost p;
    std::optional<std::string> text;
    LEADENRICH_RETURN_IF_ERROR(ir.text("text", text));
    p.text = text.value_or("");
    LEADENRICH_RETURN_IF_ERROR(ir.text("posted_at", p.posted_at));
    LEADENRICH_RETURN_IF_ERROR(ir.text("url", p.url));
    std::optional<double> reactions;
    LEADENRICH_RETURN_IF_ERROR(ir.number("reactions", reactions));
    if (reactions) p.reactions = static_cast<std::int64_t>(*reactions);
    v.posts.push_back(std::move(p));
    return {};
  });
  if (!s.ok()) return s;
  return v;
}

// The posts' texts joined, and the latest posted_at (compared as text: ISO-8601 sorts).
void csv_cells(const LinkedInPosts* v, CsvRow& row) {
  std::string_view latest;
  row.build([&](std::string& c) {
    if (v == nullptr) return;
    append_joined(c, v->posts, [](const LinkedInPost& p) -> const std::string& { return p.text; });
    for (const LinkedInPost& p : v->posts) {
      if (p.posted_at && std::string_view(*p.posted_at).compare(latest) > 0) latest = *p.posted_at;
    }
  });
  row.text(latest);
}

constexpr std::string_view kSchema = R"json({
        "type": "object",
        "properties": {
          "posts": {"type": "array", "items": {"type": "object", "properties": {
            "text": {"type": "string"},
            "posted_at": {"type": "string", "nullable": true},
            "url": {"type": "string", "nullable": true},
            "reactions": {"type": "integer", "nullable": true}}}}
        }
      })json";

}  // namespace

const SignalCodec& linkedin_posts_codec() {
  static const TypedSignalCodec<LinkedInPosts> kCodec({
      .signal = Signal::kLinkedInPosts,
      .slot = &EnrichedLead::linkedin_posts,
      .spec = {.signal = Signal::kLinkedInPosts,
               .pipe_id = "people:posts:crustdata@1",
               .level = SignalLevel::kPerson,
               .required_inputs = {"profile_url"},
               .outputs = {{"posts", {"crustdata_post_list", "post_list", "post_list_string"}}},
               .freshness = 12h,
               .no_result_freshness = 6h,
               .credits_per_lookup = 1.0,
               .weight = 20},
      .read = read_linkedin_posts,
      .to_json = to_json,
      .append_json = append_json,
      .from_json = from_json,
      .csv_columns = {"linkedin_posts", "latest_post_at"},
      .csv_cells = csv_cells,
      .schema_name = "LinkedInPosts",
      .value_schema = kSchema,
  });
  return kCodec;
}

}  // namespace internal
}  // namespace leadenrich
