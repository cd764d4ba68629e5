// While images are being made: a rating task beside them, so the wait earns credits.
import { useSession } from '../session.js';
import { useAnnotationQueue } from '../ui/use-annotations.js';
import { AnnotationTaskView } from '../ui/annotation-task.js';
import { ErrorMessage } from '../ui/feedback.js';
import { plural } from '../lib/format.js';

export function InlineRating() {
  const { user } = useSession();
  const queue = useAnnotationQueue('rating', !!user?.emailVerified);
  if (!user?.emailVerified || queue.task === null) return null;
  return (
    <section className="card inline-rating" aria-labelledby="inline-rating-heading">
      <h2 id="inline-rating-heading">While you wait: rate an image</h2>
      <p className="small muted" aria-live="polite">
        {queue.answered
          ? `${plural(queue.answered, 'rating')} sent, ${plural(queue.earned, 'credit')} earned.`
          : 'Ratings train an open aesthetic model and earn credits.'}
      </p>
      <ErrorMessage error={queue.error} retry={queue.next} />
      {queue.task ? (
        <AnnotationTaskView
          task={queue.task}
          busy={queue.answering}
          onAnswer={(b) => void queue.answer(b)}
          compact
        />
      ) : (
        <div className="task-placeholder" aria-hidden="true" />
      )}
    </section>
  );
}
