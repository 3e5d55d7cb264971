// The app shell: who is signed in (the edge's cookie session), the sign-in page otherwise, the
// top bar with the navigation and sign-out, and the page of the current route.
import { Suspense, lazy, useCallback, useEffect, useState } from "react";
import { AuthService } from "../api/generated";
import type { User } from "../api/generated";
import { csrfFromCookie, onSessionExpired, setCsrfToken } from "../api/runtime";
import { describeError } from "../lib/errors";
import { atLeast } from "../lib/roles";
import { ChatPage } from "../pages/ChatPage";
import { SignInPage } from "../pages/SignInPage";
import { BrandMark, ErrorAlert, Spinner } from "../ui/feedback";
import { navigate, useRoute } from "./route";
import { SessionContext, UserUpdateContext } from "./session";
import type { Session } from "./session";

export type { Session };

// The chat is the first page and comes with the app; the others load when first opened (their
// own bundles, hashed like the app's).
const AdminPage = lazy(() => import("../pages/AdminPage").then((m) => ({ default: m.AdminPage })));
const KnowledgePage = lazy(() => import("../pages/KnowledgePage").then((m) => ({ default: m.KnowledgePage })));
const RunsPage = lazy(() => import("../pages/RunsPage").then((m) => ({ default: m.RunsPage })));
const SettingsPage = lazy(() => import("../pages/SettingsPage").then((m) => ({ default: m.SettingsPage })));
const TicketsPage = lazy(() => import("../pages/TicketsPage").then((m) => ({ default: m.TicketsPage })));
const FlowBuilderPage = lazy(() => import("../pages/FlowBuilderPage").then((m) => ({ default: m.FlowBuilderPage })));
const ToolsPage = lazy(() => import("../pages/ToolsPage").then((m) => ({ default: m.ToolsPage })));

type SessionState =
  | { kind: "checking" }
  | { kind: "signed-out"; notice?: string }
  | { kind: "signed-in"; session: Session }
  | { kind: "error"; message: string };

