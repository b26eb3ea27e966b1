// Showing bytes to a learner: every byte visible, CRLF as `\r\n`, a caret under the byte
// where what was received first differs from what was expected.

/** One byte as it is shown: printable ASCII as itself, the rest escaped. */
export function escapeByte(byte: number): string {
  switch (byte) {
    case 0x0d:
      return '\\r';
    case 0x0a:
      return '\\n';
    case 0x09:
      return '\\t';
    case 0x5c:
      return '\\\\';
    default:
      return byte >= 0x20 && byte < 0x7f
        ? String.fromCharCode(byte)
        : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
}

export function escapeBytes(bytes: Buffer | string): string {
  const buffer = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  let out = '';
  for (const byte of buffer) out += escapeByte(byte);
  return out;
}

/** The index of the first byte where `actual` differs from `expected`, or -1 if equal. */
export function firstDifference(actual: Buffer, expected: Buffer): number {
  const length = Math.min(actual.length, expected.length);
  for (let i = 0; i < length; i++) {
    if (actual[i] !== expected[i]) return i;
  }
  return actual.length === expected.length ? -1 : length;
}

export interface ShowOptions {
  indent?: string;
  /** Put a caret under this byte (or just past the end, for "more was expected here"). */
  caret?: { at: number; note: string };
  /** Show at most this many bytes; a caret further in moves the window to it. */
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 1200; // enough for any head in chapters 01-04; long bodies are cut

/**
 * Escaped bytes, one display line per line of the message (a line ends after each `\n`),
 * so a head reads as a head and a missing `\r` stands out.
 */
export function showBytes(bytes: Buffer, options: ShowOptions = {}): string {
  const indent = options.indent ?? '    ';
  if (bytes.length === 0) return `${indent}(nothing)`;
  const max = options.maxBytes ?? DEFAULT_MAX_BYTES;
  let start = 0;
  if (options.caret && options.caret.at > max - 200) start = Math.max(0, options.caret.at - 200);
  const end = Math.min(bytes.length, start + max);

  const lines: string[] = [];
  if (start > 0) lines.push(`${indent}… (${start} bytes before this)`);
  let line = '';
  let caretLine: string | undefined;
  const flush = (): void => {
    lines.push(indent + line);
    if (caretLine !== undefined) lines.push(caretLine);
    line = '';
    caretLine = undefined;
  };
  for (let i = start; i < end; i++) {
    if (options.caret && options.caret.at === i) {
      caretLine = `${indent}${' '.repeat(line.length)}^ ${options.caret.note}`;
    }
    line += escapeByte(bytes[i]!);
    if (bytes[i] === 0x0a) flush();
  }
  if (options.caret && options.caret.at >= end) {
    caretLine = `${indent}${' '.repeat(line.length)}^ ${options.caret.note}`;
  }
  if (line.length > 0 || caretLine !== undefined) flush();
  if (end < bytes.length) lines.push(`${indent}… (${bytes.length - end} more bytes)`);
  return lines.join('\n');
}

/** A byte count in words: `1 byte`, `58 bytes`. */
export function byteCount(n: number): string {
  return n === 1 ? '1 byte' : `${n} bytes`;
}
