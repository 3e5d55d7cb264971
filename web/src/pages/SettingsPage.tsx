// The user's settings: who they are, their password (ChangePassword.tsx), and their API keys
// (builder or above may create them): the secret shown once on creation with a copy button, revoke in two steps.
import { useCallback, useState } from "react";
import type { FormEvent } from "react";
import { UserService } from "../api/generated";
import type { ApiKey, Role } from "../api/generated";
import { useSession } from "../app/session";
import { describeError } from "../lib/errors";
import { atLeast, grantableRoles, highestRole, roleName } from "../lib/roles";
import { EmptyState, ErrorAlert, Spinner } from "../ui/feedback";
import { MoreButton, usePagedList } from "../ui/paging";
import type { Page } from "../ui/paging";
import { ChangePassword } from "./ChangePassword";

function when(iso: string | undefined): string {
  if (!iso) return "never";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString();
}

export function SettingsPage() {
  const session = useSession();
  return (
    <div className="page">
      <div className="page__head">
        <h1>Settings</h1>
      </div>
      <section aria-labelledby="me-heading">
        <h2 id="me-heading">You</h2>
        <p data-testid="me">
          {session.user.displayName || session.user.email} · {session.user.email} · role{" "}
          <strong>{roleName(highestRole(session.roles))}</strong> in {session.tenant.displayName || session.tenant.slug}
        </p>
      </section>
      <ChangePassword />
      <ApiKeys />
    </div>
  );
}

function ApiKeys() {
  const session = useSession();
  const canCreate = atLeast(session.roles, "ROLE_BUILDER");
  const isAdmin = atLeast(session.roles, "ROLE_ADMIN");
  const [everyone, setEveryone] = useState(false);
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("ROLE_MEMBER");
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ name: string; secret: string }>();
  const [copied, setCopied] = useState(false);
  const [confirming, setConfirming] = useState<string>();
  const [error, setError] = useState<string>();

  const fetchPage = useCallback(
    async (pageToken: string | undefined): Promise<Page<ApiKey>> => {
      const answer = await UserService.listApiKeys({
        pageSize: 100,
        ...(everyone ? { allUsers: true } : {}),
        ...(pageToken ? { pageToken } : {}),
      });
      return { items: answer.apiKeys ?? [], next: answer.nextPageToken };
    },
    [everyone],
  );
  const { state: keys, hasMore, loadMore, reload, refresh } = usePagedList(fetchPage, describeError);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) return;
    setBusy(true);
    setError(undefined);
    setCopied(false);
    try {
      const answer = await UserService.createApiKey({ name: name.trim(), roles: [role] });
      setCreated({ name: answer.apiKey?.name ?? name.trim(), secret: answer.secret ?? "" });
      setName("");
      refresh();
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };

  const copy = async () => {
    if (!created) return;
    try {
      await navigator.clipboard.writeText(created.secret);
      setCopied(true);
    } catch {
      // No clipboard (permissions, an insecure origin): the key stays selectable on the page.
      setError("Copying is not allowed here: select the key and copy it by hand.");
    }
  };

  const revoke = async (id: string) => {
    setConfirming(undefined);
    setError(undefined);
    try {
      await UserService.revokeApiKey({ apiKeyId: id });
      refresh();
    } catch (failure) {
      setError(describeError(failure));
    }
  };

  return (
    <section aria-labelledby="keys-heading">
      <h2 id="keys-heading">API keys</h2>
      <p className="status-line">
        An API key calls the API as you, with the role you give it (at most yours): send it as{" "}
        <code>Authorization: Bearer …</code>.
      </p>
      {error && <ErrorAlert message={error} />}
      {created && (
        <div className="alert alert--info secret" role="status" data-testid="new-key">
          <p>
            <strong>{created.name}</strong>: copy the key now. It is shown only once.
          </p>
          <code className="secret__value" data-testid="new-key-secret">
            {created.secret}
          </code>
          <div className="actions">
            <button type="button" className="button button--small" onClick={() => void copy()}>
              {copied ? "Copied" : "Copy"}
            </button>
            <button
              type="button"
              className="button button--small button--ghost"
              onClick={() => setCreated(undefined)}
              data-testid="new-key-done"
            >
              Done
            </button>
          </div>
        </div>
      )}
      {canCreate ? (
        <form className="playground__form" onSubmit={(e) => void create(e)} data-testid="create-key">
          <div className="field playground__query">
            <label htmlFor="key-name">Name</label>
            <input
              id="key-name"
              className="input"
              value={name}
              onChange={(e) => setName(e.target.value)}
              data-testid="key-name"
            />
          </div>
          <div className="field">
            <label htmlFor="key-role">Role</label>
            <select
              id="key-role"
              className="select"
              value={role}
              onChange={(e) => setRole(e.target.value as Role)}
            >
              {grantableRoles(session.roles).map((r) => (
                <option key={r} value={r}>
                  {roleName(r)}
                </option>
              ))}
            </select>
          </div>
          <button
            type="submit"
            className="button button--primary"
            disabled={busy || !name.trim()}
            data-testid="key-create"
          >
            Create key
          </button>
        </form>
      ) : (
        <p className="status-line" data-testid="keys-read-only">
          Builders and above create API keys.
        </p>
      )}
      {isAdmin && (
        <label className="inline-field">
          <input
            type="checkbox"
            checked={everyone}
            onChange={(e) => setEveryone(e.target.checked)}
            data-testid="keys-everyone"
          />{" "}
          Everyone's keys (admins)
        </label>
      )}
      {keys.status === "loading" && <Spinner label="Loading keys…" />}
      {keys.status === "error" && <ErrorAlert message={keys.message} onRetry={reload} />}
      {keys.status === "ready" && keys.value.length === 0 && <EmptyState title="No API keys" />}
      {keys.status === "ready" && keys.value.length > 0 && (
        <table className="table" data-testid="keys">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col" className="table__wide">
                Role
              </th>
              {everyone && (
                <th scope="col" className="table__wide">
                  Owner
                </th>
              )}
              <th scope="col" className="table__wide">
                Last used
              </th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.value.map((key) => (
              <tr key={key.id} data-testid="key" data-name={key.name}>
                <td>{key.name}</td>
                <td>
                  <code>{key.prefix}…</code>
                </td>
                <td className="table__wide">{(key.roles ?? []).map(roleName).join(", ")}</td>
                {everyone && (
                  <td className="table__wide">
                    {key.ownerUserId === session.user.id ? "you" : <code>{(key.ownerUserId ?? "").slice(0, 8)}</code>}
                  </td>
                )}
                <td className="table__wide">{when(key.lastUsedAt)}</td>
                <td>
                  {confirming === key.id ? (
                    <button
                      type="button"
                      className="button button--small button--danger"
                      onClick={() => void revoke(key.id ?? "")}
                      data-testid="key-confirm-revoke"
                    >
                      Revoke for good
                    </button>
                  ) : (
                    <button
                      type="button"
                      className="button button--small"
                      onClick={() => setConfirming(key.id)}
                      data-testid="key-revoke"
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <MoreButton shown={keys.status === "ready" && hasMore} onClick={loadMore} label="More keys" testId="keys-more" />
    </section>
  );
}
