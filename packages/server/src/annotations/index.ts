// The annotations domain as the rest of the coordinator sees it: built once in app.ts.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Dialect } from '../db/connect.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { CreditsService } from '../credits/service.js';
import { ImagePool } from './pool.js';
import { AnnotationService } from './service.js';
import { AnswerService } from './answer.js';
import { GoldService } from './gold.js';
import { RaterService } from './raters.js';

export interface Annotations {
  /** Hand-out, task images, a user's standing, image aggregates. */
  tasks: AnnotationService;
  answers: AnswerService;
  gold: GoldService;
  /** Raters for moderators: the list, reinstating. */
  raters: RaterService;
}

export function createAnnotations(deps: {
  db: Kysely<Database>;
  dialect: Dialect;
  clock: Clock;
  credits: CreditsService;
  config: Config;
}): Annotations {
  const settings = { ...deps.config.annotations, reward: deps.config.credits.annotationReward };
  const pool = new ImagePool(deps.db);
  return {
    tasks: new AnnotationService(deps.db, deps.dialect, deps.clock, pool, settings),
    answers: new AnswerService(deps.db, deps.dialect, deps.clock, deps.credits, settings),
    gold: new GoldService(deps.db, deps.clock, pool),
    raters: new RaterService(deps.db, deps.dialect, deps.clock, settings),
  };
}

export { annotationRoutes } from './routes.js';
export { annotationAdminRoutes } from './admin-routes.js';
