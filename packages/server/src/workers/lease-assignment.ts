// What a worker gets from pop: the job's parameters, its lease, and where to put the result (straight to
// the coordinator, or a presigned URL into object storage scoped to this one lease). Also what a worker's
// pop says about its machine, written only when it changed.
import type { JobAssignment, PopBody } from '@dreamfold/protocol';
import { toIso } from '../ids.js';
import type { JobRow } from '../jobs/sql/read-generations.js';
import { generationParams } from '../jobs/views.js';
import { updateCapabilities } from './queries.js';
import type { LeaseDeps } from './lease-context.js';

/** Where a presigned upload lands before it is checked; scoped to one lease so it cannot overwrite anything else. */
export function stagingKey(jobId: string, leaseId: string): string {
  return `uploads/${jobId}/${leaseId}.png`;
}

export class Assignments {
  private readonly capabilitiesSeen = new Map<string, { json: string; at: number }>();

  constructor(private readonly deps: LeaseDeps) {}

  async ofJob(job: JobRow, workerId: string): Promise<JobAssignment> {
    const g = await this.deps.generations.get(job.generation_id);
    // Where the bus can send it from inside a statement, the claim did (jobs/sql/claim-job.ts).
    if (!this.deps.bus.generationNoticeSql) {
      await this.deps.publisher.emitBeforeReplying(job.generation_id, {
        type: 'started',
        index: job.idx,
        workerId,
      });
    }
    const leaseId = job.lease_id as string;
    return {
      id: job.id,
      leaseId,
      leaseExpiresAt: toIso(job.lease_expires_at as number),
      heartbeatIntervalMs: this.deps.settings.heartbeatIntervalMs,
      attempt: job.attempts,
      params: { ...generationParams(g), seed: job.seed },
      upload: await this.uploadTarget(job.id, leaseId),
    };
  }

  async uploadTarget(jobId: string, leaseId: string): Promise<JobAssignment['upload']> {
    const { blobs, settings } = this.deps;
    const direct = `${settings.publicUrl()}/v1/jobs/${jobId}/result?leaseId=${leaseId}`;
    if (!blobs.presignUpload) return { kind: 'direct', url: direct };
    const key = stagingKey(jobId, leaseId);
    const p = await blobs.presignUpload(key, {
      contentType: 'image/png',
      expiresInSeconds: settings.uploadUrlTtlSeconds,
    });
    return { kind: 'presigned', url: p.url, key, expiresAt: toIso(p.expiresAt), headers: p.headers };
  }

  /** Capabilities change rarely; write them (and last_seen) only when they changed or every 15 s. */
  async recordCapabilities(workerId: string, body: PopBody): Promise<void> {
    const json = JSON.stringify([
      body.backend,
      body.models,
      body.maxPixels,
      body.hardware ?? {},
      body.version,
    ]);
    const now = this.deps.clock.now();
    const seen = this.capabilitiesSeen.get(workerId);
    if (seen && seen.json === json && now - seen.at < 15_000) return;
    this.capabilitiesSeen.set(workerId, { json, at: now });
    await updateCapabilities(this.deps.db, {
      id: workerId,
      backend: body.backend,
      models: JSON.stringify(body.models),
      max_pixels: body.maxPixels,
      hardware: JSON.stringify(body.hardware ?? {}),
      version: body.version ?? null,
      last_seen_at: now,
    });
  }
}
