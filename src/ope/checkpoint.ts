/**
 * The deployed policy of a daemon checkpoint, for the promotion gate's "current" policy.
 *
 * A checkpoint (src/checkpoint/store.ts, payload written by src/loop/daemon.ts) holds one
 * entry per subsystem with its policy label, snapshot and model version (the number of
 * updates it had learned from). The decisions the daemon logged after that checkpoint
 * carry a policyVersion >= that model version; they are the evaluation window, on which
 * the restored policy is the deployed one (decisions before it are its training data).
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import { restorePolicy } from '../../policies/registry.js';
import type { Policy, PolicySnapshot } from '../../policies/types.js';
import { readCheckpoint } from '../checkpoint/store.js';
import type { OpeData } from './data.js';
import { OpeDataError } from './data.js';

export interface DeployedPolicy {
  file: string;
  /** Time the checkpoint was written. */
  time: string;
  subsystem: string;
  /** Policy label of the daemon, e.g. "conservative:alpha=0.1,...,inner=linucb". */
  label: string;
  modelVersion: number;
  snapshot: PolicySnapshot;
  /** A fresh copy of the deployed policy. */
  make(): Policy;
}

interface LearnerEntry {
  name?: unknown;
  policyLabel?: unknown;
  policy?: unknown;
  modelVersion?: unknown;
}

/** Loads the policy of `subsystem` (or the only one) from a checkpoint file. */
export function loadDeployedPolicy(file: string, subsystem?: string): DeployedPolicy {
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) {
    const newest = fs
      .readdirSync(file)
      .filter((n) => /^checkpoint-\d{10}\.json$/.test(n))
      .sort()
      .pop();
    throw new OpeDataError(
      `--current-checkpoint ${file} is a directory; pass one checkpoint file${newest ? `, e.g. ${nodePath.join(file, newest)} (the newest)` : ''}`,
    );
  }
  const read = readCheckpoint<{ learners?: unknown }>(file);
  if ('problem' in read) {
    throw new OpeDataError(`--current-checkpoint ${file}: ${read.problem}`);
  }
  const learners = Array.isArray(read.payload.learners)
    ? (read.payload.learners as LearnerEntry[])
    : [];
  const names = learners.map((l) => String(l.name));
  let entry: LearnerEntry | undefined;
  if (subsystem !== undefined) {
    entry = learners.find((l) => l.name === subsystem);
    if (!entry) {
      throw new OpeDataError(
        `--current-checkpoint ${file} has no policy for subsystem "${subsystem}"; it has ${names.join(', ') || 'none'}`,
      );
    }
  } else if (learners.length === 1) {
    entry = learners[0];
  } else {
    throw new OpeDataError(
      `--current-checkpoint ${file} holds the policies of ${names.join(', ')}; pick one with --subsystem NAME`,
    );
  }
  const { policyLabel, policy, modelVersion } = entry;
  if (
    typeof policyLabel !== 'string' ||
    typeof policy !== 'object' ||
    policy === null ||
    !Number.isInteger(modelVersion)
  ) {
    throw new OpeDataError(
      `--current-checkpoint ${file}: the entry of "${String(entry.name)}" lacks a policy label, snapshot or model version`,
    );
  }
  const snapshot = policy as PolicySnapshot;
  try {
    restorePolicy(snapshot);
  } catch (e) {
    throw new OpeDataError(
      `--current-checkpoint ${file}: the policy of "${String(entry.name)}" cannot be restored: ${(e as Error).message}`,
    );
  }
  return {
    file,
    time: read.time,
    subsystem: String(entry.name),
    label: policyLabel,
    modelVersion: modelVersion as number,
    snapshot,
    make: () => restorePolicy(snapshot),
  };
}

/**
 * Index of the first decision the deployed policy made after its checkpoint: logged by
 * its label (or the daemon's safety fallback) with policyVersion >= its model version.
 */
export function windowStart(data: OpeData, deployed: DeployedPolicy): number {
  const start = data.decisions.findIndex(
    (d) =>
      (d.policy === deployed.label || d.policy === 'safety:baseline') &&
      (d.policyVersion ?? -1) >= deployed.modelVersion,
  );
  if (start < 0) {
    throw new OpeDataError(
      `the log has no decision of ${deployed.label} made after the checkpoint ${deployed.file} ` +
        `(model version ${deployed.modelVersion}): it learned from every decision in the log, and judging it on ` +
        'its own training data would flatter it; pass an older checkpoint or a log written after this one',
    );
  }
  return start;
}
