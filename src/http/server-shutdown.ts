import type http from 'node:http';

/**
 * How the server stops at SIGTERM without waiting on keep-alive connections. `server.close()` stops
 * accepting connections and closes the idle ones, but Node keeps serving a connection that is never
 * idle: a load balancer or client that sends its next request as soon as a response arrives keeps
 * it busy until the forced exit. Once `close()` is called, responses in flight and any response
 * still to come on an open connection say `Connection: close`, and Node ends each connection once
 * its response is sent.
 */
export function shutdownOnClose(server: http.Server): { close(): Promise<void> } {
  let closing = false;
  const inFlight = new Set<http.ServerResponse>();

  function endKeepAlive(response: http.ServerResponse): void {
    if (!response.headersSent) {
      response.setHeader('Connection', 'close');
      return;
    }
    // Headers already went out with keep-alive (a streamed response): close the connection once it is idle.
    response.once('close', () => setImmediate(() => server.closeIdleConnections()));
  }

  // Before the app's own listener, so the header is set whatever the app does.
  server.prependListener('request', (_request: http.IncomingMessage, response: http.ServerResponse) => {
    if (closing) return endKeepAlive(response);
    inFlight.add(response);
    response.once('close', () => inFlight.delete(response));
  });

  return {
    close() {
      closing = true;
      for (const response of inFlight) endKeepAlive(response);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      return closed;
    },
  };
}
