// Runs (builder or above): the list, filtered by agent, status and time range, page by page; a
// run's inspector: its
// super-steps (checkpoints) as a timeline, the state at each (JSON) and what the step changed
// against the previous one, the error with its node, cancel, and replay from a chosen checkpoint
// with an edited state; the run's events (WatchRun) beside the checkpoints, those of the chosen
// step first.
import { useCallback, useEffect, useMemo, useState } from "react";
import { AgentService, ExecutionService } from "../api/generated";
import type { Agent, Checkpoint, ExecutionEvent, Run, RunStatus } from "../api/generated";
import type { JsonObject } from "../api/runtime";
import { navigate } from "../app/route";
import { diffState } from "../lib/diff";
import { describeError } from "../lib/errors";
import { eventRows } from "../lib/runEvents";
import type { EventRow } from "../lib/runEvents";
import { instantToLocal, presets, timeFilter } from "../lib/timeRange";
import { EmptyState, ErrorAlert, Spinner } from "../ui/feedback";

type Load<T> = { status: "loading" } | { status: "error"; message: string } | { status: "ready"; value: T };

const statusNames: Record<RunStatus, string> = {
  RUN_STATUS_UNSPECIFIED: "—",
  RUN_STATUS_PENDING: "Pending",
  RUN_STATUS_RUNNING: "Running",
  RUN_STATUS_WAITING_FOR_INPUT: "Waiting for input",
  RUN_STATUS_SUCCEEDED: "Succeeded",
  RUN_STATUS_FAILED: "Failed",
  RUN_STATUS_CANCELLED: "Cancelled",
};

function when(iso: string | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString();
}

function runLink(id: string): { href: string; onClick: (e: { preventDefault: () => void }) => void } {
  const href = `/runs/${encodeURIComponent(id)}`;
  return { href, onClick: (e) => (e.preventDefault(), navigate(href)) };
}

export function RunsPage({ runId }: { runId: string | undefined }) {
  return <div className="page">{runId ? <RunInspector key={runId} runId={runId} /> : <RunList />}</div>;
}

