import type { IncomingMessage, ServerResponse } from 'node:http';
import test from 'ava';
import Koa from 'koa';
import { languageHref, pageLocale } from '../../src/http/page-locale.ts';

function contextFor(method: string, url: string, headers: Record<string, string> = {}) {
  const req = { method, url, headers: { host: 'idp.example', ...headers }, socket: {} } as unknown as IncomingMessage;
  const res = { getHeader: () => undefined, setHeader: () => undefined } as unknown as ServerResponse;
  return new Koa().createContext(req, res);
}

test('a language link is the page with lang set, its other parameters kept', (t) => {
  t.is(languageHref(contextFor('GET', '/interaction/abc?x=1&lang=es'), 'en'), '/interaction/abc?x=1&lang=en');
  t.is(languageHref(contextFor('GET', '/a/..//evil.example/x'), 'en'), '/evil.example/x?lang=en', 'never //host');
});

test("a form's answer links to the page the form was posted from (its own URL may not answer GET)", (t) => {
  const posted = contextFor('POST', '/interaction/abc/password', { referer: 'http://idp.example/interaction/abc?y=2' });
  t.is(languageHref(posted, 'pt-BR'), '/interaction/abc?y=2&lang=pt-BR');
  const foreign = contextFor('POST', '/password/forgot?z=3', { referer: 'https://elsewhere.example/page?q=1' });
  t.is(languageHref(foreign, 'en'), '/password/forgot?lang=en', 'another site’s address is not followed');
});

test('the choice in this browser, then ui_locales (the interaction’s or the query’s), then Accept-Language', (t) => {
  const ctx = contextFor('GET', '/session/end?ui_locales=pt-BR', { 'accept-language': 'en' });
  t.is(pageLocale(ctx), 'pt-BR');
  t.is(pageLocale(ctx, 'en'), 'en', "the interaction's ui_locales first");
  ctx.state['chosenLocale'] = 'es';
  t.is(pageLocale(ctx, 'en'), 'es');
  t.is(pageLocale(contextFor('GET', '/legal/terms', { 'accept-language': 'en-GB' })), 'en');
});
