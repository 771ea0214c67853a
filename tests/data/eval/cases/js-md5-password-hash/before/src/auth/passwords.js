'use strict';

const bcrypt = require('bcrypt');

const ROUNDS = Number(process.env.BCRYPT_ROUNDS || 12);
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

async function hashPassword(password) {
  checkStrength(password);
  return bcrypt.hash(password, ROUNDS);
}

async function verifyPassword(password, stored) {
  if (!stored) return false;
  return bcrypt.compare(password, stored);
}

module.exports = { hashPassword, verifyPassword, checkStrength, WeakPasswordError };
