'use strict';

const fs = require('node:fs');
const path = require('node:path');

const DEFAULTS = {
  port: 4000,
  host: '127.0.0.1',
  open: false,
  watch: true,
  outDir: 'dist',
};

function readConfigFile(cwd) {
  const file = path.join(cwd, 'devserver.config.json');
  if (!fs.existsSync(file)) return {};
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: ${err.message}`);
  }
}

function fromEnv(key) {
  const raw = process.env[`DEVSERVER_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`];
  if (raw === undefined) return undefined;
  if (typeof DEFAULTS[key] === 'number') return Number(raw);
  if (typeof DEFAULTS[key] === 'boolean') return raw === '1' || raw === 'true';
  return raw;
}

/**
 * Merge options: command-line flags win over DEVSERVER_* environment variables, which win
 * over the config file, which wins over defaults.
 * `cli` comes from the argument parser and has a key for every known flag; flags the user
 * did not pass are `undefined`.
 */
function resolveOptions(cli, cwd = process.cwd()) {
  const file = readConfigFile(cwd);
  const options = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS)) {
    if (file[key] !== undefined) options[key] = file[key];
    const env = fromEnv(key);
    if (env !== undefined) options[key] = env;
    if (typeof cli[key] !== undefined) options[key] = cli[key];
  }
  return options;
}

module.exports = { DEFAULTS, resolveOptions };
