#include "leadenrich/output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <streambuf>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <span>
#include <type_traits>

#include <fmt/format.h>

#include "internal/csv_write.h"
#include "internal/json_write.h"
#include "internal/lead_json.h"
#include "signals/signal_codec.h"

namespace leadenrich {
namespace {

// Appends one CSV cell, quoted when it holds a separator, a quote, a line break or edge spaces.
void append_csv_cell(std::string& out, std::string_view cell) {
  bool quote = cell.find_first_of(",\"\r\n") != std::string_view::npos ||
               (!cell.empty() && (cell.front() == ' ' || cell.back() == ' '));
  if (!quote) {
    out.append(cell);
    return;
  }
  out.push_back('"');
  for (char ch : cell) {
    if (ch == '"') out.push_back('"');
    out.push_back(ch);
  }
  out.push_back('"');
}

using internal::append_joined;

void append_signal_names(std::string& cell, const std::vector<Signal>& signals) {
  append_joined(cell, signals, [](Signal s) { return to_string(s); });
}

// Calls `emit(cell)` for each of a lead's CSV cells, in csv_columns() order: the fixed columns,
// each signal's status, the reasons, then each signal's own columns (its codec's). One scratch
// string is reused for every cell, so writing a row builds nothing per lead.
template <typename Emit>
void for_each_csv_cell(const EnrichedLead& e, std::string& cell, Emit&& emit) {
  internal::CsvRow row(
      cell, [](void* context, std::string_view c) { (*static_cast<std::remove_reference_t<Emit>*>(context))(c); }, &emit);
  const RawLead& l = e.lead;
  row.text(l.lead_id);
  row.text(l.name);
  row.text(l.email);
  row.text(l.phone);
  row.text(l.organization);
  row.text(l.designation);
  row.text(l.linkedin_url);
  row.text(l.website);
  row.text(l.campaign_id);
  row.text(l.campaign_name);
  row.text(e.company_key);
  row.text(e.person_key);
  row.build([&](std::string& c) { fmt::format_to(std::back_inserter(c), "{}", e.quality_score); });
  row.build([&](std::string& c) { append_signal_names(c, e.signals_found); });
  row.build([&](std::string& c) { append_signal_names(c, e.signals_missed); });
  row.build([&](std::string& c) {
    if (e.enriched_at) c += format_timestamp(*e.enriched_at);
  });
  row.text(std::string_view(e.sandbox ? "true" : "false"));
  for (Signal s : kAllSignals) row.text(to_string(e.result(s).status));
  row.build([&](std::string& c) {
    for (Signal s : kAllSignals) {
      const SignalResult& r = e.result(s);
      if (!r.reason) continue;
      if (!c.empty()) c += "; ";
      c += to_string(s);
      c += ": ";
      c += r.reason->message;
    }
  });
  for (const internal::SignalCodec* codec : internal::signal_codecs()) codec->csv_cells(e, row);
}

void append_csv_header(std::string& out) {
  bool first = true;
  for (std::string_view column : csv_columns()) {
    if (!first) out.push_back(',');
    first = false;
    append_csv_cell(out, column);
  }
  out += "\r\n";
}

// Text on its way to a stream. libstdc++'s filebuf hands any write of 1 KiB or more straight to
// writev(2), and a lead is about 2.4 KB: written one by one, every lead cost a system call. The
// writers gather their text here and pass it on 64 KiB at a time, at flush() and finish(), and
// when they are destroyed.
class Gathered {
 public:
  explicit Gathered(std::ostream& out) : out_(out) {}
  Gathered(const Gathered&) = delete;
  Gathered& operator=(const Gathered&) = delete;
  ~Gathered() { pass_on(); }

  std::string& text() { return text_; }
  /// Passes the text on once there is enough of it; false when the stream has failed.
  bool written() { return text_.size() < kChunk ? static_cast<bool>(out_) : pass_on(); }
  /// Passes on all the text, and flushes the stream; false when the stream has failed.
  bool flushed() {
    pass_on();
    out_.flush();
    return static_cast<bool>(out_);
  }

 private:
  static constexpr std::size_t kChunk = 64 * 1024;
  bool pass_on() {
    if (!text_.empty()) out_.write(text_.data(), static_cast<std::streamsize>(text_.size()));
    text_.clear();
    return static_cast<bool>(out_);
  }
  std::ostream& out_;
  std::string text_;
};

class JsonLinesWriter : public LeadWriter {
 public:
  explicit JsonLinesWriter(std::ostream& out) : out_(out) {}
  Status write(const EnrichedLead& lead) override {
    internal::append_lead_json(out_.text(), lead);
    out_.text().push_back('\n');
    return out_.written() ? Status() : failed();
  }
  Status finish() override { return flush(); }
  Status flush() override { return out_.flushed() ? Status() : failed(); }

