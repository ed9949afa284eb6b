#include "leadenrich/sources.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "internal/csv.h"
#include "internal/page_array.h"
#include "internal/utf8.h"

namespace leadenrich {
namespace {

// Duplicate lead ids within one source are bad rows: the first occurrence wins. Kept for the
// whole file, so entries are packed: each id and where it was (without the source's name, which
// every location of one source starts with) is a record in large blocks, found through an
// open-addressing table of 8-byte slots. About 30 bytes per lead for a short id, where a map of
// strings took over 100.
class IdRegistry {
 public:
  // Empty when new; else the location of the first occurrence.
  std::string seen(const std::string& id, const std::string& location) {
    if (size_ == 0) prefix_ = location.substr(0, location.find_last_not_of("0123456789") + 1);
    std::uint64_t hash = std::hash<std::string_view>{}(id);
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      std::uint64_t slot = slots_[i];
      if (slot == 0) {
        slots_[i] = tag(hash) | (add(id, location) + 1);
        ++size_;
        return std::string();
      }
      if ((slot & kTagMask) != tag(hash)) continue;
      Record r = record(slot);
      if (r.id != id) continue;
      std::string where = r.numeric ? std::to_string(r.number) : std::string(r.where);
      return r.stripped ? prefix_ + where : where;
    }
  }

 private:
  struct Record {
    std::string_view id;
    std::string_view where;
    bool stripped;  // `where` lacks prefix_
    bool numeric;   // `where` was a line number, kept as `number`
    std::uint64_t number;
  };
  // A location past the prefix that is a plain number (a line) is kept as a number: 3-4 bytes
  // instead of its digits and their length.
  static bool plain_number(std::string_view s) {
    return !s.empty() && s.size() <= 18 && (s[0] != '0' || s.size() == 1) &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  }
  // A slot holds the hash's top 24 bits (to skip most mismatches without reading the record)
  // and 1 + the record's position: its block (high bits) and offset in the block (low 20 bits).
  // 0 is an empty slot.
  static constexpr int kOffsetBits = 20;
  static constexpr std::size_t kBlockSize = std::size_t{1} << kOffsetBits;
  static constexpr std::uint64_t kTagMask = 0xFFFFFF0000000000ULL;
  static std::uint64_t tag(std::uint64_t hash) { return hash & kTagMask; }

  static void put_varint(std::string& out, std::size_t n) {
    for (; n >= 0x80; n >>= 7) out.push_back(static_cast<char>((n & 0x7F) | 0x80));
    out.push_back(static_cast<char>(n));
  }
  static std::size_t get_varint(const char*& p) {
    std::size_t n = 0;
    for (int shift = 0;; shift += 7) {
      auto byte = static_cast<unsigned char>(*p++);
      n |= static_cast<std::size_t>(byte & 0x7F) << shift;
      if (byte < 0x80) return n;
    }
  }

  Record record(std::uint64_t slot) const {
    std::uint64_t pos = (slot & ~kTagMask) - 1;
    const char* p = blocks_[pos >> kOffsetBits].get() + (pos & (kBlockSize - 1));
    std::size_t id_size = get_varint(p);
    std::size_t where = get_varint(p);  // (line number or length) << 2 | numeric << 1 | stripped
    bool numeric = (where & 2) != 0;
    std::string_view text = numeric ? std::string_view() : std::string_view(p + id_size, where >> 2);
    return Record{std::string_view(p, id_size), text, (where & 1) != 0, numeric, numeric ? where >> 2 : 0};
  }

