// The hand-written half of the API client: how the generated functions (generated.ts) reach the
// edge. JSON over fetch with the browser session's cookies; the CSRF token echoed in
// `X-CSRF-Token` on unsafe methods; one refresh of the session (POST /v1/auth/refresh) when a
// call answers 401, then the call again; server streams read from fetch's body as Server-Sent
// Events (EventSource can neither POST nor send headers); errors as ApiError with the gRPC code.
import { SSEParser } from "./sse";

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Per-call options: an abort signal and extra headers (`Last-Event-ID` for re-attaching). */
export interface CallOptions {
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Uploads only: called as the body goes out (bytes sent, bytes in all). */
  onUploadProgress?: (sent: number, total: number) => void;
}

/** One Server-Sent Event of a server stream: its name, id and the message it carries. */
export interface ServerEvent<T> {
  event: string;
  id?: string;
  data: T;
}

/** Query parameters: a repeated field repeats its key. */
export type Query = Record<string, string | string[]>;

/** A failed call: the HTTP status and the edge's JSON error (`code` is the gRPC status name). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: JsonObject | undefined;

  constructor(status: number, code: string, message: string, details?: JsonObject) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** ErrorDetails.reason, when the service gave one (`LOGIN_RATE_LIMITED`). */
  get reason(): string | undefined {
    const reason = this.details?.["reason"];
    return typeof reason === "string" ? reason : undefined;
  }
}

/** The error of a call that never got an answer (offline, connection reset). */
export class NetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NetworkError";
  }
}

// The session -------------------------------------------------------------------------------

let csrfToken: string | undefined;
let sessionExpired: (() => void) | undefined;
let refreshing: Promise<boolean> | undefined;

/** Remembers the CSRF token a sign-in or refresh answered (the cookie holds it too). */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** Called once a session is gone for good (the refresh failed): the app shows the sign-in page. */
export function onSessionExpired(handler: (() => void) | undefined): void {
  sessionExpired = handler;
}

/** The token readable from the `agentplane_csrf` cookie, when the page has a session. */
export function csrfFromCookie(cookies: string = typeof document === "undefined" ? "" : document.cookie): string | undefined {
  for (const part of cookies.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === "agentplane_csrf") return decodeURIComponent(rest.join("="));
  }
  return undefined;
}

function currentCsrf(): string | undefined {
  return csrfToken ?? csrfFromCookie();
}

const unsafe = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Refreshes the session once, however many calls ask at the same time. */
function refreshSession(): Promise<boolean> {
  refreshing ??= (async () => {
    try {
      const response = await fetch("/v1/auth/refresh", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": currentCsrf() ?? "" },
        body: "{}",
      });
      if (!response.ok) return false;
      const body = (await response.json()) as { csrfToken?: string };
      setCsrfToken(body.csrfToken);
      return true;
    } catch {
      return false;
    } finally {
      refreshing = undefined;
    }
  })();
  return refreshing;
}

// Requests ----------------------------------------------------------------------------------

function url(path: string, query: Query | undefined): string {
  if (!query) return path;
  const parameters = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value]) parameters.append(key, item);
  }
  const text = parameters.toString();
  return text ? `${path}?${text}` : path;
}

async function send(verb: string, target: string, init: RequestInit, options: CallOptions | undefined): Promise<Response> {
  const attempt = async (): Promise<Response> => {
    const headers = new Headers(init.headers);
    for (const [key, value] of Object.entries(options?.headers ?? {})) headers.set(key, value);
    const csrf = currentCsrf();
    if (unsafe.has(verb) && csrf) headers.set("X-CSRF-Token", csrf);
    try {
      const requestInit: RequestInit = { ...init, method: verb, headers, credentials: "same-origin" };
      if (options?.signal) requestInit.signal = options.signal;
      return await fetch(target, requestInit);
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") throw error;
      throw new NetworkError("The server could not be reached. Check your connection and try again.");
    }
  };
  let response = await attempt();
  // Sign-in's and refresh's own 401s are their answers, not an expired session.
  if (response.status === 401 && !/^\/v1\/auth\/(login|refresh)(\?|$)/.test(target)) {
    if (await refreshSession()) {
      response = await attempt();
    }
    if (response.status === 401) sessionExpired?.();
  }
  return response;
}

/** The ApiError of a failed response (its JSON error, or the status alone). */
export async function errorOf(response: Response): Promise<ApiError> {
  let code = "UNKNOWN";
  let message = `${response.status} ${response.statusText}`.trim();
  let details: JsonObject | undefined;
  try {
    const body = (await response.json()) as { code?: string; message?: string; details?: JsonObject };
    code = body.code ?? code;
    message = body.message ?? message;
    details = body.details;
  } catch {
    // not JSON: keep the status
  }
  return new ApiError(response.status, code, message, details);
}

