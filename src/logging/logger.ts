import { type DestinationStream, type Logger, pino } from 'pino';
import { currentRequest } from '../http/request-scope.ts';

export type { Logger };

/**
 * Structured JSON logs. Redaction is a second line of defence: code never logs
 * passwords, secrets or tokens on purpose, but request bodies and headers must not leak them either.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'umbral' },
    // Lines written while a request is served name it (src/http/request-scope.ts).
    mixin: () => {
      const request = currentRequest();
      return request ? { requestId: request.requestId } : {};
    },
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