export function App() {
  const [state, setState] = useState<SessionState>(() =>
    // Without the CSRF cookie there is no session: no need to ask (and no 401 in the log).
    csrfFromCookie() ? { kind: "checking" } : { kind: "signed-out" },
  );

  const check = useCallback(async () => {
    setState({ kind: "checking" });
    try {
      const who = await AuthService.whoAmI({});
      setState({
        kind: "signed-in",
        session: { user: who.user ?? {}, tenant: who.tenant ?? {}, roles: who.roles ?? [] },
      });
    } catch (error) {
      if ((error as { code?: string }).code === "UNAUTHENTICATED") {
        setState({ kind: "signed-out", notice: "Your session has expired. Sign in again." });
      } else {
        setState({ kind: "error", message: describeError(error) });
      }
    }
  }, []);

  useEffect(() => {
    onSessionExpired(() => {
      setCsrfToken(undefined);
      setState({ kind: "signed-out", notice: "Your session has expired. Sign in again." });
    });
    if (state.kind === "checking") void check();
    return () => onSessionExpired(undefined);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  switch (state.kind) {
    case "checking":
      return <Spinner label="Loading your workspace…" />;
    case "error":
      return (
        <div className="signin">
          <div className="signin__card">
            <ErrorAlert message={state.message} onRetry={() => void check()} />
          </div>
        </div>
      );
    case "signed-out":
      return (
        <SignInPage
          {...(state.notice ? { notice: state.notice } : {})}
          onSignedIn={(session) => setState({ kind: "signed-in", session })}
        />
      );
    case "signed-in":
      return (
        <Shell
          session={state.session}
          onSignedOut={() => setState({ kind: "signed-out" })}
          onUserChanged={(user) => setState({ kind: "signed-in", session: { ...state.session, user } })}
        />
      );
  }
}

function Shell({
  session,
  onSignedOut,
  onUserChanged,
}: {
  session: Session;
  onSignedOut: () => void;
  onUserChanged: (user: User) => void;
}) {
  const route = useRoute();
  const [signingOut, setSigningOut] = useState(false);
  const [error, setError] = useState<string>();

  const signOut = async () => {
    setSigningOut(true);
    try {
      await AuthService.logout({});
    } catch (failure) {
      // An expired session is signed out already; anything else is worth saying.
      if ((failure as { code?: string }).code !== "UNAUTHENTICATED") {
        setError(describeError(failure));
        setSigningOut(false);
        return;
      }
    }
    setCsrfToken(undefined);
    navigate("/");
    onSignedOut();
  };

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <a className="brand" href="/" onClick={(e) => (e.preventDefault(), navigate("/"))}>
          <BrandMark />
          Agentplane
        </a>
        <nav className="nav" aria-label="Main">
          <a
            href="/chat"
            aria-current={route.page === "chat" ? "page" : undefined}
            onClick={(e) => (e.preventDefault(), navigate("/chat"))}
            data-testid="nav-chat"
          >
            Chat
          </a>
          <a
            href="/tickets"
            aria-current={route.page === "tickets" ? "page" : undefined}
            onClick={(e) => (e.preventDefault(), navigate("/tickets"))}
            data-testid="nav-tickets"
          >
            Tickets
          </a>
          {atLeast(session.roles, "ROLE_BUILDER") && (
            <a
              href="/runs"
              aria-current={route.page === "runs" ? "page" : undefined}
              onClick={(e) => (e.preventDefault(), navigate("/runs"))}
              data-testid="nav-runs"
            >
              Runs
            </a>
          )}
          {atLeast(session.roles, "ROLE_BUILDER") && (
            <a
              href="/agents"
              aria-current={route.page === "agents" ? "page" : undefined}
              onClick={(e) => (e.preventDefault(), navigate("/agents"))}
              data-testid="nav-agents"
            >
              Agents
            </a>
          )}
          {atLeast(session.roles, "ROLE_BUILDER") && (
            <a
              href="/tools"
              aria-current={route.page === "tools" ? "page" : undefined}
              onClick={(e) => (e.preventDefault(), navigate("/tools"))}
              data-testid="nav-tools"
            >
              Tools
            </a>
          )}
          <a
            href="/knowledge"
            aria-current={route.page === "knowledge" ? "page" : undefined}
            onClick={(e) => (e.preventDefault(), navigate("/knowledge"))}
            data-testid="nav-knowledge"
          >
            Knowledge
          </a>
          {atLeast(session.roles, "ROLE_ADMIN") && (
            <a
              href="/admin"
              aria-current={route.page === "admin" ? "page" : undefined}
              onClick={(e) => (e.preventDefault(), navigate("/admin"))}
              data-testid="nav-admin"
            >
              Admin
            </a>
          )}
          <a
            href="/settings"
            aria-current={route.page === "settings" ? "page" : undefined}
            onClick={(e) => (e.preventDefault(), navigate("/settings"))}
            data-testid="nav-settings"
          >
            Settings
          </a>
        </nav>
        <div className="account">
          <span className="account__email" data-testid="account">
            {session.user.email} · {session.tenant.displayName || session.tenant.slug}
          </span>
          <button
            type="button"
            className="button button--small"
            onClick={() => void signOut()}
            disabled={signingOut}
            data-testid="sign-out"
          >
            {signingOut ? "Signing out…" : "Sign out"}
          </button>
        </div>
      </header>
      {error && <ErrorAlert message={error} />}
      {session.user.passwordTemporary && route.page !== "settings" && (
        <div className="alert alert--info shell__notice" role="status" data-testid="temporary-password">
          You signed in with a temporary password an admin set.{" "}
          <a href="/settings" onClick={(e) => (e.preventDefault(), navigate("/settings"))}>
            Choose your own in Settings
          </a>
          .
        </div>
      )}
      <UserUpdateContext.Provider value={onUserChanged}>
        <SessionContext.Provider value={session}>
          <main id="main" className="shell__main">
            {route.page === "chat" && <ChatPage session={session} conversationId={route.conversationId} />}
            <Suspense fallback={<Spinner label="Loading the page…" />}>
              {route.page === "tickets" && <TicketsPage ticketId={route.ticketId} />}
              {route.page === "knowledge" && <KnowledgePage />}
              {route.page === "runs" && <RunsPage runId={route.runId} />}
              {route.page === "settings" && <SettingsPage />}
              {route.page === "admin" && <AdminPage />}
              {route.page === "tools" && <ToolsPage />}
              {route.page === "agents" && <FlowBuilderPage agentId={route.agentId} />}
            </Suspense>
          </main>
        </SessionContext.Provider>
      </UserUpdateContext.Provider>
    </div>
  );
}
