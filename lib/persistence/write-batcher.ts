/** A row waiting for its batch, and how to tell its login the outcome. */
interface Waiting<T> {
  row: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: rows added while a write is under way go together in the next one, so under load many logins share
 * one statement and one commit, and an idle app writes each row at once. A batch that fails is written again row by
 * row, so a row's own fault (a duplicate) fails its login only.
 */
export class WriteBatcher<T> {
  private queue: Waiting<T>[] = [];
  private writing = false;

  constructor(
    private readonly write: (rows: T[]) => Promise<unknown>,
    private readonly maxRows: number,
  ) {}

  /** Settles once `row` is written, or with the error that kept it out. */
  add(row: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      // Once the event loop has run what is ready: the rows of requests read in the same turn join the batch (a
      // synchronous driver, better-sqlite3, would otherwise finish each write before the next request is read).
      if (!this.writing) {
        this.writing = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxRows);
      try {
        await this.write(batch.map(({ row }) => row));
        for (const waiting of batch) waiting.resolve();
      } catch (error) {
        if (batch.length === 1) batch[0]!.reject(error);
        else await Promise.all(batch.map((waiting) => this.write([waiting.row]).then(waiting.resolve, waiting.reject)));
      }
    }
    this.writing = false;
  }
}
