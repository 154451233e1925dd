/**
 * A browser without JavaScript, for flows over plain HTTP: keeps cookies per host path,
 * follows redirects by hand (so tests see every hop) and submits the page's forms.
 */
interface StoredCookie {
  name: string;
  value: string;
  path: string;
}

export interface Page {
  url: string;
  status: number;
  headers: Headers;
  body: string;
}

export class HttpBrowser {
  private cookies = new Map<string, StoredCookie>();
  /** Every response seen, in order. */
  readonly history: Page[] = [];

  /** `fetcher` stands in for fetch, e.g. to reach a test portal over HTTPS with its own certificate. */
  constructor(
    private readonly headers: Record<string, string> = {},
    private readonly fetcher: typeof fetch = fetch,
  ) {}

  private cookieHeader(url: URL): string {
    return [...this.cookies.values()]
      .filter(
        (c) =>
          url.pathname === c.path ||
          url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`) ||
          c.path === '/',
      )
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  private store(response: Response, url: URL): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const pathAttr = attributes.find((a) => a.toLowerCase().startsWith('path='));
      const path = pathAttr ? pathAttr.slice(5) : url.pathname.replace(/\/[^/]*$/, '') || '/';
      const expired =
        attributes.some((a) => /^expires=Thu, 01 Jan 1970/i.test(a)) || attributes.some((a) => /^max-age=0$/i.test(a));
      const key = `${name};${path}`;
      if (expired || value === '') this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }

  cookieNames(): string[] {
    return [...this.cookies.values()].map((c) => c.name);
  }

  async request(
    url: string,
    init: {
      method?: string;
      /** An array value repeats the field (checkboxes sharing a name). */
      form?: Record<string, string | string[]>;
      /** A multipart/form-data body (fetch sets its content type with the boundary). */
      multipart?: FormData;
      headers?: Record<string, string>;
    } = {},
  ): Promise<Page> {
    const target = new URL(url);
    const response = await this.fetcher(target, {
      method: init.method ?? (init.form || init.multipart ? 'POST' : 'GET'),
      redirect: 'manual',
      headers: {
        ...this.headers,
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...(this.cookieHeader(target) ? { cookie: this.cookieHeader(target) } : {}),
        ...init.headers,
      },
      ...(init.form ? { body: urlencoded(init.form) } : {}),
      ...(init.multipart ? { body: init.multipart } : {}),
    });
    this.store(response, target);
    const page = { url: target.href, status: response.status, headers: response.headers, body: await response.text() };
    this.history.push(page);
    return page;
  }

  /** GETs `url` and follows redirects until one leaves for `stopAt` (returned unfollowed) or a page renders. */
  async follow(page: Page, stopAt?: string): Promise<Page> {
    let current = page;
    for (let hops = 0; hops < 20 && current.status >= 300 && current.status < 400; hops++) {
      const location = new URL(current.headers.get('location')!, current.url).href;
      if (stopAt && location.startsWith(stopAt)) return { ...current, url: location };
      current = await this.request(location);
    }
    return current;
  }

  async open(url: string, stopAt?: string): Promise<Page> {
    return this.follow(await this.request(url), stopAt);
  }

  /** Submits the form whose action contains `actionPart`, with its hidden fields plus `fields`. */
  async submit(
    page: Page,
    actionPart: string,
    fields: Record<string, string | string[]>,
    stopAt?: string,
  ): Promise<Page> {
    const form = formOf(page.body, actionPart);
    const response = await this.request(new URL(form.action, page.url).href, { form: { ...form.hidden, ...fields } });
    return this.follow(response, stopAt);
  }
}

/**
 * Submits a multipart form (enctype="multipart/form-data") as a browser does: its hidden fields,
 * `fields` (an array for repeated names, such as checkboxes) and `files` ({ field: [name, text] }).
 */
export async function submitMultipart(
  browser: HttpBrowser,
  page: Page,
  actionPart: string,
  fields: Record<string, string | string[]>,
  files: Record<string, [string, string]> = {},
): Promise<Page> {
  const form = formOf(page.body, actionPart);
  const body = new FormData();
  for (const [name, value] of Object.entries({ ...form.hidden, ...fields })) {
    for (const one of Array.isArray(value) ? value : [value]) body.append(name, one);
  }
  for (const [name, [filename, text]] of Object.entries(files)) {
    body.append(name, new Blob([text], { type: 'text/csv' }), filename);
  }
  const response = await browser.request(new URL(form.action, page.url).href, { multipart: body });
  return browser.follow(response);
}

export function formOf(html: string, actionPart: string): { action: string; hidden: Record<string, string> } {
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)];
  const match = forms.find((f) => (/action="([^"]*)"/.exec(f[1] ?? '')?.[1] ?? '').includes(actionPart));
  if (!match) throw new Error(`no form with action containing ${actionPart}`);
  const action = decode(/action="([^"]*)"/.exec(match[1] ?? '')![1]!);
  const hidden: Record<string, string> = {};
  for (const input of match[2]!.matchAll(/<input\b[^>]*type="hidden"[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(input[0])?.[1];
    const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? '';
    if (name) hidden[name] = decode(value);
  }
  return { action, hidden };
}

function urlencoded(form: Record<string, string | string[]>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(form)) {
    for (const one of Array.isArray(value) ? value : [value]) params.append(name, one);
  }
  return params.toString();
}

function decode(s: string): string {
  return s
    .replace(/&amp;/g, '&')
    .replace(/&#34;|&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');
}
