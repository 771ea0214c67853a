const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class RetryError extends Error {
  constructor(message, { cause, attempts }) {
    super(message, { cause });
    this.name = 'RetryError';
    this.attempts = attempts;
  }
}

// retry fn
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
