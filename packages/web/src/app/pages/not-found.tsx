import { Link } from 'wouter';
import { Page } from '../ui/page.js';

export default function NotFoundPage() {
  return (
    <Page title="Page not found">
      <p>There is no page at this address. It may have moved, or the link has a typo.</p>
      <div className="row">
        <Link className="button button-primary" href="/">
          Go to the home page
        </Link>
        <Link className="button" href="/generate">
          Generate images
        </Link>
      </div>
    </Page>
  );
}
