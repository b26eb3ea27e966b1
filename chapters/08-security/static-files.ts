// Chapter 08: serving files from a folder, and nothing outside it.
//
// GET /static/<path> maps a URL path onto a file in public/. That mapping is the oldest hole
// in web servers: "/static/../../etc/passwd", or the same with the dots percent-encoded
// (%2e%2e%2f), or with backslashes (a separator on Windows), or a NUL byte (which ends the
// name in C, after the check has passed), or a symbolic link inside the folder that points
// out of it. The defense is not a list of bad strings but two checks on the result: the
// path, once decoded and joined, must stay under the folder; and so must the real file it
// names, once every link is followed.
//
// Yours to write: safeSegments() and serveStatic(), marked TODO(ch08). TYPES and inside() are
// ready.

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
  // TODO(ch08): split on "/", decode each segment (a decoding error is 400), drop empty
  // ones, and refuse (forbidden()) a backslash anywhere, "." and "..", a decoded "/", "\\"
  // or NUL, and a colon.
  throw new Error(`TODO(ch08): safeSegments() in chapters/08-security/static-files.ts is not written yet (asked for "${rawPath}").`);
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
  // TODO(ch08): safeSegments(), joined under root and checked with inside(); realpath() of
  // both (a missing file is 404) and inside() again; a folder: 301 without its slash, else
  // its index.html (checked the same way); a file over MAX_STATIC_FILE_BYTES: 403; else 200
  // with the Content-Type from TYPES and X-Content-Type-Options: nosniff.
  throw new Error(`TODO(ch08): serveStatic() in chapters/08-security/static-files.ts is not written yet (asked for ${urlPath}, under ${root}).`);
}
