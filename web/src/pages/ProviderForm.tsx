// The tenant's model provider (admin or above): kind, base URL, the API key write-only ("set" /
// "not set", typed to replace, a box to remove it), default models, allowed models, the request
// timeout, the rate limits, and the model routes (one row each: the id clients use, the
// provider's model, capabilities, context window, embedding dimensions), saved with the revision.
import { useCallback, useEffect, useState } from "react";
import type { FormEvent } from "react";
import { LLMGatewayService, ModelCapabilityValues, ProviderKindValues } from "../api/generated";
import type { ModelCapability, ModelRoute, ProviderConfig, ProviderKind, RateLimits } from "../api/generated";
import { describeError } from "../lib/errors";
import { countText, durationSeconds, listText, secondsDuration, textList, wholeNumber } from "../lib/settingsForm";
import { ErrorAlert, Spinner } from "../ui/feedback";

type Load<T> = { status: "loading" } | { status: "error"; message: string } | { status: "ready"; value: T };

const capabilities = ModelCapabilityValues.filter((c) => c !== "MODEL_CAPABILITY_UNSPECIFIED");

/** A route as the form edits it: numbers as text. */
interface RouteRow {
  model: string;
  upstreamModel: string;
  capabilities: ModelCapability[];
  contextWindow: string;
  embeddingDimensions: string;
}

function rowOf(route: ModelRoute): RouteRow {
  return {
    model: route.model ?? "",
    upstreamModel: route.upstreamModel ?? "",
    capabilities: route.capabilities ?? [],
    contextWindow: countText(route.contextWindow),
    embeddingDimensions: countText(route.embeddingDimensions),
  };
}

/** The rows as routes, or the first problem. */
function routesOf(rows: RouteRow[]): ModelRoute[] | string {
  const routes: ModelRoute[] = [];
  for (const [index, row] of rows.entries()) {
    if (!row.model.trim()) return `Route ${index + 1}: the model id is required.`;
    const context = wholeNumber(row.contextWindow, `Route ${row.model}: context window`, 2_147_483_647);
    const dimensions = wholeNumber(row.embeddingDimensions, `Route ${row.model}: embedding dimensions`, 2_147_483_647);
    if (context.error) return context.error;
    if (dimensions.error) return dimensions.error;
    const route: ModelRoute = { model: row.model.trim(), upstreamModel: row.upstreamModel.trim(), capabilities: row.capabilities };
    if (context.value !== undefined) route.contextWindow = context.value;
    if (dimensions.value !== undefined) route.embeddingDimensions = dimensions.value;
    routes.push(route);
  }
  return routes;
}

