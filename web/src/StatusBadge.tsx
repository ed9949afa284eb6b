import type { SignalStatus } from "./api";
import { statusLabel } from "./format";

export function StatusBadge({ status, title }: { status: SignalStatus | undefined; title?: string }) {
  return (
    <span className={`badge badge-${status ?? "none"}`} title={title} data-status={status ?? "none"}>
      {statusLabel(status)}
    </span>
  );
}

export function ScoreBadge({ score }: { score: number | undefined }) {
  if (score === undefined) return <span className="score score-none">—</span>;
  const band = score >= 70 ? "high" : score >= 40 ? "mid" : "low";
  return (
    <span className={`score score-${band}`} data-testid="quality-score">
      {score}
    </span>
  );
}
