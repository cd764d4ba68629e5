// Signs in through the HTTP API the way the web app does, and builds the headers a browser would send:
// the session cookie always, the CSRF token on state changes.
import type { FastifyInstance } from 'fastify';

export interface WebSession {
  cookie: string;
  csrfToken: string;
  /** Headers for a request: cookie, plus X-CSRF-Token unless `csrf: false`. */
  headers(options?: { csrf?: boolean }): Record<string, string>;
}

export async function signInWeb(app: FastifyInstance, email: string, password: string): Promise<WebSession> {
  const res = await app.inject({ method: 'POST', url: '/v1/auth/sign-in', payload: { email, password } });
  if (res.statusCode !== 200) throw new Error(`sign-in failed: ${res.statusCode} ${res.body}`);
  const setCookie = [res.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('df_session='));
  if (!setCookie) throw new Error('sign-in set no session cookie');
  const cookie = setCookie.split(';')[0] ?? '';
  const csrfToken = (res.json() as { csrfToken: string }).csrfToken;
  return {
    cookie,
    csrfToken,
    headers: (options = {}) => ({
      cookie,
      ...(options.csrf === false ? {} : { 'x-csrf-token': csrfToken }),
    }),
  };
}
