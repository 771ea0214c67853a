'use strict';

const express = require('express');

const { requireAuth, requireRole } = require('../middleware/auth');
const Project = require('../models/project');
const audit = require('../services/audit');

const router = express.Router();

router.get('/', requireAuth, async (req, res) => {
  const projects = await Project.findAll({
    where: { organizationId: req.user.organizationId },
    order: [['name', 'ASC']],
  });
  res.json(projects);
});

router.get('/:id', requireAuth, async (req, res) => {
  const project = await Project.findOne({
    where: { id: req.params.id, organizationId: req.user.organizationId },
  });
  if (!project) return res.sendStatus(404);
  return res.json(project);
});

router.post('/', requireAuth, requireRole('admin'), async (req, res) => {
  const { name, description = '' } = req.body;
  if (!name) return res.status(400).json({ error: 'name is required' });
  const project = await Project.create({
    name,
    description,
    organizationId: req.user.organizationId,
    createdBy: req.user.id,
  });
  await audit.record(req.user, 'project.create', { projectId: project.id });
  return res.status(201).json(project);
});

router.patch('/:id', requireAuth, requireRole('admin'), async (req, res) => {
  const project = await Project.findOne({
    where: { id: req.params.id, organizationId: req.user.organizationId },
  });
  if (!project) return res.sendStatus(404);
  await project.update({
    name: req.body.name ?? project.name,
    description: req.body.description ?? project.description,
  });
  await audit.record(req.user, 'project.update', { projectId: project.id });
  return res.json(project);
});

module.exports = router;