function jsonInit(body: unknown): RequestInit {
  if (body === undefined) return { headers: { Accept: "application/json" } };
  return { headers: { Accept: "application/json", "Content-Type": "application/json" }, body: JSON.stringify(body) };
}

/** A unary call: the response message, or an ApiError. */
export async function call<T>(
  verb: string,
  path: string,
  query: Query | undefined,
  body: unknown,
  options?: CallOptions,
): Promise<T> {
  const response = await send(verb, url(path, query), jsonInit(body), options);
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as T;
}

/** A server stream: each Server-Sent Event as it arrives; `event: error` ends it with its ApiError. */
export async function* stream<T>(
  verb: string,
  path: string,
  query: Query | undefined,
  body: unknown,
  options?: CallOptions,
): AsyncGenerator<ServerEvent<T>> {
  const init = jsonInit(body);
  init.headers = { ...(init.headers as Record<string, string>), Accept: "text/event-stream" };
  const response = await send(verb, url(path, query), init, options);
  if (!response.ok) throw await errorOf(response);
  if (!response.body) throw new NetworkError("The server's answer had no body.");
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const parser = new SSEParser();
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (error instanceof DOMException && error.name === "AbortError") throw error;
        throw new NetworkError("The connection was lost while the answer streamed.");
      }
      if (chunk.done) break;
      for (const raw of parser.push(decoder.decode(chunk.value, { stream: true }))) {
        const data = JSON.parse(raw.data) as unknown;
        if (raw.event === "error") {
          const error = data as { code?: string; message?: string; details?: JsonObject };
          throw new ApiError(200, error.code ?? "UNKNOWN", error.message ?? "the stream failed", error.details);
        }
        const event: ServerEvent<T> = { event: raw.event, data: data as T };
        if (raw.id !== undefined) event.id = raw.id;
        yield event;
      }
    }
    parser.push(decoder.decode());
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

/**
 * An upload: the content as the whole body, the metadata as query parameters. Through
 * XMLHttpRequest when the caller wants progress (fetch reports none for request bodies).
 */
export async function upload<T>(path: string, query: Query, content: Blob, options?: CallOptions): Promise<T> {
  const target = url(path, query);
  const type = content.type || "application/octet-stream";
  if (options?.onUploadProgress && typeof XMLHttpRequest !== "undefined") {
    let answer = await xhrUpload(target, content, type, options);
    if (answer.status === 401 && (await refreshSession())) answer = await xhrUpload(target, content, type, options);
    if (answer.status === 401) sessionExpired?.();
    if (answer.status < 200 || answer.status >= 300) throw await errorOf(answer);
    return (await answer.json()) as T;
  }
  const init: RequestInit = { headers: { Accept: "application/json", "Content-Type": type }, body: content };
  const response = await send("POST", target, init, options);
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as T;
}

function xhrUpload(target: string, content: Blob, type: string, options: CallOptions): Promise<Response> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", target);
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Content-Type", type);
    const csrf = currentCsrf();
    if (csrf) xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.upload.onprogress = (event) => options.onUploadProgress?.(event.loaded, event.total || content.size);
    xhr.onload = () =>
      resolve(new Response(xhr.responseText, { status: xhr.status, headers: { "Content-Type": "application/json" } }));
    xhr.onerror = () => reject(new NetworkError("The upload could not reach the server."));
    xhr.onabort = () => reject(new DOMException("The upload was cancelled.", "AbortError"));
    options.signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(content);
  });
}

/** A download's URL (the browser fetches it with the session cookie). */
export function download(path: string, query: Query): string {
  return url(path, query);
}

// Helpers the generated functions use --------------------------------------------------------

/** A path variable, %-encoded (a multi-segment one keeps its slashes). */
export function segment(value: unknown, multiSegment = false): string {
  const text = value === undefined || value === null ? "" : String(value);
  return multiSegment ? text.split("/").map(encodeURIComponent).join("/") : encodeURIComponent(text);
}

/** The request without the fields the path binds. */
export function omit<T extends object>(request: T, keys: string[]): Partial<T> {
  if (keys.length === 0) return request;
  const copy: Record<string, unknown> = { ...(request as Record<string, unknown>) };
  for (const key of keys) delete copy[key];
  return copy as Partial<T>;
}

/** The request's fields as query parameters (nested messages as `a.b`), but for those named. */
export function query(request: object, exclude: string[]): Query {
  const out: Query = {};
  const walk = (value: unknown, prefix: string): void => {
    if (value === undefined || value === null) return;
    if (Array.isArray(value)) {
      out[prefix] = value.map((item) => String(item));
    } else if (typeof value === "object") {
      for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
        walk(inner, prefix ? `${prefix}.${key}` : key);
      }
    } else {
      out[prefix] = String(value);
    }
  };
  for (const [key, value] of Object.entries(request as Record<string, unknown>)) {
    if (!exclude.includes(key)) walk(value, key);
  }
  return out;
}
