/** The decision log: record format, append-only rotated writer, checked reader. */
export * from './record.js';
export { checkLogRecord } from './schema.js';
export {
  DecisionLogWriter,
  DEFAULT_LOG_KEEP,
  DEFAULT_LOG_MAX_BYTES,
  rotatedLogFiles,
} from './writer.js';
export type { DecisionLogWriterOptions } from './writer.js';
export { DecisionLogError, iterateDecisionLog, joinDecisions, readDecisionLog } from './reader.js';
export type { DecisionLogContents, ReadDecisionLogOptions } from './reader.js';
