// Tickets: the list (filtered by status, page by page) and one ticket (its text, comments, the
// conversation it came from) with its status changes, as the ticketing service allows them, its
// priority and its assignee.
import { useCallback, useEffect, useState } from "react";
import { TicketPriorityValues, TicketingService } from "../api/generated";
import type { Ticket, TicketPriority, TicketStatus, UpdateTicketRequest } from "../api/generated";
import { navigate } from "../app/route";
import { describeError } from "../lib/errors";
import { EmptyState, ErrorAlert, Spinner } from "../ui/feedback";
import { MoreButton, usePagedList } from "../ui/paging";
import type { Page } from "../ui/paging";

type Load<T> = { status: "loading" } | { status: "error"; message: string } | { status: "ready"; value: T };

const statusNames: Record<TicketStatus, string> = {
  TICKET_STATUS_UNSPECIFIED: "—",
  TICKET_STATUS_OPEN: "Open",
  TICKET_STATUS_PENDING: "Pending",
  TICKET_STATUS_RESOLVED: "Resolved",
  TICKET_STATUS_CLOSED: "Closed",
};

/** The status changes the ticketing service allows from a status (docs: ticketing.proto, UpdateTicket). */
export function nextStatuses(status: TicketStatus | undefined): TicketStatus[] {
  switch (status) {
    case "TICKET_STATUS_OPEN":
      return ["TICKET_STATUS_PENDING", "TICKET_STATUS_RESOLVED", "TICKET_STATUS_CLOSED"];
    case "TICKET_STATUS_PENDING":
      return ["TICKET_STATUS_OPEN", "TICKET_STATUS_RESOLVED", "TICKET_STATUS_CLOSED"];
    case "TICKET_STATUS_RESOLVED":
      return ["TICKET_STATUS_OPEN", "TICKET_STATUS_CLOSED"];
    default:
      return [];
  }
}

const statusVerbs: Partial<Record<TicketStatus, string>> = {
  TICKET_STATUS_OPEN: "Reopen",
  TICKET_STATUS_PENDING: "Mark pending",
  TICKET_STATUS_RESOLVED: "Resolve",
  TICKET_STATUS_CLOSED: "Close",
};

function when(iso: string | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString();
}

export function TicketsPage({ ticketId }: { ticketId: string | undefined }) {
  return (
    <div className="page">{ticketId ? <TicketDetail key={ticketId} ticketId={ticketId} /> : <TicketList />}</div>
  );
}

