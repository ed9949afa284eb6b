#include "leadenrich/output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <streambuf>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>

#include <fmt/format.h>

#include "internal/csv_write.h"
#include "internal/json_write.h"
#include "internal/lead_json.h"

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

// A Json value as a cell: strings and numbers as their text, other values as JSON.
void append_value_cell(std::string& cell, const Json& v) {
  switch (v.type()) {
    case Json::Type::kNull: break;
    case Json::Type::kString: cell += v.as_string(); break;
    case Json::Type::kNumber: cell += v.number_text(); break;
    default: v.dump_to(cell);
  }
}

void append_number_cell(std::string& cell, const std::optional<double>& d) {
  if (d) append_json_number(cell, *d);
}

// Appends the items joined with "; " to an empty cell. As it always has, the separator goes in
// only once the cell has text, so empty leading items leave no trace.
template <typename T, typename F>
void append_joined(std::string& cell, const std::vector<T>& items, F&& text_of) {
  for (const T& item : items) {
    if (!cell.empty()) cell += "; ";
    cell += text_of(item);
  }
}

void append_signal_names(std::string& cell, const std::vector<Signal>& signals) {
  append_joined(cell, signals, [](Signal s) { return to_string(s); });
}

// Calls `emit(cell)` for each of a lead's CSV cells, in csv_columns() order. One scratch string
// is reused for every cell, so writing a row builds nothing per lead.
template <typename Emit>
void for_each_csv_cell(const EnrichedLead& e, std::string& cell, Emit&& emit) {
  const RawLead& l = e.lead;
  auto text = [&](std::string_view s) {
    cell.assign(s);
    emit(cell);
  };
  auto opt = [&](const std::optional<std::string>& s) { text(s ? std::string_view(*s) : std::string_view()); };
  // Builds the cell with `fill` (which appends to an empty cell), then emits it.
  auto build = [&](auto&& fill) {
    cell.clear();
    fill(cell);
    emit(cell);
  };
  text(l.lead_id);
  opt(l.name);
  opt(l.email);
  opt(l.phone);
  opt(l.organization);
  opt(l.designation);
  opt(l.linkedin_url);
  opt(l.website);
  opt(l.campaign_id);
  opt(l.campaign_name);
  opt(e.company_key);
  opt(e.person_key);
  build([&](std::string& c) { fmt::format_to(std::back_inserter(c), "{}", e.quality_score); });
  build([&](std::string& c) { append_signal_names(c, e.signals_found); });
  build([&](std::string& c) { append_signal_names(c, e.signals_missed); });
  text(e.enriched_at ? format_timestamp(*e.enriched_at) : "");
  text(e.sandbox ? "true" : "false");
  for (Signal s : kAllSignals) text(to_string(e.result(s).status));
  build([&](std::string& c) {
    for (Signal s : kAllSignals) {
      const SignalResult& r = e.result(s);
      if (!r.reason) continue;
      if (!c.empty()) c += "; ";
      c += to_string(s);
      c += ": ";
      c += r.reason->message;
    }
  });
  if (const auto& o = e.company_overview) {
    opt(o->description);
    opt(o->industry);
    opt(o->region);
    build([&](std::string& c) { append_value_cell(c, o->headcount); });
    build([&](std::string& c) { if (o->headcount_range) append_json_number(c, o->headcount_range->min); });
    build([&](std::string& c) { if (o->headcount_range) append_number_cell(c, o->headcount_range->max); });
    build([&](std::string& c) {
      if (o->founded_year_number) {
        fmt::format_to(std::back_inserter(c), "{}", *o->founded_year_number);
      } else {
        append_value_cell(c, o->founded_year);
      }
    });
    build([&](std::string& c) { append_value_cell(c, o->estimated_revenue); });
  } else {
    for (int i = 0; i < 8; ++i) text("");
  }
  build([&](std::string& c) {
    if (e.tech_stack) append_joined(c, e.tech_stack->technologies, [](const Technology& t) -> const std::string& { return t.name; });
  });
  if (e.funding) {
    build([&](std::string& c) { append_number_cell(c, e.funding->total_usd); });
    build([&](std::string& c) { internal::append_funding_rounds_json(c, e.funding->rounds); });
  } else {
    text("");
    text("");
  }
  text(e.news ? std::string_view(e.news->summary) : std::string_view());
  std::string_view latest;
  build([&](std::string& c) {
    if (!e.linkedin_posts) return;
    append_joined(c, e.linkedin_posts->posts, [](const LinkedInPost& p) -> const std::string& { return p.text; });
    for (const LinkedInPost& p : e.linkedin_posts->posts) {
      if (p.posted_at && std::string_view(*p.posted_at).compare(latest) > 0) latest = *p.posted_at;
    }
  });
  text(latest);
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

class JsonLinesWriter : public LeadWriter {
 public:
  explicit JsonLinesWriter(std::ostream& out) : out_(out) {}
  Status write(const EnrichedLead& lead) override {
    line_.clear();
    internal::append_lead_json(line_, lead);
    line_.push_back('\n');
    out_.write(line_.data(), static_cast<std::streamsize>(line_.size()));
    out_.flush();  // a consumer of the stream sees each lead as it is done
    return out_ ? Status() : unavailable("writing JSON lines failed");
  }
  Status finish() override {
    out_.flush();
    return out_ ? Status() : unavailable("writing JSON lines failed");
  }

 private:
  std::ostream& out_;
  std::string line_;
};

class JsonArrayWriter : public LeadWriter {
 public:
  explicit JsonArrayWriter(std::ostream& out) : out_(out) {}
  Status write(const EnrichedLead& lead) override {
    buf_ = first_ ? "[\n" : ",\n";
    first_ = false;
    internal::append_lead_json(buf_, lead);
    out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    return out_ ? Status() : unavailable("writing JSON failed");
  }
  Status finish() override {
    out_ << (first_ ? "[]\n" : "\n]\n");
    first_ = false;
    out_.flush();
    return out_ ? Status() : unavailable("writing JSON failed");
  }

 private:
  std::ostream& out_;
  std::string buf_;
  bool first_ = true;
};

class CsvWriter : public LeadWriter {
 public:
  explicit CsvWriter(std::ostream& out) : out_(out) {}
  Status write(const EnrichedLead& lead) override {
    buf_.clear();
    if (!header_written_) {
      append_csv_header(buf_);
      header_written_ = true;
    }
    bool first = true;
    for_each_csv_cell(lead, cell_, [&](std::string_view cell) {
      if (!first) buf_.push_back(',');
      first = false;
      append_csv_cell(buf_, cell);
    });
    buf_ += "\r\n";
    out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    return out_ ? Status() : unavailable("writing CSV failed");
  }
  Status finish() override {
    if (!header_written_) {
      buf_.clear();
      append_csv_header(buf_);
      out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
      header_written_ = true;
    }
    out_.flush();
    return out_ ? Status() : unavailable("writing CSV failed");
  }

 private:
  std::ostream& out_;
  std::string buf_;
  std::string cell_;
  bool header_written_ = false;
};

}  // namespace

