// Passwords in forms: what the server will refuse, said before sending (at least 12 characters,
// at most 1024 bytes, typed twice alike, not the current one), and its refusals in one sentence.
import { ApiError } from "../api/runtime";
import { describeError } from "./errors";

/** The server's bounds (docs/AUTH.md): characters at least, UTF-8 bytes at most. */
export const MIN_PASSWORD_CHARACTERS = 12;
export const MAX_PASSWORD_BYTES = 1024;

/** Characters as a person counts them (code points; the server counts grapheme clusters). */
function characters(text: string): number {
  return Array.from(text).length;
}

/** Why a new password cannot be sent, or undefined when it can. */
export function newPasswordProblem(password: string, repeated: string, current?: string): string | undefined {
  if (characters(password) < MIN_PASSWORD_CHARACTERS) {
    return `The new password needs at least ${MIN_PASSWORD_CHARACTERS} characters.`;
  }
  if (new TextEncoder().encode(password).length > MAX_PASSWORD_BYTES) {
    return `The new password may have at most ${MAX_PASSWORD_BYTES} bytes.`;
  }
  if (password !== repeated) return "The two new passwords differ.";
  if (current !== undefined && password === current) return "The new password is the current one.";
  return undefined;
}

/** A ChangePassword or ResetPassword failure, in one sentence. */
export function describePasswordError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.reason === "WRONG_PASSWORD") return "The current password is wrong.";
    if (error.reason === "LOGIN_RATE_LIMITED") {
      return "Too many attempts with a wrong password: wait a while and try again.";
    }
    if (error.code === "INVALID_ARGUMENT") {
      const violations = error.details?.["violations"];
      const first = Array.isArray(violations) ? violations[0] : undefined;
      const explanation =
        first && typeof first === "object" && !Array.isArray(first) ? first["explanation"] : undefined;
      if (typeof explanation === "string" && explanation) return explanation.replace(/_/g, " ") + ".";
    }
  }
  return describeError(error);
}
