// Where enriched leads go: JSON (an array), JSON lines (streamed) and CSV (a fixed column set),
// written to a temporary name and renamed into place so a killed run never leaves a truncated
// file under the final name.
#ifndef LEADENRICH_OUTPUT_H_
#define LEADENRICH_OUTPUT_H_

#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "leadenrich/lead.h"
#include "leadenrich/status.h"

namespace leadenrich {

enum class OutputFormat { kJson, kJsonl, kCsv };
/// "json", "jsonl", "csv".
std::string_view to_string(OutputFormat f);
/// The conventional extension, without the dot.
std::string_view extension(OutputFormat f);

/// Writes leads one by one to a stream. Not thread-safe.
class LeadWriter {
 public:
  virtual ~LeadWriter() = default;
  /// Writes one lead. Returns kUnavailable when the stream failed (disk full, closed pipe).
  virtual Status write(const EnrichedLead& lead) = 0;
  /// Ends the document (closes the JSON array) and flushes.
  virtual Status finish() = 0;
};

/// A writer for `format` over `out`, which must outlive it. JSON lines are flushed per lead.
std::unique_ptr<LeadWriter> make_writer(OutputFormat format, std::ostream& out);

/// The CSV columns, always these and in this order (see docs/output.md).
const std::vector<std::string_view>& csv_columns();
/// One lead as CSV cells, aligned with csv_columns(): lists joined with "; ", funding rounds
/// as a JSON cell, absent values empty.
std::vector<std::string> csv_cells(const EnrichedLead& lead);
/// Appends one RFC 4180 record (cells quoted when needed, CRLF line end).
void append_csv_record(std::string& out, const std::vector<std::string>& cells);

/// A file written under "<path>.tmp-<pid>" and renamed to `path` by commit(). Destroying it
/// without commit() removes the temporary file. Not thread-safe.
class AtomicFile {
 public:
  /// Creates the temporary file (and missing parent directories). Returns kUnavailable with the
  /// path and the system's reason when it cannot.
  static Result<std::unique_ptr<AtomicFile>> create(const std::string& path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ostream& stream();
  const std::string& path() const { return path_; }
  /// Flushes, syncs and renames into place.
  Status commit();

 private:
  AtomicFile(std::string path, std::string temp_path);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_;
  std::string temp_path_;
  bool committed_ = false;
};

}  // namespace leadenrich

#endif  // LEADENRICH_OUTPUT_H_
