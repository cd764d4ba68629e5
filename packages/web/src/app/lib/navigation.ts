/** Only same-site paths may be a "next" target after signing in (no open redirects via ?next=//evil). */
export function safeNext(next: string | null | undefined, fallback = '/generate'): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback;
  return next;
}
