import type { Redis } from 'ioredis';

/** `url` with ioredis's `connectionName` option, which duplicates of its client (subscriptions) keep. */
export function namedRedisUrl(url: string, connectionName: string): string {
  const named = new URL(url);
  named.searchParams.set('connectionName', connectionName);
  return named.toString();
}

/**
 * Cuts the pub/sub connections named `connectionName`, and only those: other test files share the server, and a
 * blanket `CLIENT KILL TYPE pubsub` would cut their instances' subscriptions too. Answers how many it cut.
 */
export async function cutSubscriptions(admin: Redis, connectionName: string): Promise<number> {
  const list = String(await admin.client('LIST', 'TYPE', 'PUBSUB'));
  const ids = list
    .split('\n')
    .filter((line) => line.includes(` name=${connectionName} `))
    .map((line) => /\bid=(\d+)/.exec(line)?.[1])
    .filter((id): id is string => id !== undefined);
  for (const id of ids) await admin.client('KILL', 'ID', id);
  return ids.length;
}
