'use strict';

const crypto = require('node:crypto');

const SALT_BYTES = 16;
const MIN_LENGTH = 10;

class WeakPasswordError extends Error {}

function checkStrength(password) {
  if (typeof password !== 'string' || password.length < MIN_LENGTH) {
    throw new WeakPasswordError(`password must be at least ${MIN_LENGTH} characters`);
  }
  if (/^(.)\1+$/.test(password)) {
    throw new WeakPasswordError('password must not be a single repeated character');
  }
}

function digest(salt, password) {
  return crypto.createHash('md5').update(salt + password).digest('hex');
}

async function hashPassword(password) {
  checkStrength(password);
  const salt = crypto.randomBytes(SALT_BYTES).toString('hex');
  return `${salt}$${digest(salt, password)}`;
}

async function verifyPassword(password, stored) {
  if (!stored) return false;
  const [salt, expected] = stored.split('$');
  if (!salt || !expected) return false;
  const actual = digest(salt, password);
  return crypto.timingSafeEqual(Buffer.from(actual), Buffer.from(expected));
}

module.exports = { hashPassword, verifyPassword, checkStrength, WeakPasswordError };
