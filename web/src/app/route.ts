// Client-side routes on the History API (the edge answers the index page for any path without
// a file extension): `/` and `/chat` are the chat, `/chat/{conversation}` one conversation,
// `/tickets` the tickets, `/tickets/{ticket}` one ticket (the URL a ticket tool's result names),
// `/runs` and `/runs/{run}` the runs, `/knowledge` the knowledge base, `/settings` the user's settings (API keys),
// `/admin` the tenant's administration, `/tools` the tools, `/agents` the agents and
// `/agents/{agent}` (or `/agents/new`) the flow builder.
import { useEffect, useState } from "react";

export type Route =
  | { page: "chat"; conversationId?: string }
  | { page: "tickets"; ticketId?: string }
  | { page: "runs"; runId?: string }
  | { page: "knowledge" }
  | { page: "settings" }
  | { page: "admin" }
  | { page: "tools" }
  | { page: "agents"; agentId?: string };

/** The route of a path. */
export function parseRoute(path: string): Route {
  const chat = /^\/chat\/([^/]+)\/?$/.exec(path);
  if (chat) return { page: "chat", conversationId: decodeURIComponent(chat[1]!) };
  const ticket = /^\/tickets\/([^/]+)\/?$/.exec(path);
  if (ticket) return { page: "tickets", ticketId: decodeURIComponent(ticket[1]!) };
  if (/^\/tickets\/?$/.test(path)) return { page: "tickets" };
  const run = /^\/runs\/([^/]+)\/?$/.exec(path);
  if (run) return { page: "runs", runId: decodeURIComponent(run[1]!) };
  if (/^\/runs\/?$/.test(path)) return { page: "runs" };
  if (/^\/knowledge\/?$/.test(path)) return { page: "knowledge" };
  if (/^\/settings\/?$/.test(path)) return { page: "settings" };
  if (/^\/admin\/?$/.test(path)) return { page: "admin" };
  if (/^\/tools\/?$/.test(path)) return { page: "tools" };
  const agent = /^\/agents\/([^/]+)\/?$/.exec(path);
  if (agent) return { page: "agents", agentId: decodeURIComponent(agent[1]!) };
  if (/^\/agents\/?$/.test(path)) return { page: "agents" };
  return { page: "chat" };
}

const listeners = new Set<() => void>();

/** Goes to a path without reloading (replace: no new history entry). */
export function navigate(path: string, replace = false): void {
  if (path === window.location.pathname) return;
  if (replace) window.history.replaceState(null, "", path);
  else window.history.pushState(null, "", path);
  listeners.forEach((listener) => listener());
}

/** The current route, updated on navigation and on the browser's back and forward. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.pathname));
    listeners.add(update);
    window.addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      window.removeEventListener("popstate", update);
    };
  }, []);
  return route;
}