std::string_view to_string(OutputFormat f) {
  switch (f) {
    case OutputFormat::kJson: return "json";
    case OutputFormat::kJsonl: return "jsonl";
    case OutputFormat::kCsv: return "csv";
  }
  return "json";
}

std::string_view extension(OutputFormat f) { return to_string(f); }

std::unique_ptr<LeadWriter> make_writer(OutputFormat format, std::ostream& out) {
  switch (format) {
    case OutputFormat::kJson: return std::make_unique<JsonArrayWriter>(out);
    case OutputFormat::kJsonl: return std::make_unique<JsonLinesWriter>(out);
    case OutputFormat::kCsv: return std::make_unique<CsvWriter>(out);
  }
  return nullptr;
}

const std::vector<std::string_view>& csv_columns() {
  static const std::vector<std::string_view> kColumns = {
      "lead_id", "name", "email", "phone", "organization", "designation", "linkedin_url", "website",
      "campaign_id", "campaign_name", "company_key", "person_key", "quality_score", "signals_found",
      "signals_missed", "enriched_at", "sandbox", "company_overview_status", "tech_stack_status",
      "funding_status", "news_status", "linkedin_posts_status", "reasons", "company_description",
      "company_industry", "company_region", "headcount", "headcount_min", "headcount_max", "founded_year",
      "estimated_revenue", "technologies", "funding_total_usd", "funding_rounds", "news_summary",
      "linkedin_posts", "latest_post_at"};
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
