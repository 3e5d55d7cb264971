// An agent's versions (newest first): view one read-only, compare two (the page highlights the
// nodes added, removed and changed and shows the JSON diff), roll back to one.
import { useCallback, useEffect, useState } from "react";
import { AgentService } from "../api/generated";
import type { AgentVersion } from "../api/generated";
import { describeError } from "../lib/errors";
import { ErrorAlert, Spinner } from "../ui/feedback";

interface VersionsPanelProps {
  agentId: string;
  latest: number;
  viewing: number | undefined;
  readOnly: boolean;
  onView(version: number): void;
  onCompare(from: number, to: number): void;
  onRollback(version: number): Promise<void>;
}

export function VersionsPanel({ agentId, latest, viewing, readOnly, onView, onCompare, onRollback }: VersionsPanelProps) {
  const [versions, setVersions] = useState<AgentVersion[]>();
  const [error, setError] = useState<string>();
  const [chosen, setChosen] = useState<number[]>([]);
  const [busy, setBusy] = useState(false);
  const load = useCallback(async () => {
    try {
      setVersions((await AgentService.listAgentVersions({ agentId, pageSize: 100 })).versions ?? []);
      setError(undefined);
    } catch (failure) {
      setError(describeError(failure));
    }
  }, [agentId]);
  useEffect(() => {
    void load();
  }, [load, latest]);
  const toggle = (version: number) =>
    setChosen((current) => (current.includes(version) ? current.filter((v) => v !== version) : [...current, version].slice(-2)));
  return (
    <section className="versions" aria-label="Versions" data-testid="versions">
      <h2>Versions</h2>
      {error && <ErrorAlert message={error} onRetry={() => void load()} />}
      {!versions && !error && <Spinner label="Loading versions…" />}
      {versions && (
        <>
          <ol className="versions__list">
            {versions.map((version) => {
              const number = version.version ?? 0;
              return (
                <li key={number} className={viewing === number ? "versions__item versions__item--viewing" : "versions__item"} data-testid={`version-${number}`}>
                  <label className="field__choice">
                    <input type="checkbox" checked={chosen.includes(number)} onChange={() => toggle(number)} data-testid={`version-pick-${number}`} />
                    <strong>v{number}</strong>
                    {number === latest && <span className="badge">latest</span>}
                  </label>
                  <span className="versions__message">{version.changeMessage}</span>
                  {version.restoredFromVersion ? <span className="field__help">restores v{version.restoredFromVersion}</span> : null}
                  <span className="field__help">{version.createdAt ? new Date(version.createdAt).toLocaleString() : ""}</span>
                  <div className="actions">
                    <button type="button" className="button button--small" onClick={() => onView(number)} data-testid={`version-view-${number}`}>
                      View
                    </button>
                    {number !== latest && !readOnly && (
                      <button
                        type="button"
                        className="button button--small"
                        disabled={busy}
                        data-testid={`version-rollback-${number}`}
                        onClick={async () => {
                          setBusy(true);
                          try {
                            await onRollback(number);
                          } finally {
                            setBusy(false);
                          }
                        }}
                      >
                        Roll back to v{number}
                      </button>
                    )}
                  </div>
                </li>
              );
            })}
          </ol>
          <button
            type="button"
            className="button"
            disabled={chosen.length !== 2}
            data-testid="versions-compare"
            onClick={() => {
              const [a, b] = [...chosen].sort((x, y) => x - y);
              onCompare(a!, b!);
            }}
          >
            Compare the two chosen
          </button>
        </>
      )}
    </section>
  );
}
