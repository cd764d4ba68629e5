// The shell: skip link, header with navigation (a disclosure menu at phone width), the routes, footer.
// Pages load on demand, so the first visit downloads only the shell and the page it lands on.
import { lazy, Suspense, useEffect, useRef, useState, type ReactNode } from 'react';
import { Link, Route, Switch, useLocation } from 'wouter';
import { SessionProvider, hasRole, useSession } from './session.js';
import { Loading } from './ui/feedback.js';
import { HomePage } from './pages/home.js';

const SignInPage = lazy(() => import('./pages/sign-in.js'));
const SignUpPage = lazy(() => import('./pages/sign-up.js'));
const VerifyEmailPage = lazy(() => import('./pages/verify-email.js'));
const ResetPasswordPage = lazy(() => import('./pages/reset-password.js'));
const AccountPage = lazy(() => import('./pages/account.js'));
const GeneratePage = lazy(() => import('./pages/generate.js'));
const GenerationPage = lazy(() => import('./pages/generation.js'));
const MyImagesPage = lazy(() => import('./pages/my-images.js'));
const GalleryPage = lazy(() => import('./pages/gallery.js'));
const ImagePage = lazy(() => import('./pages/image.js'));
const RatePage = lazy(() => import('./pages/rate.js'));
const CreditsPage = lazy(() => import('./pages/credits.js'));
const DatasetsPage = lazy(() => import('./pages/datasets.js'));
const DonatePage = lazy(() => import('./pages/donate.js'));
const ModerationPage = lazy(() => import('./pages/moderation.js'));
const AdminPage = lazy(() => import('./pages/admin.js'));
const NotFoundPage = lazy(() => import('./pages/not-found.js'));

function NavLink({ href, children }: { href: string; children: ReactNode }) {
  const [location] = useLocation();
  const current = location === href || (href !== '/' && location.startsWith(`${href}/`));
  return (
    <Link href={href} aria-current={current ? 'page' : undefined}>
      {children}
    </Link>
  );
}