  // Appends the record; returns its position. A record larger than a block gets a block of its
  // own, so an offset always fits in kOffsetBits.
  std::uint64_t add(std::string_view id, std::string_view location) {
    bool strip = location.substr(0, prefix_.size()) == prefix_;
    std::string_view where = strip ? location.substr(prefix_.size()) : location;
    bool numeric = strip && plain_number(where);
    header_.clear();
    put_varint(header_, id.size());
    if (numeric) {
      std::uint64_t line = 0;
      for (char c : where) line = line * 10 + static_cast<std::uint64_t>(c - '0');
      put_varint(header_, (line << 2) | 2 | 1);
      where = {};
    } else {
      put_varint(header_, (where.size() << 2) | (strip ? 1 : 0));
    }
    std::size_t size = header_.size() + id.size() + where.size();
    if (kBlockSize - block_used_ < size || blocks_.empty()) {
      blocks_.push_back(std::make_unique<char[]>(std::max(kBlockSize, size)));
      block_used_ = 0;
    }
    char* p = blocks_.back().get() + block_used_;
    std::uint64_t pos = (static_cast<std::uint64_t>(blocks_.size() - 1) << kOffsetBits) | block_used_;
    p = std::copy(header_.begin(), header_.end(), p);
    p = std::copy(id.begin(), id.end(), p);
    std::copy(where.begin(), where.end(), p);
    block_used_ = size > kBlockSize ? kBlockSize : block_used_ + size;
    return pos;
  }

  // As FlatHashMap64::grow: the new array fills in order while the old one is released behind.
  void grow() {
    internal::PageArray<std::uint64_t> old = std::move(slots_);
    slots_ = internal::PageArray<std::uint64_t>(std::max<std::size_t>(64, old.size() * 2));
    std::size_t mask = slots_.size() - 1;
    for (std::size_t k = 0; k < old.size(); ++k) {
      if (k % (1 << 16) == 0) old.release_before(k);
      std::uint64_t slot = old[k];
      if (slot == 0) continue;
      std::size_t i = std::hash<std::string_view>{}(record(slot).id) & mask;
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = slot;
    }
  }

  std::string prefix_;
  internal::PageArray<std::uint64_t> slots_;  // a power of two, at most 3/4 used
  std::size_t size_ = 0;
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::size_t block_used_ = 0;  // bytes used in the last block
  std::string header_;          // scratch for a record's header
};

SourceItem checked(Result<RawLead> lead, std::string location, IdRegistry& ids) {
  if (lead.ok()) {
    std::string first = ids.seen(lead->lead_id, location);
    if (!first.empty()) {
      lead = invalid_argument(fmt::format("duplicate lead_id '{}' (first seen at {})", lead->lead_id, first));
    }
  }
  return SourceItem{std::move(lead), std::move(location), false};
}

class VectorSource : public LeadSource {
 public:
  VectorSource(std::vector<RawLead> leads, std::string name) : leads_(std::move(leads)), name_(std::move(name)) {}
  std::optional<SourceItem> next() override {
    if (i_ >= leads_.size()) return std::nullopt;
    std::size_t index = i_++;
    Result<RawLead> lead = std::move(leads_[index]);
    if (lead->lead_id.empty()) lead = invalid_argument("lead.lead_id: missing or empty");
    return checked(std::move(lead), fmt::format("{}[{}]", name_, index), ids_);
  }
  std::string describe() const override { return name_; }

 private:
  std::vector<RawLead> leads_;
  std::string name_;
  std::size_t i_ = 0;
  IdRegistry ids_;
};

// Keeps an owned file stream alive beside a source that reads it.
struct OwnedStream {
  std::unique_ptr<std::ifstream> file;
  std::istream* stream = nullptr;
};

class JsonLinesSource : public LeadSource {
 public:
  JsonLinesSource(OwnedStream in, std::string name) : in_(std::move(in)), name_(std::move(name)) {}
  std::optional<SourceItem> next() override {
    std::string line;
    while (std::getline(*in_.stream, line)) {
      ++line_no_;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      std::string location = fmt::format("{}:{}", name_, line_no_);
      if (!internal::valid_utf8(line)) return SourceItem{invalid_argument("invalid UTF-8"), location, false};
      return checked(parse_raw_lead(line), std::move(location), ids_);
    }
    if (in_.stream->bad()) {
      return SourceItem{unavailable(fmt::format("{}: read error", name_)), name_, true};
    }
    return std::nullopt;
  }
  std::string describe() const override { return name_; }

