import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** The bench app as `npm run build:bench` compiles it; the A/B mode runs a copy of it beside an older build. */
export const BENCH_MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
let nextPort = 4700 + Math.floor(Math.random() * 200);

/**
 * Starts one bench app (bench/app, compiled to bench/dist, or `main`, a copy of it) in its own process, so the load
 * generator never shares its event loop, on `platform` (express or fastify). `profileDir` runs it under
 * `--cpu-prof`; the profile is written when it stops. The app answers `library`: the URL of the build of
 * nestjs-device-tracker it imported.
 */
export async function startApp({
  name,
  platform = 'express',
  database,
  redisUrl,
  redisChannel,
  lastSeenIntervalMs,
  profileDir,
  main = BENCH_MAIN,
}) {
  const port = nextPort++;
  const child = fork(main, {
    env: {
      ...process.env,
      TZ: 'UTC',
      NODE_ENV: 'production',
      PORT: String(port),
      BENCH_PLATFORM: platform,
      BENCH_DATABASE: database,
      REDIS_URL: redisUrl ?? '',
      ...(redisChannel && { REDIS_CHANNEL: redisChannel }),
      LAST_SEEN_INTERVAL_MS: lastSeenIntervalMs === undefined ? '' : String(lastSeenIntervalMs),
    },
    execArgv: profileDir
      ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `${name}-${platform}.cpuprofile`]
      : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`bench app ${name} (${platform}) exited with ${code} before it was ready`);
  });
  const [ready] = await Promise.race([once(child, 'message'), exited]);
  exited.catch(() => {});
  if (ready?.platform !== platform) throw new Error(`bench app ${name} runs on ${ready?.platform}, not ${platform}`);
  let asked = 0;
  return {
    name,
    platform,
    url: `http://127.0.0.1:${port}`,
    /** The URL of the nestjs-device-tracker build the app imported (its dist/index.js). */
    library: ready.library,
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
