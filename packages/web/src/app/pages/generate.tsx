// Generate: the form (prompt first; the rest under "More options"), the cost before submitting, then the
// generation live beside it. The page's address keeps the generation id (?g=…), so a reload resumes it.
import { useEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import type {
  CreditQuote,
  Generation,
  GenerationLimitsInfo,
  Sampler,
  ServedModels,
} from '@dreamfold/protocol';
import { ApiError, api, newIdempotencyKey } from '../api/client.js';
import { generationAccess, useSession } from '../session.js';
import { Page } from '../ui/page.js';
import { ErrorMessage, Notice } from '../ui/feedback.js';
import { SelectField, SubmitButton, TextArea, TextField } from '../ui/forms.js';
import { fieldErrorsOf } from '../ui/field-errors.js';
import { useResource } from '../ui/use-resource.js';
import { useGeneration } from '../ui/use-generation.js';
import {
  checkForm,
  formFromQuery,
  requestBody,
  SIZE_PRESETS,
  type GenerateForm,
} from '../lib/generate-form.js';
import { LIMITS, SAMPLERS } from '../lib/protocol-constants.js';
import { SAMPLER_LABELS } from '../lib/labels.js';
import { formatCount } from '../lib/format.js';
import { modelHint } from '../lib/served-models.js';
import { GenerationResults } from './generation-results.js';
import { InlineRating } from './inline-rating.js';

const MODEL_KEY = 'dreamfold.model';

function rememberedModel(): string {
  try {
    return localStorage.getItem(MODEL_KEY) ?? '';
  } catch {
    return '';
  }
}

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

function Cost({ form, enabled }: { form: GenerateForm; enabled: boolean }) {
  const key = useDebounced(`${form.width}x${form.height}x${form.steps}x${form.n}`, 250);
  const quote = useResource(
    enabled
      ? (signal) => {
          const [width, height, steps, n] = key.split('x');
          return api.get<CreditQuote>('/v1/credits/quote', { signal, query: { width, height, steps, n } });
        }
      : undefined,
    [key, enabled],
  );
  let text = '';
  if (quote.data) {
    const q = quote.data;
    text = q.charged
      ? `Costs ${formatCount(q.total)} ${q.total === 1 ? 'credit' : 'credits'}${form.n > 1 ? ` (${formatCount(q.perImage)} per image)` : ''}. You have ${formatCount(q.balance)}.`
      : `Free during the research stage (${formatCount(q.total)} credits once Dreamfold opens).`;
  }
  const short = quote.data?.charged && quote.data.total > quote.data.balance;
  return (
    <p className={short ? 'cost cost-short' : 'cost'} aria-live="polite">
      {text}
      {short ? (
        <>
          {' '}
          <Link href="/rate">Rate images to earn more</Link>, or make fewer or smaller images.
        </>
      ) : null}
    </p>
  );
}

export default function GeneratePage() {
  const search = useSearch();
  const [, navigate] = useLocation();
  const { user, stage, state } = useSession();
  const params = useMemo(() => new URLSearchParams(search), [search]);
  const currentId = params.get('g') ?? undefined;
  const [form, setForm] = useState<GenerateForm>(() => formFromQuery(search, rememberedModel()));
  const [submitted, setSubmitted] = useState<Generation>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [checked, setChecked] = useState<Record<string, string>>({});
  const idempotencyKey = useRef(newIdempotencyKey());
  const formRef = useRef<HTMLFormElement>(null);
  const { view, error: streamError } = useGeneration(currentId, submitted);
  const access = generationAccess(user, stage);
  const served = useResource((signal) => api.get<ServedModels>('/v1/models', { signal }), [], {
    pollMs: 30_000,
  });
  const servedModels = served.data?.items;
  // The limits an admin set at run time (never beyond the protocol's bounds the form starts from).
  const limitsInfo = useResource(
    (signal) => api.get<GenerationLimitsInfo>('/v1/generation-limits', { signal }),
    [],
  );
  const maxSteps = limitsInfo.data?.limits.maxSteps ?? LIMITS.maxSteps;
  const maxImages = limitsInfo.data?.limits.maxImagesPerRequest ?? LIMITS.maxImagesPerRequest;
  // With nothing remembered, start with the model most workers serve.
  useEffect(() => {
    const first = servedModels?.slice().sort((a, b) => b.workers - a.workers)[0];
    if (first) setForm((f) => (f.model ? f : { ...f, model: first.model }));
  }, [servedModels]);
  const hint = modelHint(servedModels, form.model, form.width * form.height);

  // "Again with this seed" links change the query while this page is open: load them into the form.
  const lastPrefill = useRef(search);
  useEffect(() => {
    if (search === lastPrefill.current) return;
    lastPrefill.current = search;
    if (new URLSearchParams(search).has('prompt')) setForm(formFromQuery(search, rememberedModel()));
  }, [search]);

  const update = <K extends keyof GenerateForm>(key: K, value: GenerateForm[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    // A changed request is a new request: it must not replay the previous answer.
    idempotencyKey.current = newIdempotencyKey();
  };

  async function submit(event?: FormEvent<HTMLFormElement>) {
    event?.preventDefault();
    const problems = checkForm(form);
    setChecked(problems);
    if (Object.keys(problems).length) return;
    setBusy(true);
    setError(undefined);
    try {
      const generation = await api.post<Generation>('/v1/generations', requestBody(form), {
        idempotencyKey: idempotencyKey.current,
      });
      idempotencyKey.current = newIdempotencyKey();
      try {
        localStorage.setItem(MODEL_KEY, form.model.trim());
      } catch {
        // Private mode: nothing to remember.
      }
      setSubmitted(generation);
      navigate(`/generate?g=${generation.id}`, { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  function onPromptKey(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      formRef.current?.requestSubmit();
    }
  }

  const errors = { ...fieldErrorsOf(error), ...checked };
  const sizeValue = `${form.width}x${form.height}`;
  const presets = SIZE_PRESETS.some((p) => `${p.width}x${p.height}` === sizeValue)
    ? SIZE_PRESETS
    : [...SIZE_PRESETS, { width: form.width, height: form.height, label: `${form.width} × ${form.height}` }];
  const running = view && !view.finished;

  return (
    <Page title="Generate" wide>
      {state.status !== 'loading' && !access.allowed ? (
        <Notice kind="warning">
          <p>{access.reason}</p>
          {!user ? (
            <div className="row">
              <Link
                className="button button-primary"
                href={`/sign-in?next=${encodeURIComponent('/generate' + (search ? `?${search}` : ''))}`}
              >
                Sign in
              </Link>
              <Link className="button" href="/sign-up">
                {stage === 'research' ? 'Apply for access' : 'Create an account'}
              </Link>
            </div>
          ) : null}
        </Notice>
      ) : null}
      <div className="generate-layout">
        <form ref={formRef} className="card" onSubmit={(e) => void submit(e)} noValidate>
          <ErrorMessage
            error={
              error instanceof ApiError && error.code === 'validation_failed' && error.fields.length
                ? undefined
                : error
            }
          />
          <TextArea
            label="Prompt"
            name="prompt"
            value={form.prompt}
            onChange={(e) => update('prompt', e.target.value)}
            onKeyDown={onPromptKey}
            maxLength={LIMITS.promptChars}
            rows={4}
            required
            placeholder="a lighthouse on a cliff at dusk, oil painting"
            hint={
              <>
                Describe what you want to see. <kbd>Ctrl</kbd>+<kbd>Enter</kbd> generates.
              </>
            }
            error={errors.prompt}
          />
          <TextField
            label="Model"
            name="model"
            value={form.model}
            onChange={(e) => update('model', e.target.value)}
            required
            autoCapitalize="off"
            spellCheck={false}
            placeholder="sd-1.5"
            list="served-models"
            hint={<span className={hint.warning ? 'hint-warning' : undefined}>{hint.text}</span>}
            error={errors.model}
          />
          <datalist id="served-models">
            {servedModels?.map((m) => (
              <option key={m.model} value={m.model} />
            ))}
          </datalist>
          <div className="form-grid">
            <SelectField
              label="Size"
              name="size"
              value={sizeValue}
              onChange={(e) => {
                const [w, h] = e.target.value.split('x').map(Number);
                setForm((f) => ({ ...f, width: w ?? f.width, height: h ?? f.height }));
                idempotencyKey.current = newIdempotencyKey();
              }}
            >
              {presets.map((p) => (
                <option key={`${p.width}x${p.height}`} value={`${p.width}x${p.height}`}>
                  {p.label}
                </option>
              ))}
            </SelectField>
            <SelectField
              label="Images"
              name="n"
              value={String(form.n)}
              onChange={(e) => update('n', Number(e.target.value))}
            >
              {Array.from({ length: maxImages }, (_, i) => (
                <option key={i + 1} value={i + 1}>
                  {i + 1}
                </option>
              ))}
            </SelectField>
          </div>
          <details className="more">
            <summary>More options</summary>
            <TextArea
              label="Negative prompt"
              name="negativePrompt"
              value={form.negativePrompt}
              onChange={(e) => update('negativePrompt', e.target.value)}
              maxLength={LIMITS.promptChars}
              rows={2}
              hint="What the image should not show."
              error={errors.negativePrompt}
            />
            <div className="form-grid">
              <TextField
                label="Steps"
                name="steps"
                type="number"
                inputMode="numeric"
                min={1}
                max={maxSteps}
                value={form.steps}
                onChange={(e) =>
                  update('steps', Math.max(1, Math.min(maxSteps, Number(e.target.value) || 1)))
                }
                error={errors.steps}
              />
              <TextField
                label="Guidance"
                name="guidanceScale"
                type="number"
                inputMode="decimal"
                min={0}
                max={LIMITS.maxGuidance}
                step={0.5}
                value={form.guidanceScale}
                onChange={(e) =>
                  update(
                    'guidanceScale',
                    Math.max(0, Math.min(LIMITS.maxGuidance, Number(e.target.value) || 0)),
                  )
                }
                error={errors.guidanceScale}
              />
              <SelectField
                label="Sampler"
                name="sampler"
                value={form.sampler}
                onChange={(e) => update('sampler', e.target.value as Sampler)}
              >
                {SAMPLERS.map((s) => (
                  <option key={s} value={s}>
                    {SAMPLER_LABELS[s]}
                  </option>
                ))}
              </SelectField>
              <TextField
                label="Seed"
                name="seed"
                inputMode="numeric"
                value={form.seed}
                onChange={(e) => update('seed', e.target.value.replace(/[^\d]/g, ''))}
                placeholder="random"
                hint="Same seed and settings, same image."
                error={errors.seed}
              />
            </div>
            <TextField
              label="Slowest worker accepted (seconds per image)"
              name="maxSecondsPerImage"
              inputMode="numeric"
              value={form.maxSecondsPerImage}
              onChange={(e) => update('maxSecondsPerImage', e.target.value.replace(/[^\d]/g, ''))}
              placeholder="any"
              hint="Only workers measured to make one such image this fast take it. Empty: any worker."
              error={errors.maxSecondsPerImage}
            />
          </details>
          <Cost form={form} enabled={!!user && access.allowed} />
          <div className="form-actions">
            <SubmitButton busy={busy} busyLabel="Sending…">
              {form.n > 1 ? `Generate ${form.n} images` : 'Generate'}
            </SubmitButton>
            {running ? <span className="small muted">You can queue more while this runs.</span> : null}
          </div>
        </form>
        <div>
          {view ? (
            <GenerationResults view={view} error={streamError} />
          ) : currentId ? (
            <p className="muted">Loading your generation…</p>
          ) : (
            <div className="empty">
              <p className="empty-title">Your images appear here</p>
              <div className="empty-body">
                <p>Each image is made step by step on a volunteer's computer; you can watch it progress.</p>
              </div>
            </div>
          )}
          {running && user ? <InlineRating /> : null}
        </div>
      </div>
    </Page>
  );
}
