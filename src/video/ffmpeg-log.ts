/**
 * Pure parsing of ffmpeg's stderr (run with `-loglevel level+info`): showinfo frame lines and
 * the facts needed to name a failure.
 */

export interface FrameInfo {
  /** Presentation time in seconds (pts × time base when the time base is known). */
  ptsSeconds: number | undefined;
  width: number;
  height: number;
}

const SHOWINFO_FRAME = /\bn:\s*\d+\s+pts:\s*(\S+)\s+pts_time:(\S+).*?\ss:(\d+)x(\d+)\b/;
const SHOWINFO_TIME_BASE = /config in time_base:\s*(\d+)\/(\d+)/;
const ERROR_LEVEL = /\[(error|fatal|panic)\]/;

export function parseTimeBase(line: string): number | undefined {
  if (!line.includes('Parsed_showinfo')) return undefined;
  const match = SHOWINFO_TIME_BASE.exec(line);
  if (match === null) return undefined;
  const numerator = Number(match[1]);
  const denominator = Number(match[2]);
  return numerator > 0 && denominator > 0 ? numerator / denominator : undefined;
}

/** A showinfo frame line; exact pts × time base is preferred over pts_time, which has 6 significant digits. */
export function parseShowinfoFrame(line: string, timeBase: number | undefined): FrameInfo | undefined {
  if (!line.includes('Parsed_showinfo')) return undefined;
  const match = SHOWINFO_FRAME.exec(line);
  if (match === null) return undefined;
  const pts = Number(match[1]);
  const ptsTime = Number(match[2]);
  let ptsSeconds: number | undefined;
  if (timeBase !== undefined && Number.isFinite(pts)) ptsSeconds = pts * timeBase;
  else if (Number.isFinite(ptsTime)) ptsSeconds = ptsTime;
  return { ptsSeconds, width: Number(match[3]), height: Number(match[4]) };
}

export function isErrorLine(line: string): boolean {
  return ERROR_LEVEL.test(line);
}

/** What the stderr of one run told us, collected line by line. */
export class FfmpegLogSummary {
  private readonly tail: string[] = [];
  readonly errors: string[] = [];
  sawVideoStream = false;

  constructor(private readonly tailLines = 20) {}

  add(line: string): void {
    if (line.trim() === '') return;
    if (/Stream #\d+:\d+.*: Video:/.test(line)) this.sawVideoStream = true;
    if (isErrorLine(line) && this.errors.length < 10) this.errors.push(stripPrefix(line));
    if (line.includes('Parsed_showinfo')) return;
    this.tail.push(line);
    if (this.tail.length > this.tailLines) this.tail.shift();
  }

  stderrTail(): string {
    return this.tail.join('\n');
  }

  has(pattern: RegExp): boolean {
    return this.errors.some((line) => pattern.test(line)) || this.tail.some((line) => pattern.test(line));
  }
}

function stripPrefix(line: string): string {
  return line.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/i, '').replace(ERROR_LEVEL, '').trim();
}
