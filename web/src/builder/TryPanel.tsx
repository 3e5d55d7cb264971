// Try it: runs the draft flow (Execute with draft_flow_json, not saved) with a message and
// follows its events; the page lights the nodes up as the run passes through them and shows a
// node's output (what it wrote to the state) when it is clicked.
import { useState } from "react";
import { ExecutionService } from "../api/generated";
import type { ExecutionEvent } from "../api/generated";
import type { JsonObject, ServerEvent } from "../api/runtime";
import { describeError } from "../lib/errors";
import type { NodeMarks } from "./Canvas";

/** What the test run did so far. */
export interface TryRun {
  status: "running" | "finished" | "failed" | "waiting";
  nodes: Map<string, NonNullable<NodeMarks["run"]>>;
  outputs: Map<string, JsonObject>;
  order: string[];
  answer: string;
  error?: string;
  /** The run's id (from its events). */
  runId?: string;
  /** What the run waits for when it paused on a human_input node. */
  waiting?: { interruptId: string; prompt: string; choices: string[] };
}

interface TryPanelProps {
  flowJson: string;
  run: TryRun | undefined;
  selected: string | undefined;
  onRun(run: TryRun | undefined): void;
}

export function TryPanel({ flowJson, run, selected, onRun }: TryPanelProps) {
  const [input, setInput] = useState("");
  const [busy, setBusy] = useState(false);
  const [reply, setReply] = useState("");
  /** Applies a run's events as they come (a first run, or the rest of it after an answer). */
  const follow = async (events: AsyncGenerator<ServerEvent<ExecutionEvent>>, from: TryRun) => {
    setBusy(true);
    let current: TryRun = from;
    const update = (next: TryRun) => {
      current = next;
      onRun(next);
    };
    update(current);
    try {
      for await (const { data: event } of events) {
        const nodes = new Map(current.nodes);
        if (event.runId && !current.runId) current = { ...current, runId: event.runId };
        if (event.nodeStarted?.nodeId) {
          nodes.set(event.nodeStarted.nodeId, "running");
          const order = current.order.includes(event.nodeStarted.nodeId) ? current.order : [...current.order, event.nodeStarted.nodeId];
          update({ ...current, nodes, order });
        } else if (event.nodeFinished?.nodeId) {
          nodes.set(event.nodeFinished.nodeId, "done");
          const outputs = new Map(current.outputs);
          outputs.set(event.nodeFinished.nodeId, event.nodeFinished.stateUpdate ?? {});
          update({ ...current, nodes, outputs });
        } else if (event.answerDelta?.text) {
          update({ ...current, answer: current.answer + event.answerDelta.text });
        } else if (event.runFinished) {
          update({ ...current, status: "finished", answer: event.runFinished.answer ?? current.answer });
        } else if (event.runFailed) {
          const failed = event.runFailed.error?.nodeId;
          if (failed) nodes.set(failed, "failed");
          update({ ...current, nodes, status: "failed", error: `${event.runFailed.error?.code ?? "FAILED"}: ${event.runFailed.error?.message ?? ""}` });
        } else if (event.interrupt?.nodeId) {
          nodes.set(event.interrupt.nodeId, "waiting");
          const waiting = { interruptId: event.interrupt.interruptId ?? "", prompt: event.interrupt.prompt ?? "", choices: event.interrupt.choices ?? [] };
          update({ ...current, nodes, status: "waiting", waiting });
        }
      }
    } catch (failure) {
      update({ ...current, status: "failed", error: describeError(failure) });
    } finally {
      setBusy(false);
    }
  };
  const start = () =>
    follow(ExecutionService.execute({ draftFlowJson: flowJson, input }), {
      status: "running",
      nodes: new Map(),
      outputs: new Map(),
      order: [],
      answer: "",
    });
  const answer = (text: string) => {
    if (!run?.runId || !run.waiting) return;
    const { waiting: _waiting, ...rest } = run;
    void _waiting;
    setReply("");
    void follow(ExecutionService.resume({ runId: run.runId, input: { interruptId: run.waiting.interruptId, text } }), { ...rest, status: "running" });
  };
  const output = selected ? run?.outputs.get(selected) : undefined;
  return (
    <section className="try" aria-label="Try it" data-testid="try-panel">
      <h2>Try it</h2>
      <p className="field__help">Runs the draft as it is on the canvas (not saved).</p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void start();
        }}
      >
        <label htmlFor="try-input">Message</label>
        <textarea id="try-input" className="textarea" rows={2} value={input} onChange={(event) => setInput(event.target.value)} data-testid="try-input" />
        <div className="actions">
          <button type="submit" className="button button--primary" disabled={busy} data-testid="try-run">
            {busy ? "Running…" : "Run"}
          </button>
          {run && !busy && (
            <button type="button" className="button button--ghost" onClick={() => onRun(undefined)}>
              Clear
            </button>
          )}
        </div>
      </form>
      {run && (
        <div className="try__result" role="status" data-testid="try-status" data-status={run.status}>
          <p>
            <strong>{run.status}</strong> · {run.order.length} node{run.order.length === 1 ? "" : "s"}: {run.order.join(" → ")}
          </p>
          {run.error && <p className="field__error">{run.error}</p>}
          {run.waiting && !busy && (
            <form
              className="try__waiting"
              data-testid="try-waiting"
              onSubmit={(event) => {
                event.preventDefault();
                answer(reply);
              }}
            >
              <p>{run.waiting.prompt}</p>
              {run.waiting.choices.length > 0 ? (
                <div className="actions">
                  {run.waiting.choices.map((choice) => (
                    <button key={choice} type="button" className="button button--small" onClick={() => answer(choice)}>
                      {choice}
                    </button>
                  ))}
                </div>
              ) : (
                <>
                  <label htmlFor="try-reply">Answer</label>
                  <input id="try-reply" className="input" value={reply} onChange={(event) => setReply(event.target.value)} />
                  <button type="submit" className="button button--small">
                    Answer
                  </button>
                </>
              )}
            </form>
          )}
          {run.answer && (
            <p className="try__answer" data-testid="try-answer">
              {run.answer}
            </p>
          )}
          {selected && (
            <div data-testid="try-output">
              <h3 className="mono">{selected}</h3>
              {output ? <pre className="mono">{JSON.stringify(output, null, 2)}</pre> : <p className="field__help">This node did not run.</p>}
            </div>
          )}
          {!selected && <p className="field__help">Click a node to see what it wrote.</p>}
        </div>
      )}
    </section>
  );
}
