/** Small building blocks shared by every page. */
import { useEffect, type ReactNode } from "react";
import { useSession } from "../session";
import { stateColour, stateTextColour } from "../lib/states";
import { formatDateTime } from "../lib/time";

export function StateBadge({ state }: { state: string | null | undefined }) {
  return (
    <span
      className="state-badge"
      data-state={state ?? "none"}
      style={{ background: stateColour(state), color: stateTextColour(state) }}
    >
      {state ?? "no status"}
    </span>
  );
}

/** A date in the user's timezone; hover shows the UTC instant the API sent. */
export function Time({ iso }: { iso: string | null | undefined }) {
  const { timeZone } = useSession();
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={iso}>
      {formatDateTime(iso, timeZone)}
    </time>
  );
}

export function ErrorText({ error }: { error: string | null | undefined }) {
  return error ? (
    <div className="error" role="alert">
      {error}
    </div>
  ) : null;
}

export function Switch({ on, onChange, label, disabled }: { on: boolean; onChange: (on: boolean) => void; label: string; disabled?: boolean }) {
  return (
    <button
      type="button"
      role="switch"
      aria-checked={on}
      aria-label={label}
      title={label}
      className={`switch ${on ? "on" : ""}`}
      disabled={disabled}
      onClick={() => onChange(!on)}
    >
      <span className="knob" />
    </button>
  );
}

export function Modal({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className={`modal ${wide ? "wide" : ""}`} role="dialog" aria-label={title}>
        <header>
          <h2>{title}</h2>
          <button type="button" className="icon" aria-label="Close dialog" onClick={onClose}>
            ×
          </button>
        </header>
        <div className="modal-body">{children}</div>
      </div>
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return <div className="muted loading">Loading {what}…</div>;
}
