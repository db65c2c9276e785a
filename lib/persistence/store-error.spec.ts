import { describe, expect, it } from 'vitest';
import { storeErrorMessage, storeErrorText } from './store-error.js';

describe('storeErrorMessage', () => {
  it("leaves out the value of MySQL's duplicate entry: a session or refresh-token id", () => {
    const error = new Error(
      "Duplicate entry '019afc4e-7b41-7c1a-9d2e-3f4a5b6c7d8e/9f86d081884c' for key 'UQ_device_tracker_devices_refresh_jti'",
    );
    expect(storeErrorMessage(error)).toBe("Duplicate entry '…' for key 'UQ_device_tracker_devices_refresh_jti'");
  });

  it('leaves the value out of a stack too, and every other message as it is', () => {
    expect(storeErrorText("QueryFailedError: Duplicate entry 'sid-1' for key 'UQ_x'\n    at f (a.js:1)")).toBe(
      "QueryFailedError: Duplicate entry '…' for key 'UQ_x'\n    at f (a.js:1)",
    );
    expect(storeErrorMessage(new Error('connect ECONNREFUSED 127.0.0.1:5432'))).toBe(
      'connect ECONNREFUSED 127.0.0.1:5432',
    );
    expect(storeErrorMessage('timeout')).toBe('timeout');
  });
});
