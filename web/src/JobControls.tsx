/**
 * The foot of a page's job form (Generate, Explore, Style): run (a submit button, when named) and cancel, the
 * job's progress bar and status line, and its error.
 */
import type { JobProgress } from './api.ts';
import { ErrorBanner } from './ErrorBanner.tsx';

interface Props {
  /** The submit button's label; none: the page starts its jobs from its own buttons. */
  submitLabel?: string;
  running: boolean;
  onCancel: () => void;
  progress: JobProgress | null;
  status: string;
  /** data-testid of the status line (the browser tests read it). */
  statusTestId: string;
  error: string | null;
  onDismissError: () => void;
}

export function JobControls({ submitLabel, running, onCancel, progress, status, statusTestId, error, onDismissError }: Props) {
  return (
    <>
      <div className="actions">
        {submitLabel && (
          <button type="submit" disabled={running}>
            {submitLabel}
          </button>
        )}
        <button type="button" onClick={onCancel} disabled={!running}>
          Cancel
        </button>
      </div>
      <progress max={progress?.steps ?? 1} value={progress?.step ?? 0} aria-label="Progress" />
      <p className="status" data-testid={statusTestId}>
        {status}
      </p>
      <ErrorBanner error={error} onDismiss={onDismissError} />
    </>
  );
}
