// What the course commands remember between runs (hints seen, chapters passed), kept in
// .course/, which git ignores. COURSE_STATE_DIR moves it; the tests do.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './chapters.ts';

export function stateFile(name: string, root = ROOT): string {
  return path.join(process.env.COURSE_STATE_DIR ?? path.join(root, '.course'), name);
}

export function readState<T extends object>(name: string, root = ROOT): Partial<T> {
  const file = stateFile(name, root);
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Partial<T>;
  } catch {
    return {}; // a damaged file costs the learner a remembered fact, not the command
  }
}

export function writeState(name: string, value: object, root = ROOT): void {
  const file = stateFile(name, root);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}
