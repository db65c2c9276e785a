import { performance } from 'node:perf_hooks';
import { quantile } from './stats.mjs';

const GIVE_UP_MS = 5000;
const POLLERS = 2;

/** Polls `url` with the token until it is refused; answers when the first 401 arrived. */
async function firstRefusal(url, token, deadline) {
  const pollers = Array.from({ length: POLLERS }, async () => {
    while (performance.now() < deadline) {
      const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      await response.arrayBuffer();
      if (response.status === 401) return performance.now();
      if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
    }
    return Infinity;
  });
  return Math.min(...(await Promise.all(pollers)));
}

const summary = (times) => {
  const sorted = times.toSorted((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted.at(-1) };
};

/**
 * Time from sending a logout to instance `same` until a request to `other` (and to `same`) is refused, over
 * `trials` new devices. Both instances have the session cached as active first, so `other` can only learn of the
 * logout from the revocation notifier, not from its database.
 */
export async function propagation({ trials, login, same, other }) {
  const times = { same: [], other: [] };
  for (let trial = 0; trial < trials; trial++) {
    const device = await login(trial);
    for (const app of [same, other]) {
      const response = await fetch(`${app.url}/tracked`, { headers: { authorization: `Bearer ${device.token}` } });
      if (response.status !== 200) throw new Error(`${app.name} refused a fresh session: ${response.status}`);
    }
    const sent = performance.now();
    const deadline = sent + GIVE_UP_MS;
    const watched = Promise.all([
      firstRefusal(`${same.url}/tracked`, device.token, deadline),
      firstRefusal(`${other.url}/tracked`, device.token, deadline),
    ]);
    const logout = await fetch(`${same.url}/devices/${device.id}/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${device.token}` },
    });
    if (!logout.ok) throw new Error(`logout answered ${logout.status}: ${await logout.text()}`);
    const [sameAt, otherAt] = await watched;
    times.same.push(sameAt - sent);
    times.other.push(otherAt - sent);
  }
  return { same: summary(times.same), other: summary(times.other) };
}
