// The credit balance in a card: on the account page and beside the generate form.
import { Link } from 'wouter';
import type { CreditSummary } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { useSession } from '../session.js';
import { useResource } from '../ui/use-resource.js';
import { formatCount } from '../lib/format.js';

export function useCredits(pollMs?: number) {
  return useResource((signal) => api.get<CreditSummary>('/v1/me/credits', { signal }), [], { pollMs });
}

export function CreditsCard() {
  const { stage } = useSession();
  const credits = useCredits();
  return (
    <section className="card" aria-labelledby="credits-heading">
      <h2 id="credits-heading">Credits</h2>
      <p className="figure-value" aria-live="polite">
        {credits.data ? formatCount(credits.data.balance) : '–'}
        <span className="figure-label"> credits to spend</span>
      </p>
      {credits.data && credits.data.reserved > 0 ? (
        <p className="muted small">
          {formatCount(credits.data.reserved)} more are held for images being made.
        </p>
      ) : null}
      <p className="small">
        {stage === 'research'
          ? 'Generating is free in the research stage; credits you earn now count once Dreamfold opens.'
          : 'Each image costs credits by its size and steps. Earn them by rating images or running a worker.'}{' '}
        <Link href="/credits">History</Link>
      </p>
      {credits.error ? <p className="small muted">The balance could not be loaded right now.</p> : null}
    </section>
  );
}
