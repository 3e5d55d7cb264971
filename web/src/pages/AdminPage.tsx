// Administration (admin or above): the tenant's users and their roles (create, change roles,
// set a temporary password, delete), the tenant's settings (TenantSettingsForm.tsx), the LLM
// provider (ProviderForm.tsx), the LLM usage per model and day as a chart (hand-drawn SVG), and the notification
// deliveries (by status, each one's attempts and last error on demand).
import { useCallback, useEffect, useState } from "react";
import type { FormEvent } from "react";
import { LLMGatewayService, NotificationService, UserService } from "../api/generated";
import type {
  Delivery,
  DeliveryStatus,
  GetUsageResponse,
  Role,
  User,
} from "../api/generated";
import { useSession } from "../app/session";
import { describeError } from "../lib/errors";
import { grantableRoles, highestRole, roleName } from "../lib/roles";
import { niceCeiling, usageSeries } from "../lib/usage";
import { ProviderForm } from "./ProviderForm";
import { ResetPassword } from "./ResetPassword";
import { MoreButton, usePagedList } from "../ui/paging";
import type { Page } from "../ui/paging";
import { TenantSettingsForm } from "./TenantSettingsForm";
import { EmptyState, ErrorAlert, Spinner } from "../ui/feedback";

type Load<T> = { status: "loading" } | { status: "error"; message: string } | { status: "ready"; value: T };

export function AdminPage() {
  return (
    <div className="page">
      <div className="page__head">
        <h1>Administration</h1>
      </div>
      <Users />
      <TenantSettingsForm />
      <ProviderForm />
      <Usage />
      <Deliveries />
    </div>
  );
}

