#include "internal/openapi.h"

#include "internal/server_jobs.h"
#include "leadenrich/version.h"

namespace leadenrich::internal {
namespace {

// Kept by hand next to the routes in server.cc; tests/server/test_server.py checks that every
// route answers as documented and that the document names exactly the routes served.
constexpr const char* kDocument = R"json({
  "openapi": "3.0.3",
  "info": {
    "title": "leadenrich-server",
    "version": "@VERSION@",
    "description": "Enriches B2B sales leads with company and person signals for an SDR agent. Every route but /api/health, /openapi.json and the web UI needs Authorization: Bearer <key>."
  },
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "parameters": {
      "LeadId": {"name": "id", "in": "path", "required": true, "description": "A lead id: letters, digits and _ . : @ -, at most 128 characters.", "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:@-]{1,128}$"}},
      "CampaignId": {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:@-]{1,128}$"}}
    },
    "schemas": {
      "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
          "code": {"type": "string", "description": "invalid_argument, too_many_leads, unauthorized, not_found, payload_too_large, upstream_error, upstream_timeout, unavailable, internal"},
          "message": {"type": "string"}}}}
      },
      "RawLead": {
        "type": "object", "required": ["lead_id"], "additionalProperties": true,
        "description": "An Aturiya lead: lead_id required, the other 15 fields optional; unknown keys are kept and returned unchanged.",
        "properties": {
          "lead_id": {"type": "string"}, "agent_id": {"type": "string"}, "campaign_id": {"type": "string"},
          "task_id": {"type": "string"}, "task_status": {"type": "string", "enum": ["approved", "pending", "rejected"]},
          "campaign_name": {"type": "string"}, "name": {"type": "string"}, "email": {"type": "string"},
          "phone": {"type": "string"}, "organization": {"type": "string"}, "designation": {"type": "string"},
          "linkedin_url": {"type": "string"}, "website": {"type": "string", "nullable": true},
          "status": {"type": "string", "enum": ["approved", "pending", "rejected"]},
          "type": {"type": "string", "enum": ["old", "new"]}, "created_at": {"type": "string"}
        }
      },
      "SignalEntry": {
        "type": "object", "required": ["status", "reason", "source", "fetched_at", "from_cache", "value"],
        "properties": {
          "status": {"type": "string", "enum": ["found", "no_result", "skipped", "failed", "disabled", "budget_exhausted"]},
          "reason": {"nullable": true, "type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}}},
          "source": {"type": "string", "description": "the pipe id that answered"},
          "fetched_at": {"type": "string", "nullable": true, "format": "date-time"},
          "from_cache": {"type": "boolean"},
          "value": {"nullable": true, "type": "object", "description": "the typed signal value (docs/output.md)"}
        }
      },
      "EnrichedLead": {
        "type": "object",
        "required": ["lead", "company_key", "person_key", "signals", "signals_found", "signals_missed", "quality_score", "enriched_at", "provider_run_ids", "billed_lookups", "estimated_credits", "sandbox"],
        "properties": {
          "lead": {"$ref": "#/components/schemas/RawLead"},
          "company_key": {"type": "string", "nullable": true},
          "person_key": {"type": "string", "nullable": true},
          "signals": {"type": "object", "properties": {
            "company_overview": {"$ref": "#/components/schemas/SignalEntry"},
            "tech_stack": {"$ref": "#/components/schemas/SignalEntry"},
            "funding": {"$ref": "#/components/schemas/SignalEntry"},
            "news": {"$ref": "#/components/schemas/SignalEntry"},
            "linkedin_posts": {"$ref": "#/components/schemas/SignalEntry"}}},
          "signals_found": {"type": "array", "items": {"type": "string"}},
          "signals_missed": {"type": "array", "items": {"type": "string"}},
          "quality_score": {"type": "integer", "minimum": 0, "maximum": 100},
          "enriched_at": {"type": "string", "nullable": true, "format": "date-time"},
          "provider_run_ids": {"type": "array", "items": {"type": "string"}},
          "billed_lookups": {"type": "integer"},
          "estimated_credits": {"type": "number"},
          "sandbox": {"type": "boolean"}
        }
      },
      "EnrichmentSummary": {
        "type": "object", "nullable": true,
        "properties": {
          "quality_score": {"type": "integer"},
          "signals_found": {"type": "array", "items": {"type": "string"}},
          "signals_missed": {"type": "array", "items": {"type": "string"}},
          "enriched_at": {"type": "string", "nullable": true},
          "statuses": {"type": "object", "additionalProperties": {"type": "string"}}
        }
      }
    },
    "responses": {
      "BadRequest": {"description": "Invalid id, parameter or body", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Unauthorized": {"description": "Missing or invalid API key", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "NotFound": {"description": "No such item", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "TooLarge": {"description": "Request body over the limit", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "NotJson": {"description": "Without API keys only: a body that is not Content-Type: application/json", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Upstream": {"description": "Aturiya or pipe0 failed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Unavailable": {"description": "Aturiya is not configured", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Timeout": {"description": "Aturiya or pipe0 did not answer in time", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    }
  },
  "security": [{"bearer": []}],
  "paths": {
    "/api/health": {
      "get": {
        "summary": "Liveness; needs no key", "security": [],
        "responses": {"200": {"description": "Serving", "content": {"application/json": {"schema": {"type": "object", "properties": {
          "status": {"type": "string", "enum": ["ok"]}, "version": {"type": "string"}, "sandbox": {"type": "boolean"},
          "auth": {"type": "boolean"}, "max_batch": {"type": "integer"}}}}}}}
      }
    },
    "/api/campaigns": {
      "get": {
        "summary": "The agent's campaigns in Aturiya",
        "responses": {
          "200": {"description": "Campaigns", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "campaigns": {"type": "array", "items": {"type": "object", "required": ["id", "name"], "additionalProperties": true, "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}}}}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"}, "502": {"$ref": "#/components/responses/Upstream"},
          "503": {"$ref": "#/components/responses/Unavailable"}, "504": {"$ref": "#/components/responses/Timeout"}
        }
      }
    },
    "/api/campaigns/{id}/leads": {
      "get": {
        "summary": "One page of a campaign's leads, each with a summary of its last enrichment",
        "parameters": [
          {"$ref": "#/components/parameters/CampaignId"},
          {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
          {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}, "description": "at most the server's max_per_page (200 by default)"}
        ],
        "responses": {
          "200": {"description": "A page", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "campaign_id": {"type": "string"}, "page": {"type": "integer"}, "per_page": {"type": "integer"}, "has_next": {"type": "boolean"},
            "leads": {"type": "array", "items": {"type": "object", "properties": {"lead": {"$ref": "#/components/schemas/RawLead"}, "enrichment": {"$ref": "#/components/schemas/EnrichmentSummary"}}}},
            "bad_leads": {"type": "array", "items": {"type": "object", "properties": {"index": {"type": "integer"}, "error": {"type": "string"}}}}}}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
          "404": {"$ref": "#/components/responses/NotFound"}, "502": {"$ref": "#/components/responses/Upstream"},
          "503": {"$ref": "#/components/responses/Unavailable"}, "504": {"$ref": "#/components/responses/Timeout"}
        }
      }
    },
    "/api/leads/{id}/enrich": {
      "post": {
        "summary": "Enrich one lead now; the result is stored and returned",
        "description": "With no body the lead is fetched from Aturiya by id; with a body (a raw lead) its lead_id must equal the path's. Requests needing a company another request is looking up wait for that lookup instead of repeating it.",
        "parameters": [{"$ref": "#/components/parameters/LeadId"}],
        "requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RawLead"}}}},
        "responses": {
          "200": {"description": "The enriched lead", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EnrichedLead"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
          "404": {"$ref": "#/components/responses/NotFound"}, "413": {"$ref": "#/components/responses/TooLarge"}, "415": {"$ref": "#/components/responses/NotJson"},
          "502": {"$ref": "#/components/responses/Upstream"}, "503": {"$ref": "#/components/responses/Unavailable"},
          "504": {"$ref": "#/components/responses/Timeout"}
        }
      }
    },
    "/api/leads/{id}/enrichment": {
      "get": {
        "summary": "The last stored enrichment of a lead",
        "parameters": [{"$ref": "#/components/parameters/LeadId"}],
        "responses": {
          "200": {"description": "The enriched lead", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EnrichedLead"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
          "404": {"$ref": "#/components/responses/NotFound"}
        }
      }
    },
    "/api/enrich": {
      "post": {
        "summary": "Enrich a batch of leads (at most max_batch, 100 by default) in one run: each company and person is looked up once",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["leads"], "properties": {"leads": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/RawLead"}}}}}}},
        "responses": {
          "200": {"description": "The enriched leads, in request order", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "leads": {"type": "array", "items": {"$ref": "#/components/schemas/EnrichedLead"}},
            "summary": {"type": "object", "properties": {"leads": {"type": "integer"}, "billed_lookups": {"type": "integer"}, "cache_hits": {"type": "integer"}}}}}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
          "413": {"$ref": "#/components/responses/TooLarge"}, "415": {"$ref": "#/components/responses/NotJson"}, "502": {"$ref": "#/components/responses/Upstream"},
          "504": {"$ref": "#/components/responses/Timeout"}
        }
      }
    },
    "/openapi.json": {
      "get": {"summary": "This document; needs no key", "security": [], "responses": {"200": {"description": "OpenAPI 3 document", "content": {"application/json": {"schema": {"type": "object"}}}}}}
    },
    "/metrics": {
      "get": {
        "summary": "Prometheus metrics: requests and latency by route, upstream errors, lookups, cache hits, billed lookups, coalesced waits",
        "responses": {"200": {"description": "Prometheus text format 0.0.4", "content": {"text/plain": {"schema": {"type": "string"}}}}, "401": {"$ref": "#/components/responses/Unauthorized"}}
      }
    }
  }
})json";

}  // namespace

const std::string& openapi_document() {
  static const std::string document = [] {
    std::string d = kDocument;
    const std::string marker = "@VERSION@";
    d.replace(d.find(marker), marker.size(), kVersion);
    Json document = Json::parse(d).value();
    JobRoutes::add_to_openapi(document);
    return document.dump();
  }();
  return document;
}

}  // namespace leadenrich::internal
