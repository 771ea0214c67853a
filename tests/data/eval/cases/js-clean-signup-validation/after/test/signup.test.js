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

  it('normalizes the email before creating the account', async () => {
    const res = await request(app)
      .post('/signup')
      .send({ email: '  Ada@Example.COM ', password: 'correct horse battery', name: 'Ada' });
    expect(res.status).toBe(201);
    expect(res.body.email).toBe('ada@example.com');
  });

  it.each([
    [{ email: 'not-an-email', password: 'correct horse battery', name: 'Ada' }, 'email'],
    [{ email: 'ada@example.com', password: 'short', name: 'Ada' }, 'password'],
    [{ email: 'ada@example.com', password: 'correct horse battery', name: '   ' }, 'name'],
    [{ email: 'ada@example.com', password: ['an', 'array'], name: 'Ada' }, 'password'],
  ])('rejects %j', async (body, field) => {
    const res = await request(app).post('/signup').send(body);
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.fields)).toEqual([field]);
  });
});
