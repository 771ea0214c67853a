'use strict';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MIN_PASSWORD = 10;
const MAX_PASSWORD = 256;
const MAX_NAME = 100;

/**
 * Check a signup payload. Returns `{ value, errors }`: `value` holds the normalized fields
 * when `errors` is empty; otherwise `errors` maps field names to messages.
 */
function validateSignup(body) {
  const errors = {};
  const input = body && typeof body === 'object' ? body : {};

  const email = typeof input.email === 'string' ? input.email.trim().toLowerCase() : '';
  if (!EMAIL.test(email) || email.length > 254) {
    errors.email = 'must be a valid email address';
  }

  const password = typeof input.password === 'string' ? input.password : '';
  if (password.length < MIN_PASSWORD || password.length > MAX_PASSWORD) {
    errors.password = `must be between ${MIN_PASSWORD} and ${MAX_PASSWORD} characters`;
  }

  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (!name || name.length > MAX_NAME) {
    errors.name = `is required and at most ${MAX_NAME} characters`;
  }

  if (Object.keys(errors).length > 0) return { value: null, errors };
  return { value: { email, password, name }, errors };
}

module.exports = { validateSignup, MIN_PASSWORD, MAX_PASSWORD, MAX_NAME };
