// What to tell a person when a call failed: the edge's gRPC code and ErrorDetails turned into
// one clear sentence. Sign-in has its own wording (wrong password, locked out, expired).
import { ApiError, NetworkError } from "../api/runtime";

/** `"30s"` / `"1.5s"` as whole seconds, rounded up. */
function seconds(duration: unknown): number | undefined {
  if (typeof duration !== "string") return undefined;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(duration);
  return match ? Math.ceil(Number(match[1])) : undefined;
}

function wait(error: ApiError): string {
  const after = seconds(error.details?.["retryAfter"]);
  return after ? ` Try again in ${after} s.` : " Try again later.";
}

/** A sign-in failure, for the sign-in form. */
export function describeSignInError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === "UNAUTHENTICATED") {
      return "Wrong workspace, email or password. Check them and try again.";
    }
    if (error.code === "RESOURCE_EXHAUSTED") {
      if (error.reason === "PASSWORD_HASHING_BUSY") return "The server is busy checking passwords." + wait(error);
      return "Locked out: too many sign-in attempts for this account or from this network." + wait(error);
    }
    if (error.code === "INVALID_ARGUMENT") return "Enter your workspace, email and password.";
  }
  return describeError(error);
}

/** Any other failure, in one sentence. */
export function describeError(error: unknown): string {
  if (error instanceof NetworkError) return error.message;
  if (error instanceof ApiError) {
    switch (error.code) {
      case "UNAUTHENTICATED":
        return "Your session has expired. Sign in again.";
      case "PERMISSION_DENIED":
        return "Your role does not allow this.";
      case "NOT_FOUND":
        return "It no longer exists (or you cannot see it).";
      case "RESOURCE_EXHAUSTED":
        return "Too many requests." + wait(error);
      case "UNAVAILABLE":
        return "A service is unavailable right now." + wait(error);
      case "DEADLINE_EXCEEDED":
        return "The server took too long to answer. Try again.";
      default:
        return error.message || `The request failed (${error.code}).`;
    }
  }
  if (error instanceof Error && error.message) return error.message;
  return "Something went wrong.";
}
