import { describe, expect, it } from "vitest";
import { ageLabel, statusLabel, summarize, valueRows } from "./format";
import type { EnrichedLead, SignalEntry } from "./api";

const entry = (status: SignalEntry["status"]): SignalEntry => ({
  status,
  reason: null,
  source: "p@1",
  fetched_at: null,
  from_cache: false,
  value: null,
});

describe("format", () => {
  it("labels statuses for people", () => {
    expect(statusLabel("no_result")).toBe("no result");
    expect(statusLabel("budget_exhausted")).toBe("budget exhausted");
    expect(statusLabel(undefined)).toBe("not enriched");
  });

  it("tells ages in the largest whole unit", () => {
    const now = new Date("2026-11-25T12:00:00Z");
    expect(ageLabel("2026-11-25T11:59:30Z", now)).toBe("just now");
    expect(ageLabel("2026-11-25T11:55:00Z", now)).toBe("5 min ago");
    expect(ageLabel("2026-11-25T09:00:00Z", now)).toBe("3 h ago");
    expect(ageLabel("2026-11-23T12:00:00Z", now)).toBe("2 d ago");
    expect(ageLabel(null, now)).toBe("—");
    expect(ageLabel("not a date", now)).toBe("—");
  });

  it("summarizes a result the way the leads page does", () => {
    const lead = {
      lead: { lead_id: "l1" },
      signals: {
        company_overview: entry("found"),
        tech_stack: entry("no_result"),
        funding: entry("skipped"),
        news: entry("failed"),
        linkedin_posts: entry("disabled"),
      },
      signals_found: ["company_overview"],
      signals_missed: ["tech_stack", "funding", "news"],
      quality_score: 30,
      enriched_at: "2026-11-25T12:00:00Z",
    } as unknown as EnrichedLead;
    expect(summarize(lead)).toEqual({
      quality_score: 30,
      signals_found: ["company_overview"],
      signals_missed: ["tech_stack", "funding", "news"],
      enriched_at: "2026-11-25T12:00:00Z",
      statuses: {
        company_overview: "found",
        tech_stack: "no_result",
        funding: "skipped",
        news: "failed",
        linkedin_posts: "disabled",
      },
    });
  });

  it("flattens values into readable rows", () => {
    expect(
      valueRows({
        industry: "Logistics",
        headcount_range: { min: 201, max: 500 },
        technologies: [{ name: "React", category: null }, { name: "Postgres", category: "database" }],
        region: null,
      }),
    ).toEqual([
      ["industry", "Logistics"],
      ["headcount range", "min: 201, max: 500"],
      ["technologies", "name: React; name: Postgres, category: database"],
      ["region", "—"],
    ]);
    expect(valueRows(null)).toEqual([]);
  });
});
