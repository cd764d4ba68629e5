// Donate compute: what a donor needs, a fresh worker key with the exact command to run, the donor's
// workers with their status and throughput, and what they earned.
import { useMemo, useState, type FormEvent } from 'react';
import { Link } from 'wouter';
import type { CurrentJob, RegisteredWorker, WorkerActivityList, WorkerInfo } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { useSession } from '../session.js';
import { Page } from '../ui/page.js';
import { Empty, ErrorMessage, Loading, Notice } from '../ui/feedback.js';
import { CopyButton, SelectField, SubmitButton, TextField } from '../ui/forms.js';
import { ConfirmButton } from '../ui/confirm-button.js';
import { useResource } from '../ui/use-resource.js';
import { LineChart } from '../ui/line-chart.js';
import { hourlySeries } from '../lib/throughput.js';
import { formatAgo, formatCount, formatMegapixelSteps, plural } from '../lib/format.js';
import { PROVIDERS, workerCommand, type Provider } from './donate-command.js';
import { useCredits } from './credits-card.js';
import { WorkerDetails } from './donate-worker-details.js';
import { Leaderboard } from './donate-leaderboard.js';

function Requirements() {
  return (
    <section className="card" aria-labelledby="needs-heading">
      <h2 id="needs-heading">What you need</h2>
      <ul>
        <li>
          A GPU with <strong>at least 5.1 GB of memory</strong> (NVIDIA with CUDA 12, or DirectML on Windows),
          or an
          <strong> Apple M1</strong> or newer. A CPU works too, slowly.
        </li>
        <li>Node.js 20.19 or newer, and an ONNX Stable Diffusion model folder (for example sd-1.5).</li>
        <li>
          An outgoing internet connection: the worker asks for jobs, so it works behind NAT and firewalls, and
          on cluster nodes as a batch job.
        </li>
      </ul>
      <p className="small muted">
        Your worker earns credits for every image it makes, weighted by size and steps. Stop it any time: the
        first Ctrl+C finishes the current image, a second hands it back.
      </p>
    </section>
  );
}

function NewWorker({ onCreated }: { onCreated: () => void }) {
  const [registered, setRegistered] = useState<RegisteredWorker>();
  const [provider, setProvider] = useState<Provider>('cuda');
  const [modelDir, setModelDir] = useState('./models/sd-1.5');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const name = String(new FormData(event.currentTarget).get('name') ?? '').trim();
    setBusy(true);
    setError(undefined);
    try {
      setRegistered(await api.post<RegisteredWorker>('/v1/workers', { name }));
      onCreated();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const command = registered
    ? workerCommand({
        server: window.location.origin,
        key: registered.key,
        provider,
        modelDir: modelDir || './models/sd-1.5',
      })
    : '';
  return (
    <section className="card" aria-labelledby="new-worker-heading">
      <h2 id="new-worker-heading">Start a worker</h2>
      <form onSubmit={submit} className="row">
        <div className="grow">
          <TextField
            label="Name this machine"
            name="name"
            required
            maxLength={80}
            placeholder="e.g. lab-gpu-01"
          />
        </div>
        <SubmitButton busy={busy} busyLabel="Creating…">
          Create a worker key
        </SubmitButton>
      </form>
      <ErrorMessage error={error} />
      {registered ? (
        <div className="new-worker">
          <Notice kind="success">
            <p>
              Worker <strong>{registered.worker.name}</strong> is registered. Its key is shown only once: copy
              the command now.
            </p>
          </Notice>
          <div className="form-grid">
            <SelectField
              label="Your hardware"
              value={provider}
              onChange={(e) => setProvider(e.target.value as Provider)}
            >
              {PROVIDERS.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.label}
                </option>
              ))}
            </SelectField>
            <TextField
              label="Model folder"
              value={modelDir}
              onChange={(e) => setModelDir(e.target.value)}
              spellCheck={false}
            />
          </div>
          <pre className="command" id="worker-command" aria-label="Command to run on your machine">
            {command}
          </pre>
          <CopyButton text={command} label="Copy command" targetId="worker-command" />
        </div>
      ) : null}
    </section>
  );
}

/** What the worker is making now, with its step progress; fixed height, so rows do not jump. */
function CurrentJobCell({ job }: { job: CurrentJob | undefined }) {
  if (!job) return <span className="muted">–</span>;
  return (
    <div className="current-job">
      <span>
        {job.model} {job.width}×{job.height}, step {job.step} of {job.totalSteps}
      </span>
      <progress max={job.totalSteps} value={job.step} aria-label={`Job ${job.jobId} progress`} />
      <span className="small muted mono">{job.jobId}</span>
    </div>
  );
}

