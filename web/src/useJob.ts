/** Runs one job at a time for a page: submit, progress, the finished job, cancel, and the error to show. */
import { useEffect, useRef, useState } from 'react';
import { cancelJob, type Job, type JobProgress, runJob } from './api.ts';
import { errorText } from './ErrorBanner.tsx';

export function useJob() {
  const [job, setJob] = useState<Job | null>(null);
  const [progress, setProgress] = useState<JobProgress | null>(null);
  const [error, setError] = useState<string | null>(null);
  const stop = useRef<(() => void) | null>(null);
  useEffect(() => () => stop.current?.(), []);

  const running = job !== null && (job.state === 'queued' || job.state === 'running');

  /** Submits with `submit` and resolves with the finished job (null when it failed to start, failed or was cancelled). */
  async function run(submit: () => Promise<Job>): Promise<Job | null> {
    setError(null);
    setProgress(null);
    stop.current?.();
    try {
      const submitted = await submit();
      setJob(submitted);
      const finished = await runJob(submitted, setProgress, (s) => {
        stop.current = s;
      });
      setJob(finished);
      if (finished.state === 'failed') setError(finished.error ?? 'the job failed');
      return finished.state === 'done' ? finished : null;
    } catch (e) {
      setError(errorText(e));
      return null;
    }
  }

  async function cancel() {
    if (!job) return;
    try {
      setJob(await cancelJob(job.id));
    } catch (e) {
      setError(errorText(e));
    }
  }

  const status = job ? `${job.state}${progress ? ` — ${progress.step}/${progress.steps}` : ''}` : 'idle';
  return { job, progress, error, setError, running, run, cancel, status };
}
