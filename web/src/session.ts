/**
 * With `gesso serve --listen`, images, event streams and WebSockets cannot send the API token as a
 * header: the app trades the token for a short-lived session cookie (POST /api/session) before it
 * renders, and renews it at half its lifetime.
 */
import { api, token } from './api.ts';

export async function startSession(): Promise<void> {
  if (!token()) return; // local mode: no token, no cookie needed
  try {
    const { expiresAt } = await api<{ expiresAt: number | null }>('POST', '/api/session');
    if (expiresAt) setTimeout(() => void startSession(), Math.max(60_000, (expiresAt - Date.now()) / 2));
  } catch {
    // The token is not valid: the pages show the server's 401 message on their own requests.
  }
}
