'use strict';

const express = require('express');

const { createAccount, EmailTakenError } = require('../services/accounts');

const router = express.Router();

router.post('/signup', async (req, res, next) => {
  try {
    const { email, password, name } = req.body;
    const account = await createAccount({ email, password, name });
    return res.status(201).json({ id: account.id, email: account.email });
  } catch (err) {
    if (err instanceof EmailTakenError) {
      return res.status(409).json({ error: 'email already registered' });
    }
    return next(err);
  }
});

module.exports = router;
