import { parse } from 'node-html-parser';

const USER_AGENT = 'ChatPreviewBot/1.2 (+https://example.com/bot)';
const MAX_BYTES = 512 * 1024;

function pickMeta(root, names) {
  for (const name of names) {
    const el =
      root.querySelector(`meta[property="${name}"]`) ?? root.querySelector(`meta[name="${name}"]`);
    const content = el?.getAttribute('content')?.trim();
    if (content) return content;
  }
  return null;
}

export function extractPreview(html, pageUrl) {
  const root = parse(html);
  const title = pickMeta(root, ['og:title', 'twitter:title']) ?? root.querySelector('title')?.text;
  const description = pickMeta(root, ['og:description', 'twitter:description', 'description']);
  const image = pickMeta(root, ['og:image', 'twitter:image']);
  return {
    url: pageUrl,
    title: title?.trim() ?? null,
    description,
    image: image ? new URL(image, pageUrl).toString() : null,
  };
}

export async function readLimited(response, limit = MAX_BYTES) {
  const reader = response.body.getReader();
  const chunks = [];
  let total = 0;
  while (total < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.byteLength;
  }
  await reader.cancel();
  return Buffer.concat(chunks).toString('utf8');
}

export async function fetchPreview(url) {
  const response = await fetch(url, {
    headers: { 'User-Agent': USER_AGENT, Accept: 'text/html' },
    redirect: 'follow',
    signal: AbortSignal.timeout(5000),
  });
  if (!response.ok || !response.headers.get('content-type')?.includes('text/html')) {
    return { url, title: null, description: null, image: null };
  }
  const html = await readLimited(response);
  return extractPreview(html, response.url);
}

export { USER_AGENT };
