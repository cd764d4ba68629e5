// Every page: its <title>, one <h1> that takes focus after client-side navigation (so screen readers
// announce the new page, as a full page load would), and a consistent width.
import { useEffect, useRef, type ReactNode } from 'react';

// The address the visit started at: until it changes, the browser's own focus handling stands.
const firstUrl = window.location.href;
let navigated = false;

export function Page({
  title,
  heading,
  intro,
  wide,
  children,
}: {
  title: string;
  heading?: ReactNode;
  intro?: ReactNode;
  wide?: boolean;
  children: ReactNode;
}) {
  const h1 = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = title === 'Dreamfold' ? title : `${title} · Dreamfold`;
    // The first page of a visit keeps the browser's own focus; later navigations move it to the heading.
    navigated ||= window.location.href !== firstUrl;
    if (navigated) h1.current?.focus({ preventScroll: false });
  }, [title]);
  return (
    <div className={wide ? 'page page-wide' : 'page'}>
      <h1 ref={h1} tabIndex={-1}>
        {heading ?? title}
      </h1>
      {intro ? <p className="lead">{intro}</p> : null}
      {children}
    </div>
  );
}
