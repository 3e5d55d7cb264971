// The chat: pick an agent, its conversations, the messages (Markdown, sanitised), the answer
// streaming in as the run produces it, and beside it the run's step timeline. A dropped stream
// re-attaches through WatchConversation with Last-Event-ID (lib/run.ts, followRun).
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { FormEvent, KeyboardEvent } from "react";
import { AgentService, ConversationService, DocumentService } from "../api/generated";
import type { Agent, Conversation, Message } from "../api/generated";
import type { JsonObject } from "../api/runtime";
import type { Session } from "../app/App";
import { navigate } from "../app/route";
import { describeError } from "../lib/errors";
import { renderMarkdown } from "../lib/markdown";
import { followRun, savedCitations } from "../lib/run";
import { configFrom, fieldsOf, textsOf } from "../lib/toolForm";
import { SchemaField } from "../ui/SchemaField";
import type { Citation, RunView, TicketRef } from "../lib/run";
import { EmptyState, ErrorAlert, Spinner } from "../ui/feedback";
import { Timeline } from "./Timeline";

type Load<T> = { status: "loading" } | { status: "error"; message: string } | { status: "ready"; value: T };

let chatReadyMarked = false;

/** Sets `performance.mark("chat-ready")` the first time the chat input is usable. */
function markChatReady(): void {
  if (chatReadyMarked) return;
  chatReadyMarked = true;
  performance.mark("chat-ready");
}

