import { useState, type FormEvent } from "react";
import { api } from "../../api/client";
import { ErrorText } from "../../components/common";
import { useSession } from "../../session";

const MIN_LENGTH = 8;

/** Reset my password; ``forced`` when the gateway requires a new one before anything else. */
export function ResetPassword({ forced = false }: { forced?: boolean }) {
  const { passwordChanged, logout } = useSession();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);

  const problem =
    next && next.length < MIN_LENGTH
      ? `new password: at least ${MIN_LENGTH} characters`
      : repeat && repeat !== next
        ? "repeat: does not match the new password"
        : null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (problem) return;
    setError(null);
    setDone(false);
    try {
      await api.post("/api/couture/users/me/password", { current_password: current, new_password: next });
      setDone(true);
      passwordChanged();
      setCurrent("");
      setNext("");
      setRepeat("");
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  return (
    <section className="card narrow">
      <h1>{forced ? "Choose a new password" : "Reset my password"}</h1>
      {forced && <p className="muted">Your password must be changed before you continue.</p>}
      <form onSubmit={submit}>
        <label>
          Current password
          <input type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} required />
        </label>
        <label>
          New password
          <input type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} required />
        </label>
        <label>
          Repeat new password
          <input type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} required />
        </label>
        <ErrorText error={problem ?? error} />
        {done && (
          <div className="ok" role="status">
            Password changed. Use it next time you sign in.
          </div>
        )}
        <div className="actions">
          {forced && (
            <button type="button" onClick={logout}>
              Log out
            </button>
          )}
          <button type="submit" className="primary" disabled={!!problem || !current || !next || next !== repeat}>
            Change password
          </button>
        </div>
      </form>
    </section>
  );
}
