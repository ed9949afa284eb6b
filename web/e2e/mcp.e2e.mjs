// leadenrich's MCP server driven by the official TypeScript SDK's client, over both transports:
// `leadenrich mcp --sandbox` (stdio) and `leadenrich-server --sandbox` at /mcp (streamable HTTP,
// with an API key). Each transport goes through initialize, tools/list, every tool on the sandbox,
// progress over a 200-lead batch (each company billed once), cancellation mid-batch (spending
// stops), bad arguments; HTTP also through auth failures and the session's end.
//
//   node web/e2e/mcp.e2e.mjs --cli build/apps/leadenrich --server build/apps/leadenrich-server
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";

const { values: args } = parseArgs({ options: { cli: { type: "string" }, server: { type: "string" } } });
assert.ok(args.cli && args.server, "--cli <leadenrich> and --server <leadenrich-server> are required");
const CLI = resolve(args.cli);
const SERVER = resolve(args.server);
const TIMEOUT_MS = 20_000;
const KEY = "mcp-test-key-0123456789";
// Each pipe0 run takes this long in the sandbox, so a batch lasts long enough to watch it, and a
// run in flight when a call is cancelled is billed within this long of the cancellation.
const LATENCY_MS = "300";
const TOOLS = ["enrich_lead", "enrich_leads", "estimate_cost", "get_enrichment", "list_campaigns", "list_leads"];

const dirs = [];
function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), "leadenrich-mcp-"));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Resolves with the first match of `re` in what `stream` says, within the timeout. */
function watch(stream, re, what) {
  let text = "";
  return {
    log: () => text,
    found: new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what} not seen:\n${text}`)), TIMEOUT_MS);
      stream.on("data", (chunk) => {
        text += chunk;
        const m = re.exec(text);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    }),
  };
}

const SANDBOX_RE = /sandbox: serving synthetic Aturiya and pipe0 data at (http:\/\/127\.0\.0\.1:\d+)/;

async function counters(sandboxUrl) {
  const res = await fetch(`${sandboxUrl}/sandbox/counters`, { headers: { Authorization: "Bearer any" } });
  assert.equal(res.status, 200);
  return res.json();
}
const totalBilled = (c) => Object.values(c.billed).reduce((a, b) => a + b, 0);

function text(result) {
  return result.content.map((c) => c.text).join("\n");
}

/** A lead object the sandbox will answer for: its own company and person. */
function syntheticLead(prefix, i) {
  return {
    lead_id: `${prefix}-${i}`,
    name: `Person ${i}`,
    organization: `${prefix} company ${i}`,
    website: `https://${prefix}-${i}.example.com`,
    linkedin_url: `https://www.linkedin.com/in/${prefix}-person-${i}`,
  };
}

