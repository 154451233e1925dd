import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const TWILIO_SID = `AC${'0123456789abcdef'.repeat(2)}`;
export const TWILIO_TOKEN = 'test-auth-token-0123456789';
export const TWILIO_FROM = '+15005550006';

export interface TwilioCall {
  path: string;
  authorization: string | undefined;
  form: URLSearchParams;
}

/** A local stand-in for Twilio's REST API: records every Messages.json call; `failNext` answers one with an error. */
export async function startTwilioStandIn() {
  const calls: TwilioCall[] = [];
  let failures = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      calls.push({ path: req.url ?? '', authorization: req.headers.authorization, form: new URLSearchParams(body) });
      if (failures > 0) {
        failures -= 1;
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end(JSON.stringify({ code: 21211, message: "The 'To' number is not a valid phone number.", status: 400 }));
        return;
      }
      res
        .writeHead(201, { 'content-type': 'application/json' })
        .end(JSON.stringify({ sid: `SM${calls.length}`, status: 'queued' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    calls,
    env: {
      SMS_PROVIDER: 'twilio',
      TWILIO_ACCOUNT_SID: TWILIO_SID,
      TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
      TWILIO_FROM,
      TWILIO_BASE_URL: baseUrl,
    },
    failNext() {
      failures += 1;
    },
    /** The code in the last message sent to `to`. */
    lastCode(to: string): string {
      const call = [...calls].reverse().find((c) => c.form.get('To') === to);
      const code = /\b(\d{6})\b/.exec(call?.form.get('Body') ?? '')?.[1];
      if (!code) throw new Error(`no SMS code sent to ${to}`);
      return code;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