function TicketList() {
  const [filter, setFilter] = useState<TicketStatus | "">("");
  const fetchPage = useCallback(
    async (pageToken: string | undefined): Promise<Page<Ticket>> => {
      const answer = await TicketingService.listTickets({
        pageSize: 100,
        ...(filter ? { statuses: [filter] } : {}),
        ...(pageToken ? { pageToken } : {}),
      });
      return { items: answer.tickets ?? [], next: answer.nextPageToken };
    },
    [filter],
  );
  const { state: tickets, hasMore, loadMore, reload } = usePagedList(fetchPage, describeError);

  return (
    <>
      <div className="page__head">
        <h1>Tickets</h1>
        <label className="inline-field">
          Status{" "}
          <select
            className="select"
            value={filter}
            onChange={(e) => setFilter(e.target.value as TicketStatus | "")}
            data-testid="ticket-filter"
          >
            <option value="">All</option>
            {(["TICKET_STATUS_OPEN", "TICKET_STATUS_PENDING", "TICKET_STATUS_RESOLVED", "TICKET_STATUS_CLOSED"] as const).map(
              (status) => (
                <option key={status} value={status}>
                  {statusNames[status]}
                </option>
              ),
            )}
          </select>
        </label>
      </div>
      {tickets.status === "loading" && <Spinner label="Loading tickets…" />}
      {tickets.status === "error" && <ErrorAlert message={tickets.message} onRetry={reload} />}
      {tickets.status === "ready" && tickets.value.length === 0 && (
        <EmptyState title="No tickets">
          <p>{filter ? "None with this status." : "When an agent opens a ticket, it shows up here."}</p>
        </EmptyState>
      )}
      {tickets.status === "ready" && tickets.value.length > 0 && (
        <table className="table" data-testid="tickets">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Title</th>
              <th scope="col">Status</th>
              <th scope="col" className="table__wide">
                Updated
              </th>
            </tr>
          </thead>
          <tbody>
            {tickets.value.map((ticket) => (
              <tr key={ticket.id}>
                <td>{ticket.number}</td>
                <td>
                  <a
                    href={`/tickets/${encodeURIComponent(ticket.id ?? "")}`}
                    onClick={(e) => (e.preventDefault(), navigate(`/tickets/${encodeURIComponent(ticket.id ?? "")}`))}
                  >
                    {ticket.title || "Untitled"}
                  </a>
                </td>
                <td>
                  <span className="badge" data-status={ticket.status}>
                    {statusNames[ticket.status ?? "TICKET_STATUS_UNSPECIFIED"]}
                  </span>
                </td>
                <td className="table__wide">{when(ticket.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <MoreButton shown={tickets.status === "ready" && hasMore} onClick={loadMore} label="More tickets" testId="tickets-more" />
    </>
  );
}

function TicketDetail({ ticketId }: { ticketId: string }) {
  const [ticket, setTicket] = useState<Load<Ticket>>({ status: "loading" });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  const load = useCallback(async () => {
    setTicket({ status: "loading" });
    try {
      const answer = await TicketingService.getTicket({ ticketId });
      setTicket({ status: "ready", value: answer.ticket ?? {} });
    } catch (failure) {
      setTicket({ status: "error", message: describeError(failure) });
    }
  }, [ticketId]);

  useEffect(() => {
    void load();
  }, [load]);

  /** One change (status, priority, assignee, a comment), sent with the revision; whether it was saved. */
  const update = async (fields: Omit<UpdateTicketRequest, "ticketId" | "expectedRevision">): Promise<boolean> => {
    if (ticket.status !== "ready") return false;
    setBusy(true);
    setError(undefined);
    try {
      const answer = await TicketingService.updateTicket({
        ticketId,
        ...fields,
        ...(ticket.value.revision ? { expectedRevision: ticket.value.revision } : {}),
      });
      setTicket({ status: "ready", value: answer.ticket ?? ticket.value });
      return true;
    } catch (failure) {
      const code = (failure as { code?: string }).code;
      setError(
        code === "ABORTED"
          ? "Someone changed this ticket meanwhile: it was reloaded. Try again."
          : describeError(failure),
      );
      if (code === "ABORTED") void load();
      return false;
    } finally {
      setBusy(false);
    }
  };
  const change = (status: TicketStatus) => void update({ status });
  const comment = (body: string) => update({ comment: { body } });

  const back = (
    <a href="/tickets" onClick={(e) => (e.preventDefault(), navigate("/tickets"))}>
      ← All tickets
    </a>
  );
  if (ticket.status === "loading") return <Spinner label="Loading the ticket…" />;
  if (ticket.status === "error") {
    return (
      <>
        {back}
        <ErrorAlert message={ticket.message} onRetry={() => void load()} />
      </>
    );
  }
  const t = ticket.value;
  return (
    <article className="ticket" data-testid="ticket-detail">
      {back}
      <h1>
        <span className="ticket__number">#{t.number}</span> {t.title || "Untitled"}
      </h1>
      <p className="status-line">
        <span className="badge" data-status={t.status} data-testid="ticket-status">
          {statusNames[t.status ?? "TICKET_STATUS_UNSPECIFIED"]}
        </span>{" "}
        · priority {(t.priority ?? "").replace("TICKET_PRIORITY_", "").toLowerCase() || "—"} · opened{" "}
        {when(t.createdAt)}
        {t.conversationId && (
          <>
            {" "}
            ·{" "}
            <a
              href={`/chat/${encodeURIComponent(t.conversationId)}`}
              onClick={(e) => (e.preventDefault(), navigate(`/chat/${encodeURIComponent(t.conversationId ?? "")}`))}
            >
              the conversation
            </a>
          </>
        )}
      </p>
      {error && <ErrorAlert message={error} />}
      {nextStatuses(t.status).length > 0 && (
        <div className="actions" role="group" aria-label="Change the status">
          {nextStatuses(t.status).map((status) => (
            <button
              key={status}
              type="button"
              className="button button--small"
              disabled={busy}
              onClick={() => void change(status)}
              data-testid={`ticket-to-${status.replace("TICKET_STATUS_", "").toLowerCase()}`}
            >
              {statusVerbs[status]}
            </button>
          ))}
        </div>
      )}
      <TicketFields ticket={t} busy={busy} onUpdate={update} />
      <section aria-label="Description">
        <p className="ticket__body">{t.body || "No description."}</p>
      </section>
      <section aria-label="Comments">
        <h2>Comments</h2>
        {(t.comments ?? []).length === 0 ? (
          <p className="status-line">No comments yet.</p>
        ) : (
          <ul className="comments">
            {(t.comments ?? []).map((comment, index) => (
              <li key={comment.id || index}>
                <span className="status-line">
                  {comment.author || "someone"} · {when(comment.createdAt)}
                </span>
                <p className="ticket__body">{comment.body}</p>
              </li>
            ))}
          </ul>
        )}
        {t.status !== "TICKET_STATUS_CLOSED" && <CommentForm onComment={comment} />}
      </section>
    </article>
  );
}

/** A ticket's priority and assignee, changed one at a time. */
function TicketFields(props: {
  ticket: Ticket;
  busy: boolean;
  onUpdate: (fields: Omit<UpdateTicketRequest, "ticketId" | "expectedRevision">) => Promise<boolean>;
}) {
  const { ticket, busy, onUpdate } = props;
  const [assignee, setAssignee] = useState(ticket.assignee ?? "");
  const closed = ticket.status === "TICKET_STATUS_CLOSED";
  return (
    <div className="form-grid ticket__fields">
      <div className="field">
        <label htmlFor="ticket-priority">Priority</label>
        <select
          id="ticket-priority"
          className="select"
          value={ticket.priority ?? "TICKET_PRIORITY_UNSPECIFIED"}
          disabled={busy || closed}
          onChange={(e) => void onUpdate({ priority: e.target.value as TicketPriority })}
          data-testid="ticket-priority"
        >
          {ticket.priority === undefined || ticket.priority === "TICKET_PRIORITY_UNSPECIFIED" ? (
            <option value="TICKET_PRIORITY_UNSPECIFIED">—</option>
          ) : null}
          {TicketPriorityValues.filter((p) => p !== "TICKET_PRIORITY_UNSPECIFIED").map((p) => (
            <option key={p} value={p}>
              {p.replace("TICKET_PRIORITY_", "").toLowerCase()}
            </option>
          ))}
        </select>
      </div>
      <form
        className="field"
        onSubmit={(e) => {
          e.preventDefault();
          if (assignee.trim()) void onUpdate({ assignee: assignee.trim() });
        }}
      >
        <label htmlFor="ticket-assignee">Assignee {ticket.assignee ? `(now ${ticket.assignee})` : "(nobody)"}</label>
        <div className="actions">
          <input
            id="ticket-assignee"
            className="input"
            placeholder="name or email"
            value={assignee}
            disabled={closed}
            onChange={(e) => setAssignee(e.target.value)}
            data-testid="ticket-assignee"
          />
          <button
            type="submit"
            className="button button--small"
            disabled={busy || closed || !assignee.trim() || assignee.trim() === ticket.assignee}
            data-testid="ticket-assign"
          >
            Assign
          </button>
          {ticket.assignee && (
            <button
              type="button"
              className="button button--small button--ghost"
              disabled={busy || closed}
              onClick={() => {
                setAssignee("");
                void onUpdate({ clearAssignee: true });
              }}
            >
              Unassign
            </button>
          )}
        </div>
      </form>
    </div>
  );
}

function CommentForm({ onComment }: { onComment: (body: string) => Promise<boolean> }) {
  const [body, setBody] = useState("");
  const [busy, setBusy] = useState(false);
  return (
    <form
      className="composer composer--plain"
      onSubmit={(e) => {
        e.preventDefault();
        if (!body.trim()) return;
        setBusy(true);
        void onComment(body.trim()).then((ok) => {
          if (ok) setBody("");
          setBusy(false);
        });
      }}
    >
      <label htmlFor="ticket-comment" className="visually-hidden">
        Comment
      </label>
      <textarea
        id="ticket-comment"
        className="textarea"
        rows={2}
        placeholder="Add a comment"
        value={body}
        onChange={(e) => setBody(e.target.value)}
        data-testid="ticket-comment"
      />
      <button type="submit" className="button button--primary" disabled={busy || !body.trim()} data-testid="ticket-comment-add">
        Comment
      </button>
    </form>
  );
}
