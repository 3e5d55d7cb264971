// Sign in with workspace (tenant slug), email and password, as a browser session: the edge sets
// HttpOnly cookies and answers the CSRF token the app then echoes.
import { useState } from "react";
import type { FormEvent } from "react";
import { AuthService } from "../api/generated";
import { setCsrfToken } from "../api/runtime";
import type { Session } from "../app/App";
import { describeSignInError } from "../lib/errors";
import { BrandMark } from "../ui/feedback";

const lastTenantKey = "agentplane.lastTenant";

export function SignInPage({ notice, onSignedIn }: { notice?: string; onSignedIn: (session: Session) => void }) {
  const [tenant, setTenant] = useState(() => window.localStorage.getItem(lastTenantKey) ?? "");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!tenant.trim() || !email.trim() || !password) {
      setError("Enter your workspace, email and password.");
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const answer = await AuthService.login({ tenantSlug: tenant.trim(), email: email.trim(), password }, true);
      setCsrfToken(answer.csrfToken);
      window.localStorage.setItem(lastTenantKey, tenant.trim());
      onSignedIn({ user: answer.user ?? {}, tenant: answer.tenant ?? {}, roles: answer.user?.roles ?? [] });
    } catch (failure) {
      setError(describeSignInError(failure));
      setPassword("");
      setBusy(false);
    }
  };

  return (
    <div className="signin">
      <form className="signin__card" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="signin-title">
        <span className="brand">
          <BrandMark />
          Agentplane
        </span>
        <h1 id="signin-title">Sign in</h1>
        {notice && !error && (
          <div className="alert alert--info" role="status">
            {notice}
          </div>
        )}
        {error && (
          <div className="alert" role="alert" data-testid="signin-error">
            {error}
          </div>
        )}
        <div className="field">
          <label htmlFor="tenant">Workspace</label>
          <input
            id="tenant"
            className="input"
            name="tenant"
            autoComplete="organization"
            value={tenant}
            onChange={(e) => setTenant(e.target.value)}
            required
          />
        </div>
        <div className="field">
          <label htmlFor="email">Email</label>
          <input
            id="email"
            className="input"
            name="email"
            type="email"
            autoComplete="username"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            required
          />
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input
            id="password"
            className="input"
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </div>
        <button type="submit" className="button button--primary" disabled={busy} data-testid="sign-in">
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </div>
  );
}
