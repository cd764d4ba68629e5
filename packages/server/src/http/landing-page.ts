/** A plain page at `/` until the web app lands: what this is and where the API lives. */
export function landingPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Dreamfold</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5">
<h1>Dreamfold</h1>
<p>An open, volunteer-powered text-to-image platform. Everything generated here is released as open datasets.</p>
<ul><li><a href="/docs">API documentation</a> (<a href="/openapi.json">OpenAPI 3.1</a>)</li>
<li><a href="/v1/stats">Live figures</a></li></ul>
</body></html>`;
}
