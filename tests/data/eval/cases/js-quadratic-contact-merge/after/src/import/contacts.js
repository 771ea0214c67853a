import { parse } from 'csv-parse/sync';

const REQUIRED = ['email'];

export function normalizeEmail(email) {
  return String(email ?? '').trim().toLowerCase();
}

export function parseContacts(csvText) {
  const records = parse(csvText, { columns: true, skip_empty_lines: true, trim: true });
  const contacts = [];
  const errors = [];
  records.forEach((record, index) => {
    const missing = REQUIRED.filter((field) => !record[field]);
    if (missing.length) {
      errors.push({ row: index + 2, message: `missing ${missing.join(', ')}` });
      return;
    }
    contacts.push({
      email: normalizeEmail(record.email),
      firstName: record.first_name || null,
      lastName: record.last_name || null,
      company: record.company || null,
      tags: (record.tags || '').split(';').map((t) => t.trim()).filter(Boolean),
    });
  });
  return { contacts, errors };
}

/**
 * Combine an uploaded list with the account's existing contacts. Existing values win unless
 * they are empty; tags are unioned.
 */
export function mergeContacts(existing, incoming) {
  const merged = existing.map((c) => ({ ...c, tags: [...c.tags] }));
  let added = 0;
  let updated = 0;
  for (const contact of incoming) {
    const match = merged.find((c) => normalizeEmail(c.email) === contact.email);
    if (!match) {
      merged.push(contact);
      added += 1;
      continue;
    }
    for (const field of ['firstName', 'lastName', 'company']) {
      if (!match[field] && contact[field]) match[field] = contact[field];
    }
    for (const tag of contact.tags) {
      if (!match.tags.includes(tag)) match.tags.push(tag);
    }
    updated += 1;
  }
  return { contacts: merged, added, updated };
}
