'use strict';

const request = require('supertest');

const { buildApp } = require('./helpers/app');

describe('POST /signup', () => {
  let app;

  beforeEach(async () => {
    app = await buildApp();
  });

  it('creates an account', async () => {
    const res = await request(app)
      .post('/signup')
      .send({ email: 'ada@example.com', password: 'correct horse battery', name: 'Ada' });
    expect(res.status).toBe(201);
    expect(res.body.email).toBe('ada@example.com');
  });

  it('rejects a taken email', async () => {
    const body = { email: 'ada@example.com', password: 'correct horse battery', name: 'Ada' };
    await request(app).post('/signup').send(body);
    const res = await request(app).post('/signup').send(body);
    expect(res.status).toBe(409);
  });
});
