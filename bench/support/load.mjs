import autocannon from 'autocannon';

/**
 * Drives one route with autocannon at `connections`, for `seconds` or for `amount` requests, and answers requests
 * per second and latency. A round of a comparison sends a fixed amount: it ends when every answer is in, so no
 * work it started is left for the next round to pay for. `vary(index)` gives the headers (and body) of the
 * index-th request, so requests spread over many users and devices. Any non-2xx answer or socket error fails the
 * bench: a rate of errors measures nothing.
 */
export async function load({ url, method = 'GET', vary, seconds, amount, connections = 50 }) {
  let index = 0;
  const result = await autocannon({
    url,
    method,
    // autocannon refuses more connections than requests (a smoke run's rounds of scrypt logins are that short).
    connections: amount ? Math.min(connections, amount) : connections,
    ...(amount ? { amount } : { duration: seconds }),
    // A request unanswered for this long fails the run; scrypt logins queued behind 50 connections on a busy host
    // took longer than autocannon's default of 10 s.
    timeout: 30,
    // autocannon only notices that a run is over at its next sample: every 10 ms rather than every second, so
    // that a fixed amount is not timed to the whole second.
    sampleInt: 10,
    requests: [
      {
        setupRequest(request) {
          const { headers, body } = vary(index++);
          return {
            ...request,
            headers: { ...request.headers, ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
            body: body && JSON.stringify(body),
          };
        },
      },
    ],
  });
  if (result.non2xx || result.errors || result.timeouts) {
    throw new Error(
      `${method} ${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
  return {
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
  };
}