export function ProviderForm() {
  const [config, setConfig] = useState<Load<ProviderConfig>>({ status: "loading" });
  const [provider, setProvider] = useState<ProviderKind>("PROVIDER_KIND_BUILTIN");
  const [baseUrl, setBaseUrl] = useState("");
  const [apiKey, setApiKey] = useState("");
  const [clearKey, setClearKey] = useState(false);
  const [defaultModel, setDefaultModel] = useState("");
  const [embeddingModel, setEmbeddingModel] = useState("");
  const [allowed, setAllowed] = useState("");
  const [timeout, setTimeoutText] = useState("");
  const [limits, setLimits] = useState({ requestsPerMinute: "", tokensPerMinute: "", tokensPerDay: "" });
  const [routes, setRoutes] = useState<RouteRow[]>([]);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string>();
  const [error, setError] = useState<string>();

  const show = (c: ProviderConfig) => {
    setConfig({ status: "ready", value: c });
    setProvider(c.provider && c.provider !== "PROVIDER_KIND_UNSPECIFIED" ? c.provider : "PROVIDER_KIND_BUILTIN");
    setBaseUrl(c.baseUrl ?? "");
    setDefaultModel(c.defaultChatModel ?? "");
    setEmbeddingModel(c.defaultEmbeddingModel ?? "");
    setAllowed(listText(c.allowedModels));
    setTimeoutText(durationSeconds(c.requestTimeout));
    setLimits({
      requestsPerMinute: countText(c.limits?.requestsPerMinute),
      tokensPerMinute: countText(c.limits?.tokensPerMinute),
      tokensPerDay: countText(c.limits?.tokensPerDay),
    });
    setRoutes((c.routes ?? []).map(rowOf));
  };

  const load = useCallback(async () => {
    try {
      show((await LLMGatewayService.getProviderConfig({})).config ?? {});
    } catch (failure) {
      setConfig({ status: "error", message: describeError(failure) });
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (config.status !== "ready") return;
    setError(undefined);
    setNotice(undefined);
    const routeList = routesOf(routes);
    if (typeof routeList === "string") return setError(routeList);
    const requestTimeout = secondsDuration(timeout, "Request timeout");
    if (requestTimeout.error) return setError(requestTimeout.error);
    const rpm = wholeNumber(limits.requestsPerMinute, "Requests per minute", 2_147_483_647);
    const tpm = wholeNumber(limits.tokensPerMinute, "Tokens per minute");
    const tpd = wholeNumber(limits.tokensPerDay, "Tokens per day");
    const bad = [rpm, tpm, tpd].find((n) => n.error);
    if (bad) return setError(bad.error);
    const rateLimits: RateLimits = {};
    if (rpm.value !== undefined) rateLimits.requestsPerMinute = rpm.value;
    if (tpm.value !== undefined) rateLimits.tokensPerMinute = String(tpm.value);
    if (tpd.value !== undefined) rateLimits.tokensPerDay = String(tpd.value);
    setBusy(true);
    try {
      // The key only when typed (blank keeps it), or removed when asked.
      const answer = await LLMGatewayService.setProviderConfig({
        provider,
        baseUrl: baseUrl.trim(),
        ...(apiKey ? { apiKey } : {}),
        ...(clearKey && !apiKey ? { clearApiKey: true } : {}),
        routes: routeList,
        allowedModels: textList(allowed),
        defaultChatModel: defaultModel.trim(),
        defaultEmbeddingModel: embeddingModel.trim(),
        ...(Object.keys(rateLimits).length > 0 ? { limits: rateLimits } : {}),
        ...(requestTimeout.value ? { requestTimeout: requestTimeout.value } : {}),
        ...(config.value.revision ? { expectedRevision: config.value.revision } : {}),
      });
      setApiKey("");
      setClearKey(false);
      if (answer.config) show(answer.config);
      else void load();
      setNotice("Saved.");
    } catch (failure) {
      const code = (failure as { code?: string }).code;
      setError(code === "ABORTED" ? "Someone changed the provider meanwhile: reloaded, try again." : describeError(failure));
      if (code === "ABORTED") void load();
    } finally {
      setBusy(false);
    }
  };

  const setRoute = (index: number, change: Partial<RouteRow>) =>
    setRoutes((all) => all.map((row, i) => (i === index ? { ...row, ...change } : row)));

  return (
    <section aria-labelledby="provider-heading">
      <h2 id="provider-heading">Model provider</h2>
      {config.status === "loading" && <Spinner label="Loading the provider…" />}
      {config.status === "error" && <ErrorAlert message={config.message} onRetry={() => void load()} />}
      {config.status === "ready" && (
        <form onSubmit={(e) => void save(e)} data-testid="provider-form">
          <div className="form-grid">
            <div className="field">
              <label htmlFor="provider-kind">Provider</label>
              <select
                id="provider-kind"
                className="select"
                value={provider}
                onChange={(e) => setProvider(e.target.value as ProviderKind)}
                data-testid="provider-kind"
              >
                {ProviderKindValues.filter((k) => k !== "PROVIDER_KIND_UNSPECIFIED").map((k) => (
                  <option key={k} value={k}>
                    {k.replace("PROVIDER_KIND_", "").toLowerCase().replace("_", "-")}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor="provider-url">Base URL</label>
              <input id="provider-url" className="input" value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="provider-key">API key ({config.value.apiKeySet ? "set" : "not set"})</label>
              <input
                id="provider-key"
                className="input"
                type="password"
                autoComplete="off"
                placeholder={config.value.apiKeySet ? "set (type to replace)" : "not set"}
                value={apiKey}
                onChange={(e) => setApiKey(e.target.value)}
                data-testid="provider-key"
              />
              {config.value.apiKeySet && (
                <label className="inline-field">
                  <input type="checkbox" checked={clearKey} onChange={(e) => setClearKey(e.target.checked)} /> Remove
                  the stored key
                </label>
              )}
            </div>
            <div className="field">
              <label htmlFor="provider-model">Default chat model</label>
              <input id="provider-model" className="input" value={defaultModel} onChange={(e) => setDefaultModel(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="provider-embedding">Default embedding model</label>
              <input
                id="provider-embedding"
                className="input"
                value={embeddingModel}
                onChange={(e) => setEmbeddingModel(e.target.value)}
              />
            </div>
            <div className="field">
              <label htmlFor="provider-allowed">Allowed models (comma-separated; empty: every routed one)</label>
              <input id="provider-allowed" className="input" value={allowed} onChange={(e) => setAllowed(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="provider-timeout">Request timeout (s; empty: 60)</label>
              <input
                id="provider-timeout"
                className="input"
                inputMode="decimal"
                value={timeout}
                onChange={(e) => setTimeoutText(e.target.value)}
              />
            </div>
            {(
              [
                ["requestsPerMinute", "Requests per minute"],
                ["tokensPerMinute", "Tokens per minute"],
                ["tokensPerDay", "Tokens per day"],
              ] as const
            ).map(([key, label]) => (
              <div className="field" key={key}>
                <label htmlFor={`provider-${key}`}>{label} (empty: the platform's)</label>
                <input
                  id={`provider-${key}`}
                  className="input"
                  inputMode="numeric"
                  value={limits[key]}
                  onChange={(e) => setLimits((all) => ({ ...all, [key]: e.target.value }))}
                  data-testid={`provider-${key}`}
                />
              </div>
            ))}
          </div>
          <fieldset className="secrets" data-testid="provider-routes">
            <legend>Model routes</legend>
            {routes.length === 0 && <p className="status-line">No routes: the provider's own model names are used.</p>}
            {routes.map((row, index) => (
              <div className="route-row" key={index} data-testid="provider-route">
                <input
                  className="input"
                  aria-label="Model id clients use"
                  placeholder="model id, e.g. default"
                  value={row.model}
                  onChange={(e) => setRoute(index, { model: e.target.value })}
                />
                <input
                  className="input"
                  aria-label="The provider's model"
                  placeholder="provider's model"
                  value={row.upstreamModel}
                  onChange={(e) => setRoute(index, { upstreamModel: e.target.value })}
                />
                <input
                  className="input"
                  aria-label="Context window (tokens)"
                  placeholder="context window"
                  inputMode="numeric"
                  value={row.contextWindow}
                  onChange={(e) => setRoute(index, { contextWindow: e.target.value })}
                />
                <input
                  className="input"
                  aria-label="Embedding dimensions"
                  placeholder="embedding dims"
                  inputMode="numeric"
                  value={row.embeddingDimensions}
                  onChange={(e) => setRoute(index, { embeddingDimensions: e.target.value })}
                />
                {capabilities.map((capability) => (
                  <label className="inline-field" key={capability}>
                    <input
                      type="checkbox"
                      checked={row.capabilities.includes(capability)}
                      onChange={(e) =>
                        setRoute(index, {
                          capabilities: e.target.checked
                            ? [...row.capabilities, capability]
                            : row.capabilities.filter((c) => c !== capability),
                        })
                      }
                    />{" "}
                    {capability.replace("MODEL_CAPABILITY_", "").toLowerCase()}
                  </label>
                ))}
                <button
                  type="button"
                  className="button button--small button--ghost"
                  onClick={() => setRoutes((all) => all.filter((_, i) => i !== index))}
                >
                  Remove
                </button>
              </div>
            ))}
            <button
              type="button"
              className="button button--small"
              onClick={() =>
                setRoutes((all) => [
                  ...all,
                  { model: "", upstreamModel: "", capabilities: ["MODEL_CAPABILITY_CHAT"], contextWindow: "", embeddingDimensions: "" },
                ])
              }
              data-testid="provider-route-add"
            >
              Add a route
            </button>
          </fieldset>
          <div className="actions">
            <button type="submit" className="button button--primary" disabled={busy} data-testid="provider-save">
              Save
            </button>
          </div>
        </form>
      )}
      {config.status === "ready" && (
        <p className="status-line" data-testid="provider-state">
          API key {config.value.apiKeySet ? "set" : "not set"} · revision {config.value.revision || "0"}
          {config.value.updatedAt && <> · updated {new Date(config.value.updatedAt).toLocaleString()}</>}
        </p>
      )}
      {notice && (
        <div className="alert alert--info" role="status" data-testid="provider-saved">
          {notice}
        </div>
      )}
      {error && <ErrorAlert message={error} />}
    </section>
  );
}
