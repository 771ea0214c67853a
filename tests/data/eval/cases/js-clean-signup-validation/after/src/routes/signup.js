'use strict';

const express = require('express');

const { createAccount, EmailTakenError } = require('../services/accounts');
const { validateSignup } = require('../validation/signup');

const router = express.Router();

router.post('/signup', async (req, res, next) => {
  const { value, errors } = validateSignup(req.body);
  if (!value) {
    return res.status(400).json({ error: 'invalid signup', fields: errors });
  }
  try {
    const account = await createAccount(value);
    return res.status(201).json({ id: account.id, email: account.email });
  } catch (err) {
    if (err instanceof EmailTakenError) {
      return res.status(409).json({ error: 'email already registered' });
    }
    return next(err);
  }
});

module.exports = router;
