// Moderation (moderators and admins): research applications, reported images, hidden images, appeals,
// workers (standing, state history, reinstating a suspended one), audit log.
import { Link, useSearch } from 'wouter';
import { Page } from '../ui/page.js';
import { RequireUser } from '../ui/require.js';
import { Applications } from './moderation-applications.js';
import { HiddenImages, Reports } from './moderation-reports.js';
import { AuditLog } from './moderation-audit.js';
import { Appeals } from './moderation-appeals.js';
import { Workers } from './moderation-workers.js';

const TABS = [
  { id: 'applications', label: 'Applications', Component: Applications },
  { id: 'reports', label: 'Reports', Component: Reports },
  { id: 'hidden', label: 'Hidden images', Component: HiddenImages },
  { id: 'appeals', label: 'Appeals', Component: Appeals },
  { id: 'workers', label: 'Workers', Component: Workers },
  { id: 'audit', label: 'Audit log', Component: AuditLog },
] as const;

export default function ModerationPage() {
  const tabParam = new URLSearchParams(useSearch()).get('tab');
  const tab = TABS.find((t) => t.id === tabParam) ?? TABS[0];
  return (
    <RequireUser title="Moderation" role="moderator" why="to moderate">
      {() => (
        <Page title="Moderation" wide>
          <nav aria-label="Moderation sections" className="tabs">
            {TABS.map((t) => (
              <Link
                key={t.id}
                href={`/moderation?tab=${t.id}`}
                aria-current={t.id === tab.id ? 'page' : undefined}
              >
                {t.label}
              </Link>
            ))}
          </nav>
          <h2 className="visually-hidden">{tab.label}</h2>
          <tab.Component key={tab.id} />
        </Page>
      )}
    </RequireUser>
  );
}
