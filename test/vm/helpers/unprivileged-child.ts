/**
 * Child process of test/vm/security.test.ts: opens /dev/mlproxy as root, drops to
 * uid/gid 65534 (nobody, no capabilities), then tries every ioctl on the open file
 * and prints {ioctl: errno or "ok"} as JSON. argv[2]: the synthetic subsystem id.
 */
import { closeSync, openSync } from 'node:fs';
import { RawDevice, errnoOf } from './rawdev.js';
import { DEVICE_PATH } from './guest.js';

const id = Number(process.argv[2]);
const dev = new RawDevice({ nonblock: true });
if (!process.setgid || !process.setuid || !process.setgroups) {
  throw new Error('dropping privileges needs POSIX process.setuid/setgid');
}
process.setgroups([]);
process.setgid(65534);
process.setuid(65534);
const s = dev.state(id);
const result: Record<string, string> = {
  uid: String(process.getuid?.()),
  VERSION: errnoOf(() => dev.version()) ?? 'ok',
  SUBSYS_INFO: errnoOf(() => dev.subsystems()) ?? 'ok',
  GET_STATE: errnoOf(() => dev.state(id)) ?? 'ok',
  GET_MODE: errnoOf(() => dev.getMode(id)) ?? 'ok',
  GET_STATUS: errnoOf(() => dev.status(id)) ?? 'ok',
  read: errnoOf(() => dev.readFeedback()) ?? 'ok',
  RECOMMEND:
    errnoOf(() =>
      dev.recommend({ subsysId: id, epoch: s.epoch, modelVersion: 1, propensity: 1, knobs: [10] }),
    ) ?? 'ok',
  SET_MODE: errnoOf(() => dev.setMode(id, 3, true)) ?? 'ok',
  CLAIM: errnoOf(() => dev.claim(id)) ?? 'ok',
  RELEASE: errnoOf(() => dev.release(id)) ?? 'ok',
  HEARTBEAT: errnoOf(() => dev.heartbeat(id)) ?? 'ok',
  openRead: errnoOf(() => closeSync(openSync(DEVICE_PATH, 'r'))) ?? 'ok',
  openWrite: errnoOf(() => closeSync(openSync(DEVICE_PATH, 'r+'))) ?? 'ok',
};
dev.close();
process.stdout.write(JSON.stringify(result));
