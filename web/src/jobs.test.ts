import { describe, expect, test } from "vitest";
import { jsonLinesToArray, progressLabel, progressPercent } from "./jobsApi";

describe("jsonLinesToArray", () => {
  test("turns one lead per line into one JSON array, in order", () => {
    const text = '{"lead":{"lead_id":"a"}}\n{"lead":{"lead_id":"b"}}\n';
    const parsed = JSON.parse(jsonLinesToArray(text)) as { lead: { lead_id: string } }[];
    expect(parsed.map((l) => l.lead.lead_id)).toEqual(["a", "b"]);
  });
  test("an empty result is an empty array", () => {
    expect(JSON.parse(jsonLinesToArray(""))).toEqual([]);
  });
  test("a damaged line is an error, never a silently shorter file", () => {
    expect(() => jsonLinesToArray('{"a":1}\n{"b":\n')).toThrow();
  });
});

describe("progress", () => {
  test("counts with and without a known total", () => {
    expect(progressLabel({ progress: { leads_done: 1200, leads_total: 2000, bad_rows: 0 } })).toBe("1,200 / 2,000 leads");
    expect(progressLabel({ progress: { leads_done: 7, leads_total: null, bad_rows: 0 } })).toBe("7 leads");
  });
  test("percent is floored, 100 only when finished, null while unknown", () => {
    expect(progressPercent({ state: "running", progress: { leads_done: 1999, leads_total: 2000, bad_rows: 0 } })).toBe(99);
    expect(progressPercent({ state: "finished", progress: { leads_done: 60, leads_total: 60, bad_rows: 0 } })).toBe(100);
    expect(progressPercent({ state: "running", progress: { leads_done: 5, leads_total: null, bad_rows: 0 } })).toBeNull();
  });
});
