// The live step timeline beside the chat: each node as it starts and finishes, how long it
// took, its output (its update to the run's state) on demand, and the tools it called.
import type { RunView } from "../lib/run";
import { Spinner } from "../ui/feedback";

function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return "";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

const statusText: Record<RunView["status"], string> = {
  starting: "Starting",
  running: "Running",
  finished: "Finished",
  failed: "Failed",
  waiting: "Waiting for input",
  cancelled: "Cancelled",
};

export function Timeline({ run, streaming }: { run: RunView | undefined; streaming: boolean }) {
  if (!run) {
    return streaming ? (
      <Spinner label="Starting the run…" />
    ) : (
      <p className="status-line">Send a message: each step the agent takes shows up here as it happens.</p>
    );
  }
  return (
    <>
      <p className="status-line" data-testid="run-status" data-status={run.status}>
        {statusText[run.status]}
        {run.runId && <> · run <code>{run.runId.slice(0, 8)}</code></>}
      </p>
      {run.steps.length === 0 ? (
        <Spinner label="Waiting for the first step…" />
      ) : (
        <ol className="timeline" data-testid="timeline">
          {run.steps.map((step, index) => (
            <li key={`${step.nodeId}-${index}`} data-status={step.status} data-testid="timeline-step">
              <div className="timeline__head">
                <span className="timeline__node">{step.nodeId}</span>
                <span className="timeline__meta">
                  {step.status === "running" ? "running…" : formatDuration(step.durationMs) || "done"}
                </span>
              </div>
              <div className="timeline__meta">
                step {step.step}
                {step.kind && <> · {step.kind}</>}
              </div>
              {step.status === "finished" && (
                <details>
                  <summary>Output</summary>
                  <pre>{JSON.stringify(step.output ?? {}, null, 2)}</pre>
                </details>
              )}
            </li>
          ))}
        </ol>
      )}
      {run.tools.length > 0 && (
        <>
          <h2>Tools</h2>
          <ul className="timeline">
            {run.tools.map((tool) => (
              <li key={tool.callId} data-status={tool.isError === undefined ? "running" : "finished"}>
                <div className="timeline__head">
                  <span className="timeline__node">{tool.toolName}</span>
                  <span className="timeline__meta">
                    {tool.isError === undefined ? "calling…" : tool.isError ? "error" : formatDuration(tool.durationMs)}
                  </span>
                </div>
                {tool.errorMessage && <div className="timeline__meta">{tool.errorMessage}</div>}
              </li>
            ))}
          </ul>
        </>
      )}
      {run.error && (
        <div className="alert" role="alert">
          {run.error}
        </div>
      )}
    </>
  );
}