/** What both transports must do, given a connected client and the sandbox's address. */
function protocolTests(setup) {
  let client;
  let sandboxUrl;
  before(async () => {
    ({ client, sandboxUrl } = await setup());
  });

  test("initialize names the server and offers tools", () => {
    assert.equal(client.getServerVersion().name, "leadenrich");
    assert.ok(client.getServerCapabilities().tools, "tools capability");
    assert.match(client.getInstructions(), /estimate_cost/);
  });

  test("tools/list: six tools with schemas, annotations and prices", async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), TOOLS);
    for (const t of tools) {
      assert.equal(t.inputSchema.type, "object", t.name);
      assert.equal(t.outputSchema.type, "object", t.name);
      const spends = t.name.startsWith("enrich_");
      assert.equal(t.annotations.readOnlyHint, !spends, t.name);
      if (spends) {
        assert.match(t.description, /SPENDS CREDITS/);
        assert.match(t.description, /company_overview 1 credit per company \(cached 30d\)/);
        assert.match(t.description, /cached per/);
      }
    }
  });

  test("list_campaigns and list_leads read Aturiya", async () => {
    const campaigns = await client.callTool({ name: "list_campaigns", arguments: {} });
    assert.equal(campaigns.isError, false);
    assert.equal(campaigns.structuredContent.campaigns.length, 3);
    const page = await client.callTool({ name: "list_leads", arguments: { campaign_id: "cmp_0001", per_page: 5 } });
    assert.equal(page.structuredContent.leads.length, 5);
    assert.equal(page.structuredContent.has_next, true);
    assert.equal(page.structuredContent.leads[0].enrichment, null);
  });

  test("estimate_cost plans without spending; enrich_lead spends; get_enrichment reads it back", async () => {
    const before = totalBilled(await counters(sandboxUrl));
    const plan = await client.callTool({ name: "estimate_cost", arguments: { lead_ids: ["lead_1_0004"] } });
    assert.equal(plan.isError, false, text(plan));
    assert.equal(plan.structuredContent.leads, 1);
    assert.ok(plan.structuredContent.estimated_credits > 0);
    assert.equal(plan.structuredContent.credits_per_lookup.funding, 2);
    assert.equal(totalBilled(await counters(sandboxUrl)), before, "a dry run spends nothing");

    const enriched = await client.callTool({ name: "enrich_lead", arguments: { lead_id: "lead_1_0004" } });
    assert.equal(enriched.isError, false, text(enriched));
    const lead = enriched.structuredContent;
    assert.equal(lead.lead.lead_id, "lead_1_0004");
    assert.equal(lead.sandbox, true);
    assert.deepEqual(Object.keys(lead.signals).sort(), ["company_overview", "funding", "linkedin_posts", "news", "tech_stack"]);
    for (const s of Object.values(lead.signals)) assert.ok(["found", "no_result", "skipped"].includes(s.status), s.status);
    assert.match(text(enriched), /lead lead_1_0004: quality score \d+/);
    assert.equal(totalBilled(await counters(sandboxUrl)) - before, lead.billed_lookups);

    const stored = await client.callTool({ name: "get_enrichment", arguments: { lead_id: "lead_1_0004" } });
    assert.deepEqual(stored.structuredContent, lead);
    const listed = await client.callTool({ name: "list_leads", arguments: { campaign_id: "cmp_0001", per_page: 4 } });
    assert.equal(listed.structuredContent.leads[3].lead.lead_id, "lead_1_0004");
    assert.equal(listed.structuredContent.leads[3].enrichment.quality_score, lead.quality_score);
    assert.equal(listed.structuredContent.leads[0].enrichment, null);

    // Asked again within the freshness window: answered from the cache, free.
    const again = await client.callTool({ name: "enrich_lead", arguments: { lead_id: "lead_1_0004" } });
    assert.equal(again.structuredContent.billed_lookups, 0);
    assert.equal(totalBilled(await counters(sandboxUrl)) - before, lead.billed_lookups);
  });

  test("tool errors are results with isError; an unknown tool is a protocol error", async () => {
    const bad = await client.callTool({ name: "enrich_lead", arguments: { lead_id: "lead_1_0002", max_credits: "lots" } });
    assert.equal(bad.isError, true);
    assert.equal(text(bad), "arguments.max_credits: expected number, got string");
    const both = await client.callTool({ name: "enrich_leads", arguments: { lead_ids: ["a"], campaign_id: "cmp_0001" } });
    assert.equal(both.isError, true);
    assert.match(text(both), /exactly one of lead_ids, leads or campaign_id/);
    const unknown = await client.callTool({ name: "enrich_lead", arguments: { lead_id: "lead_9_9999" } });
    assert.equal(unknown.isError, true);
    assert.match(text(unknown), /lead_9_9999.*not found/);
    const missing = await client.callTool({ name: "get_enrichment", arguments: { lead_id: "lead_1_0060" } });
    assert.equal(missing.isError, true);
    assert.match(text(missing), /no enrichment stored for lead lead_1_0060/);
    // Budget: nothing may be spent, and nothing is cached for this new company.
    const broke = await client.callTool({ name: "enrich_lead", arguments: { lead: syntheticLead("budget", 1), max_credits: 0 } });
    assert.equal(broke.isError, true);
    assert.match(text(broke), /budget exhausted/);
    await assert.rejects(client.callTool({ name: "no_such_tool", arguments: {} }), (e) => e instanceof McpError && e.code === -32602);
  });

  test("enrich_leads over 200 leads streams progress and bills each company once", async () => {
    // Every lead of the sandbox's three campaigns, and 20 more leads of companies already among them.
    const leads = [];
    for (const campaign of ["cmp_0001", "cmp_0002", "cmp_0003"]) {
      const page = await client.callTool({ name: "list_leads", arguments: { campaign_id: campaign, per_page: 200 } });
      leads.push(...page.structuredContent.leads.map((l) => l.lead));
    }
    for (let i = 0; leads.length < 200; ++i) leads.push({ ...leads[i], lead_id: `${leads[i].lead_id}-again`, linkedin_url: null });
    const start = await counters(sandboxUrl);

    const progress = [];
    let spentAtFirst;  // billed when the first notification arrived
    const result = await client.callTool({ name: "enrich_leads", arguments: { leads } }, undefined, {
      onprogress: (p) => {
        progress.push(p);
        if (progress.length === 1) spentAtFirst = counters(sandboxUrl).then(totalBilled);
      },
    });
    assert.equal(result.isError, false, text(result));
    const summary = result.structuredContent.summary;
    assert.equal(summary.leads, 200);
    assert.equal(result.structuredContent.leads.length, 200);

    // Progress: leads done plus lookups answered, growing with each pipe0 answer up to its total (the
    // engine sends 200 leads' lookups in a few large requests, so a few steps), and it arrived while
    // the run was still spending.
    assert.ok(progress.length >= 2, JSON.stringify(progress));
    assert.ok(progress.some((p) => p.progress > 0 && p.progress < p.total), JSON.stringify(progress));
    for (let i = 1; i < progress.length; ++i) assert.ok(progress[i].progress > progress[i - 1].progress);
    // The total is every lead and every lookup the run planned. (The SDK hands a notification to
    // its handler a tick later, and drops it if the answer was read in the same chunk, so the
    // final one, sent just before the answer, is not always seen here.)
    for (const p of progress) {
      assert.equal(p.total, 200 + summary.lookups, JSON.stringify(progress));
      assert.match(p.message, /^\d+ of 200 leads done; \d+ of \d+ lookups answered; \d+ cache hits$/);
    }
    const end = await counters(sandboxUrl);
    const spent = totalBilled(end) - totalBilled(start);
    // Buffered until the answer, the first notification would come after all the spending.
    assert.ok((await spentAtFirst) < totalBilled(end), "progress came while the run was spending");

    // Billing: what the summary says, and no company or person billed twice for one pipe.
    assert.equal(spent, summary.billed_lookups);
    assert.equal(end.repeated_billing, 0);
    const overview = (end.billed["company:overview@2"] ?? 0) - (start.billed["company:overview@2"] ?? 0);
    assert.ok(overview <= summary.companies, `${overview} overview lookups billed for ${summary.companies} companies`);
  });

  test("cancelling enrich_leads mid-batch stops spending within a second", async () => {
    // 1,000 new companies and people: more records than the sandbox's P1 capacity, so the run
    // sends them in waves and a cancellation after the first answer leaves many never sent.
    const leads = Array.from({ length: 1000 }, (_, i) => syntheticLead("cancel", i));
    const plan = await client.callTool({ name: "estimate_cost", arguments: { leads } });
    const planned = Object.values(plan.structuredContent.lookups).reduce((a, b) => a + b, 0);
    assert.equal(planned, 5000);
    const start = totalBilled(await counters(sandboxUrl));

    const abort = new AbortController();
    let cancelledAt;
    const call = client.callTool({ name: "enrich_leads", arguments: { leads } }, undefined, {
      signal: abort.signal,
      onprogress: (p) => {
        if (!cancelledAt && p.progress > 0) {  // mid-batch: pipe0 has answered, the run is spending
          cancelledAt = Date.now();
          abort.abort("enough");
        }
      },
    });
    await assert.rejects(call);
    assert.ok(cancelledAt, "progress came before the call ended");
    await sleep(Math.max(0, cancelledAt + 1000 - Date.now()));
    const afterOneSecond = totalBilled(await counters(sandboxUrl));
    await sleep(1500);
    const later = totalBilled(await counters(sandboxUrl));
    assert.equal(later, afterOneSecond, "nothing billed more than a second after the cancellation");
    // About 4 in 5 lookups are billed (the rest find nothing): a run left alone bills ~4,000.
    const billed = afterOneSecond - start;
    assert.ok(billed > 0 && billed < 0.6 * planned, `${billed} of ${planned} planned lookups billed`);
    // The session goes on.
    const campaigns = await client.callTool({ name: "list_campaigns", arguments: {} });
    assert.equal(campaigns.isError, false);
  });

  return () => client;
}