function Users() {
  const session = useSession();
  const [users, setUsers] = useState<Load<User[]>>({ status: "loading" });
  const [email, setEmail] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<Role>("ROLE_MEMBER");
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState<string>();
  const [error, setError] = useState<string>();
  const roles = grantableRoles(session.roles);

  const load = useCallback(async () => {
    try {
      const answer = await UserService.listUsers({ pageSize: 200 });
      setUsers({ status: "ready", value: answer.users ?? [] });
    } catch (failure) {
      setUsers({ status: "error", message: describeError(failure) });
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await UserService.createUser({ email: email.trim(), displayName: displayName.trim(), password, roles: [role] });
      setEmail("");
      setDisplayName("");
      setPassword("");
      void load();
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };

  const changeRole = async (user: User, next: Role) => {
    setError(undefined);
    try {
      await UserService.updateUserRoles({ userId: user.id ?? "", roles: [next] });
      void load();
    } catch (failure) {
      setError(describeError(failure));
    }
  };

  const remove = async (user: User) => {
    setConfirming(undefined);
    setError(undefined);
    try {
      await UserService.deleteUser({ userId: user.id ?? "" });
      void load();
    } catch (failure) {
      setError(describeError(failure));
    }
  };

  return (
    <section aria-labelledby="users-heading">
      <h2 id="users-heading">Users</h2>
      {error && <ErrorAlert message={error} />}
      <form className="playground__form" onSubmit={(e) => void create(e)} data-testid="create-user">
        <div className="field playground__query">
          <label htmlFor="user-email">Email</label>
          <input
            id="user-email"
            className="input"
            type="email"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            data-testid="user-email"
          />
        </div>
        <div className="field">
          <label htmlFor="user-name">Name</label>
          <input id="user-name" className="input" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="user-password">Temporary password</label>
          <input
            id="user-password"
            className="input"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            data-testid="user-password"
          />
        </div>
        <div className="field">
          <label htmlFor="user-role">Role</label>
          <select id="user-role" className="select" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {roles.map((r) => (
              <option key={r} value={r}>
                {roleName(r)}
              </option>
            ))}
          </select>
        </div>
        <button
          type="submit"
          className="button button--primary"
          disabled={busy || !email.trim() || password.length < 12}
          data-testid="user-create"
        >
          Add user
        </button>
      </form>
      <p className="status-line">Passwords need at least 12 characters.</p>
      {users.status === "loading" && <Spinner label="Loading users…" />}
      {users.status === "error" && <ErrorAlert message={users.message} onRetry={() => void load()} />}
      {users.status === "ready" && (
        <table className="table" data-testid="users">
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col" className="table__wide">
                Name
              </th>
              <th scope="col">Role</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users.value.map((user) => {
              const current = highestRole(user.roles ?? []);
              const self = user.id === session.user.id;
              return (
                <tr key={user.id} data-testid="user" data-email={user.email}>
                  <td>{user.email}</td>
                  <td className="table__wide">{user.displayName}</td>
                  <td>
                    {self || !roles.includes(current) ? (
                      roleName(current)
                    ) : (
                      <select
                        className="select"
                        aria-label={`Role of ${user.email}`}
                        value={current}
                        onChange={(e) => void changeRole(user, e.target.value as Role)}
                        data-testid="user-role"
                      >
                        {roles.map((r) => (
                          <option key={r} value={r}>
                            {roleName(r)}
                          </option>
                        ))}
                      </select>
                    )}
                  </td>
                  <td>
                    <div className="table__actions">
                      {!self && roles.includes(current) && <ResetPassword user={user} />}
                      {!self &&
                        roles.includes(current) &&
                        (confirming === user.id ? (
                          <button
                            type="button"
                            className="button button--small button--danger"
                            onClick={() => void remove(user)}
                            data-testid="user-confirm-delete"
                          >
                            Delete for good
                          </button>
                        ) : (
                          <button
                            type="button"
                            className="button button--small"
                            onClick={() => setConfirming(user.id)}
                            data-testid="user-delete"
                          >
                            Delete
                          </button>
                        ))}
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

const days = 14;

function Usage() {
  const [usage, setUsage] = useState<Load<GetUsageResponse>>({ status: "loading" });
  const [today] = useState(() => new Date());

  const load = useCallback(async () => {
    setUsage({ status: "loading" });
    try {
      const start = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - (days - 1)));
      const end = new Date(today.getTime() + 60_000);
      const answer = await LLMGatewayService.getUsage({
        startTime: start.toISOString(),
        endTime: end.toISOString(),
        granularity: "USAGE_GRANULARITY_DAY",
      });
      setUsage({ status: "ready", value: answer });
    } catch (failure) {
      setUsage({ status: "error", message: describeError(failure) });
    }
  }, [today]);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section aria-labelledby="usage-heading">
      <h2 id="usage-heading">Model usage, last {days} days</h2>
      {usage.status === "loading" && <Spinner label="Loading usage…" />}
      {usage.status === "error" && <ErrorAlert message={usage.message} onRetry={() => void load()} />}
      {usage.status === "ready" && <UsageChart usage={usage.value} today={today} />}
    </section>
  );
}

function UsageChart({ usage, today }: { usage: GetUsageResponse; today: Date }) {
  const series = usageSeries(usage.buckets ?? [], days, today);
  if (series.models.length === 0) {
    return (
      <EmptyState title="No model use yet">
        <p>Tokens used by the tenant's agents show up here, per model and day.</p>
      </EmptyState>
    );
  }
  const width = 720;
  const height = 240;
  const left = 56;
  const bottom = 28;
  const top = 8;
  const plotHeight = height - bottom - top;
  const slot = (width - left) / days;
  const axis = niceCeiling(series.maxDay);
  const y = (value: number) => top + plotHeight - (value / axis) * plotHeight;
  const ticks = [0, axis / 2, axis];
  return (
    <figure className="chart" data-testid="usage-chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby="usage-title usage-desc">
        <title id="usage-title">Tokens per day and model</title>
        <desc id="usage-desc">
          {series.models
            .map((m, i) => `${m}: ${series.tokens[i]!.reduce((a, b) => a + b, 0).toLocaleString()} tokens`)
            .join("; ")}
        </desc>
        {ticks.map((tick) => (
          <g key={tick}>
            <line className="chart__grid" x1={left} x2={width} y1={y(tick)} y2={y(tick)} />
            <text className="chart__label" x={left - 6} y={y(tick) + 4} textAnchor="end">
              {tick.toLocaleString()}
            </text>
          </g>
        ))}
        {series.days.map((day, d) => {
          let base = 0;
          return (
            <g key={day}>
              {series.models.map((model, m) => {
                const value = series.tokens[m]![d] ?? 0;
                if (value === 0) return null;
                const rect = (
                  <rect
                    key={model}
                    className={`chart__bar chart__bar--${m % 6}`}
                    x={left + d * slot + slot * 0.15}
                    width={slot * 0.7}
                    y={y(base + value)}
                    height={y(base) - y(base + value)}
                  >
                    <title>{`${day} · ${model}: ${value.toLocaleString()} tokens`}</title>
                  </rect>
                );
                base += value;
                return rect;
              })}
              {(d % 2 === 1 || d === days - 1) && (
                <text className="chart__label" x={left + d * slot + slot / 2} y={height - 8} textAnchor="middle">
                  {day.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption className="chart__legend">
        {series.models.map((model, m) => (
          <span key={model} data-testid="usage-model">
            <svg className="chart__swatch" viewBox="0 0 10 10" aria-hidden="true">
              <rect className={`chart__bar chart__bar--${m % 6}`} width="10" height="10" rx="2" />
            </svg>
            {model} ({series.tokens[m]!.reduce((a, b) => a + b, 0).toLocaleString()} tokens)
          </span>
        ))}
        <span className="status-line">
          {" "}
          · {Number(usage.totalRequests ?? "0").toLocaleString()} requests in all
        </span>
      </figcaption>
    </figure>
  );
}

const deliveryStatusNames: Record<DeliveryStatus, string> = {
  DELIVERY_STATUS_UNSPECIFIED: "—",
  DELIVERY_STATUS_PENDING: "Pending",
  DELIVERY_STATUS_DELIVERED: "Delivered",
  DELIVERY_STATUS_FAILED: "Failed",
};

function Deliveries() {
  const [status, setStatus] = useState<DeliveryStatus | "">("");
  const fetchPage = useCallback(
    async (pageToken: string | undefined): Promise<Page<Delivery>> => {
      const answer = await NotificationService.listDeliveries({
        pageSize: 50,
        ...(status ? { status } : {}),
        ...(pageToken ? { pageToken } : {}),
      });
      return { items: answer.deliveries ?? [], next: answer.nextPageToken };
    },
    [status],
  );
  const { state: deliveries, hasMore, loadMore, reload } = usePagedList(fetchPage, describeError);

  return (
    <section aria-labelledby="deliveries-heading" data-testid="deliveries">
      <div className="page__head">
        <h2 id="deliveries-heading">Notification deliveries</h2>
        <label className="inline-field">
          Status{" "}
          <select
            className="select"
            value={status}
            onChange={(e) => setStatus(e.target.value as DeliveryStatus | "")}
          >
            <option value="">All</option>
            {(["DELIVERY_STATUS_PENDING", "DELIVERY_STATUS_DELIVERED", "DELIVERY_STATUS_FAILED"] as const).map((s) => (
              <option key={s} value={s}>
                {deliveryStatusNames[s]}
              </option>
            ))}
          </select>
        </label>
      </div>
      {deliveries.status === "loading" && <Spinner label="Loading deliveries…" />}
      {deliveries.status === "error" && <ErrorAlert message={deliveries.message} onRetry={reload} />}
      {deliveries.status === "ready" && deliveries.value.length === 0 && (
        <EmptyState title="No deliveries">
          <p>Notifications the agents send (Slack, Teams, webhooks) show up here.</p>
        </EmptyState>
      )}
      {deliveries.status === "ready" && deliveries.value.length > 0 && (
        <ul className="deliveries">
          {deliveries.value.map((delivery) => (
            <li key={delivery.id} data-testid="delivery">
              <details>
                <summary>
                  <span className="badge" data-status={delivery.status}>
                    {deliveryStatusNames[delivery.status ?? "DELIVERY_STATUS_UNSPECIFIED"]}
                  </span>{" "}
                  {delivery.title || "(untitled)"}{" "}
                  <span className="sources__meta">
                    · {(delivery.channel ?? "").replace("CHANNEL_KIND_", "").toLowerCase()} ·{" "}
                    {new Date(delivery.createdAt ?? "").toLocaleString()}
                  </span>
                </summary>
                <dl className="facts">
                  <dt>Target</dt>
                  <dd>{delivery.targetDisplay || "—"}</dd>
                  <dt>Attempts</dt>
                  <dd>
                    {delivery.attempts ?? 0} of {delivery.maxAttempts ?? 0}
                  </dd>
                  {delivery.lastError && (
                    <>
                      <dt>Last error</dt>
                      <dd>
                        {delivery.lastError}
                        {delivery.lastResponseCode ? ` (HTTP ${delivery.lastResponseCode})` : ""}
                      </dd>
                    </>
                  )}
                  {delivery.deliveredAt && (
                    <>
                      <dt>Delivered</dt>
                      <dd>{new Date(delivery.deliveredAt).toLocaleString()}</dd>
                    </>
                  )}
                  {delivery.runId && (
                    <>
                      <dt>Run</dt>
                      <dd>
                        <code>{delivery.runId}</code>
                      </dd>
                    </>
                  )}
                </dl>
              </details>
            </li>
          ))}
        </ul>
      )}
      <MoreButton
        shown={deliveries.status === "ready" && hasMore}
        onClick={loadMore}
        label="More deliveries"
        testId="deliveries-more"
      />
    </section>
  );
}
