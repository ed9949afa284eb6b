// The parts of an OpenAPI 3.0 document the docs page reads, and example bodies built from its
// schemas, so "try it out" starts from a request the server accepts.

export interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  example?: unknown;
  default?: unknown;
  enum?: unknown[];
  nullable?: boolean;
  minItems?: number;
  description?: string;
}

export interface Parameter {
  $ref?: string;
  name: string;
  in: "path" | "query" | "header";
  required?: boolean;
  description?: string;
  example?: unknown;
  schema?: Schema;
}

export interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
  responses: Record<string, { $ref?: string; description?: string }>;
  security?: unknown[];
}

export interface Document {
  info: { title: string; version: string; description?: string };
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema>; parameters?: Record<string, Parameter> };
}

export interface Endpoint {
  method: string;
  path: string;
  operation: Operation;
  parameters: Parameter[];
}

/** Follows a local "#/components/..." reference. */
export function resolve<T extends { $ref?: string }>(doc: Document, node: T): T {
  let out: T = node;
  for (let depth = 0; out.$ref && depth < 16; ++depth) {
    let target: unknown = doc;
    for (const part of out.$ref.replace(/^#\//, "").split("/")) target = (target as Record<string, unknown>)[part];
    out = target as T;
  }
  return out;
}

const METHOD_ORDER = ["get", "post", "put", "patch", "delete"];

/** Every operation, grouped by its first tag, in the document's tag order. */
export function endpointsByTag(doc: Document): [string, Endpoint[]][] {
  const groups = new Map<string, Endpoint[]>();
  for (const tag of doc.tags ?? []) groups.set(tag.name, []);
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const method of METHOD_ORDER) {
      const operation = ops[method];
      if (!operation) continue;
      const tag = operation.tags?.[0] ?? "other";
      if (!groups.has(tag)) groups.set(tag, []);
      const parameters = (operation.parameters ?? []).map((p) => resolve(doc, p));
      groups.get(tag)!.push({ method: method.toUpperCase(), path, operation, parameters });
    }
  }
  return [...groups.entries()].filter(([, list]) => list.length > 0);
}

/** An example value for a schema: its example, default or first enum value, else one built from its type. */
export function exampleOf(doc: Document, schema: Schema | undefined, depth = 0): unknown {
  if (!schema || depth > 8) return null;
  const s = resolve(doc, schema);
  if (s.example !== undefined) return s.example;
  if (s.default !== undefined) return s.default;
  if (s.enum?.length) return s.enum[0];
  switch (s.type) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const name of s.required ?? Object.keys(s.properties ?? {})) {
        out[name] = exampleOf(doc, s.properties?.[name], depth + 1);
      }
      return out;
    }
    case "array":
      return [exampleOf(doc, s.items, depth + 1)];
    case "integer":
    case "number":
      return 0;
    case "boolean":
      return false;
    case "string":
      return "string";
    default:
      return null;
  }
}

/** The request path with its parameters filled in (path parameters encoded; empty query ones left out). */
export function requestPath(endpoint: Endpoint, values: Record<string, string>): string {
  let path = endpoint.path;
  const query = new URLSearchParams();
  for (const p of endpoint.parameters) {
    const value = values[p.name] ?? "";
    if (p.in === "path") path = path.replace(`{${p.name}}`, encodeURIComponent(value));
    else if (p.in === "query" && value !== "") query.set(p.name, value);
  }
  const q = query.toString();
  return q ? `${path}?${q}` : path;
}
