// Colour for the course commands: on in a terminal, off in a pipe, in CI or with NO_COLOR
// (https://no-color.org); FORCE_COLOR or --color turns it on anyway.

export type Paint = (text: string) => string;

export interface Palette {
  enabled: boolean;
  red: Paint;
  green: Paint;
  yellow: Paint;
  cyan: Paint;
  bold: Paint;
  dim: Paint;
}

export function palette(enabled: boolean): Palette {
  const code = (open: number, close: number): Paint =>
    enabled ? (text) => `\x1b[${open}m${text}\x1b[${close}m` : (text) => text;
  return {
    enabled,
    red: code(31, 39),
    green: code(32, 39),
    yellow: code(33, 39),
    cyan: code(36, 39),
    bold: code(1, 22),
    dim: code(2, 22),
  };
}

export function colourWanted(args: { color?: boolean; 'no-color'?: boolean }, stream: NodeJS.WriteStream = process.stdout): boolean {
  if (args['no-color']) return false;
  if (args.color) return true;
  if (process.env.NO_COLOR) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}