 private:
  static Status failed() { return unavailable("writing JSON lines failed"); }
  Gathered out_;
};

class JsonArrayWriter : public LeadWriter {
 public:
  explicit JsonArrayWriter(std::ostream& out) : out_(out) {}
  Status write(const EnrichedLead& lead) override {
    out_.text() += first_ ? "[\n" : ",\n";
    first_ = false;
    internal::append_lead_json(out_.text(), lead);
    return out_.written() ? Status() : failed();
  }
  Status finish() override {
    out_.text() += first_ ? "[]\n" : "\n]\n";
    first_ = false;
    return out_.flushed() ? Status() : failed();
  }

 private:
  static Status failed() { return unavailable("writing JSON failed"); }
  Gathered out_;
  bool first_ = true;
};

class CsvWriter : public LeadWriter {
 public:
  explicit CsvWriter(std::ostream& out) : out_(out) {}
  Status write(const EnrichedLead& lead) override {
    std::string& buf = out_.text();
    write_header();
    bool first = true;
    for_each_csv_cell(lead, cell_, [&](std::string_view cell) {
      if (!first) buf.push_back(',');
      first = false;
      append_csv_cell(buf, cell);
    });
    buf += "\r\n";
    return out_.written() ? Status() : failed();
  }
  Status finish() override {
    write_header();
    return out_.flushed() ? Status() : failed();
  }

 private:
  static Status failed() { return unavailable("writing CSV failed"); }
  void write_header() {
    if (header_written_) return;
    append_csv_header(out_.text());
    header_written_ = true;
  }
  Gathered out_;
  std::string cell_;
  bool header_written_ = false;
};

// ---- the original pipeline's shape ----

// A provider value as the text the original frontend renders: strings as they are, numbers as
// their text (a headcount of 120 is "120"), anything else as JSON; null stays null.
Json original_text(const Json& v) {
  switch (v.type()) {
    case Json::Type::kNull: return nullptr;
    case Json::Type::kString: return v;
    case Json::Type::kNumber: return Json(v.number_text());
    default: return Json(v.dump());
  }
}

Json original_opt(const std::optional<std::string>& s) { return s ? Json(*s) : Json(); }

Json original_signal_names(const std::vector<Signal>& signals) {
  Json::Array out;
  for (Signal s : signals) out.emplace_back(to_string(s));
  return out;
}

// Python's datetime.isoformat() of a naive UTC time, as the original wrote enriched_at:
// "2026-01-31T12:00:00.000000" (microseconds, no zone designator).
std::string original_timestamp(Timestamp t) {
  auto day = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd{day};
  std::chrono::hh_mm_ss<std::chrono::milliseconds> hms{t - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}000", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count(), hms.subseconds().count());
}

// The original frontend shows at most this many posts, and the original sent no more.
constexpr std::size_t kOriginalMaxPosts = 5;

void append_original_cell(std::string& cell, const Json& v) {
  if (v.is_null()) return;
  if (v.is_string()) {
    cell += v.as_string();
  } else if (v.is_number()) {
    cell += v.number_text();
  } else {
    v.dump_to(cell);
  }
}

class OriginalWriter : public LeadWriter {
 public:
  OriginalWriter(std::ostream& out, OutputFormat format) : out_(out), format_(format) {}
  Status write(const EnrichedLead& lead) override {
    std::string& buf = out_.text();
    if (format_ == OutputFormat::kCsv) {
      write_csv_header();
      append_csv_record(buf, original_csv_cells(lead));
    } else {
      if (format_ == OutputFormat::kJson) buf += started_ ? ",\n" : "[\n";
      to_original_json(lead).dump_to(buf);
      if (format_ == OutputFormat::kJsonl) buf.push_back('\n');
    }
    started_ = true;
    return out_.written() ? Status() : failed();
  }
  Status flush() override {
    if (format_ != OutputFormat::kJsonl) return Status();  // a JSON array or CSV is read when whole
    return out_.flushed() ? Status() : failed();
  }
  Status finish() override {
    if (format_ == OutputFormat::kJson) out_.text() += started_ ? "\n]\n" : "[]\n";
    if (format_ == OutputFormat::kCsv) write_csv_header();
    started_ = true;
    return out_.flushed() ? Status() : failed();
  }

