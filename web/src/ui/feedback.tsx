// Small shared pieces: loading, empty and error states, so no page is ever blank.
import type { ReactNode } from "react";

export function Spinner({ label }: { label: string }) {
  return (
    <span role="status" className="loading">
      <span className="spinner" aria-hidden="true" />
      {label}
    </span>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <h2>{title}</h2>
      {children}
    </div>
  );
}

export function ErrorAlert({ message, onRetry }: { message: string; onRetry?: () => void }) {
  return (
    <div className="alert" role="alert">
      {message}{" "}
      {onRetry && (
        <button type="button" className="button button--small button--ghost" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function BrandMark() {
  return (
    <svg className="brand__mark" viewBox="0 0 32 32" aria-hidden="true">
      <rect width="32" height="32" rx="7" fill="currentColor" />
      <path d="M9 23 16 8l7 15h-4l-3-7-3 7z" fill="var(--color-surface)" />
    </svg>
  );
}
