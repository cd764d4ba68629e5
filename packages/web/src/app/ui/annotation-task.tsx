// An annotation task on screen, answered with the mouse or the keyboard (see lib/annotation-keys.ts).
import { useEffect, useState } from 'react';
import type { AnnotationTask, AnswerAnnotationBody, ImageFlag } from '@dreamfold/protocol';
import { FLAG_ORDER, isTypingTarget, keyAction } from '../lib/annotation-keys.js';

const FLAG_LABELS: Record<ImageFlag, string> = {
  nsfw: 'Sexual or graphic',
  broken: 'Broken, blank or deformed',
  offensive: 'Hateful or harassing',
  does_not_match_prompt: 'Does not match the prompt',
};

function TaskImage({ task, index, label }: { task: AnnotationTask; index: number; label: string }) {
  const image = task.images[index];
  if (!image) return null;
  return (
    <div className="rating-image" style={{ aspectRatio: `${image.width} / ${image.height}` }}>
      <img src={image.url} alt={label} width={image.width} height={image.height} />
    </div>
  );
}

export function AnnotationTaskView({
  task,
  busy,
  onAnswer,
  compact,
}: {
  task: AnnotationTask;
  busy: boolean;
  onAnswer: (body: AnswerAnnotationBody) => void;
  compact?: boolean;
}) {
  const [flags, setFlags] = useState<ImageFlag[]>([]);
  useEffect(() => setFlags([]), [task.id]);

  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || isTypingTarget(event.target)) return;
      // Enter on a focused button presses that button; only take Enter when nothing else would.
      if (event.key === 'Enter' && (event.target as { tagName?: string } | null)?.tagName === 'BUTTON')
        return;
      const action = keyAction(task.kind, event.key);
      if (!action || busy) return;
      event.preventDefault();
      if ('answer' in action) onAnswer(action.answer);
      else if ('toggleFlag' in action)
        setFlags((f) =>
          f.includes(action.toggleFlag)
            ? f.filter((x) => x !== action.toggleFlag)
            : [...f, action.toggleFlag],
        );
      else onAnswer({ flags });
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [task.kind, busy, onAnswer, flags]);

  return (
    <div className={compact ? 'task task-compact' : 'task'}>
      <p className="task-prompt">
        <span className="muted">Prompt: </span>
        {task.prompt}
      </p>
      {task.kind === 'pairwise' ? (
        <>
          <div className="pair">
            <TaskImage task={task} index={0} label="First image" />
            <TaskImage task={task} index={1} label="Second image" />
          </div>
          <div className="row task-actions" role="group" aria-label="Which image is better?">
            <button
              type="button"
              className="button"
              disabled={busy}
              onClick={() => onAnswer({ preference: 'first' })}
            >
              ← First is better
            </button>
            <button
              type="button"
              className="button"
              disabled={busy}
              onClick={() => onAnswer({ preference: 'tie' })}
            >
              ↓ Tie
            </button>
            <button
              type="button"
              className="button"
              disabled={busy}
              onClick={() => onAnswer({ preference: 'second' })}
            >
              Second is better →
            </button>
          </div>
        </>
      ) : (
        <TaskImage task={task} index={0} label={`Image to ${task.kind === 'rating' ? 'rate' : 'check'}`} />
      )}
      {task.kind === 'rating' ? (
        <div role="group" aria-label="How much do you like this image? 1 is the least, 10 the most.">
          <div className="scale">
            {Array.from({ length: 10 }, (_, i) => i + 1).map((n) => (
              <button
                key={n}
                type="button"
                className="button"
                disabled={busy}
                onClick={() => onAnswer({ rating: n })}
                aria-label={`Rate ${n} of 10`}
              >
                {n}
              </button>
            ))}
          </div>
          <p className="small muted scale-legend">
            <span>1: dislike</span>
            <span>
              Keys <kbd>1</kbd>–<kbd>9</kbd>, <kbd>0</kbd> for 10
            </span>
            <span>10: love it</span>
          </p>
        </div>
      ) : null}
      {task.kind === 'flag' ? (
        <fieldset>
          <legend>What is wrong with this image? Leave all unticked if nothing is.</legend>
          {FLAG_ORDER.map((flag, i) => (
            <label className="choice" key={flag}>
              <input
                type="checkbox"
                checked={flags.includes(flag)}
                onChange={(e) =>
                  setFlags((f) => (e.target.checked ? [...f, flag] : f.filter((x) => x !== flag)))
                }
              />
              <span>
                <kbd>{i + 1}</kbd> {FLAG_LABELS[flag]}
              </span>
            </label>
          ))}
          <div className="form-actions">
            <button
              type="button"
              className="button button-primary"
              disabled={busy}
              onClick={() => onAnswer({ flags })}
            >
              {flags.length ? 'Send flags' : 'Nothing wrong'} <kbd>Enter</kbd>
            </button>
          </div>
        </fieldset>
      ) : null}
    </div>
  );
}
