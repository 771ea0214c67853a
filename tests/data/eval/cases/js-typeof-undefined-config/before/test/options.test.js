'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { DEFAULTS, resolveOptions } = require('../src/options');

function tempProject(config) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'devserver-'));
  if (config) fs.writeFileSync(path.join(dir, 'devserver.config.json'), JSON.stringify(config));
  return dir;
}

const noFlags = Object.fromEntries(Object.keys(DEFAULTS).map((k) => [k, undefined]));

test('defaults when nothing is given', () => {
  expect(resolveOptions(noFlags, tempProject())).toEqual(DEFAULTS);
});

test('cli wins over the config file', () => {
  const dir = tempProject({ port: 5000 });
  expect(resolveOptions({ ...noFlags, port: 6000 }, dir).port).toBe(6000);
});