 private:
  OwnedStream in_;
  std::string name_;
  std::size_t line_no_ = 0;
  IdRegistry ids_;
};

class JsonArraySource : public LeadSource {
 public:
  JsonArraySource(Json::Array items, std::string name) : items_(std::move(items)), name_(std::move(name)) {}
  std::optional<SourceItem> next() override {
    if (i_ >= items_.size()) return std::nullopt;
    std::size_t index = i_++;
    return checked(raw_lead_from_json(items_[index]), fmt::format("{}: item {}", name_, index + 1), ids_);
  }
  std::string describe() const override { return name_; }

 private:
  Json::Array items_;
  std::string name_;
  std::size_t i_ = 0;
  IdRegistry ids_;
};

// Header names compare lowercased with runs of spaces, underscores and dashes folded to one space.
std::string fold_header(std::string_view h) {
  std::string out;
  bool space = false;
  for (char c : h) {
    if (c == ' ' || c == '_' || c == '-' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

// Built-in header -> lead field mapping (Apollo exports and the lead's own field names).
const std::vector<std::pair<std::string_view, std::string_view>>& known_headers() {
  static const std::vector<std::pair<std::string_view, std::string_view>> kHeaders = {
      {"lead id", "lead_id"}, {"apollo contact id", "lead_id"}, {"contact id", "lead_id"}, {"person id", "lead_id"},
      {"id", "lead_id"},
      {"name", "name"}, {"full name", "name"},
      {"first name", "first_name"}, {"last name", "last_name"},
      {"email", "email"}, {"email address", "email"}, {"work email", "email"},
      {"phone", "phone"}, {"mobile phone", "phone"}, {"work direct phone", "phone"}, {"corporate phone", "phone"},
      {"phone number", "phone"},
      {"organization", "organization"}, {"company", "organization"}, {"company name", "organization"},
      {"company name for emails", "organization"}, {"account name", "organization"},
      {"designation", "designation"}, {"title", "designation"}, {"job title", "designation"},
      {"linkedin url", "linkedin_url"}, {"person linkedin url", "linkedin_url"}, {"linkedin", "linkedin_url"},
      {"website", "website"}, {"company website", "website"}, {"domain", "website"}, {"company domain", "website"},
      {"agent id", "agent_id"}, {"campaign id", "campaign_id"}, {"task id", "task_id"},
      {"task status", "task_status"}, {"campaign name", "campaign_name"}, {"status", "status"}, {"type", "type"},
      {"created at", "created_at"},
  };
  return kHeaders;
}

bool is_lead_field(std::string_view f) {
  const auto& names = raw_lead_field_names();
  return std::find(names.begin(), names.end(), f) != names.end();
}

// Header names for a message: quoted, control characters shown as '?', long lists and names cut.
std::string describe_columns(const std::vector<std::string>& headers) {
  constexpr std::size_t kMaxColumns = 12, kMaxName = 60;
  std::string out;
  for (std::size_t i = 0; i < headers.size() && i < kMaxColumns; ++i) {
    std::string name = headers[i].substr(0, kMaxName);
    for (char& c : name) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    if (!internal::valid_utf8(name)) name = "(not UTF-8)";
    out += fmt::format("{}'{}'", i == 0 ? "" : ", ", name);
  }
  if (headers.size() > kMaxColumns) out += fmt::format(" and {} more", headers.size() - kMaxColumns);
  return out;
}

class CsvSource : public LeadSource {
 public:
  CsvSource(OwnedStream in, std::string name, std::size_t max_field_bytes)
      : in_(std::move(in)), name_(std::move(name)), reader_(*in_.stream, max_field_bytes) {}

  // Reads the header row and decides each column's destination.
  Status init(const std::map<std::string, std::string>& user_map, std::optional<char> delimiter) {
    if (delimiter) {
      reader_.set_delimiter(*delimiter);
    } else {
      reader_.detect_delimiter();
    }
    internal::CsvRecord header;
    if (!reader_.next(header) || !header.error.empty() ||
        (header.fields.size() == 1 && header.fields[0].empty())) {
      return invalid_argument(fmt::format("{}: a CSV file needs a header row", name_));
    }
    for (const std::string& h : header.fields) {
      if (h.find('\0') != std::string::npos) {
        return invalid_argument(fmt::format("{}: the header row holds NUL bytes (a UTF-16 file? save it as UTF-8 CSV)",
                                            name_));
      }
    }
    std::unordered_set<std::string> taken;
    std::unordered_map<std::string, std::string> folded_user;
    for (const auto& [col, field] : user_map) folded_user[fold_header(col)] = field;
    for (const std::string& h : header.fields) {
      std::string folded = fold_header(h);
      std::string dest;
      if (auto it = folded_user.find(folded); it != folded_user.end()) {
        dest = it->second;
      } else {
        for (const auto& [known, field] : known_headers()) {
          if (known == folded) {
            dest = std::string(field);
            break;
          }
        }
      }
      bool field_target = is_lead_field(dest) || dest == "first_name" || dest == "last_name";
      if (dest.empty() || (field_target && taken.count(dest) != 0)) {
        columns_.push_back(Column{h, false});  // kept as an extra key under its own header
      } else {
        taken.insert(dest);
        columns_.push_back(Column{dest, field_target});
      }
    }
    // Nothing to enrich from (typically a file split with another separator): every row would
    // become an id-less lead with every signal skipped, so say so instead.
    if (std::none_of(columns_.begin(), columns_.end(), [](const Column& c) { return c.field; })) {
      return invalid_argument(fmt::format(
          "{}: no column maps to a lead field; columns found: {}. Name them like an Apollo export (Email, "
          "Website, Company, ...), map them with --map 'COLUMN=FIELD', or give the separator with --delimiter",
          name_, describe_columns(header.fields)));
    }
    return {};
  }

  std::optional<SourceItem> next() override {
    internal::CsvRecord rec;
    while (reader_.next(rec)) {
      if (rec.fields.size() == 1 && rec.fields[0].empty() && rec.error.empty()) continue;  // blank line
      std::string location = fmt::format("{}:{}", name_, rec.line);
      if (!rec.error.empty()) return SourceItem{invalid_argument(rec.error), location, false};
      return checked(to_lead(rec), std::move(location), ids_);
    }
    if (in_.stream->bad()) return SourceItem{unavailable(fmt::format("{}: read error", name_)), name_, true};
    return std::nullopt;
  }
  std::string describe() const override { return name_; }

 private:
  struct Column {
    std::string dest;  // a lead field, first_name/last_name, or an extra key
    bool field;
  };

  Result<RawLead> to_lead(const internal::CsvRecord& rec) {
    if (rec.fields.size() > columns_.size()) {
      return invalid_argument(fmt::format("{} cells but the header has {} columns", rec.fields.size(), columns_.size()));
    }
    Json::Object object;
    std::string first, last;
    for (std::size_t i = 0; i < rec.fields.size(); ++i) {
      const std::string& cell = rec.fields[i];
      const Column& col = columns_[i];
      if (!internal::valid_utf8(cell)) return invalid_argument(fmt::format("invalid UTF-8 in column '{}'", col.dest));
      if (cell.find('\0') != std::string::npos) return invalid_argument(fmt::format("a NUL byte in column '{}'", col.dest));
      if (col.dest == "first_name") {
        first = cell;
      } else if (col.dest == "last_name") {
        last = cell;
      } else if (col.field) {
        std::string_view v = cell;
        while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
        while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
        if (!v.empty()) object.emplace_back(col.dest, Json(v));
      } else {
        object.emplace_back(col.dest, Json(cell));
      }
    }
    bool has_name = std::any_of(object.begin(), object.end(), [](const Json::Member& m) { return m.first == "name"; });
    if (!has_name && (!first.empty() || !last.empty())) {
      std::string full = first.empty() ? last : last.empty() ? first : first + " " + last;
      object.emplace_back("name", Json(full));
    }
    bool has_id = std::any_of(object.begin(), object.end(), [](const Json::Member& m) { return m.first == "lead_id"; });
    if (!has_id) object.emplace_back("lead_id", Json(fmt::format("row-{}", rec.line)));
    return raw_lead_from_json(Json(std::move(object)));
  }

  OwnedStream in_;
  std::string name_;
  internal::CsvReader reader_;
  std::vector<Column> columns_;
  IdRegistry ids_;
};

FileFormat format_from_extension(std::string_view path) {
  std::string p(path);
  for (char& c : p) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto ends = [&](std::string_view ext) { return p.size() >= ext.size() && p.compare(p.size() - ext.size(), ext.size(), ext) == 0; };
  if (ends(".csv")) return FileFormat::kCsv;
  if (ends(".jsonl") || ends(".ndjson")) return FileFormat::kJsonl;
  if (ends(".json")) return FileFormat::kJson;
  return FileFormat::kAuto;
}

FileFormat sniff(std::istream& in) {
  while (true) {
    int c = in.peek();
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      in.get();
      continue;
    }
    if (c == '[') return FileFormat::kJson;
    if (c == '{') return FileFormat::kJsonl;
    return FileFormat::kCsv;
  }
}

Result<std::unique_ptr<LeadSource>> make_source(OwnedStream in, std::string name, FileFormat format,
                                                const FileSourceOptions& options) {
  if (format == FileFormat::kAuto) format = sniff(*in.stream);
  switch (format) {
    case FileFormat::kJsonl:
      return std::unique_ptr<LeadSource>(std::make_unique<JsonLinesSource>(std::move(in), std::move(name)));
    case FileFormat::kJson: {
      std::ostringstream text;
      text << in.stream->rdbuf();
      Result<Json> doc = Json::parse(text.str());
      if (!doc.ok()) return invalid_argument(fmt::format("{}: {}", name, doc.status().message()));
      if (!doc->is_array()) {
        return invalid_argument(fmt::format("{}: expected a JSON array of leads, got {}", name, doc->type_name()));
      }
      return std::unique_ptr<LeadSource>(std::make_unique<JsonArraySource>(std::move(doc->as_array()), std::move(name)));
    }
    case FileFormat::kCsv:
    case FileFormat::kAuto: {
      auto src = std::make_unique<CsvSource>(std::move(in), name, options.max_field_bytes);
      LEADENRICH_RETURN_IF_ERROR(src->init(options.column_map, options.delimiter));
      return std::unique_ptr<LeadSource>(std::move(src));
    }
  }
  return internal_error("unknown file format");
}

}  // namespace

std::unique_ptr<LeadSource> make_vector_source(std::vector<RawLead> leads, std::string name) {
  return std::make_unique<VectorSource>(std::move(leads), std::move(name));
}

std::string_view to_string(FileFormat f) {
  switch (f) {
    case FileFormat::kAuto: return "auto";
    case FileFormat::kCsv: return "csv";
    case FileFormat::kJson: return "json";
    case FileFormat::kJsonl: return "jsonl";
  }
  return "auto";
}

Result<FileFormat> parse_file_format(std::string_view name) {
  for (FileFormat f : {FileFormat::kAuto, FileFormat::kCsv, FileFormat::kJson, FileFormat::kJsonl}) {
    if (to_string(f) == name) return f;
  }
  return invalid_argument(fmt::format("unknown input format '{}' (valid: auto, csv, json, jsonl)", name));
}

Result<std::unique_ptr<LeadSource>> open_file_source(const std::string& path, const FileSourceOptions& options) {
  if (path == "-") return make_stream_source(std::cin, "stdin", options);
  auto file = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*file) return not_found(fmt::format("{}: cannot open the file", path));
  FileFormat format = options.format == FileFormat::kAuto ? format_from_extension(path) : options.format;
  OwnedStream in;
  in.stream = file.get();
  in.file = std::move(file);
  return make_source(std::move(in), path, format, options);
}

Result<std::unique_ptr<LeadSource>> make_stream_source(std::istream& in, std::string name,
                                                       const FileSourceOptions& options) {
  OwnedStream owned;
  owned.stream = &in;
  return make_source(std::move(owned), std::move(name), options.format, options);
}

}  // namespace leadenrich
