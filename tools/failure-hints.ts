// Plain-language hints for the failures learners meet most, shown beside the raw report.
// They are guesses from the report's text, so each says what usually causes it, not what
// surely did.

interface Known {
  /** Whether the report shows this cause. */
  matches: (report: string) => boolean;
  hint: string;
}

/**
 * The head lines of the byte blocks that show what the learner's code wrote (see
 * test/harness/report.ts); what the tests sent may hold a bare \n on purpose.
 */
function receivedLines(report: string): string[] {
  const lines: string[] = [];
  let inside = false;
  for (const line of report.split('\n')) {
    if (/^\s*(received|the server received from the client|.* answered) \(\d+ bytes?\)/.test(line)) inside = true;
    else if (line.trim() === '' || line.trim() === '\\r\\n') inside = false; // the head ends; a body may end in \n as it likes
    else if (inside) lines.push(line);
  }
  return lines;
}

const KNOWN: Known[] = [
  {
    matches: (report) => /ECONNREFUSED/.test(report),
    hint:
      'Connection refused: nothing was listening on that port. Does your server call listen() with the port ' +
      'it was given (the tests pass port 0 and read the real one back), and not a fixed 8080?',
  },
  {
    matches: (report) => /EADDRINUSE/.test(report),
    hint:
      'Address in use: another program already listens on that port, often a server from an earlier ' +
      '`npm run server` still running in another terminal. Stop it with Ctrl-C, or listen on the port you were given.',
  },
  {
    matches: (report) => /nothing more for \d+ s, with the connection still open|had not finished after \d+ s|timed out in \d+ms/i.test(report),
    hint:
      'A timeout: one side waited for bytes that never came. Was the response ended (socket.end(), or exactly ' +
      'Content-Length body bytes)? Is Content-Length the number of bytes, Buffer.byteLength(body), not body.length ' +
      'of a string? Does a reader stop at the end of the head (\\r\\n\\r\\n) instead of waiting for a close?',
  },
  {
    // A received line that ends in \n without the \r before it (the report shows \r as `\r`).
    matches: (report) => receivedLines(report).some((line) => /(?<!\\r)\\n$/.test(line.trimEnd())),
    hint:
      'Line endings: a line of what was received ends in \\n alone. HTTP ends every line of the head with \\r\\n ' +
      '(RFC 9112 §2.2); in a template string, write \\r\\n, since a line break in the source is only \\n.',
  },
];

/** The hints for what this failure report shows, most likely first; none when nothing is known. */
export function plainHints(report: string): string[] {
  return KNOWN.filter((known) => known.matches(report)).map((known) => known.hint);
}