function WorkerRow({
  worker,
  currentJob,
  onRevoke,
}: {
  worker: WorkerInfo;
  currentJob: CurrentJob | undefined;
  onRevoke: (id: string) => Promise<void>;
}) {
  const [busy, setBusy] = useState(false);
  const hardware = [
    worker.hardware.gpu,
    worker.hardware.provider,
    worker.hardware.vramMb ? `${Math.round(worker.hardware.vramMb / 1024)} GB` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  return (
    <tr>
      <th scope="row">
        {worker.name}
        <div className="small muted mono">{worker.keyPrefix}…</div>
      </th>
      <td>
        {worker.online ? (
          <span className="pill pill-online">online</span>
        ) : (
          <span className="pill">offline</span>
        )}
        <div className="small muted">
          {worker.lastSeenAt ? `seen ${formatAgo(worker.lastSeenAt)}` : 'never connected'}
        </div>
      </td>
      <td>
        {worker.models.length ? worker.models.join(', ') : '–'}
        {hardware ? <div className="small muted">{hardware}</div> : null}
      </td>
      <td>
        <CurrentJobCell job={currentJob} />
      </td>
      <td className="num">{formatCount(worker.jobsDone)}</td>
      <td className="num">{formatCount(worker.jobsFailed)}</td>
      <td>
        <ConfirmButton
          question={`Revoke ${worker.name}'s key?`}
          confirmLabel="Revoke"
          busy={busy}
          onConfirm={() => {
            setBusy(true);
            void onRevoke(worker.id).finally(() => setBusy(false));
          }}
        >
          Revoke
        </ConfirmButton>
      </td>
    </tr>
  );
}

function MyWorkers({ reloadKey }: { reloadKey: number }) {
  const workers = useResource(
    (signal) => api.get<{ items: WorkerInfo[] }>('/v1/workers', { signal }),
    [reloadKey],
    {
      pollMs: 5000,
    },
  );
  const activity = useResource(
    (signal) => api.get<WorkerActivityList>('/v1/workers/activity', { signal, query: { days: 7 } }),
    [reloadKey],
    { pollMs: 5000 },
  );
  const credits = useCredits(30_000);
  const [error, setError] = useState<unknown>();
  const active = useMemo(() => workers.data?.items.filter((w) => !w.revokedAt) ?? [], [workers.data]);
  const current = useMemo(
    () => new Map(activity.data?.items.map((a) => [a.workerId, a.currentJob]) ?? []),
    [activity.data],
  );

  const charts = useMemo(() => {
    if (!activity.data) return undefined;
    const h = hourlySeries(activity.data);
    const of = (values: Record<string, number[]>) =>
      active.map((w) => ({ label: w.name, values: values[w.id] ?? h.times.map(() => 0) }));
    return { times: h.times, jobs: of(h.jobs), megapixelSteps: of(h.megapixelSteps), totals: h.totals };
  }, [activity.data, active]);

  async function revoke(id: string) {
    setError(undefined);
    try {
      await api.delete(`/v1/workers/${id}`);
      workers.reload();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <section className="card" aria-labelledby="workers-heading">
      <h2 id="workers-heading">Your workers</h2>
      {credits.data ? (
        <p>
          Your workers earned <strong>{formatCount(credits.data.earnedFromWorkers)}</strong> credits so far.{' '}
          <Link href="/credits">History</Link>
        </p>
      ) : null}
      <ErrorMessage error={error} />
      {workers.loading && !workers.data ? (
        <Loading lines={3} />
      ) : workers.error && !workers.data ? (
        <ErrorMessage error={workers.error} retry={workers.reload} />
      ) : active.length === 0 ? (
        <Empty title="No workers yet">
          Create a worker key above and run the command on a machine with a GPU.
        </Empty>
      ) : (
        <>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Your workers, refreshed every 5 seconds</caption>
              <thead>
                <tr>
                  <th scope="col">Worker</th>
                  <th scope="col">Status</th>
                  <th scope="col">Models</th>
                  <th scope="col">Current job</th>
                  <th scope="col" className="num">
                    Jobs done
                  </th>
                  <th scope="col" className="num">
                    Failed
                  </th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {active.map((w) => (
                  <WorkerRow key={w.id} worker={w} currentJob={current.get(w.id)} onRevoke={revoke} />
                ))}
              </tbody>
            </table>
          </div>
          {active.map((w) => (
            <WorkerDetails key={w.id} worker={w} />
          ))}
          <h3>Throughput, last 7 days</h3>
          {charts ? (
            <>
              <p className="small muted">
                {active
                  .map((w) => {
                    const t = charts.totals[w.id];
                    return `${w.name}: ${plural(t?.jobs ?? 0, 'job')}, ${formatMegapixelSteps(t?.megapixelSteps ?? 0)} megapixel-steps`;
                  })
                  .join(' · ')}
              </p>
              <LineChart
                times={charts.times}
                series={charts.jobs}
                yLabel="jobs / hour"
                title="Jobs finished per hour by each worker over the last 7 days"
              />
              <LineChart
                times={charts.times}
                series={charts.megapixelSteps}
                yLabel="Mpx-steps / hour"
                title="Megapixel-steps (width × height × steps / 10⁶) per hour by each worker over the last 7 days"
              />
            </>
          ) : activity.error ? (
            <ErrorMessage error={activity.error} retry={activity.reload} />
          ) : (
            <Loading lines={3} />
          )}
        </>
      )}
    </section>
  );
}

export default function DonatePage() {
  const { user, state } = useSession();
  const [reloadKey, setReloadKey] = useState(0);
  return (
    <Page
      title="Donate compute"
      intro="Dreamfold runs on donated GPUs, like Folding@home: run the worker on an idle machine and it makes images for everyone."
    >
      <Requirements />
      {state.status === 'loading' ? (
        <Loading />
      ) : user ? (
        <>
          <NewWorker onCreated={() => setReloadKey((k) => k + 1)} />
          <MyWorkers reloadKey={reloadKey} />
          <Leaderboard signedIn />
        </>
      ) : (
        <div className="card">
          <p>Sign in to create a worker key and see your workers.</p>
          <Link className="button button-primary" href="/sign-in?next=/donate">
            Sign in
          </Link>
        </div>
      )}
      {state.status !== 'loading' && !user ? <Leaderboard signedIn={false} /> : null}
    </Page>
  );
}
