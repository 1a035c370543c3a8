/** A server error as the user should see it: the message, and the field it is about. */
import { ApiError } from './api.ts';

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.param ? `${e.message} (field: ${e.param})` : e.message;
  return e instanceof Error ? e.message : String(e);
}

export function ErrorBanner({ error, onDismiss }: { error: string | null; onDismiss?: () => void }) {
  if (!error) return null;
  return (
    <div role="alert" className="error">
      <span>{error}</span>
      {onDismiss && (
        <button type="button" onClick={onDismiss} aria-label="Dismiss error">
          ×
        </button>
      )}
    </div>
  );
}
