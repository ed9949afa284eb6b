// The server front's request reader on arbitrary bytes, fed in arbitrary pieces: it waits, refuses
// with a status, or hands on a request in one framing whose body fits the limit, and reading that
// request again gives it back unchanged.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "internal/http_front.h"

namespace {
constexpr std::size_t kMaxHead = 512;
constexpr std::size_t kMaxBody = 256;

void check_request(const std::string& request) {
  std::size_t end = request.find("\r\n\r\n");
  if (end == std::string::npos) std::abort();
  std::string_view head(request.data(), end);
  std::size_t at = head.rfind("\r\nContent-Length: ");
  if (at == std::string_view::npos) std::abort();
  std::size_t length = std::stoull(std::string(head.substr(at + 18)));
  if (length > kMaxBody || request.size() != end + 4 + length) std::abort();
  // Read again, it is the same request, and nothing is left over.
  leadenrich::internal::RequestReader again(kMaxHead + 64, kMaxBody);
  std::string in = request;
  if (again.feed(in) != leadenrich::internal::RequestReader::Progress::kReady) std::abort();
  if (again.take_request() != request || !in.empty()) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using leadenrich::internal::RequestReader;
  if (size == 0) return 0;
  std::size_t piece = 1 + data[0] % 64;  // how the bytes arrive
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  RequestReader reader(kMaxHead, kMaxBody);
  std::string in;
  while (true) {
    std::size_t take = std::min(piece, rest.size());
    in.append(rest.substr(0, take));
    rest.remove_prefix(take);
    RequestReader::Progress p = reader.feed(in);
    if (p == RequestReader::Progress::kRefused) {
      int status = reader.refusal().status;
      if (status != 400 && status != 413 && status != 431 && status != 501) std::abort();
      return 0;
    }
    if (p == RequestReader::Progress::kReady) {
      check_request(reader.take_request());
      continue;  // the next request, pipelined
    }
    if (rest.empty()) return 0;
  }
}