describe("stdio: leadenrich mcp --sandbox", () => {
  let transport;
  const client = protocolTests(async () => {
    const dir = tempDir();
    transport = new StdioClientTransport({
      command: CLI,
      args: ["mcp", "--sandbox", "--store", join(dir, "mcp.db"), "--sandbox-latency-ms", LATENCY_MS],
      cwd: dir,
      env: { PATH: process.env.PATH },
      stderr: "pipe",
    });
    const sandbox = watch(transport.stderr, SANDBOX_RE, "the sandbox's address");
    const c = new Client({ name: "leadenrich-e2e", version: "1.0.0" });
    await c.connect(transport);
    return { client: c, sandboxUrl: await sandbox.found };
  });
  after(async () => {
    await client()?.close();
  });
});

describe("streamable HTTP: leadenrich-server --sandbox at /mcp", () => {
  let server;
  let base;
  const connect = async (headers) => {
    const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers } });
    const c = new Client({ name: "leadenrich-e2e", version: "1.0.0" });
    await c.connect(transport);
    return { c, transport };
  };
  const client = protocolTests(async () => {
    const dir = tempDir();
    server = spawn(SERVER, ["--sandbox", "--port", "0", "--store", join(dir, "server.db"), "--max-batch", "1000",
                            "--sandbox-latency-ms", LATENCY_MS], {
      cwd: dir,
      env: { PATH: process.env.PATH, LEADENRICH_API_KEYS: KEY },
      stdio: ["ignore", "ignore", "pipe"],
    });
    const sandbox = watch(server.stderr, SANDBOX_RE, "the sandbox's address");
    const listening = watch(server.stderr, /listening on (http:\/\/127\.0\.0\.1:\d+)/, "the server's address");
    base = await listening.found;
    const { c, transport } = await connect({ Authorization: `Bearer ${KEY}` });
    assert.equal(transport.protocolVersion, "2025-06-18");
    assert.match(transport.sessionId, /^[0-9a-f]{32}$/);
    return { client: c, sandboxUrl: await sandbox.found };
  });

  test("a wrong or missing API key is refused with 401, and the key never shows", async () => {
    const unauthorized = (e) => e.code === 401 && /invalid API key|missing API key/.test(e.message) && !e.message.includes(KEY);
    await assert.rejects(connect({ Authorization: "Bearer wrong-key" }), unauthorized);
    await assert.rejects(connect({}), unauthorized);
    const res = await fetch(`${base}/mcp`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("www-authenticate"), "Bearer");
    assert.ok(!(await res.text()).includes(KEY));
  });

  test("GET is 405; a request without a session is 400; DELETE ends the session", async () => {
    const auth = { Authorization: `Bearer ${KEY}` };
    const get = await fetch(`${base}/mcp`, { headers: { ...auth, Accept: "text/event-stream" } });
    assert.equal(get.status, 405);
    const list = { jsonrpc: "2.0", id: 1, method: "tools/list" };
    const post = (headers) => fetch(`${base}/mcp`, {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json", Accept: "application/json, text/event-stream", ...headers },
      body: JSON.stringify(list),
    });
    const none = await post({});
    assert.equal(none.status, 400);
    assert.match((await none.json()).error.message, /Mcp-Session-Id header required/);

    const { c, transport } = await connect(auth);
    const id = transport.sessionId;
    const ok = await post({ "Mcp-Session-Id": id, "MCP-Protocol-Version": "2025-06-18" });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).result.tools.length, 6);
    const old = await post({ "Mcp-Session-Id": id, "MCP-Protocol-Version": "1999-01-01" });
    assert.equal(old.status, 400);
    await transport.terminateSession();
    const ended = await post({ "Mcp-Session-Id": id });
    assert.equal(ended.status, 404);
    await c.close();
  });

  after(async () => {
    await client()?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server.on("exit", resolve));
      server.kill("SIGTERM");
      await exited;
    }
  });
});
