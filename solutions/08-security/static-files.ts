// Chapter 08: serving files from a folder, and nothing outside it.
//
// GET /static/<path> maps a URL path onto a file in public/. That mapping is the oldest hole
// in web servers: "/static/../../etc/passwd", or the same with the dots percent-encoded
// (%2e%2e%2f), or with backslashes (a separator on Windows), or a NUL byte (which ends the
// name in C, after the check has passed), or a symbolic link inside the folder that points
// out of it. The defense is not a list of bad strings but two checks on the result: the
// path, once decoded and joined, must stay under the folder; and so must the real file it
// names, once every link is followed.

import { realpath, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { HttpError, type Response } from './protocol.ts';

/** Content-Type by extension (RFC 9110 §8.3); anything else is plain bytes. */
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
};

/** Files are read whole into memory: a limit keeps one request from holding a large one. */
export const MAX_STATIC_FILE_BYTES = 8 * 1024 * 1024;

const forbidden = (why: string): never => {
  throw new HttpError(403, `forbidden: ${why}`);
};

/**
 * The segments of a URL path, each percent-decoded (RFC 3986 §2.1), checked one by one. A
 * segment may not decode to a separator, a NUL, "." or ".."; the raw path may hold no
 * backslash. Empty segments ("a//b") are dropped, as every file system does.
 */
export function safeSegments(rawPath: string): string[] {
  if (rawPath.includes('\\')) forbidden('a backslash in the path');
  const segments: string[] = [];
  for (const raw of rawPath.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      throw new HttpError(400, `"${raw}" is not valid percent-encoding`);
    }
    if (segment === '') continue;
    if (segment === '.' || segment === '..') forbidden(`a "${segment}" segment`);
    if (/[/\\\0]/.test(segment)) forbidden('an encoded separator or NUL in the path');
    // A drive letter ("C:") would make the joined path absolute on Windows.
    if (segment.includes(':')) forbidden('a colon in the path');
    segments.push(segment);
  }
  return segments;
}

/** Whether `child` is `root` or lies under it. */
function inside(root: string, child: string): boolean {
  const relative = path.relative(root, child);
  // "..", or "../" and more: above root. A name that merely starts with dots ("...") is not.
  return relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

/**
 * The response to GET /static/<rawPath>: the file, an index.html for a folder, a 301 to
 * add the slash a folder's URL needs, 404 for what is not there, 403 for what tries to leave.
 */
export async function serveStatic(root: string, rawPath: string, urlPath: string): Promise<Response> {
  const segments = safeSegments(rawPath);
  const joined = path.join(root, ...segments);
  if (!inside(root, joined)) forbidden('the path leaves the folder');
  let real: string;
  let realRoot: string;
  try {
    [real, realRoot] = await Promise.all([realpath(joined), realpath(root)]);
  } catch {
    throw new HttpError(404, `there is no file at ${urlPath}`);
  }
  // A link inside the folder may point anywhere: what counts is where it really leads.
  if (!inside(realRoot, real)) forbidden('a link that leads out of the folder');
  let info = await stat(real);
  let file = real;
  if (info.isDirectory()) {
    // RFC 9110 §15.4.2: a folder's URL ends in "/", so that its page's relative links work.
    if (!urlPath.endsWith('/')) return { status: 301, headers: [['Location', `${urlPath}/`]], body: '' };
    try {
      file = await realpath(path.join(real, 'index.html'));
      info = await stat(file);
    } catch {
      throw new HttpError(404, `there is no index.html at ${urlPath}`);
    }
    if (!inside(realRoot, file)) forbidden('a link that leads out of the folder');
  }
  if (!info.isFile()) throw new HttpError(404, `there is no file at ${urlPath}`);
  if (info.size > MAX_STATIC_FILE_BYTES) throw new HttpError(403, `forbidden: the file is larger than ${MAX_STATIC_FILE_BYTES} bytes`);
  const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  // nosniff: the browser takes the type we say, not one it guesses from the bytes.
  return { status: 200, headers: [['Content-Type', type], ['X-Content-Type-Options', 'nosniff']], body: await readFile(file) };
}
