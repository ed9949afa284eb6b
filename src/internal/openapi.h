// The OpenAPI 3 document of leadenrich-server, served at GET /openapi.json.
#ifndef LEADENRICH_INTERNAL_OPENAPI_H_
#define LEADENRICH_INTERNAL_OPENAPI_H_

#include <string>

namespace leadenrich::internal {

/// The document as JSON text, with the library's version filled in.
const std::string& openapi_document();

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_OPENAPI_H_
