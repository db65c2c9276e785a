/** A response that says when it has been sent: Node's (Express) directly, Fastify's reply through `raw`. */
export interface FinishingResponse {
  once?(event: 'finish' | 'close', listener: () => void): unknown;
  raw?: FinishingResponse;
}

/** Runs `callback` once the response has been sent or the connection closed, whichever comes first. */
export function afterResponse(response: FinishingResponse, callback: () => void): void {
  const target = typeof response.once === 'function' ? response : response.raw;
  if (typeof target?.once !== 'function') {
    setImmediate(callback);
    return;
  }
  let done = false;
  const run = () => {
    if (done) return;
    done = true;
    callback();
  };
  target.once('finish', run);
  target.once('close', run);
}
