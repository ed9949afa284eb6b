// The libcurl HttpTransport: one event-loop thread drives a curl multi handle, so many
// requests are in flight without a thread each, over reused connections.
#ifndef LEADENRICH_INTERNAL_CURL_TRANSPORT_H_
#define LEADENRICH_INTERNAL_CURL_TRANSPORT_H_

#include <memory>

#include "leadenrich/transport.h"

namespace leadenrich::internal {

std::shared_ptr<HttpTransport> make_curl_transport_impl(const CurlTransportOptions& options);

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_CURL_TRANSPORT_H_
