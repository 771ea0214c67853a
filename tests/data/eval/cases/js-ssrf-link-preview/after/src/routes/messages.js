import { Router } from 'express';

import { requireUser } from '../middleware/session.js';
import { createMessage, listMessages } from '../db/messages.js';
import { fetchPreview } from '../services/linkPreview.js';

export const router = Router();

router.get('/channels/:channelId/messages', requireUser, async (req, res) => {
  const messages = await listMessages(req.params.channelId, { before: req.query.before });
  res.json(messages);
});

router.post('/channels/:channelId/messages', requireUser, async (req, res) => {
  const text = String(req.body.text ?? '').trim();
  if (!text || text.length > 4000) {
    return res.status(400).json({ error: 'text must be 1-4000 characters' });
  }
  const message = await createMessage(req.params.channelId, req.user.id, text);
  return res.status(201).json(message);
});

router.post('/previews', requireUser, async (req, res) => {
  const { url } = req.body;
  if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) {
    return res.status(400).json({ error: 'url must be an http(s) URL' });
  }
  try {
    return res.json(await fetchPreview(url));
  } catch {
    return res.status(502).json({ error: 'could not fetch preview' });
  }
});
