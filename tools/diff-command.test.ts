import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { palette } from './ansi.ts';
import { codeFiles, diffFolders, paintPatch } from './diff-command.ts';

function folders(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'course-diff-'));
  const write = (file: string, text: string): void => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  };
  write('a/same.ts', 'x\n');
  write('b/same.ts', 'x\n');
  write('a/changed.ts', 'one\ntwo\n');
  write('b/changed.ts', 'one\n2\n');
  write('b/public/new.html', '<p>\n');
  write('a/README.md', 'lesson\n');
  write('b/crlf.ts', 'line\n');
  write('a/crlf.ts', 'line\r\n');
  return root;
}

describe('the diff command', () => {
  const root = folders();

  it('compares code files in subfolders too, and leaves the lesson out', () => {
    expect(codeFiles(path.join(root, 'a'))).toEqual(['changed.ts', 'crlf.ts', 'same.ts']);
    expect(codeFiles(path.join(root, 'b'))).toEqual(['changed.ts', 'crlf.ts', 'public/new.html', 'same.ts']);
  });

  it('makes one unified diff per file that differs, ignoring CRLF checkouts', () => {
    const { patches, compared } = diffFolders(root, 'a', 'b');
    expect(compared).toBe(4);
    expect(patches).toHaveLength(2);
    expect(patches[0]).toContain('--- a/changed.ts');
    expect(patches[0]).toContain('+++ b/changed.ts');
    expect(patches[0]).toMatch(/-two\n\+2/);
    expect(patches[1]).toContain('+<p>');
  });

  it('colours removed lines red and added lines green, only when asked', () => {
    const patch = diffFolders(root, 'a', 'b').patches[0]!;
    expect(paintPatch(patch, palette(true))).toContain('\x1b[31m-two\x1b[39m');
    expect(paintPatch(patch, palette(true))).toContain('\x1b[32m+2\x1b[39m');
    expect(paintPatch(patch, palette(false))).not.toContain('\x1b[');
  });
});
