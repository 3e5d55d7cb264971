// Client-side routes on the History API (the edge answers the index page for any path without
// a file extension): `/` and `/chat` are the chat, `/chat/{conversation}` one conversation.
import { useEffect, useState } from "react";

export interface Route {
  page: "chat";
  conversationId?: string;
}

/** The route of a path. */
export function parseRoute(path: string): Route {
  const match = /^\/chat\/([^/]+)\/?$/.exec(path);
  if (match) return { page: "chat", conversationId: decodeURIComponent(match[1]!) };
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
