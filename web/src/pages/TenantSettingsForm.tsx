// The tenant's settings (admin or above): every field of TenantSettings but the free-form
// `extra` (sent back as it was), exact numbers (lib/settingsForm.ts), saved with the revision.
import { useCallback, useEffect, useState } from "react";
import type { FormEvent } from "react";
import { TenantService } from "../api/generated";
import type { Tenant, TenantSettings } from "../api/generated";
import { describeError } from "../lib/errors";
import {
  countText,
  durationSeconds,
  humanBytes,
  humanSeconds,
  secondsDuration,
  wholeNumber,
} from "../lib/settingsForm";
import { ErrorAlert, Spinner } from "../ui/feedback";

type Load<T> = { status: "loading" } | { status: "error"; message: string } | { status: "ready"; value: T };

/** The form's fields: each a TenantSettings key, how it is typed, and its label. */
const numberFields: {
  key: keyof TenantSettings;
  label: string;
  kind: "seconds" | "bytes" | "count";
  hint: string;
}[] = [
  { key: "maxRunSteps", label: "Max run steps", kind: "count", hint: "node executions per run" },
  { key: "maxRunDuration", label: "Max run duration (s)", kind: "seconds", hint: "per run" },
  { key: "conversationRetention", label: "Conversation retention (s)", kind: "seconds", hint: "0 keeps them" },
  { key: "maxDocumentBytes", label: "Max document size (bytes)", kind: "bytes", hint: "per upload" },
  { key: "maxRunStateBytes", label: "Max run state (bytes)", kind: "bytes", hint: "may only lower the platform's" },
  { key: "maxNodeOutputBytes", label: "Max node output (bytes)", kind: "bytes", hint: "may only lower the platform's" },
  { key: "maxEventBytes", label: "Max event (bytes)", kind: "bytes", hint: "may only lower the platform's" },
];

function textOf(settings: TenantSettings | undefined): Record<string, string> {
  const texts: Record<string, string> = {};
  for (const field of numberFields) {
    const value = settings?.[field.key] as string | number | undefined;
    texts[field.key] = field.kind === "seconds" ? durationSeconds(value as string | undefined) : countText(value);
  }
  return texts;
}

export function TenantSettingsForm() {
  const [tenant, setTenant] = useState<Load<Tenant>>({ status: "loading" });
  const [displayName, setDisplayName] = useState("");
  const [timeZone, setTimeZone] = useState("");
  const [defaultModel, setDefaultModel] = useState("");
  const [numbers, setNumbers] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string>();
  const [error, setError] = useState<string>();

  const show = (t: Tenant) => {
    setTenant({ status: "ready", value: t });
    setDisplayName(t.displayName ?? "");
    setTimeZone(t.settings?.timeZone ?? "");
    setDefaultModel(t.settings?.defaultChatModel ?? "");
    setNumbers(textOf(t.settings));
  };

  const load = useCallback(async () => {
    try {
      show((await TenantService.getTenant({})).tenant ?? {});
    } catch (failure) {
      setTenant({ status: "error", message: describeError(failure) });
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (tenant.status !== "ready") return;
    setError(undefined);
    setNotice(undefined);
    // The settings are replaced whole: start from what was read (extra included), then the fields.
    const settings: TenantSettings = { ...(tenant.value.settings ?? {}) };
    settings.timeZone = timeZone.trim();
    settings.defaultChatModel = defaultModel.trim();
    for (const field of numberFields) {
      const text = numbers[field.key] ?? "";
      const parsed =
        field.kind === "seconds"
          ? secondsDuration(text, field.label)
          : wholeNumber(text, field.label, field.kind === "count" ? 2_147_483_647 : undefined);
      if (parsed.error) return setError(parsed.error);
      const record = settings as Record<string, unknown>;
      if (parsed.value === undefined) delete record[field.key];
      else record[field.key] = field.kind === "bytes" ? String(parsed.value) : parsed.value;
    }
    setBusy(true);
    try {
      const answer = await TenantService.updateTenantSettings({
        displayName: displayName.trim(),
        settings,
        ...(tenant.value.revision ? { expectedRevision: tenant.value.revision } : {}),
      });
      if (answer.tenant) show(answer.tenant);
      setNotice("Saved.");
    } catch (failure) {
      const code = (failure as { code?: string }).code;
      setError(code === "ABORTED" ? "Someone changed the settings meanwhile: reloaded, try again." : describeError(failure));
      if (code === "ABORTED") void load();
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="tenant-heading">
      <h2 id="tenant-heading">Tenant</h2>
      {tenant.status === "loading" && <Spinner label="Loading the tenant…" />}
      {tenant.status === "error" && <ErrorAlert message={tenant.message} onRetry={() => void load()} />}
      {tenant.status === "ready" && (
        <form onSubmit={(e) => void save(e)} data-testid="tenant-form">
          <div className="form-grid">
            <div className="field">
              <label htmlFor="tenant-name">Display name</label>
              <input id="tenant-name" className="input" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="tenant-tz">Time zone</label>
              <input
                id="tenant-tz"
                className="input"
                placeholder="e.g. Europe/Berlin"
                value={timeZone}
                onChange={(e) => setTimeZone(e.target.value)}
              />
            </div>
            <div className="field">
              <label htmlFor="tenant-model">Default chat model</label>
              <input
                id="tenant-model"
                className="input"
                placeholder="the provider's default"
                value={defaultModel}
                onChange={(e) => setDefaultModel(e.target.value)}
              />
            </div>
            {numberFields.map((field) => {
              const text = numbers[field.key] ?? "";
              const human = field.kind === "seconds" ? humanSeconds(text) : field.kind === "bytes" ? humanBytes(text) : "";
              return (
                <div className="field" key={field.key}>
                  <label htmlFor={`tenant-${field.key}`}>{field.label}</label>
                  <input
                    id={`tenant-${field.key}`}
                    className="input"
                    inputMode="decimal"
                    placeholder="0: the default"
                    value={text}
                    onChange={(e) => setNumbers((all) => ({ ...all, [field.key]: e.target.value }))}
                    data-testid={`tenant-${field.key}`}
                  />
                  <span className="field__hint">
                    {human ? `${human}; ` : ""}
                    {field.hint}
                  </span>
                </div>
              );
            })}
          </div>
          <div className="actions">
            <button type="submit" className="button button--primary" disabled={busy} data-testid="tenant-save">
              Save
            </button>
          </div>
        </form>
      )}
      {tenant.status === "ready" && (
        <p className="status-line">
          <code>{tenant.value.slug}</code> · revision <span data-testid="tenant-revision">{tenant.value.revision}</span>
        </p>
      )}
      {notice && (
        <div className="alert alert--info" role="status" data-testid="tenant-saved">
          {notice}
        </div>
      )}
      {error && <ErrorAlert message={error} />}
    </section>
  );
}