/** The signed-in user's menu: credits, account, staff pages, sign out. Closes on Escape and outside clicks. */
function AccountMenu() {
  const { user, signOut } = useSession();
  const [open, setOpen] = useState(false);
  const [location, navigate] = useLocation();
  const box = useRef<HTMLLIElement>(null);
  useEffect(() => setOpen(false), [location]);
  useEffect(() => {
    if (!open) return;
    const onDown = (event: MouseEvent) => {
      if (!box.current?.contains(event.target as Node)) setOpen(false);
    };
    const onKey = (event: globalThis.KeyboardEvent) => {
      if (event.key === 'Escape') {
        setOpen(false);
        box.current?.querySelector('button')?.focus();
      }
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);
  if (!user) return null;
  return (
    <li className="account-menu" ref={box}>
      <button
        type="button"
        className="link-button account-button"
        aria-expanded={open}
        aria-controls="account-menu-list"
        onClick={() => setOpen((o) => !o)}
      >
        {user.displayName ?? 'Account'} <span aria-hidden="true">▾</span>
      </button>
      <ul id="account-menu-list" className={open ? 'account-list account-list-open' : 'account-list'}>
        <li>
          <NavLink href="/credits">Credits</NavLink>
        </li>
        <li>
          <NavLink href="/account">Account</NavLink>
        </li>
        {hasRole(user, 'moderator') ? (
          <li>
            <NavLink href="/moderation">Moderation</NavLink>
          </li>
        ) : null}
        {hasRole(user, 'admin') ? (
          <li>
            <NavLink href="/admin">Admin</NavLink>
          </li>
        ) : null}
        <li>
          <button
            type="button"
            className="link-button"
            onClick={() => void signOut().finally(() => navigate('/'))}
          >
            Sign out
          </button>
        </li>
      </ul>
    </li>
  );
}

function Header() {
  const { user, stage, state } = useSession();
  const [open, setOpen] = useState(false);
  const [location] = useLocation();
  // Close the phone menu after navigating.
  useEffect(() => setOpen(false), [location]);
  return (
    <header className="header">
      <div className="header-inner">
        <Link href="/" className="brand">
          <img src="/favicon.svg" alt="" width="26" height="26" />
          Dreamfold
        </Link>
        {stage ? (
          <span
            className="stage-badge"
            title={stage === 'research' ? 'Research access stage' : 'Open to everyone'}
          >
            {stage === 'research' ? 'Research' : 'Open'}
          </span>
        ) : null}
        <button
          type="button"
          className="button button-small menu-button"
          aria-expanded={open}
          aria-controls="site-nav"
          onClick={() => setOpen((o) => !o)}
        >
          Menu
        </button>
        <nav id="site-nav" className={open ? 'nav nav-open' : 'nav'} aria-label="Main">
          <ul>
            <li>
              <NavLink href="/generate">Generate</NavLink>
            </li>
            <li>
              <NavLink href="/gallery">Gallery</NavLink>
            </li>
            {user ? (
              <>
                <li>
                  <NavLink href="/my-images">My images</NavLink>
                </li>
                <li>
                  <NavLink href="/rate">Rate</NavLink>
                </li>
              </>
            ) : null}
            <li>
              <NavLink href="/donate">Donate</NavLink>
            </li>
            <li>
              <NavLink href="/datasets">Datasets</NavLink>
            </li>
          </ul>
          {/* A fixed-width slot while the session loads, so the header does not jump. */}
          <ul className="nav-secondary" aria-busy={state.status === 'loading' || undefined}>
            {state.status === 'loading' ? (
              <li aria-hidden="true" className="nav-placeholder" />
            ) : user ? (
              <AccountMenu />
            ) : (
              <>
                <li>
                  <NavLink href="/sign-in">Sign in</NavLink>
                </li>
                <li>
                  <NavLink href="/sign-up">{stage === 'research' ? 'Apply' : 'Sign up'}</NavLink>
                </li>
              </>
            )}
          </ul>
        </nav>
      </div>
    </header>
  );
}

function SessionEndedNotice() {
  const { state } = useSession();
  const [location] = useLocation();
  if (state.status !== 'signed-out' || !state.ended || location.startsWith('/sign-in')) return null;
  return (
    <div className="page page-wide page-notice">
      <div className="alert alert-warning" role="alert">
        Your session ended. <Link href={`/sign-in?next=${encodeURIComponent(location)}`}>Sign in again</Link>{' '}
        to continue where you were.
      </div>
    </div>
  );
}

function Routes() {
  return (
    <Switch>
      <Route path="/" component={HomePage} />
      <Route path="/sign-in" component={SignInPage} />
      <Route path="/sign-up" component={SignUpPage} />
      <Route path="/verify-email" component={VerifyEmailPage} />
      <Route path="/reset-password" component={ResetPasswordPage} />
      <Route path="/account" component={AccountPage} />
      <Route path="/generate" component={GeneratePage} />
      <Route path="/generations/:id" component={GenerationPage} />
      <Route path="/my-images" component={MyImagesPage} />
      <Route path="/gallery" component={GalleryPage} />
      <Route path="/images/:id" component={ImagePage} />
      <Route path="/rate" component={RatePage} />
      <Route path="/credits" component={CreditsPage} />
      <Route path="/datasets" component={DatasetsPage} />
      <Route path="/donate" component={DonatePage} />
      <Route path="/moderation" component={ModerationPage} />
      <Route path="/admin" component={AdminPage} />
      <Route component={NotFoundPage} />
    </Switch>
  );
}

export function App() {
  return (
    <SessionProvider>
      <div className="app">
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <Header />
        <main id="main" tabIndex={-1}>
          <SessionEndedNotice />
          <Suspense
            fallback={
              <div className="page">
                <Loading label="Loading the page…" />
              </div>
            }
          >
            <Routes />
          </Suspense>
        </main>
        <footer className="footer">
          <div className="footer-inner">
            <span>Dreamfold: open images, open data, donated compute.</span>
            <a href="/docs">API documentation</a>
            <Link href="/donate">Run a worker</Link>
          </div>
        </footer>
      </div>
    </SessionProvider>
  );
}