 private:
  Status failed() const { return unavailable(fmt::format("writing {} failed", to_string(format_))); }
  void write_csv_header() {
    if (started_) return;
    append_csv_record(out_.text(), {original_csv_columns().begin(), original_csv_columns().end()});
  }
  Gathered out_;
  OutputFormat format_;
  bool started_ = false;
};

}  // namespace

std::string_view to_string(OutputShape s) { return s == OutputShape::kOriginal ? "original" : "leadenrich"; }

Json to_original_json(const EnrichedLead& e) {
  const RawLead& l = e.lead;
  Json::Object out{{"lead_id", Json(l.lead_id)},
                   {"name", original_opt(l.name)},
                   {"email", original_opt(l.email)},
                   {"phone", original_opt(l.phone)},
                   {"organization", original_opt(l.organization)},
                   {"designation", original_opt(l.designation)},
                   {"linkedin_url", original_opt(l.linkedin_url)},
                   {"campaign_id", original_opt(l.campaign_id)},
                   {"campaign_name", original_opt(l.campaign_name)}};
  Json overview;
  if (const auto& o = e.company_overview) {
    Json founded = o->founded_year_number ? Json(std::to_string(*o->founded_year_number)) : original_text(o->founded_year);
    overview = Json::Object{{"description", original_opt(o->description)},
                            {"industry", original_opt(o->industry)},
                            {"headcount", original_text(o->headcount)},
                            {"founded_year", std::move(founded)},
                            {"region", original_opt(o->region)},
                            {"estimated_revenue", original_text(o->estimated_revenue)}};
  }
  out.emplace_back("company_overview", std::move(overview));
  Json tech;
  if (e.tech_stack) {
    Json::Array names;
    for (const Technology& t : e.tech_stack->technologies) names.emplace_back(t.name);
    tech = std::move(names);
  }
  out.emplace_back("tech_stack", std::move(tech));
  // The original had no news signal of its own: its summary travelled inside funding.
  Json funding;
  if (e.funding || e.news) {
    Json total;
    Json history;
    if (e.funding) {
      if (e.funding->total_usd) total = Json(static_cast<std::int64_t>(std::llround(*e.funding->total_usd)));
      Json value = signal_value_to_json(e, Signal::kFunding);
      if (const Json* rounds = value.find("rounds")) history = *rounds;
    }
    funding = Json::Object{{"total_funding_usd", std::move(total)},
                           {"funding_history", std::move(history)},
                           {"news_summary", e.news ? Json(e.news->summary) : Json()}};
  }
  out.emplace_back("funding", std::move(funding));
  Json posts;
  if (e.linkedin_posts) {
    Json::Array texts;
    for (const LinkedInPost& p : e.linkedin_posts->posts) {
      if (texts.size() == kOriginalMaxPosts) break;
      texts.emplace_back(p.text);
    }
    posts = std::move(texts);
  }
  out.emplace_back("linkedin_posts", std::move(posts));
  Timestamp at = e.enriched_at ? *e.enriched_at
                               : std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  out.emplace_back("enrichment_metadata",
                   Json::Object{{"enriched_at", Json(original_timestamp(at))},
                                {"signals_found", original_signal_names(e.signals_found)},
                                {"signals_missed", original_signal_names(e.signals_missed)},
                                {"pipe0_run_id", e.provider_run_ids.empty() ? Json() : Json(e.provider_run_ids.front())}});
  return Json(std::move(out));
}

const std::vector<std::string_view>& original_csv_columns() {
  static const std::vector<std::string_view> kColumns = {
      "lead_id", "name", "email", "phone", "organization", "designation", "linkedin_url", "campaign_id",
      "campaign_name", "company_description", "industry", "headcount", "founded_year", "region",
      "estimated_revenue", "tech_stack", "total_funding_usd", "funding_history", "news_summary",
      "linkedin_posts", "enriched_at", "signals_found", "signals_missed", "pipe0_run_id"};
  return kColumns;
}

std::vector<std::string> original_csv_cells(const EnrichedLead& lead) {
  // Built from the JSON object, so the two files of a run can never say different things.
  Json j = to_original_json(lead);
  static const Json kNull;
  auto member = [](const Json& object, std::string_view key) -> const Json& {
    const Json* v = object.is_object() ? object.find(key) : nullptr;
    return v ? *v : kNull;
  };
  auto cell = [](const Json& v) {
    std::string c;
    append_original_cell(c, v);
    return c;
  };
  // Lists of names joined with "; "; post texts and funding rounds, which may hold anything,
  // as JSON cells.
  auto joined = [](const Json& v) {
    std::string c;
    if (!v.is_array()) return c;
    for (const Json& item : v.as_array()) {
      if (!c.empty()) c += "; ";
      append_original_cell(c, item);
    }
    return c;
  };
  std::vector<std::string> cells;
  for (const char* key : {"lead_id", "name", "email", "phone", "organization", "designation", "linkedin_url",
                          "campaign_id", "campaign_name"}) {
    cells.push_back(cell(member(j, key)));
  }
  const Json& overview = member(j, "company_overview");
  for (const char* key : {"description", "industry", "headcount", "founded_year", "region", "estimated_revenue"}) {
    cells.push_back(cell(member(overview, key)));
  }
  cells.push_back(joined(member(j, "tech_stack")));
  const Json& funding = member(j, "funding");
  cells.push_back(cell(member(funding, "total_funding_usd")));
  cells.push_back(cell(member(funding, "funding_history")));
  cells.push_back(cell(member(funding, "news_summary")));
  cells.push_back(cell(member(j, "linkedin_posts")));
  const Json& meta = member(j, "enrichment_metadata");
  cells.push_back(cell(member(meta, "enriched_at")));
  cells.push_back(joined(member(meta, "signals_found")));
  cells.push_back(joined(member(meta, "signals_missed")));
  cells.push_back(cell(member(meta, "pipe0_run_id")));
  return cells;
}

std::string_view to_string(OutputFormat f) {
  switch (f) {
    case OutputFormat::kJson: return "json";
    case OutputFormat::kJsonl: return "jsonl";
    case OutputFormat::kCsv: return "csv";
  }
  return "json";
}

std::string_view extension(OutputFormat f) { return to_string(f); }

std::unique_ptr<LeadWriter> make_writer(OutputFormat format, std::ostream& out, OutputShape shape) {
  if (shape == OutputShape::kOriginal) return std::make_unique<OriginalWriter>(out, format);
  switch (format) {
    case OutputFormat::kJson: return std::make_unique<JsonArrayWriter>(out);
    case OutputFormat::kJsonl: return std::make_unique<JsonLinesWriter>(out);
    case OutputFormat::kCsv: return std::make_unique<CsvWriter>(out);
  }
  return nullptr;
}

const std::vector<std::string_view>& csv_columns() {
  // "<signal>_status" needs storage of its own; the other names are literals.
  static const std::vector<std::string> kStatusColumns = [] {
    std::vector<std::string> names;
    for (Signal s : kAllSignals) names.push_back(std::string(to_string(s)) + "_status");
    return names;
  }();
  static const std::vector<std::string_view> kColumns = [] {
    std::vector<std::string_view> columns = {
        "lead_id", "name", "email", "phone", "organization", "designation", "linkedin_url", "website",
        "campaign_id", "campaign_name", "company_key", "person_key", "quality_score", "signals_found",
        "signals_missed", "enriched_at", "sandbox"};
    columns.insert(columns.end(), kStatusColumns.begin(), kStatusColumns.end());
    columns.push_back("reasons");
    for (const internal::SignalCodec* codec : internal::signal_codecs()) {
      std::span<const std::string_view> own = codec->csv_columns();
      columns.insert(columns.end(), own.begin(), own.end());
    }
    return columns;
  }();
  return kColumns;
}

std::vector<std::string> csv_cells(const EnrichedLead& e) {
  std::vector<std::string> cells;
  cells.reserve(csv_columns().size());
  std::string scratch;
  for_each_csv_cell(e, scratch, [&](std::string_view cell) { cells.emplace_back(cell); });
  return cells;
}

void append_csv_record(std::string& out, const std::vector<std::string>& cells) {
  bool first = true;
  for (const std::string& cell : cells) {
    if (!first) out.push_back(',');
    first = false;
    append_csv_cell(out, cell);
  }
  out += "\r\n";
}

// ---- AtomicFile ----

namespace {

// A stream buffer over a file descriptor that keeps the first write error's errno: an ofstream
// only says that writing failed, and a person needs to know why (disk full, broken pipe).
class FdBuf : public std::streambuf {
 public:
  explicit FdBuf(int fd) : fd_(fd), buf_(1 << 16) { setp(buf_.data(), buf_.data() + buf_.size()); }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type ch) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  bool drain() {
    const char* p = pbase();
    std::size_t left = static_cast<std::size_t>(pptr() - pbase());
    while (left > 0 && error_ == 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno != EINTR) error_ = errno;
        continue;
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    setp(buf_.data(), buf_.data() + buf_.size());  // after an error, what follows is dropped
    return error_ == 0;
  }

