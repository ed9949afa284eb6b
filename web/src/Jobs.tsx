// The Jobs view: start a background job for a campaign, follow its progress (polling while a job
// is queued or running), cancel it, and download its results as CSV or JSON.
import { useCallback, useEffect, useState } from "react";
import type { Campaign } from "./api";
import { ACTIVE, type Job, jobsApi, jsonLinesToArray, progressLabel, progressPercent } from "./jobsApi";

const POLL_MS = 1000;

function download(name: string, type: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
}

export function JobsView({
  campaigns,
  campaignId,
  onError,
}: {
  campaigns: Campaign[];
  campaignId: string;
  onError: (e: unknown) => void;
}) {
  const [jobs, setJobs] = useState<Job[]>([]);
  const [target, setTarget] = useState(campaignId);
  const [starting, setStarting] = useState(false);

  const refresh = useCallback(async () => {
    try {
      setJobs(await jobsApi.list());
    } catch (e) {
      onError(e);
    }
  }, [onError]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  // Poll while anything can still change.
  const active = jobs.some((j) => ACTIVE.includes(j.state));
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => void refresh(), POLL_MS);
    return () => clearInterval(timer);
  }, [active, refresh]);

  useEffect(() => {
    if (!target && campaignId) setTarget(campaignId);
  }, [campaignId, target]);

  const start = async () => {
    setStarting(true);
    try {
      await jobsApi.start(target);
      await refresh();
    } catch (e) {
      onError(e);
    } finally {
      setStarting(false);
    }
  };

  const cancel = async (id: string) => {
    try {
      await jobsApi.cancel(id);
      await refresh();
    } catch (e) {
      onError(e);
    }
  };

  const save = async (job: Job, format: "csv" | "json") => {
    try {
      if (format === "csv") {
        download(`${job.id}.csv`, "text/csv", await jobsApi.results(job.id, "csv"));
      } else {
        download(`${job.id}.json`, "application/json", jsonLinesToArray(await jobsApi.results(job.id, "jsonl")));
      }
    } catch (e) {
      onError(e);
    }
  };

  return (
    <section data-testid="jobs-view">
      <div className="toolbar">
        <label>
          Campaign{" "}
          <select data-testid="job-campaign" value={target} onChange={(e) => setTarget(e.target.value)}>
            {campaigns.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name} ({c.id})
              </option>
            ))}
          </select>
        </label>
        <button data-testid="start-job" onClick={start} disabled={!target || starting}>
          {starting ? "Starting…" : "Start job"}
        </button>
        <span className="muted small">The whole campaign is enriched on the server; a restart resumes it.</span>
      </div>
      <div className="table-wrap">
        <table className="leads" data-testid="jobs-table">
          <thead>
            <tr>
              <th>Job</th>
              <th>Source</th>
              <th>State</th>
              <th>Progress</th>
              <th>Billed</th>
              <th>From cache</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {jobs.map((job) => {
              const percent = progressPercent(job);
              const ended = !ACTIVE.includes(job.state);
              return (
                <tr key={job.id} data-testid="job-row" data-job-id={job.id} data-state={job.state}>
                  <td>
                    <div className="name small">{job.id}</div>
                    <div className="muted small">{new Date(job.created_at).toLocaleString()}</div>
                  </td>
                  <td>{job.spec.campaign_id ?? `${job.spec.leads ?? 0} leads`}</td>
                  <td>
                    <span className={`badge job-${job.state}`} data-testid="job-state">
                      {job.state}
                    </span>
                    {job.error && <div className="error small">{job.error}</div>}
                  </td>
                  <td>
                    <div className="progress" aria-valuenow={percent ?? undefined} role="progressbar">
                      <div className="progress-bar" style={{ width: `${percent ?? 0}%` }} />
                    </div>
                    <div className="muted small" data-testid="job-progress">
                      {progressLabel(job)}
                    </div>
                  </td>
                  <td>{job.counts.billed_lookups}</td>
                  <td>{job.counts.cache_hits}</td>
                  <td className="actions">
                    {!ended && (
                      <button className="ghost" data-testid="cancel-job" onClick={() => void cancel(job.id)}>
                        Cancel
                      </button>
                    )}
                    <button
                      className="ghost"
                      data-testid="download-csv"
                      disabled={job.progress.leads_done === 0}
                      onClick={() => void save(job, "csv")}
                    >
                      CSV
                    </button>
                    <button
                      className="ghost"
                      data-testid="download-json"
                      disabled={job.progress.leads_done === 0}
                      onClick={() => void save(job, "json")}
                    >
                      JSON
                    </button>
                  </td>
                </tr>
              );
            })}
            {jobs.length === 0 && (
              <tr>
                <td colSpan={7} className="muted">
                  No jobs yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