export function ChatPage({ conversationId }: { session: Session; conversationId: string | undefined }) {
  const [agents, setAgents] = useState<Load<Agent[]>>({ status: "loading" });
  const [agentId, setAgentId] = useState<string>();
  const [conversations, setConversations] = useState<Load<Conversation[]>>({ status: "loading" });
  const [messages, setMessages] = useState<Load<Message[]>>({ status: "ready", value: [] });
  const [run, setRun] = useState<RunView>();
  const [pending, setPending] = useState<string>();
  const [streaming, setStreaming] = useState(false);
  const [sendError, setSendError] = useState<string>();
  const abort = useRef<AbortController>();

  const loadAgents = useCallback(async () => {
    setAgents({ status: "loading" });
    try {
      const answer = await AgentService.listAgents({ pageSize: 100 });
      const list = answer.agents ?? [];
      setAgents({ status: "ready", value: list });
      setAgentId((current) => current ?? list[0]?.id);
    } catch (error) {
      setAgents({ status: "error", message: describeError(error) });
    }
  }, []);

  const [moreConversations, setMoreConversations] = useState<string>();
  // The agent whose conversations were asked for last: an answer for another (the first agent's,
  // arriving after the opened conversation switched the agent) is dropped.
  const listedAgent = useRef<string>();
  const loadConversations = useCallback(async (agent: string, pageToken?: string) => {
    listedAgent.current = agent;
    if (!pageToken) setConversations({ status: "loading" });
    try {
      const answer = await ConversationService.listConversations({
        agentId: agent,
        pageSize: 50,
        ...(pageToken ? { pageToken } : {}),
      });
      if (listedAgent.current !== agent) return;
      const page = answer.conversations ?? [];
      setConversations((current) => ({
        status: "ready",
        value: pageToken && current.status === "ready" ? [...current.value, ...page] : page,
      }));
      setMoreConversations(answer.nextPageToken || undefined);
    } catch (error) {
      if (listedAgent.current === agent) setConversations({ status: "error", message: describeError(error) });
    }
  }, []);

  /** Deletes a conversation (DeleteConversation); the open one closes. */
  const deleteConversation = async (id: string) => {
    setSendError(undefined);
    try {
      await ConversationService.deleteConversation({ conversationId: id });
      setConversations((current) =>
        current.status === "ready" ? { status: "ready", value: current.value.filter((c) => c.id !== id) } : current,
      );
      if (id === conversationId) navigate("/chat");
    } catch (error) {
      setSendError(
        (error as { code?: string }).code === "FAILED_PRECONDITION"
          ? "A run of this conversation is still going: wait for it to end, then delete it."
          : describeError(error),
      );
    }
  };

  /**
   * Re-attaches to a conversation's current or last run (WatchConversation): a run still going
   * streams into the page as if just sent; a finished one fills the timeline.
   */
  const attach = useCallback(async (conversation: string, live: boolean) => {
    const controller = new AbortController();
    abort.current?.abort();
    abort.current = controller;
    if (live) setStreaming(true);
    const watch = (after: number) =>
      ConversationService.watchConversation(
        { conversationId: conversation },
        { signal: controller.signal, headers: after > 0 ? { "Last-Event-ID": String(after) } : {} },
      );
    try {
      const final = await followRun({ start: () => watch(0), resume: watch }, (view) => setRun(view), {
        signal: controller.signal,
      });
      if (live && final.assistantMessage) {
        const added = final.assistantMessage;
        setMessages((list) => (list.status === "ready" ? { status: "ready", value: [...list.value, added] } : list));
      }
    } catch (error) {
      if (live && !controller.signal.aborted) setSendError(describeError(error));
    } finally {
      if (live) setStreaming(false);
    }
  }, []);

  const loadMessages = useCallback(
    async (conversation: string) => {
      setMessages({ status: "loading" });
      try {
        const [about, answer] = await Promise.all([
          ConversationService.getConversation({ conversationId: conversation }),
          ConversationService.listMessages({ conversationId: conversation, pageSize: 500 }),
        ]);
        if (about.conversation?.agentId) setAgentId(about.conversation.agentId);
        const list = answer.messages ?? [];
        setMessages({ status: "ready", value: list });
        const running = about.conversation?.status === "CONVERSATION_STATUS_RUNNING";
        if (running || list.length > 0) void attach(conversation, running);
      } catch (error) {
        setMessages({ status: "error", message: describeError(error) });
      }
    },
    [attach],
  );

  useEffect(() => {
    void loadAgents();
    return () => abort.current?.abort();
  }, [loadAgents]);

  useEffect(() => {
    if (agentId) void loadConversations(agentId);
  }, [agentId, loadConversations]);

  useEffect(() => {
    if (streaming) return; // the stream in progress fills the messages itself
    abort.current?.abort();
    setRun(undefined);
    setSendError(undefined);
    if (conversationId) void loadMessages(conversationId);
    else setMessages({ status: "ready", value: [] });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [conversationId, loadMessages]);

  const send = async (content: string): Promise<boolean> => {
    if (!agentId) return false;
    setSendError(undefined);
    setStreaming(true);
    setPending(content);
    setRun(undefined);
    const controller = new AbortController();
    abort.current?.abort();
    abort.current = controller;
    let conversation = conversationId;
    try {
      if (!conversation) {
        const created = await ConversationService.createConversation({
          agentId,
          title: content.length > 60 ? content.slice(0, 57) + "…" : content,
        });
        conversation = created.conversation?.id ?? "";
        const added = created.conversation;
        if (added) {
          setConversations((list) =>
            list.status === "ready" ? { status: "ready", value: [added, ...list.value] } : list,
          );
        }
        navigate(`/chat/${encodeURIComponent(conversation)}`);
      }
      const id = conversation;
      const final = await followRun(
        {
          start: () => ConversationService.sendMessage({ conversationId: id, content }, { signal: controller.signal }),
          resume: (after) =>
            ConversationService.watchConversation(
              { conversationId: id },
              { signal: controller.signal, headers: after > 0 ? { "Last-Event-ID": String(after) } : {} },
            ),
        },
        (view) => setRun(view),
        { signal: controller.signal },
      );
      setMessages((list) => {
        const value = list.status === "ready" ? list.value : [];
        const added = [final.userMessage, final.assistantMessage].filter((m): m is Message => m !== undefined);
        return { status: "ready", value: [...value, ...added] };
      });
      if (final.status === "failed" || final.status === "cancelled") setSendError(final.error);
      return true;
    } catch (error) {
      if (!controller.signal.aborted) setSendError(describeError(error));
      return false;
    } finally {
      setPending(undefined);
      setStreaming(false);
    }
  };

  /** Answers the run's pending interrupt (ResumeConversation); the rest of the run streams in. */
  const answerInterrupt = async (interruptId: string, text: string, data?: JsonObject): Promise<void> => {
    if (!conversationId) return;
    const id = conversationId;
    setSendError(undefined);
    setStreaming(true);
    const controller = new AbortController();
    abort.current?.abort();
    abort.current = controller;
    const watch = (after: number) =>
      ConversationService.watchConversation(
        { conversationId: id },
        { signal: controller.signal, headers: after > 0 ? { "Last-Event-ID": String(after) } : {} },
      );
    try {
      const final = await followRun(
        {
          start: () =>
            ConversationService.resumeConversation(
              { conversationId: id, input: { interruptId, text, ...(data ? { data } : {}) } },
              { signal: controller.signal },
            ),
          resume: watch,
        },
        (view) => setRun(view),
        { signal: controller.signal },
      );
      setMessages((list) => {
        const value = list.status === "ready" ? list.value : [];
        const added = [final.userMessage, final.assistantMessage].filter((m): m is Message => m !== undefined);
        return { status: "ready", value: [...value, ...added] };
      });
      if (final.status === "failed" || final.status === "cancelled") setSendError(final.error);
    } catch (error) {
      if (!controller.signal.aborted) setSendError(describeError(error));
    } finally {
      setStreaming(false);
    }
  };

  const agentList = agents.status === "ready" ? agents.value : [];
  // A run waiting for input takes its answer in the form above, not a new message.
  const inputEnabled =
    agents.status === "ready" && agentId !== undefined && !streaming && run?.status !== "waiting";
  useEffect(() => {
    if (inputEnabled) markChatReady();
  }, [inputEnabled]);

  return (
    <div className="chat">
      <aside className="chat__side" aria-label="Agents and conversations">
        <h2 id="agents-heading">Agent</h2>
        {agents.status === "loading" && <Spinner label="Loading agents…" />}
        {agents.status === "error" && <ErrorAlert message={agents.message} onRetry={() => void loadAgents()} />}
        {agents.status === "ready" && agentList.length === 0 && (
          <p className="status-line">No agents yet. A builder creates them from a flow.</p>
        )}
        {agentList.length > 0 && (
          <select
            className="select"
            aria-labelledby="agents-heading"
            value={agentId ?? ""}
            onChange={(e) => {
              setAgentId(e.target.value);
              navigate("/chat");
            }}
            disabled={streaming}
            data-testid="agent-select"
          >
            {agentList.map((agent) => (
              <option key={agent.id} value={agent.id}>
                {agent.name}
              </option>
            ))}
          </select>
        )}
        <button
          type="button"
          className="button"
          onClick={() => navigate("/chat")}
          disabled={streaming || !agentId}
          data-testid="new-conversation"
        >
          New conversation
        </button>
        <h2>Conversations</h2>
        <ConversationList
          state={conversations}
          current={conversationId}
          disabled={streaming}
          onRetry={() => agentId && void loadConversations(agentId)}
          onDelete={(id) => void deleteConversation(id)}
        />
        {moreConversations && conversations.status === "ready" && (
          <button
            type="button"
            className="button button--small list-more"
            onClick={() => agentId && void loadConversations(agentId, moreConversations)}
            data-testid="conversations-more"
          >
            More conversations
          </button>
        )}
      </aside>
      <section className="chat__main" aria-label="Conversation">
        <Messages
          state={messages}
          pending={pending}
          run={run}
          streaming={streaming}
          hasAgents={agentList.length > 0}
          onRetry={() => conversationId && void loadMessages(conversationId)}
          onAnswer={(interruptId, text, data) => void answerInterrupt(interruptId, text, data)}
        />
        {sendError && <ErrorAlert message={sendError} />}
        <Composer enabled={inputEnabled} streaming={streaming} onSend={send} onStop={() => abort.current?.abort()} />
      </section>
      <aside className="chat__timeline" aria-label="Run steps">
        <h2>Steps</h2>
        <Timeline run={run} streaming={streaming} />
      </aside>
    </div>
  );
}

function ConversationList(props: {
  state: Load<Conversation[]>;
  current: string | undefined;
  disabled: boolean;
  onRetry: () => void;
  onDelete: (id: string) => void;
}) {
  const { state } = props;
  const [confirming, setConfirming] = useState<string>();
  if (state.status === "loading") return <Spinner label="Loading conversations…" />;
  if (state.status === "error") return <ErrorAlert message={state.message} onRetry={props.onRetry} />;
  if (state.value.length === 0) return <p className="status-line">No conversations yet: send a message to start one.</p>;
  return (
    <ul className="conversations" data-testid="conversations">
      {state.value.map((conversation) => (
        <li key={conversation.id}>
          <button
            type="button"
            aria-current={conversation.id === props.current ? "true" : undefined}
            disabled={props.disabled}
            onClick={() => navigate(`/chat/${encodeURIComponent(conversation.id ?? "")}`)}
          >
            {conversation.title || "Untitled conversation"}
            <small>{formatTime(conversation.lastMessageAt || conversation.createdAt)}</small>
          </button>
          {conversation.id === props.current &&
            (confirming === conversation.id ? (
              <button
                type="button"
                className="button button--small button--danger"
                disabled={props.disabled}
                onClick={() => {
                  setConfirming(undefined);
                  props.onDelete(conversation.id ?? "");
                }}
                data-testid="conversation-confirm-delete"
              >
                Delete for good
              </button>
            ) : (
              <button
                type="button"
                className="button button--small button--ghost"
                disabled={props.disabled}
                onClick={() => setConfirming(conversation.id)}
                aria-label={`Delete the conversation ${conversation.title || "Untitled conversation"}`}
                data-testid="conversation-delete"
              >
                Delete
              </button>
            ))}
        </li>
      ))}
    </ul>
  );
}

function formatTime(iso: string | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString();
}

function Messages(props: {
  state: Load<Message[]>;
  pending: string | undefined;
  run: RunView | undefined;
  streaming: boolean;
  hasAgents: boolean;
  onRetry: () => void;
  onAnswer: (interruptId: string, text: string, data?: JsonObject) => void;
}) {
  const { state, run, pending, streaming } = props;
  const end = useRef<HTMLDivElement>(null);
  const answer = run?.assistantMessage ? undefined : run?.answer;
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: "end" });
  }, [state, answer, pending]);

  if (state.status === "loading") {
    return (
      <div className="messages">
        <Spinner label="Loading messages…" />
      </div>
    );
  }
  if (state.status === "error") {
    return (
      <div className="messages">
        <ErrorAlert message={state.message} onRetry={props.onRetry} />
      </div>
    );
  }
  const list = state.value;
  const showPending = pending !== undefined && !run?.userMessage;
  const live = streaming || (run !== undefined && !run.assistantMessage && run.status !== "starting");
  return (
    <div className="messages" aria-live="polite" data-testid="messages">
      {list.length === 0 && !pending && (
        <EmptyState title={props.hasAgents ? "Ask your agent anything" : "No agent to talk to"}>
          <p>
            {props.hasAgents
              ? "Type a message below. The answer streams in, and the steps the agent takes appear beside it."
              : "Once an agent exists, you can chat with it here."}
          </p>
        </EmptyState>
      )}
      {list.map((message) => {
        // A message's saved sources, unless the run shown below brings its own.
        const saved =
          run?.runId && message.runId === run.runId && run.citations.length > 0 ? [] : savedCitations(message);
        return (
          <div key={message.id} className="messages__item">
            <MessageBubble message={message} />
            {saved.length > 0 && <Sources citations={saved} tickets={[]} testId="saved-sources" />}
          </div>
        );
      })}
      {showPending && <div className="message message--user">{pending}</div>}
      {run?.userMessage && streaming && <MessageBubble message={run.userMessage} />}
      {live && streaming && (
        <div className="message" data-testid="streaming-answer">
          <span className="message__who">Agent</span>
          {answer ? (
            <div className="markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(answer) }} />
          ) : (
            <Spinner label={run?.status === "running" ? "Working…" : "Starting…"} />
          )}
        </div>
      )}
      {run && (run.citations.length > 0 || run.tickets.length > 0) && (!streaming || run.answer) && (
        <Sources citations={run.citations} tickets={run.tickets} testId="sources" />
      )}
      {run?.status === "waiting" && run.interrupt && !streaming && (
        <InterruptForm
          key={run.interrupt.interruptId}
          prompt={run.interrupt.prompt ?? ""}
          choices={run.interrupt.choices ?? []}
          schema={run.interrupt.inputSchema}
          onAnswer={(text, data) => props.onAnswer(run.interrupt?.interruptId ?? "", text, data)}
        />
      )}
      <div ref={end} />
    </div>
  );
}

