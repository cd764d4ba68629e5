// The donors leaderboard (public) and, for a signed-in donor, how they appear on it: a pseudonym by
// default, a public name they choose, or not at all.
import { useState, type FormEvent } from 'react';
import type { DonorLeaderboard, DonorListing, DonorProfile, LeaderboardPeriod } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { ErrorMessage, Loading, Notice } from '../ui/feedback.js';
import { SubmitButton, TextField } from '../ui/forms.js';
import { fieldErrorsOf } from '../ui/field-errors.js';
import { useResource } from '../ui/use-resource.js';
import { formatCount, formatMegapixelSteps } from '../lib/format.js';

const PERIODS: { id: LeaderboardPeriod; label: string }[] = [
  { id: 'week', label: 'This week' },
  { id: 'month', label: 'This month' },
  { id: 'all', label: 'All time' },
];

const LISTINGS: { id: DonorListing; label: string }[] = [
  { id: 'pseudonym', label: 'Under my pseudonym' },
  { id: 'name', label: 'Under a public name I choose' },
  { id: 'hidden', label: 'Not at all' },
];

function MyListing({ onSaved }: { onSaved: () => void }) {
  const profile = useResource((signal) => api.get<DonorProfile>('/v1/me/donor-profile', { signal }), []);
  const [listing, setListing] = useState<DonorListing>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState(false);
  if (profile.loading && !profile.data) return <Loading lines={2} />;
  if (profile.error) return <ErrorMessage error={profile.error} retry={profile.reload} />;
  const p = profile.data;
  if (!p) return null;
  const chosen = listing ?? p.listing;
  const fields = fieldErrorsOf(error);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const publicName = String(new FormData(event.currentTarget).get('publicName') ?? '').trim();
    setBusy(true);
    setError(undefined);
    setSaved(false);
    try {
      const next = await api.put<DonorProfile>('/v1/me/donor-profile', {
        listing: chosen,
        ...(publicName ? { publicName } : {}),
      });
      profile.set(() => next);
      setSaved(true);
      onSaved();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="leaderboard-listing" onSubmit={submit} aria-labelledby="listing-heading">
      <h3 id="listing-heading">How you appear</h3>
      <fieldset>
        <legend className="small muted">
          Your pseudonym is <strong>{p.pseudonym}</strong>. Your email and account name are never shown.
        </legend>
        {LISTINGS.map((l) => (
          <label key={l.id} className="radio">
            <input
              type="radio"
              name="listing"
              value={l.id}
              checked={chosen === l.id}
              onChange={() => setListing(l.id)}
            />{' '}
            {l.label}
          </label>
        ))}
      </fieldset>
      {chosen === 'name' ? (
        <TextField
          label="Public name"
          name="publicName"
          defaultValue={p.publicName ?? ''}
          required
          minLength={2}
          maxLength={40}
          hint="2–40 letters, digits, spaces, dots, hyphens or underscores. Everyone can see it."
          error={fields.publicName}
        />
      ) : null}
      <ErrorMessage error={Object.keys(fields).length ? undefined : error} />
      {saved ? <Notice kind="success">Saved. The leaderboard shows it now.</Notice> : null}
      <SubmitButton busy={busy} busyLabel="Saving…">
        Save
      </SubmitButton>
    </form>
  );
}

export function Leaderboard({ signedIn }: { signedIn: boolean }) {
  const [period, setPeriod] = useState<LeaderboardPeriod>('week');
  const [reloadKey, setReloadKey] = useState(0);
  const board = useResource(
    (signal) => api.get<DonorLeaderboard>('/v1/donors/leaderboard', { signal, query: { period, limit: 20 } }),
    [period, reloadKey],
  );
  const items = board.data?.period === period ? board.data.items : undefined;
  return (
    <section className="card" aria-labelledby="leaderboard-heading">
      <h2 id="leaderboard-heading">Donors leaderboard</h2>
      <p className="small muted">
        Ranked by verified work: images accepted and their size × steps (megapixel-steps). Donors appear under
        a pseudonym unless they chose a public name.
      </p>
      <div className="segmented" role="group" aria-label="Period">
        {PERIODS.map((p) => (
          <button
            key={p.id}
            type="button"
            className="button button-small"
            aria-pressed={period === p.id}
            onClick={() => setPeriod(p.id)}
          >
            {p.label}
          </button>
        ))}
      </div>
      {board.error && !items ? (
        <ErrorMessage error={board.error} retry={board.reload} />
      ) : !items ? (
        <Loading lines={4} />
      ) : items.length === 0 ? (
        <p className="muted">No verified work in this period yet: start a worker and be the first.</p>
      ) : (
        <div className="table-wrap">
          <table className="leaderboard">
            <caption className="visually-hidden">
              Donors by verified work, {PERIODS.find((p) => p.id === period)?.label.toLowerCase()}
            </caption>
            <thead>
              <tr>
                <th scope="col" className="num">
                  #
                </th>
                <th scope="col">Donor</th>
                <th scope="col" className="num">
                  Images
                </th>
                <th scope="col" className="num">
                  Megapixel-steps
                </th>
                <th scope="col" className="num">
                  Credits earned
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.rank}>
                  <td className="num">{d.rank}</td>
                  <th scope="row" className={d.pseudonymous ? 'muted' : undefined}>
                    {d.name}
                  </th>
                  <td className="num">{formatCount(d.images)}</td>
                  <td className="num">{formatMegapixelSteps(d.megapixelSteps)}</td>
                  <td className="num">{formatCount(d.credits)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {signedIn ? <MyListing onSaved={() => setReloadKey((k) => k + 1)} /> : null}
    </section>
  );
}
