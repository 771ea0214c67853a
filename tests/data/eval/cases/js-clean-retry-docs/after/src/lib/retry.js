const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class RetryError extends Error {
  constructor(message, { cause, attempts }) {
    super(message, { cause });
    this.name = 'RetryError';
    this.attempts = attempts;
  }
}

/**
 * Call `fn` until it resolves, waiting with exponential backoff between attempts.
 *
 * The delay before attempt n+1 is `min(maxDelayMs, baseDelayMs * 2^(n-1))`, randomized to
 * between half and all of that value so that many clients retrying at once spread out.
 *
 * @template T
 * @param {(attempt: number) => Promise<T>} fn  called with the 1-based attempt number
 * @param {object} [options]
 * @param {number} [options.attempts=3]  total number of calls, including the first
 * @param {number} [options.baseDelayMs=200]
 * @param {number} [options.maxDelayMs=5000]
 * @param {(err: unknown) => boolean} [options.shouldRetry]  return false to fail immediately
 * @param {(err: unknown, attempt: number, delayMs: number) => void} [options.onRetry]
 * @returns {Promise<T>}
 * @throws {RetryError} with the last error as `cause`, once attempts run out or
 *   `shouldRetry` returns false
 */
export async function retry(fn, options = {}) {
  const {
    attempts = 3,
    baseDelayMs = 200,
    maxDelayMs = 5000,
    shouldRetry = () => true,
    onRetry = () => {},
  } = options;

  let lastError;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    try {
      return await fn(attempt);
    } catch (err) {
      lastError = err;
      if (attempt === attempts || !shouldRetry(err)) break;
      const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      const jittered = Math.round(delay / 2 + Math.random() * (delay / 2));
      onRetry(err, attempt, jittered);
      await sleep(jittered);
    }
  }
  throw new RetryError(`gave up after ${attempts} attempts`, { cause: lastError, attempts });
}
