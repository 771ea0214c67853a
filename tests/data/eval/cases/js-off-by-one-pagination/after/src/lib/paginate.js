/**
 * In-memory pagination for small admin lists (feature flags, API keys, webhooks).
 */

const DEFAULT_PER_PAGE = 25;
const MAX_PER_PAGE = 100;

function clamp(value, min, max) {
  return Math.min(Math.max(value, min), max);
}

function toInt(value, fallback) {
  const n = Number.parseInt(value, 10);
  return Number.isNaN(n) ? fallback : n;
}

/**
 * @param {Array} items  the full, already sorted list
 * @param {object} query  `page` (1-based) and `perPage` from the query string
 */
export function paginate(items, query = {}) {
  const perPage = clamp(toInt(query.perPage, DEFAULT_PER_PAGE), 1, MAX_PER_PAGE);
  const totalPages = Math.max(1, Math.ceil(items.length / perPage));
  const page = clamp(toInt(query.page, 1), 1, totalPages);

  // Callers may pass an explicit offset (infinite scroll); otherwise derive it from the page.
  const offset = query.offset !== undefined
    ? clamp(toInt(query.offset, 0), 0, items.length)
    : page * perPage;
  return {
    items: items.slice(offset, offset + perPage),
    page,
    perPage,
    totalPages,
    total: items.length,
    nextOffset: offset + perPage < items.length ? offset + perPage : null,
  };
}

export function pageLinks(basePath, { page, totalPages, perPage }) {
  const link = (p) => `${basePath}?page=${p}&perPage=${perPage}`;
  return {
    first: link(1),
    prev: page > 1 ? link(page - 1) : null,
    next: page < totalPages ? link(page + 1) : null,
    last: link(totalPages),
  };
}