/**
 * A run waiting for a person: its question, then a button per choice, a form built from its
 * input schema (the structured answer goes as HumanInput.data, with an optional note as text), or
 * a free-text answer.
 */
function InterruptForm(props: {
  prompt: string;
  choices: string[];
  schema: JsonObject | undefined;
  onAnswer: (text: string, data?: JsonObject) => void;
}) {
  const [text, setText] = useState("");
  const fields = useMemo(() => fieldsOf(props.schema), [props.schema]);
  const [texts, setTexts] = useState<Record<string, string>>(() => textsOf(fields, undefined));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const structured = fields.length > 0 && props.choices.length === 0;
  return (
    <form
      className="interrupt"
      data-testid="interrupt"
      aria-labelledby="interrupt-prompt"
      onSubmit={(e) => {
        e.preventDefault();
        if (structured) {
          const { config, errors: found } = configFrom(fields, texts);
          setErrors(found);
          if (Object.keys(found).length === 0) props.onAnswer(text.trim(), config);
        } else if (text.trim()) {
          props.onAnswer(text.trim());
        }
      }}
    >
      <p id="interrupt-prompt" className="interrupt__prompt">
        <strong>The agent needs your input.</strong> {props.prompt}
      </p>
      {props.choices.length > 0 && (
        <div className="interrupt__choices">
          {props.choices.map((choice) => (
            <button
              key={choice}
              type="button"
              className="button"
              onClick={() => props.onAnswer(choice)}
              data-testid="interrupt-choice"
            >
              {choice}
            </button>
          ))}
        </div>
      )}
      {structured && (
        <div className="form-grid" data-testid="interrupt-fields">
          {fields.map((field) => (
            <SchemaField
              key={field.key}
              field={field}
              idPrefix="interrupt"
              text={texts[field.key] ?? ""}
              error={errors[field.key]}
              onChange={(value) => setTexts((all) => ({ ...all, [field.key]: value }))}
            />
          ))}
        </div>
      )}
      {props.choices.length === 0 && (
        <div className="interrupt__choices">
          <label htmlFor="interrupt-answer" className={structured ? undefined : "visually-hidden"}>
            {structured ? "A note (optional)" : "Your answer"}
          </label>
          <input id="interrupt-answer" className="input" value={text} onChange={(e) => setText(e.target.value)} />
          <button type="submit" className="button button--primary" disabled={!structured && !text.trim()}>
            Answer
          </button>
        </div>
      )}
    </form>
  );
}

