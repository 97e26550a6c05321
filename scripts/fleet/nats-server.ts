/**
 * A real nats-server (JetStream) for the fleet tests and the demo: a free loopback port, a temp store
 * directory, kill and restart on the same port and store. Without the binary the tests
 * skip with a message naming the package, unless MLP_REQUIRE_NATS=1 (CI), where a missing
 * server fails them.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const NATS_PACKAGE_HINT =
  'nats-server is not installed: apt-get install nats-server (Debian bookworm ships 2.9.10), or set MLP_NATS_SERVER to its path';

export function natsServerBinary(): string | null {
  const env = process.env.MLP_NATS_SERVER;
  if (env) return fs.existsSync(env) ? env : null;
  for (const dir of (process.env.PATH ?? '').split(':').concat('/usr/sbin', '/usr/bin')) {
    const p = path.join(dir, 'nats-server');
    if (fs.existsSync(p)) return p;
  }
  return null;
}

export function natsRequired(): boolean {
  return process.env.MLP_REQUIRE_NATS === '1';
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`nats-server did not listen on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export class NatsServer {
  private child: ChildProcess | null = null;
  readonly storeDir: string;
  private logFile: string;

  private constructor(
    readonly binary: string,
    readonly port: number,
  ) {
    this.storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-nats-'));
    this.logFile = path.join(this.storeDir, 'server.log');
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  static version(binary: string): string {
    return spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout.trim();
  }

  static async start(binary: string): Promise<NatsServer> {
    const s = new NatsServer(binary, await freePort());
    await s.restart();
    return s;
  }

  async restart(): Promise<void> {
    if (this.child) throw new Error('already running');
    const log = fs.openSync(this.logFile, 'a');
    this.child = spawn(
      this.binary,
      ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.storeDir],
      { stdio: ['ignore', log, log] },
    );
    fs.closeSync(log);
    await waitForPort(this.port, 20000);
  }

  /** SIGKILL: no orderly shutdown, as a crash or power cut of the server would be. */
  async kill(): Promise<void> {
    const c = this.child;
    if (!c) return;
    this.child = null;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  }

  async stop(): Promise<void> {
    await this.kill();
    fs.rmSync(this.storeDir, { recursive: true, force: true });
  }

  log(): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }
}
