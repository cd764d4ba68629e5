// Rate: annotation tasks one after another, fast with the keyboard, with what they earned and whether
// earning is paused (hourly cap, low agreement) and why.
import { Link, useSearch } from 'wouter';
import type { AnnotationKind, MyAnnotations } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { useSession } from '../session.js';
import { Page } from '../ui/page.js';
import { RequireUser } from '../ui/require.js';
import { Empty, ErrorMessage, Notice } from '../ui/feedback.js';
import { useResource } from '../ui/use-resource.js';
import { useAnnotationQueue } from '../ui/use-annotations.js';
import { AnnotationTaskView } from '../ui/annotation-task.js';
import { formatAgo, formatCount, plural } from '../lib/format.js';

const KINDS: { kind: AnnotationKind; label: string; help: string }[] = [
  { kind: 'rating', label: 'Rate', help: 'How much do you like this image, from 1 to 10?' },
  { kind: 'pairwise', label: 'Compare', help: 'Which of two images of the same prompt is better?' },
  { kind: 'flag', label: 'Check', help: 'Is anything wrong with this image?' },
];

function Standing({ mine }: { mine: MyAnnotations | undefined }) {
  if (!mine) return <p className="muted small standing">&nbsp;</p>;
  const { agreement, earning } = mine;
  return (
    <>
      <p className="small muted standing">
        {plural(mine.answered.total, 'answer')} so far, {plural(mine.creditsEarned, 'credit')} earned ·{' '}
        {formatCount(mine.creditsLastHour)} of {formatCount(mine.hourlyCap)} credits this hour
        {agreement.score !== undefined ? ` · agreement ${Math.round(agreement.score * 100)}%` : ''}
      </p>
      {earning.paused ? (
        <Notice kind="warning">
          {earning.reason === 'hourly_cap' ? (
            <p>
              You reached this hour’s earning cap. Your answers still help
              {earning.resumesAt
                ? `; earning resumes ${formatAgo(earning.resumesAt).replace(' ago', '')}`
                : ''}
              .
            </p>
          ) : (
            <p>
              Your answers disagree too often with images whose answer is known, so they no longer count or
              earn. {earning.detail}
            </p>
          )}
        </Notice>
      ) : null}
    </>
  );
}

function Tasks({ kind }: { kind: AnnotationKind }) {
  const queue = useAnnotationQueue(kind);
  const mine = useResource(
    (signal) => api.get<MyAnnotations>('/v1/me/annotations', { signal }),
    [queue.answered],
  );
  const help = KINDS.find((k) => k.kind === kind)?.help;
  return (
    <>
      <Standing mine={mine.data} />
      <p className="earned" aria-live="polite">
        {queue.last
          ? queue.last.creditsEarned > 0
            ? `+${plural(queue.last.creditsEarned, 'credit')} · ${plural(queue.earned, 'credit')} earned on this page`
            : `Answer saved · ${plural(queue.earned, 'credit')} earned on this page`
          : '\u00a0'}
      </p>
      <section className="card" aria-labelledby="task-heading">
        <h2 id="task-heading">{help}</h2>
        <ErrorMessage error={queue.error} retry={queue.next} />
        {queue.task ? (
          <AnnotationTaskView
            task={queue.task}
            busy={queue.answering}
            onAnswer={(b) => void queue.answer(b)}
          />
        ) : queue.task === null ? (
          <Empty title="Nothing to do here right now">
            <p>
              Tasks come from images other people generated, and you never get your own or the same one twice.
              Try another kind of task, or come back later.
            </p>
          </Empty>
        ) : (
          <div className="task-placeholder" aria-hidden="true" />
        )}
      </section>
    </>
  );
}

export default function RatePage() {
  const { stage } = useSession();
  const kindParam = new URLSearchParams(useSearch()).get('kind');
  const kind = KINDS.some((k) => k.kind === kindParam) ? (kindParam as AnnotationKind) : 'rating';
  return (
    <RequireUser title="Rate images" why="to rate images and earn credits">
      {(user) => (
        <Page
          title="Rate images"
          intro={
            stage === 'open'
              ? 'Your ratings train an open aesthetic model and earn the credits you generate with.'
              : 'Your ratings train an open aesthetic model; they are released with the datasets.'
          }
        >
          {!user.emailVerified ? (
            <Notice kind="warning">
              <p>
                Confirm your email first: open the link we sent you, or ask for a new one on{' '}
                <Link href="/account">your account page</Link>.
              </p>
            </Notice>
          ) : (
            <>
              <nav aria-label="Kinds of task" className="tabs">
                {KINDS.map((k) => (
                  <Link
                    key={k.kind}
                    href={`/rate?kind=${k.kind}`}
                    aria-current={k.kind === kind ? 'page' : undefined}
                  >
                    {k.label}
                  </Link>
                ))}
              </nav>
              <Tasks key={kind} kind={kind} />
            </>
          )}
        </Page>
      )}
    </RequireUser>
  );
}