/** What an answer rests on: the knowledge-base chunks found (open the text) and tickets made. */
function Sources({ citations, tickets, testId }: { citations: Citation[]; tickets: TicketRef[]; testId: string }) {
  return (
    <div className="sources" data-testid={testId}>
      {citations.length > 0 && (
        <>
          <h3>Sources</h3>
          <ul>
            {citations.map((citation) => (
              <li key={`${citation.documentId}/${citation.chunkId}`} data-testid="citation">
                <details>
                  <summary>
                    <span className="sources__title">{citation.title}</span>
                    {citation.headingPath.length > 0 && <> › {citation.headingPath.join(" › ")}</>}
                    <span className="sources__meta">
                      {" "}
                      chunk {citation.chunkId}
                      {citation.score !== undefined && <> · score {citation.score.toFixed(2)}</>}
                    </span>
                  </summary>
                  <p className="sources__text">{citation.text}</p>
                  <a href={DocumentService.downloadDocument({ documentId: citation.documentId })} download>
                    Download {citation.title}
                  </a>
                </details>
              </li>
            ))}
          </ul>
        </>
      )}
      {tickets.length > 0 && (
        <>
          <h3>Tickets</h3>
          <ul>
            {tickets.map((ticket) => (
              <li key={ticket.id} data-testid="ticket">
                <a
                  href={`/tickets/${encodeURIComponent(ticket.id)}`}
                  onClick={(e) => (e.preventDefault(), navigate(`/tickets/${encodeURIComponent(ticket.id)}`))}
                >
                  Ticket {ticket.number !== undefined ? `#${ticket.number}` : ticket.id.slice(0, 8)}
                </a>
                {ticket.status && <span className="sources__meta"> · {ticket.status}</span>}
                {ticket.title && <> · {ticket.title}</>}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

function MessageBubble({ message }: { message: Message }) {
  const html = useMemo(
    () => (message.role === "MESSAGE_ROLE_ASSISTANT" ? renderMarkdown(message.content ?? "") : undefined),
    [message.role, message.content],
  );
  if (message.role === "MESSAGE_ROLE_USER") {
    return (
      <div className="message message--user" data-testid="message-user">
        {message.content}
      </div>
    );
  }
  return (
    <div className="message" data-testid="message-assistant">
      <span className="message__who">Agent</span>
      <div className="markdown" dangerouslySetInnerHTML={{ __html: html ?? "" }} />
    </div>
  );
}

function Composer(props: {
  enabled: boolean;
  streaming: boolean;
  onSend: (content: string) => Promise<boolean>;
  onStop: () => void;
}) {
  const [text, setText] = useState("");
  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    const content = text.trim();
    if (!content || !props.enabled) return;
    setText("");
    if (!(await props.onSend(content))) setText(content);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void submit();
    }
  };
  return (
    <form className="composer" onSubmit={(e) => void submit(e)}>
      <label htmlFor="chat-input" className="visually-hidden">
        Message
      </label>
      <textarea
        id="chat-input"
        className="textarea"
        rows={2}
        placeholder="Message the agent (Enter to send, Shift+Enter for a new line)"
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
        disabled={!props.enabled}
        data-testid="chat-input"
      />
      {props.streaming ? (
        <button type="button" className="button" onClick={props.onStop}>
          Stop
        </button>
      ) : (
        <button
          type="submit"
          className="button button--primary"
          disabled={!props.enabled || !text.trim()}
          data-testid="send"
        >
          Send
        </button>
      )}
    </form>
  );
}
