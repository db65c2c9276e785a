import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
let nextPort = 4700 + Math.floor(Math.random() * 200);

/**
 * Starts one bench app (bench/app, compiled to bench/dist) in its own process, so the load generator never shares
 * its event loop. `profileDir` runs it under `--cpu-prof`; the profile is written when it stops.
 */
export async function startApp({ name, database, redisUrl, lastSeenIntervalMs, profileDir }) {
  const port = nextPort++;
  const child = fork(MAIN, {
    env: {
      ...process.env,
      TZ: 'UTC',
      NODE_ENV: 'production',
      PORT: String(port),
      BENCH_DATABASE: database,
      REDIS_URL: redisUrl ?? '',
      LAST_SEEN_INTERVAL_MS: lastSeenIntervalMs === undefined ? '' : String(lastSeenIntervalMs),
    },
    execArgv: profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `${name}.cpuprofile`] : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`bench app ${name} exited with ${code} before it was ready`);
  });
  await Promise.race([once(child, 'message'), exited]);
  exited.catch(() => {});
  let asked = 0;
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    /** CPU time the app has used so far, in microseconds (user + system). */
    async cpu() {
      const id = ++asked;
      child.send({ cpu: id });
      for (;;) {
        const [message] = await once(child, 'message');
        if (message?.cpu === id) return message.user + message.system;
      }
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.send('stop');
      const [code] = await once(child, 'exit');
      if (code !== 0) throw new Error(`bench app ${name} stopped with ${code}`);
    },
  };
}
