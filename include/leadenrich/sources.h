// Where raw leads come from: a list in memory, or a file (CSV, JSON array, JSON lines). The
// Aturiya API is another source (aturiya.h). Sources are pulled one lead at a time, so a huge
// file never sits in memory and a limit applies while reading.
#ifndef LEADENRICH_SOURCES_H_
#define LEADENRICH_SOURCES_H_

#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "leadenrich/lead.h"
#include "leadenrich/status.h"

namespace leadenrich {

/// One item pulled from a source: a lead, or the reason a row could not be read.
struct SourceItem {
  Result<RawLead> lead = Status(StatusCode::kUnknown, "empty item");
  /// Where it came from, for messages: "leads.csv:12", "leads.json: item 3".
  std::string location;
  /// True when the source itself failed (unreadable file, API down): nothing more will come.
  /// False for a bad row: report it, skip it, keep pulling.
  bool fatal = false;
};

/// A stream of leads. Not thread-safe: one consumer pulls.
class LeadSource {
 public:
  virtual ~LeadSource() = default;
  /// The next item, or nullopt at the end.
  virtual std::optional<SourceItem> next() = 0;
  /// A short name for messages, e.g. "leads.csv" or "aturiya campaign cmp_1".
  virtual std::string describe() const = 0;
};

/// A source over leads already in memory.
std::unique_ptr<LeadSource> make_vector_source(std::vector<RawLead> leads, std::string name = "leads");

enum class FileFormat { kAuto, kCsv, kJson, kJsonl };
/// "auto", "csv", "json", "jsonl".
std::string_view to_string(FileFormat f);
Result<FileFormat> parse_file_format(std::string_view name);

struct FileSourceOptions {
  FileFormat format = FileFormat::kAuto;  ///< auto: by extension, or by the first character
  /// CSV header -> lead field ("Contact Owner" -> "designation"); wins over the built-in Apollo
  /// mapping. A field that is not one of the 16 lead fields keeps the column as an extra key
  /// under that name.
  std::map<std::string, std::string> column_map;
  /// Fields longer than this make their row an error (default 1 MiB).
  std::size_t max_field_bytes = 1 << 20;
  /// CSV field separator; unset: detected from the header line (`,` `;` or tab).
  std::optional<char> delimiter;
};

/// Opens `path` ("-" for standard input). Returns kNotFound when the file does not exist,
/// kInvalidArgument for an unknown format or a CSV without a header row.
///
/// CSV: RFC 4180 (quotes, embedded newlines, CRLF, a UTF-8 BOM). Apollo export headers map
/// automatically: "First Name" + "Last Name" -> name, "Title" -> designation, "Company" ->
/// organization, "Email" -> email, "Website" -> website, "Person Linkedin Url" -> linkedin_url,
/// phones -> phone, "Apollo Contact Id" / "Id" -> lead_id; other columns are kept as extra keys.
/// The separator is detected from the header line unless given. A header where no column maps
/// to a lead field is kInvalidArgument naming the columns found. Rows without an id get
/// "row-<line>"; a NUL byte in a row makes it a bad row. JSON: an array of lead objects. JSON lines: one object
/// per line. Bad rows (malformed, invalid UTF-8, missing or duplicate lead_id, oversized field)
/// come out as items with an error and the rest of the file is read.
Result<std::unique_ptr<LeadSource>> open_file_source(const std::string& path, const FileSourceOptions& options = {});

/// The same over a stream the caller owns (it must outlive the source); `name` is used in
/// locations. Format kAuto sniffs the first character.
Result<std::unique_ptr<LeadSource>> make_stream_source(std::istream& in, std::string name,
                                                       const FileSourceOptions& options = {});

}  // namespace leadenrich

#endif  // LEADENRICH_SOURCES_H_
