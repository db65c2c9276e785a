/** MySQL's message names the value a unique index refused: here, a session or a refresh-token id. */
const DUPLICATE_ENTRY = /Duplicate entry '.*?' for key/gs;

/** A database error's text (its message or stack) fit for the log: MySQL's duplicate entry without its value. */
export function storeErrorText(text: string): string {
  return text.replace(DUPLICATE_ENTRY, "Duplicate entry '…' for key");
}

/** The message of what a database call threw, fit for the log. */
export function storeErrorMessage(error: unknown): string {
  return storeErrorText(error instanceof Error ? error.message : String(error));
}
