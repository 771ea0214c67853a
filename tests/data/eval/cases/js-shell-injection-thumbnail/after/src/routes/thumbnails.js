'use strict';

const path = require('node:path');
const fs = require('node:fs/promises');
const { exec } = require('node:child_process');
const { promisify } = require('node:util');
const express = require('express');

const { requireAuth } = require('../middleware/auth');
const config = require('../config');

const execAsync = promisify(exec);
const router = express.Router();

const MAX_WIDTH = 2048;
const DEFAULT_QUALITY = '82';

function thumbnailPath(source, width) {
  const { name } = path.parse(source);
  return path.join(config.thumbnailDir, `${name}-${width}w.jpg`);
}

router.post('/thumbnails', requireAuth, async (req, res, next) => {
  try {
    const { file } = req.body;
    const width = Number.parseInt(req.body.width ?? '320', 10);
    if (!file || !Number.isInteger(width) || width < 16 || width > MAX_WIDTH) {
      return res.status(400).json({ error: 'file and a width between 16 and 2048 are required' });
    }

    const quality = req.body.quality ?? DEFAULT_QUALITY;
    const source = path.join(config.uploadDir, path.basename(file));
    await fs.access(source);
    const target = thumbnailPath(source, width);

    // -strip drops EXIF (GPS!) from thumbnails; -quality keeps them small on mobile.
    await execAsync(
      `convert "${source}" -resize ${width}x -strip -quality ${quality} "${target}"`,
      { timeout: 15000 },
    );
    return res.status(201).json({ thumbnail: path.relative(config.thumbnailDir, target) });
  } catch (err) {
    if (err.code === 'ENOENT') {
      return res.status(404).json({ error: 'no such upload' });
    }
    return next(err);
  }
});

module.exports = router;
