// Where enriched leads go: JSON (an array), JSON lines (streamed) and CSV (a fixed column set),
// written to a temporary name and renamed into place so a killed run never leaves a truncated
// file under the final name (special files such as /dev/null are written in place).
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

/// Writes leads one by one to a stream. Not thread-safe. The text is gathered and handed to the
/// stream 64 KiB at a time (a write(2) per lead cost more than the lead's JSON); flush(),
/// finish() and the destructor hand over the rest.
class LeadWriter {
 public:
  virtual ~LeadWriter() = default;
  /// Writes one lead. Returns kUnavailable when the stream failed (disk full, closed pipe); the
  /// failure shows at the write that hands the gathered text over, or at flush() or finish().
  virtual Status write(const EnrichedLead& lead) = 0;
  /// Ends the document (closes the JSON array) and flushes.
  virtual Status finish() = 0;
  /// Passes what was written so far on to the stream's destination, for JSON lines (a JSON
  /// array or CSV is read when whole: for them it does nothing). A program that streams JSON
  /// lines calls this after each burst of leads (the CLI does after every engine step, from
  /// EngineOptions::progress), so a reader sees each lead as soon as its burst is done.
  virtual Status flush() { return Status(); }
};

/// What each lead becomes: leadenrich's own object (docs/output.md), or the `EnrichedLead` of the
/// original Python pipeline leadenrich replaces, for readers written against its files and API.
enum class OutputShape { kLeadenrich, kOriginal };
/// "leadenrich", "original".
std::string_view to_string(OutputShape s);

/// A writer for `format` over `out`, which must outlive it. JSON lines are flushed by flush() and
/// finish().
std::unique_ptr<LeadWriter> make_writer(OutputFormat format, std::ostream& out,
                                        OutputShape shape = OutputShape::kLeadenrich);

/// The lead as the original pipeline's `EnrichedLead` (docs/output.md, "The original's shape"):
/// its lead fields at top level, company_overview values as strings, tech_stack and
/// linkedin_posts as lists of strings, funding with the news summary, enrichment_metadata.
Json to_original_json(const EnrichedLead& lead);
/// The original shape's CSV columns, always these and in this order.
const std::vector<std::string_view>& original_csv_columns();
/// One lead in the original shape as CSV cells, aligned with original_csv_columns().
std::vector<std::string> original_csv_cells(const EnrichedLead& lead);

/// The CSV columns, always these and in this order (see docs/output.md).
const std::vector<std::string_view>& csv_columns();
/// One lead as CSV cells, aligned with csv_columns(): lists joined with "; ", funding rounds
/// as a JSON cell, absent values empty.
std::vector<std::string> csv_cells(const EnrichedLead& lead);
/// Where a run's output goes. A regular file (or a path that does not exist yet) is written
/// under "<path>.tmp-<pid>" in the same directory and renamed over `path` by commit(), so a
/// killed run never leaves a truncated file under the final name; destroying it without commit()
/// removes the temporary file. A symlink is followed to the file it names (the link stays).
/// Anything that is not a regular file (/dev/null, a FIFO, a terminal) is written in place and
/// never replaced. Write errors keep the system's reason. Not thread-safe.
class AtomicFile {
 public:
  /// Opens the output (creating missing parent directories), and removes "*.tmp-<pid>" files
  /// that runs killed earlier left in that directory (their process no longer exists). Returns
  /// kUnavailable with the path and the system's reason when it cannot.
  static Result<std::unique_ptr<AtomicFile>> create(const std::string& path);
  /// Standard output, written in place; errors name "stdout".
  static std::unique_ptr<AtomicFile> standard_output();
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ostream& stream();
  const std::string& path() const { return path_; }
  /// The first write error with the system's reason ("output/x.json: No space left on
  /// device"), or ok.
  Status write_status() const;
  /// Flushes, syncs and renames into place (in place: flushes).
  Status commit();

 private:
  AtomicFile(std::string path, std::string temp_path, int fd, bool owns_fd);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_;       ///< as given, for messages
  std::string temp_path_;  ///< empty when written in place
  std::string target_;     ///< what commit() renames over (a symlink's target)
  bool committed_ = false;
};

}  // namespace leadenrich

#endif  // LEADENRICH_OUTPUT_H_
