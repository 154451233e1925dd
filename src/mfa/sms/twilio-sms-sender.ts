import type { SmsMessage, SmsSender } from './sms-sender.ts';
import { SmsDeliveryError } from './sms-sender.ts';

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  /** A Twilio number in E.164, or a messaging service SID (MG…). */
  from: string;
  /** https://api.twilio.com, or a stand-in (tests, a regional edge). */
  baseUrl: string;
  timeoutMs?: number;
}

/** Twilio's Messages API over fetch: POST /2010-04-01/Accounts/{sid}/Messages.json with basic auth. */
export class TwilioSmsSender implements SmsSender {
  readonly kind = 'twilio';

  constructor(private readonly settings: TwilioSettings) {}

  async send(message: SmsMessage): Promise<void> {
    const { accountSid, authToken, from, baseUrl } = this.settings;
    const form = new URLSearchParams({ To: message.to, Body: message.body });
    form.set(from.startsWith('MG') ? 'MessagingServiceSid' : 'From', from);
    let response: Response;
    try {
      response = await fetch(`${baseUrl}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form.toString(),
        signal: AbortSignal.timeout(this.settings.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new SmsDeliveryError(`Twilio unreachable: ${(error as Error).message}`);
    }
    if (!response.ok) {
      // Twilio's error body names the problem (code, message) and never echoes the message body.
      const detail = (await response.json().catch(() => ({}))) as { code?: number; message?: string };
      throw new SmsDeliveryError(
        `Twilio refused the message: HTTP ${response.status}${detail.code ? ` code ${detail.code}` : ''}${detail.message ? `: ${detail.message}` : ''}`,
      );
    }
    await response.body?.cancel();
  }
}
