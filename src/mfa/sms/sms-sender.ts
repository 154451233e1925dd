/** One text message to a phone in E.164. */
export interface SmsMessage {
  to: string;
  body: string;
}

/** Where SMS codes go (the provider port): Twilio in production, the log and dev outbox in development. */
export interface SmsSender {
  readonly kind: 'twilio' | 'log';
  send(message: SmsMessage): Promise<void>;
}

/** The provider refused or could not be reached; the person is told to try again or use another factor. */
export class SmsDeliveryError extends Error {
  override name = 'SmsDeliveryError';
}

/** +5215512345678 → +52•••••••5678: enough for a person to recognise their number, in pages and logs. */
export function maskPhone(phone: string): string {
  if (phone.length <= 6) return phone;
  return `${phone.slice(0, 3)}${'•'.repeat(Math.max(phone.length - 7, 1))}${phone.slice(-4)}`;
}
