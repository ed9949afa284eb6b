// Interactive API docs: reads /openapi.json and lists every route by tag; each can be opened,
// filled in and sent ("try it out"), showing the answer as the server gave it.
import { useEffect, useState } from "react";
import { apiKey, setApiKey } from "../api";
import { Document, Endpoint, endpointsByTag, exampleOf, requestPath } from "./openapi";

export function Docs() {
  const [doc, setDoc] = useState<Document | null>(null);
  const [error, setError] = useState("");
  const [key, setKey] = useState(apiKey());

  useEffect(() => {
    fetch("/openapi.json")
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then((d: Document) => setDoc(d))
      .catch((e: Error) => setError(`cannot read /openapi.json: ${e.message}`));
  }, []);

  if (error) return <div className="app"><p className="error" data-testid="error">{error}</p></div>;
  if (!doc) return <div className="app"><p className="muted">Loading /openapi.json…</p></div>;
  const tagInfo = new Map((doc.tags ?? []).map((t) => [t.name, t.description ?? ""]));
  return (
    <div className="app docs">
      <div className="top">
        <h1>{doc.info.title} API</h1>
        <span className="muted">version {doc.info.version}</span>
        <a href="/openapi.json" className="small">openapi.json</a>
        <a href="/" className="small">web UI</a>
      </div>
      {doc.info.description && <p className="muted">{doc.info.description}</p>}
      <div className="key-form">
        <label htmlFor="docs-key">API key</label>
        <input
          id="docs-key"
          data-testid="docs-key"
          type="password"
          value={key}
          placeholder="only when the server has keys"
          onChange={(e) => {
            setKey(e.target.value);
            setApiKey(e.target.value);
          }}
        />
        <span className="muted small">sent as Authorization: Bearer; kept for this tab only</span>
      </div>
      {endpointsByTag(doc).map(([tag, endpoints]) => (
        <section key={tag} className="docs-tag" data-testid={`tag-${tag}`}>
          <h2>
            {tag} <span className="muted small">{tagInfo.get(tag)}</span>
          </h2>
          {endpoints.map((e) => (
            <EndpointView key={`${e.method} ${e.path}`} doc={doc} endpoint={e} apiKey={key} />
          ))}
        </section>
      ))}
    </div>
  );
}

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

function EndpointView({ doc, endpoint, apiKey }: { doc: Document; endpoint: Endpoint; apiKey: string }) {
  const { method, path, operation } = endpoint;
  const [open, setOpen] = useState(false);
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(endpoint.parameters.map((p) => [p.name, p.example === undefined ? "" : String(p.example)])),
  );
  const bodySchema = operation.requestBody?.content["application/json"]?.schema;
  const [body, setBody] = useState(() => (bodySchema ? JSON.stringify(exampleOf(doc, bodySchema), null, 2) : ""));
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [sending, setSending] = useState(false);
  const [failure, setFailure] = useState("");

  async function send() {
    setSending(true);
    setFailure("");
    setAnswer(null);
    const headers: Record<string, string> = {};
    if (apiKey) headers["Authorization"] = `Bearer ${apiKey}`;
    const withBody = bodySchema !== undefined && body.trim() !== "";
    if (withBody) headers["Content-Type"] = "application/json";
    try {
      const res = await fetch(requestPath(endpoint, values), { method, headers, body: withBody ? body : undefined });
      const text = await res.text();
      const contentType = res.headers.get("Content-Type") ?? "";
      let shown = text;
      if (contentType.startsWith("application/json")) {
        try {
          shown = JSON.stringify(JSON.parse(text), null, 2);
        } catch {
          // not JSON after all: shown as it came
        }
      }
      setAnswer({ status: res.status, contentType, body: shown });
    } catch (e) {
      setFailure(`cannot reach the server: ${(e as Error).message}`);
    } finally {
      setSending(false);
    }
  }

  return (
    <div className={`docs-op docs-${method.toLowerCase()}`} data-testid="operation" data-method={method} data-path={path}>
      <button type="button" className="docs-op-head ghost" onClick={() => setOpen(!open)} aria-expanded={open}>
        <span className="docs-method">{method}</span>
        <code className="docs-path">{path}</code>
        <span className="muted">{operation.summary}</span>
      </button>
      {open && (
        <div className="docs-op-body">
          {operation.description && <p>{operation.description}</p>}
          {endpoint.parameters.length > 0 && (
            <table className="docs-params">
              <tbody>
                {endpoint.parameters.map((p) => (
                  <tr key={p.name}>
                    <td>
                      <code>{p.name}</code> <span className="muted small">{p.in}{p.required ? ", required" : ""}</span>
                    </td>
                    <td>
                      <input
                        data-testid={`param-${p.name}`}
                        value={values[p.name] ?? ""}
                        onChange={(e) => setValues({ ...values, [p.name]: e.target.value })}
                      />
                    </td>
                    <td className="muted small">{p.description}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {bodySchema && (
            <label className="docs-body">
              <span className="muted small">request body (application/json)</span>
              <textarea data-testid="request-body" rows={8} value={body} onChange={(e) => setBody(e.target.value)} />
            </label>
          )}
          <div className="toolbar">
            <button type="button" data-testid="execute" disabled={sending} onClick={send}>
              {sending ? "Sending…" : "Try it out"}
            </button>
            <span className="muted small">
              answers: {Object.keys(operation.responses).join(", ")}
            </span>
          </div>
          {failure && <p className="error">{failure}</p>}
          {answer && (
            <div className="docs-answer" data-testid="answer">
              <div>
                HTTP <strong data-testid="answer-status">{answer.status}</strong>{" "}
                <span className="muted small">{answer.contentType}</span>
              </div>
              <pre data-testid="answer-body">{answer.body}</pre>
            </div>
          )}
        </div>
      )}
    </div>
  );
}
