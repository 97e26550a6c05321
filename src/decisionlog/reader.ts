/**
 * Reads a decision log back: every line is parsed and checked against the record
 * schema. A bad LAST line of a file is a line torn by a crash: it is skipped with a
 * warning. Any other bad line is corrupt data: a DecisionLogError names the file, the
 * line number and the problem (or, with skipBadLines, a warning does).
 *
 * readDecisionLog() loads everything (rotated files oldest first) and joins rewards to
 * their decisions; iterateDecisionLog() streams records for logs too large for memory.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import type { DecisionRecord, JoinedDecision, LogRecord, RewardRecord } from './record.js';
import { checkLogRecord } from './schema.js';
import { rotatedLogFiles } from './writer.js';

export class DecisionLogError extends Error {
  override name = 'DecisionLogError';
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
  ) {
    super(message);
  }
}

export interface ReadDecisionLogOptions {
  /** Called for a skipped torn last line and other recoverable oddities. */
  onWarning?: (message: string) => void;
  /** Read decisions.jsonl.N .. .1 before the file itself (default true). */
  includeRotated?: boolean;
  /** Skip corrupt lines in the middle with a warning instead of throwing. */
  skipBadLines?: boolean;
}

export interface DecisionLogContents {
  /** Files read, oldest first. */
  files: string[];
  /** Every valid record in file order. */
  records: LogRecord[];
  /** Decision records with their reward joined by id, in decision order. */
  decisions: JoinedDecision[];
}

function filesOf(logPath: string, includeRotated: boolean): string[] {
  if (!includeRotated) return [logPath];
  const files = rotatedLogFiles(logPath);
  if (files.length === 0) {
    throw new DecisionLogError(
      `${logPath}: no such decision log (and no rotated parts)`,
      logPath,
      0,
    );
  }
  return files;
}

/** Checks one line; returns the record, or undefined when a torn last line was skipped. */
function checkLine(
  text: string,
  file: string,
  lineNo: number,
  isLast: boolean,
  options: ReadDecisionLogOptions,
): LogRecord | undefined {
  let problem: string;
  try {
    const result = checkLogRecord(JSON.parse(text));
    if ('record' in result) return result.record;
    problem = result.problem;
  } catch (err) {
    problem = `not valid JSON (${(err as Error).message})`;
  }
  if (isLast) {
    options.onWarning?.(`${file}:${lineNo}: skipped a torn last line (${problem})`);
    return undefined;
  }
  const message = `${file}:${lineNo}: ${problem}`;
  if (options.skipBadLines) {
    options.onWarning?.(`${message}; line skipped`);
    return undefined;
  }
  throw new DecisionLogError(
    `${message}. The log is corrupt before its last line (a crash can only tear the last one)`,
    file,
    lineNo,
  );
}

function readFileRecords(file: string, options: ReadDecisionLogOptions): LogRecord[] {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const out: LogRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === '' && i < lines.length - 1) continue;
    const rec = checkLine(lines[i], file, i + 1, i === lines.length - 1, options);
    if (rec) out.push(rec);
  }
  return out;
}

/** Streams the records of a log (rotated parts first), with the same checks. */
export async function* iterateDecisionLog(
  logPath: string,
  options: ReadDecisionLogOptions = {},
): AsyncGenerator<LogRecord> {
  for (const file of filesOf(logPath, options.includeRotated ?? true)) {
    const rl = readline.createInterface({
      input: fs.createReadStream(file, { encoding: 'utf8' }),
      crlfDelay: Infinity,
    });
    let held: string | undefined;
    let lineNo = 0;
    for await (const line of rl) {
      if (held !== undefined && held !== '') {
        const rec = checkLine(held, file, lineNo, false, options);
        if (rec) yield rec;
      }
      held = line;
      lineNo++;
    }
    if (held !== undefined && held !== '') {
      const rec = checkLine(held, file, lineNo, true, options);
      if (rec) yield rec;
    }
  }
}

/**
 * Joins reward records to their decisions by id. A reward whose decision is not in the
 * log (rotated away) is reported with a warning; so is a repeated decision id, whose
 * later record wins.
 */
export function joinDecisions(
  records: Iterable<LogRecord>,
  onWarning?: (message: string) => void,
): JoinedDecision[] {
  const byId = new Map<string, JoinedDecision>();
  const order: JoinedDecision[] = [];
  let orphans = 0;
  for (const rec of records) {
    if (rec.type === 'decision') {
      if (byId.has(rec.id)) onWarning?.(`decision id "${rec.id}" appears twice; the later wins`);
      const joined: JoinedDecision = { ...(rec as DecisionRecord) };
      byId.set(rec.id, joined);
      order.push(joined);
    } else {
      const d = byId.get(rec.id);
      if (!d) {
        orphans++;
        continue;
      }
      attachReward(d, rec);
    }
  }
  if (orphans > 0) {
    onWarning?.(`${orphans} reward record(s) have no decision in the log (rotated away?)`);
  }
  return order.filter((d) => byId.get(d.id) === d);
}

function attachReward(d: JoinedDecision, r: RewardRecord): void {
  d.reward = r.reward;
  d.applied = r.applied;
  d.eff = r.eff;
  d.baselineEff = r.baselineEff;
  if (r.verdict !== undefined) d.finalVerdict = r.verdict;
  if (r.knobs !== undefined) d.ranKnobs = r.knobs;
}

/** Loads a whole decision log (rotated parts first) and joins rewards to decisions. */
export function readDecisionLog(
  logPath: string,
  options: ReadDecisionLogOptions = {},
): DecisionLogContents {
  const files = filesOf(logPath, options.includeRotated ?? true);
  const records: LogRecord[] = [];
  for (const file of files) {
    for (const rec of readFileRecords(file, options)) records.push(rec);
  }
  return { files, records, decisions: joinDecisions(records, options.onWarning) };
}
