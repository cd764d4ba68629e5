// Appeals against safety decisions (the classifier's, a prompt-filter rule's, verification's or a
// moderator's hide): look at the image and the owner's note, then uphold or overturn; below, how often each
// rule was wrong, to tune the thresholds and the rules.
import { useState } from 'react';
import type { AppealStats, ModeratorAppeal, ModeratorAppealList } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { Empty, ErrorMessage, Loading } from '../ui/feedback.js';
import { TextField } from '../ui/forms.js';
import { useResource } from '../ui/use-resource.js';
import { formatAgo } from '../lib/format.js';
import { HIDDEN_BY } from './image-safety.js';

function AppealCard({ appeal, onDone }: { appeal: ModeratorAppeal; onDone: () => void }) {
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  async function decide(outcome: 'upheld' | 'overturned') {
    setBusy(true);
    setError(undefined);
    try {
      await api.post(`/v1/moderation/appeals/${appeal.id}/decision`, { outcome, note: note.trim() });
      onDone();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }
  return (
    <li className="card mod-card">
      <a className="mod-image" href={appeal.url} target="_blank" rel="noreferrer">
        <img src={appeal.url} alt={`Appealed image: ${appeal.prompt}`} loading="lazy" />
      </a>
      <div>
        <p className="prompt-text">{appeal.prompt}</p>
        <p className="small muted">
          Hidden by {HIDDEN_BY[appeal.source]} ({appeal.rule}
          {appeal.score !== undefined ? `, score ${appeal.score.toFixed(2)}` : ''}) · appealed{' '}
          {formatAgo(appeal.createdAt)}
        </p>
        <p>“{appeal.note}”</p>
        <TextField
          label="Your note (the owner sees it)"
          value={note}
          onChange={(e) => setNote(e.target.value)}
          maxLength={1000}
          required
        />
        <ErrorMessage error={error} />
        <div className="row">
          <button
            type="button"
            className="button button-primary"
            disabled={busy || !note.trim()}
            onClick={() => void decide('overturned')}
          >
            Overturn: make it public
          </button>
          <button
            type="button"
            className="button"
            disabled={busy || !note.trim()}
            onClick={() => void decide('upheld')}
          >
            Uphold: keep it hidden
          </button>
        </div>
      </div>
    </li>
  );
}

function Stats() {
  const stats = useResource((signal) => api.get<AppealStats>('/v1/moderation/appeals/stats', { signal }), []);
  const s = stats.data;
  if (!s) return null;
  return (
    <section aria-labelledby="appeal-stats-heading">
      <h3 id="appeal-stats-heading">How often decisions were wrong</h3>
      <p className="small">
        The classifier hid {s.classifier.hidden} images; {s.classifier.appealed} were appealed and{' '}
        {s.classifier.overturned} overturned (counted false positives).
      </p>
      {s.classifier.byScore.some((b) => b.hidden > 0) ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Classifier decisions by score band</caption>
            <thead>
              <tr>
                <th scope="col">Score</th>
                <th scope="col" className="num">
                  Hidden
                </th>
                <th scope="col" className="num">
                  Overturned
                </th>
              </tr>
            </thead>
            <tbody>
              {s.classifier.byScore
                .filter((b) => b.hidden > 0)
                .map((b) => (
                  <tr key={b.from}>
                    <td>
                      {b.from.toFixed(1)}–{b.to.toFixed(1)}
                    </td>
                    <td className="num">{b.hidden}</td>
                    <td className="num">{b.overturned}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {s.items.some((i) => i.source !== 'classifier') ? (
        <div className="table-wrap">
          <table>
            <caption>Appeals by rule (prompt filter, verification and moderators’ reasons)</caption>
            <thead>
              <tr>
                <th scope="col">Hidden by</th>
                <th scope="col">Rule</th>
                <th scope="col" className="num">
                  Open
                </th>
                <th scope="col" className="num">
                  Upheld
                </th>
                <th scope="col" className="num">
                  Overturned
                </th>
              </tr>
            </thead>
            <tbody>
              {s.items
                .filter((i) => i.source !== 'classifier')
                .map((i) => (
                  <tr key={`${i.source} ${i.rule}`}>
                    <td>{HIDDEN_BY[i.source]}</td>
                    <td>{i.rule}</td>
                    <td className="num">{i.open}</td>
                    <td className="num">{i.upheld}</td>
                    <td className="num">{i.overturned}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

export function Appeals() {
  const list = useResource(
    (signal) => api.get<ModeratorAppealList>('/v1/moderation/appeals', { signal, query: { state: 'open' } }),
    [],
  );
  const [done, setDone] = useState<string[]>([]);
  const items = list.data?.items.filter((a) => !done.includes(a.id)) ?? [];
  return (
    <>
      {list.loading && !list.data ? (
        <Loading />
      ) : list.error ? (
        <ErrorMessage error={list.error} retry={list.reload} />
      ) : items.length === 0 ? (
        <Empty title="No open appeals">When an owner appeals a hidden image, it appears here.</Empty>
      ) : (
        <ul className="plain-list">
          {items.map((a) => (
            <AppealCard key={a.id} appeal={a} onDone={() => setDone((d) => [...d, a.id])} />
          ))}
        </ul>
      )}
      <Stats />
    </>
  );
}
