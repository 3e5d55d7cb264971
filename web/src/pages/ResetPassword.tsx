// An admin sets a user's temporary password (UserService.ResetPassword): opened from the user's
// row, typed twice, and every session of that user ends.
import { useState } from "react";
import type { FormEvent } from "react";
import { UserService } from "../api/generated";
import type { User } from "../api/generated";
import { describePasswordError, newPasswordProblem } from "../lib/password";

export function ResetPassword({ user }: { user: User }) {
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState("");
  const [repeated, setRepeated] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ error: boolean; text: string }>();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problem = newPasswordProblem(password, repeated);
    if (problem) return setMessage({ error: true, text: problem });
    setBusy(true);
    setMessage(undefined);
    try {
      const answer = await UserService.resetPassword({ userId: user.id ?? "", password });
      const ended = answer.endedSessions ?? 0;
      setMessage({
        error: false,
        text: `Temporary password set; ${ended} session${ended === 1 ? "" : "s"} signed out. Pass it on safely.`,
      });
      setPassword("");
      setRepeated("");
      setOpen(false);
    } catch (failure) {
      setMessage({ error: true, text: describePasswordError(failure) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="reset-password">
      {!open && (
        <button type="button" className="button button--small" onClick={() => setOpen(true)} data-testid="user-reset">
          Reset password
        </button>
      )}
      {open && (
        <form onSubmit={(e) => void submit(e)} className="reset-password__form" data-testid="user-reset-form">
          <input
            className="input"
            type="password"
            autoComplete="new-password"
            aria-label={`Temporary password for ${user.email}`}
            placeholder="Temporary password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            data-testid="user-reset-password"
          />
          <input
            className="input"
            type="password"
            autoComplete="new-password"
            aria-label="The temporary password again"
            placeholder="Again"
            value={repeated}
            onChange={(e) => setRepeated(e.target.value)}
            data-testid="user-reset-repeat"
          />
          <button type="submit" className="button button--small button--primary" disabled={busy} data-testid="user-reset-save">
            Set
          </button>
          <button type="button" className="button button--small button--ghost" onClick={() => setOpen(false)}>
            Cancel
          </button>
        </form>
      )}
      {message && (
        <p
          className={message.error ? "field__error" : "status-line"}
          role={message.error ? "alert" : "status"}
          data-testid="user-reset-result"
        >
          {message.text}
        </p>
      )}
    </div>
  );
}
