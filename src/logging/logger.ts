import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Redaction is a second line of defence: code never logs
 * passwords, secrets or tokens on purpose, but request bodies and headers must not leak them either.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'umbral' },
    redact: {
      paths: [
        'password',
        '*.password',
        'client_secret',
        '*.client_secret',
        'clientSecret',
        '*.clientSecret',
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        'token',
        '*.token',
      ],
      censor: '[redacted]',
    },
  };
  // Standard output unless told otherwise (tests read what is logged).
  return destination ? pino(options, destination) : pino(options);
}
