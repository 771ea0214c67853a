'use strict';

const request = require('supertest');

const { buildApp } = require('./helpers/app');
const { createUser, createProject, tokenFor } = require('./helpers/fixtures');

describe('projects API', () => {
  let app;
  let admin;
  let member;

  beforeEach(async () => {
    app = await buildApp();
    admin = await createUser({ role: 'admin' });
    member = await createUser({ role: 'member', organizationId: admin.organizationId });
  });

  it('lists projects of the caller organization', async () => {
    await createProject({ name: 'Apollo', organizationId: admin.organizationId });
    const res = await request(app).get('/projects').set('Authorization', tokenFor(member));
    expect(res.status).toBe(200);
    expect(res.body.map((p) => p.name)).toEqual(['Apollo']);
  });

  it('only lets admins create projects', async () => {
    const res = await request(app)
      .post('/projects')
      .set('Authorization', tokenFor(member))
      .send({ name: 'Gemini' });
    expect(res.status).toBe(403);
  });

  it('deletes a project', async () => {
    const project = await createProject({ name: 'Hermes', organizationId: admin.organizationId });
    const res = await request(app)
      .delete(`/projects/${project.id}`)
      .set('Authorization', tokenFor(admin));
    expect(res.status).toBe(204);
    const after = await request(app).get('/projects').set('Authorization', tokenFor(admin));
    expect(after.body).toEqual([]);
  });
});
