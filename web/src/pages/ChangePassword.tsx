// Change my password (AuthService.ChangePassword): the current one and the new one typed twice;
// the server ends every other session of the user, this one stays signed in.
import { useState } from "react";
import type { FormEvent } from "react";
import { AuthService } from "../api/generated";
import { useSession, useUpdateUser } from "../app/session";
import { describePasswordError, newPasswordProblem, MIN_PASSWORD_CHARACTERS } from "../lib/password";
import { ErrorAlert } from "../ui/feedback";

export function ChangePassword() {
  const session = useSession();
  const updateUser = useUpdateUser();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeated, setRepeated] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setDone(undefined);
    const problem = current ? newPasswordProblem(next, repeated, current) : "Enter your current password.";
    if (problem) return setError(problem);
    setError(undefined);
    setBusy(true);
    try {
      const answer = await AuthService.changePassword({ currentPassword: current, newPassword: next });
      const ended = answer.endedSessions ?? 0;
      setDone(
        ended === 0
          ? "Password changed."
          : `Password changed. ${ended} other session${ended === 1 ? " was" : "s were"} signed out.`,
      );
      setCurrent("");
      setNext("");
      setRepeated("");
      // The password is the user's own now: the shell stops asking for a change.
      if (session.user.passwordTemporary) updateUser({ ...session.user, passwordTemporary: false });
    } catch (failure) {
      setError(describePasswordError(failure));
      setCurrent("");
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="password-heading">
      <h2 id="password-heading">Password</h2>
      <p className="status-line">
        At least {MIN_PASSWORD_CHARACTERS} characters. Changing it signs you out everywhere else; API keys keep
        working.
      </p>
      {error && <ErrorAlert message={error} />}
      {done && (
        <div className="alert alert--info" role="status" data-testid="password-changed">
          {done}
        </div>
      )}
      <form className="form-grid" onSubmit={(e) => void submit(e)} data-testid="change-password">
        {/* For password managers: whose password this is. */}
        <input type="email" name="username" autoComplete="username" value={session.user.email ?? ""} readOnly hidden />
        <div className="field">
          <label htmlFor="password-current">Current password</label>
          <input
            id="password-current"
            className="input"
            type="password"
            autoComplete="current-password"
            value={current}
            onChange={(e) => setCurrent(e.target.value)}
            data-testid="password-current"
          />
        </div>
        <div className="field">
          <label htmlFor="password-new">New password</label>
          <input
            id="password-new"
            className="input"
            type="password"
            autoComplete="new-password"
            value={next}
            onChange={(e) => setNext(e.target.value)}
            data-testid="password-new"
          />
        </div>
        <div className="field">
          <label htmlFor="password-repeat">New password again</label>
          <input
            id="password-repeat"
            className="input"
            type="password"
            autoComplete="new-password"
            value={repeated}
            onChange={(e) => setRepeated(e.target.value)}
            data-testid="password-repeat"
          />
        </div>
        <div className="actions">
          <button type="submit" className="button button--primary" disabled={busy} data-testid="password-save">
            {busy ? "Changing…" : "Change password"}
          </button>
        </div>
      </form>
    </section>
  );
}