function RunList() {
  const [agents, setAgents] = useState<Agent[]>([]);
  const [agentId, setAgentId] = useState("");
  const [status, setStatus] = useState<RunStatus | "">("");
  const [runs, setRuns] = useState<Load<Run[]>>({ status: "loading" });
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [next, setNext] = useState<string>();

  useEffect(() => {
    AgentService.listAgents({ pageSize: 100 })
      .then((answer) => setAgents(answer.agents ?? []))
      .catch(() => setAgents([]));
  }, []);

  const load = useCallback(
    async (pageToken?: string) => {
      const range = timeFilter(from, to);
      if (typeof range === "string") return setRuns({ status: "error", message: range });
      if (!pageToken) setRuns({ status: "loading" });
      try {
        const answer = await ExecutionService.listRuns({
          pageSize: 50,
          ...(agentId ? { agentId } : {}),
          ...(status ? { status } : {}),
          ...range,
          ...(pageToken ? { pageToken } : {}),
        });
        const page = answer.runs ?? [];
        setRuns((current) => ({
          status: "ready",
          value: pageToken && current.status === "ready" ? [...current.value, ...page] : page,
        }));
        setNext(answer.nextPageToken || undefined);
      } catch (error) {
        setRuns({ status: "error", message: describeError(error) });
      }
    },
    [agentId, status, from, to],
  );

  useEffect(() => {
    void load();
  }, [load]);

  const agentName = (id: string | undefined) => agents.find((a) => a.id === id)?.name ?? (id ?? "").slice(0, 8);
  return (
    <>
      <div className="page__head">
        <h1>Runs</h1>
        <div className="actions">
          <label className="inline-field">
            Agent{" "}
            <select className="select" value={agentId} onChange={(e) => setAgentId(e.target.value)}>
              <option value="">All</option>
              {agents.map((agent) => (
                <option key={agent.id} value={agent.id}>
                  {agent.name}
                </option>
              ))}
            </select>
          </label>
          <label className="inline-field">
            Status{" "}
            <select
              className="select"
              value={status}
              onChange={(e) => setStatus(e.target.value as RunStatus | "")}
              data-testid="run-filter-status"
            >
              <option value="">All</option>
              {(Object.keys(statusNames) as RunStatus[])
                .filter((s) => s !== "RUN_STATUS_UNSPECIFIED")
                .map((s) => (
                  <option key={s} value={s}>
                    {statusNames[s]}
                  </option>
                ))}
            </select>
          </label>
          <label className="inline-field">
            From{" "}
            <input
              className="input"
              type="datetime-local"
              value={from}
              onChange={(e) => setFrom(e.target.value)}
              data-testid="run-filter-from"
            />
          </label>
          <label className="inline-field">
            To{" "}
            <input
              className="input"
              type="datetime-local"
              value={to}
              onChange={(e) => setTo(e.target.value)}
              data-testid="run-filter-to"
            />
          </label>
          <select
            className="select"
            aria-label="A preset time range"
            value=""
            onChange={(e) => {
              const preset = presets.find((p) => p.label === e.target.value);
              if (!preset) return;
              const now = Date.now();
              setFrom(instantToLocal(new Date(now - preset.milliseconds)));
              setTo("");
            }}
            data-testid="run-filter-preset"
          >
            <option value="">Time range…</option>
            {presets.map((p) => (
              <option key={p.label} value={p.label}>
                {p.label}
              </option>
            ))}
          </select>
          {(from || to) && (
            <button
              type="button"
              className="button button--small button--ghost"
              onClick={() => {
                setFrom("");
                setTo("");
              }}
            >
              Any time
            </button>
          )}
        </div>
      </div>
      {runs.status === "loading" && <Spinner label="Loading runs…" />}
      {runs.status === "error" && <ErrorAlert message={runs.message} onRetry={() => void load()} />}
      {runs.status === "ready" && runs.value.length === 0 && (
        <EmptyState title="No runs">
          <p>
            {agentId || status || from || to ? "None matches these filters." : "Every message an agent answers is a run."}
          </p>
        </EmptyState>
      )}
      {runs.status === "ready" && runs.value.length > 0 && (
        <table className="table" data-testid="runs">
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Agent</th>
              <th scope="col">Status</th>
              <th scope="col" className="table__wide">
                Steps
              </th>
              <th scope="col" className="table__wide">
                Started
              </th>
            </tr>
          </thead>
          <tbody>
            {runs.value.map((run) => (
              <tr key={run.id} data-testid="run" data-run={run.id}>
                <td>
                  <a {...runLink(run.id ?? "")}>
                    <code>{(run.id ?? "").slice(0, 8)}</code>
                  </a>
                </td>
                <td>{agentName(run.agentId)}</td>
                <td>
                  <span className="badge" data-status={run.status}>
                    {statusNames[run.status ?? "RUN_STATUS_UNSPECIFIED"]}
                  </span>
                </td>
                <td className="table__wide">{run.stepCount ?? 0}</td>
                <td className="table__wide">{when(run.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {runs.status === "ready" && next && (
        <button type="button" className="button button--small list-more" onClick={() => void load(next)} data-testid="runs-more">
          More runs
        </button>
      )}
    </>
  );
}

function RunInspector({ runId }: { runId: string }) {
  const [run, setRun] = useState<Load<Run>>({ status: "loading" });
  const [checkpoints, setCheckpoints] = useState<Load<Checkpoint[]>>({ status: "loading" });
  const [selected, setSelected] = useState(0);
  const [error, setError] = useState<string>();

  const load = useCallback(async () => {
    try {
      const [got, listed] = await Promise.all([
        ExecutionService.getRun({ runId }),
        ExecutionService.listCheckpoints({ runId, includeState: true, pageSize: 200 }),
      ]);
      setRun({ status: "ready", value: got.run ?? {} });
      const list = [...(listed.checkpoints ?? [])].sort((a, b) => (a.step ?? 0) - (b.step ?? 0));
      setCheckpoints({ status: "ready", value: list });
      setSelected((current) => Math.min(current, Math.max(0, list.length - 1)));
    } catch (failure) {
      setRun({ status: "error", message: describeError(failure) });
      setCheckpoints({ status: "error", message: describeError(failure) });
    }
  }, [runId]);

  useEffect(() => {
    void load();
  }, [load]);

  // The run's events (WatchRun): all of a finished run; a live one's as they come, then the run
  // and its checkpoints again when it ends or pauses.
  const [events, setEvents] = useState<Load<ExecutionEvent[]>>({ status: "loading" });
  useEffect(() => {
    const controller = new AbortController();
    const collected: ExecutionEvent[] = [];
    void (async () => {
      try {
        for await (const event of ExecutionService.watchRun({ runId }, { signal: controller.signal })) {
          collected.push(event.data);
          setEvents({ status: "ready", value: [...collected] });
          const data = event.data;
          if (data.runFinished || data.runFailed || data.runCancelled || data.interrupt) void load();
        }
        setEvents({ status: "ready", value: [...collected] });
      } catch (failure) {
        if (!controller.signal.aborted) setEvents({ status: "error", message: describeError(failure) });
      }
    })();
    return () => controller.abort();
  }, [runId, load]);
  const rows = useMemo(() => (events.status === "ready" ? eventRows(events.value) : []), [events]);

  const cancel = async () => {
    setError(undefined);
    try {
      await ExecutionService.cancelRun({ runId, reason: "cancelled from the console" });
      void load();
    } catch (failure) {
      setError(describeError(failure));
    }
  };

  const back = (
    <a href="/runs" onClick={(e) => (e.preventDefault(), navigate("/runs"))}>
      ← All runs
    </a>
  );
  if (run.status === "loading") return <Spinner label="Loading the run…" />;
  if (run.status === "error") {
    return (
      <>
        {back}
        <ErrorAlert message={run.message} onRetry={() => void load()} />
      </>
    );
  }
  const r = run.value;
  const live = r.status === "RUN_STATUS_RUNNING" || r.status === "RUN_STATUS_WAITING_FOR_INPUT";
  return (
    <article className="inspector" data-testid="run-inspector">
      {back}
      <h1>
        Run <code>{runId.slice(0, 8)}</code>
      </h1>
      <p className="status-line">
        <span className="badge" data-status={r.status} data-testid="inspector-status">
          {statusNames[r.status ?? "RUN_STATUS_UNSPECIFIED"]}
        </span>{" "}
        · {r.stepCount ?? 0} steps · started {when(r.createdAt)}
        {r.replayedFromRunId && (
          <>
            {" "}
            · replayed from <a {...runLink(r.replayedFromRunId)}>{r.replayedFromRunId.slice(0, 8)}</a>
          </>
        )}
      </p>
      {r.error?.message && (
        <div className="alert" role="alert">
          {r.error.code && <strong>{r.error.code}: </strong>}
          {r.error.message}
          {r.error.nodeId && <> (node <code>{r.error.nodeId}</code>)</>}
        </div>
      )}
      {r.answer && (
        <p>
          <strong>Answer:</strong> {r.answer}
        </p>
      )}
      {error && <ErrorAlert message={error} />}
      {live && (
        <div className="actions">
          <button type="button" className="button button--danger button--small" onClick={() => void cancel()}>
            Cancel the run
          </button>
        </div>
      )}
      {checkpoints.status === "loading" && <Spinner label="Loading checkpoints…" />}
      {checkpoints.status === "ready" && checkpoints.value.length === 0 && (
        <p className="status-line">No checkpoints (yet).</p>
      )}
      {checkpoints.status === "ready" && checkpoints.value.length > 0 && (
        <div className="inspector__body">
          <ol className="timeline" aria-label="Super-steps" data-testid="checkpoints">
            {checkpoints.value.map((checkpoint, index) => (
              <li key={checkpoint.id} data-status={index === selected ? "running" : "finished"}>
                <button
                  type="button"
                  className="linklike"
                  aria-current={index === selected ? "step" : undefined}
                  onClick={() => setSelected(index)}
                  data-testid="checkpoint"
                  data-node={checkpoint.nodeId}
                >
                  <span className="timeline__node">{checkpoint.nodeId || "(start)"}</span>{" "}
                  <span className="timeline__meta">step {checkpoint.step}</span>
                </button>
              </li>
            ))}
          </ol>
          <div>
            <CheckpointView
              key={checkpoints.value[selected]?.id}
              runId={runId}
              checkpoint={checkpoints.value[selected]!}
              previous={selected > 0 ? checkpoints.value[selected - 1] : undefined}
            />
            <StepEvents rows={rows} step={checkpoints.value[selected]?.step} />
          </div>
        </div>
      )}
      <section aria-labelledby="events-heading" className="run-events">
        <h2 id="events-heading">All events</h2>
        {events.status === "loading" && <Spinner label="Loading the events…" />}
        {events.status === "error" && <ErrorAlert message={events.message} />}
        {events.status === "ready" && rows.length === 0 && (
          <p className="status-line">No events (they are kept for a while after a run ends).</p>
        )}
        {rows.length > 0 && <EventList rows={rows} testId="run-events" />}
      </section>
    </article>
  );
}

/** The events of the chosen checkpoint's step. */
function StepEvents({ rows, step }: { rows: EventRow[]; step: number | undefined }) {
  const mine = rows.filter((row) => row.step !== undefined && row.step === step);
  if (step === undefined || mine.length === 0) return null;
  return (
    <div className="inspector__detail">
      <h3>Events of step {step}</h3>
      <EventList rows={mine} testId="step-events" />
    </div>
  );
}

/** Events, one line each, the payload (arguments, result, state update, answer) on demand. */
function EventList({ rows, testId }: { rows: EventRow[]; testId: string }) {
  return (
    <ol className="events" data-testid={testId}>
      {rows.map((row) => (
        <li key={row.sequence} data-kind={row.kind} data-testid="run-event">
          <span className="events__sequence">#{row.sequence}</span>{" "}
          <span className="events__time">{row.at ? new Date(row.at).toLocaleTimeString() : ""}</span>{" "}
          {row.detail === undefined ? (
            row.summary
          ) : (
            <details>
              <summary>{row.summary}</summary>
              <pre className="state">
                {typeof row.detail === "string" ? row.detail : JSON.stringify(row.detail, null, 2)}
              </pre>
            </details>
          )}
        </li>
      ))}
    </ol>
  );
}

function CheckpointView(props: { runId: string; checkpoint: Checkpoint; previous: Checkpoint | undefined }) {
  const { checkpoint, previous } = props;
  const changes = useMemo(() => diffState(previous?.state ?? {}, checkpoint.state ?? {}), [previous, checkpoint]);
  const [patch, setPatch] = useState("{}");
  const [replay, setReplay] = useState<
    { status: "idle" } | { status: "running"; runId?: string } | { status: "done"; runId: string; outcome: string }
  >({ status: "idle" });
  const [error, setError] = useState<string>();

  const start = async () => {
    setError(undefined);
    let statePatch: JsonObject;
    try {
      const parsed = JSON.parse(patch) as unknown;
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
      statePatch = parsed as JsonObject;
    } catch {
      setError("The state patch must be a JSON object, e.g. {\"input\": \"new question\"}.");
      return;
    }
    setReplay({ status: "running" });
    let newRun = "";
    let outcome = "ended";
    try {
      for await (const event of ExecutionService.replayRun({
        runId: props.runId,
        checkpointId: checkpoint.id ?? "",
        statePatch,
      })) {
        const data = event.data;
        if (data.runId && !newRun) {
          newRun = data.runId;
          setReplay({ status: "running", runId: newRun });
        }
        if (data.runFinished) outcome = "finished";
        if (data.runFailed) outcome = `failed: ${data.runFailed.error?.message ?? ""}`;
        if (data.runCancelled) outcome = "cancelled";
        if (data.interrupt) outcome = "waiting for input";
      }
      setReplay({ status: "done", runId: newRun, outcome });
    } catch (failure) {
      setError(describeError(failure));
      setReplay({ status: "idle" });
    }
  };

  return (
    <div className="inspector__detail" data-testid="checkpoint-view">
      <h2>
        After <code>{checkpoint.nodeId || "(start)"}</code> (step {checkpoint.step})
      </h2>
      {checkpoint.nextNodeIds && checkpoint.nextNodeIds.length > 0 && (
        <p className="status-line">Next: {checkpoint.nextNodeIds.join(", ")}</p>
      )}
      <h3>What this step changed</h3>
      {changes.length === 0 ? (
        <p className="status-line">Nothing in the state.</p>
      ) : (
        <ul className="changes" data-testid="changes">
          {changes.map((change) => (
            <li key={change.path} data-kind={change.kind}>
              <code>{change.path}</code> {change.kind}
              {change.kind !== "added" && <pre className="changes__before">{JSON.stringify(change.before, null, 2)}</pre>}
              {change.kind !== "removed" && <pre className="changes__after">{JSON.stringify(change.after, null, 2)}</pre>}
            </li>
          ))}
        </ul>
      )}
      <details>
        <summary>The whole state</summary>
        <pre className="state">{JSON.stringify(checkpoint.state ?? {}, null, 2)}</pre>
      </details>
      <h3>Replay from here</h3>
      <label htmlFor="replay-patch" className="status-line">
        State patch (JSON merged into this checkpoint's state)
      </label>
      <textarea
        id="replay-patch"
        className="textarea"
        rows={3}
        value={patch}
        onChange={(e) => setPatch(e.target.value)}
        data-testid="replay-patch"
      />
      {error && <ErrorAlert message={error} />}
      <div className="actions">
        <button
          type="button"
          className="button button--primary button--small"
          disabled={replay.status === "running"}
          onClick={() => void start()}
          data-testid="replay"
        >
          {replay.status === "running" ? "Replaying…" : "Replay"}
        </button>
        {replay.status !== "idle" && replay.runId && (
          <span className="status-line" data-testid="replay-result">
            New run <a {...runLink(replay.runId)}>{replay.runId.slice(0, 8)}</a>
            {replay.status === "done" ? `: ${replay.outcome}` : "…"}
          </span>
        )}
      </div>
    </div>
  );
}