  int fd_;
  std::vector<char> buf_;
  int error_ = 0;
};

// Temporary files of runs that were killed: "<name>.tmp-<pid>" whose process is gone.
void remove_stale_temps(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir.empty() ? std::filesystem::path(".") : dir, ec);
  if (ec) return;
  for (const auto& entry : it) {
    std::string name = entry.path().filename().string();
    std::size_t at = name.rfind(".tmp-");
    if (at == std::string::npos || at == 0 || at + 5 == name.size()) continue;
    std::string digits = name.substr(at + 5);
    if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::stol(digits));
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to ask about)
    if (entry.is_regular_file(ec)) std::filesystem::remove(entry.path(), ec);
  }
}

}  // namespace

struct AtomicFile::Impl {
  Impl(int descriptor, bool owns) : fd(descriptor), owns_fd(owns), buf(descriptor), out(&buf) {}
  int fd;
  bool owns_fd;
  FdBuf buf;
  std::ostream out;
};

AtomicFile::AtomicFile(std::string path, std::string temp_path, int fd, bool owns_fd)
    : impl_(std::make_unique<Impl>(fd, owns_fd)), path_(std::move(path)), temp_path_(std::move(temp_path)) {}

Result<std::unique_ptr<AtomicFile>> AtomicFile::create(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  // A symlink is followed to the file it names: the link stays, its target gets the content.
  fs::path target = path;
  if (fs::is_symlink(fs::symlink_status(target, ec))) {
    target = fs::weakly_canonical(target, ec);
    if (ec) return unavailable(fmt::format("{}: cannot follow the link: {}", path, ec.message()));
  }
  fs::file_status status = fs::status(target, ec);
  if (fs::is_directory(status)) return unavailable(fmt::format("{}: is a directory", path));
  if (fs::exists(status) && !fs::is_regular_file(status)) {
    // /dev/null, a FIFO, a terminal: written in place, never replaced by a regular file.
    int fd = ::open(target.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return unavailable(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
    return std::unique_ptr<AtomicFile>(new AtomicFile(path, "", fd, true));
  }
  fs::path parent = target.parent_path();
  ec.clear();
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (ec) return unavailable(fmt::format("{}: cannot create the directory: {}", parent.string(), ec.message()));
  remove_stale_temps(parent);
  std::string temp = fmt::format("{}.tmp-{}", target.string(), ::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return unavailable(fmt::format("{}: cannot write: {}", temp, std::strerror(errno)));
  struct stat existing {};
  if (::stat(target.c_str(), &existing) == 0) (void)::fchmod(fd, existing.st_mode & 07777);  // keep its mode
  std::unique_ptr<AtomicFile> file(new AtomicFile(path, temp, fd, true));
  file->target_ = target.string();
  return file;
}

std::unique_ptr<AtomicFile> AtomicFile::standard_output() {
  return std::unique_ptr<AtomicFile>(new AtomicFile("stdout", "", STDOUT_FILENO, false));
}

AtomicFile::~AtomicFile() {
  if (!committed_) impl_->out.flush();
  if (impl_->owns_fd) ::close(impl_->fd);
  if (!committed_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
}

std::ostream& AtomicFile::stream() { return impl_->out; }

Status AtomicFile::write_status() const {
  if (impl_->buf.error() == 0) return {};
  return unavailable(fmt::format("{}: {}", path_, std::strerror(impl_->buf.error())));
}

Status AtomicFile::commit() {
  if (committed_) return {};
  impl_->out.flush();
  LEADENRICH_RETURN_IF_ERROR(write_status());
  if (!temp_path_.empty()) {
    if (::fsync(impl_->fd) != 0) return unavailable(fmt::format("{}: {}", path_, std::strerror(errno)));
    if (std::rename(temp_path_.c_str(), target_.c_str()) != 0) {
      return unavailable(fmt::format("{}: cannot rename into place: {}", path_, std::strerror(errno)));
    }
  }
  committed_ = true;
  return {};
}

}  // namespace leadenrich
