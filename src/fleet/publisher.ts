/**
 * The bounded local queue between the daemon's loop and the server. enqueue() is O(1)
 * and never waits: when the queue is full, the oldest record not yet in flight is dropped
 * and counted. A pump publishes from the head, up to `window` records at a time, each
 * with its message id (the server drops duplicates, so a record resent after a lost
 * acknowledgement is stored once); a record leaves the queue only when the server has
 * acknowledged it. While offline, or after a failure, the pump waits (backoff 100 ms
 * doubling to 5 s) and then catches up from where it stopped.
 */
import { Sleeper } from './sleeper.js';

export interface Outgoing {
  subject: string;
  msgId: string;
  payload: unknown;
}

/** Publishes one message and resolves when the server has stored it. */
export type SendFn = (subject: string, data: Uint8Array, msgId: string) => Promise<void>;

export interface PublisherStats {
  enqueued: number;
  published: number;
  dropped: number;
  errors: number;
  depth: number;
  lastError: string | null;
}

/** A ring buffer deque: O(1) at both ends. */
class Ring<T> {
  private buf: (T | undefined)[];
  private head = 0;
  length = 0;

  constructor(readonly capacity: number) {
    this.buf = new Array<T | undefined>(capacity);
  }

  push(v: T): void {
    this.buf[(this.head + this.length) % this.capacity] = v;
    this.length++;
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const v = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.length--;
    return v;
  }

  unshift(v: T): void {
    this.head = (this.head - 1 + this.capacity) % this.capacity;
    this.buf[this.head] = v;
    this.length++;
  }
}

export interface PublisherOptions {
  capacity: number;
  send: SendFn;
  /** Records in flight at once (default 64). */
  window?: number;
  onError?: (message: string) => void;
  onDrop?: () => void;
  onPublished?: (n: number) => void;
}

export class Publisher {
  private readonly queue: Ring<Outgoing>;
  private inFlight = 0;
  private online = false;
  private closed = false;
  private readonly sleeper = new Sleeper();
  private idleWaiters: (() => void)[] = [];
  private backoffMs = 0;
  private readonly encoder = new TextEncoder();
  private pumping: Promise<void> | null = null;
  readonly stats: PublisherStats = {
    enqueued: 0,
    published: 0,
    dropped: 0,
    errors: 0,
    depth: 0,
    lastError: null,
  };

  constructor(private readonly opts: PublisherOptions) {
    this.queue = new Ring(opts.capacity);
  }

  get depth(): number {
    return this.queue.length + this.inFlight;
  }

  /** From the loop: never waits; drops the oldest queued record when full. */
  enqueue(item: Outgoing): void {
    this.stats.enqueued++;
    if (this.depth >= this.opts.capacity) {
      if (this.queue.length > 0) {
        this.queue.shift();
      } else {
        // Everything held is in flight: the newest record is the one that cannot be kept.
        this.countDrop();
        return;
      }
      this.countDrop();
    }
    this.queue.push(item);
    this.stats.depth = this.depth;
    this.kick(false);
  }

  private countDrop(): void {
    this.stats.dropped++;
    this.opts.onDrop?.();
  }

  setOnline(online: boolean): void {
    this.online = online;
    if (online) this.backoffMs = 0;
    this.kick(true);
  }

  /** Starts the pump if it is not running; `wake` ends its offline or backoff sleep. */
  private kick(wake: boolean): void {
    if (!this.pumping && !this.closed) {
      this.pumping = this.pump().finally(() => {
        this.pumping = null;
        this.stats.depth = this.depth;
        if (this.depth === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const w of waiters) w();
        } else if (!this.closed && this.online) {
          this.kick(false);
        }
      });
    }
    if (wake) this.sleeper.wake();
  }

  /** Resolves when nothing is queued or in flight, or after timeoutMs (false then). */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.depth === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(done);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.sleeper.wake();
    await this.pumping;
  }

  private async pump(): Promise<void> {
    const window = this.opts.window ?? 64;
    // Start after the caller's synchronous code, so that `pumping` is set first.
    await Promise.resolve();
    try {
      while (!this.closed && this.queue.length > 0) {
        if (!this.online) {
          await this.sleeper.sleep(60000);
          continue;
        }
        if (this.backoffMs > 0) await this.sleeper.sleep(this.backoffMs);
        if (this.closed || !this.online) continue;
        const batch: Outgoing[] = [];
        while (batch.length < window && this.queue.length > 0) batch.push(this.queue.shift()!);
        this.inFlight = batch.length;
        const results = await Promise.allSettled(
          batch.map((o) =>
            this.opts.send(o.subject, this.encoder.encode(JSON.stringify(o.payload)), o.msgId),
          ),
        );
        this.inFlight = 0;
        let ok = 0;
        let failed: string | null = null;
        // Failed records go back to the head, in their order, ahead of newer ones.
        for (let i = results.length - 1; i >= 0; i--) {
          const r = results[i];
          if (r.status === 'fulfilled') {
            ok++;
          } else {
            failed = (r.reason as Error)?.message ?? String(r.reason);
            if (this.depth < this.opts.capacity) this.queue.unshift(batch[i]);
            else this.countDrop();
          }
        }
        this.stats.published += ok;
        if (ok) this.opts.onPublished?.(ok);
        if (failed !== null) {
          this.stats.errors++;
          this.stats.lastError = failed;
          this.opts.onError?.(failed);
          this.backoffMs = Math.min(5000, Math.max(100, this.backoffMs * 2));
        } else {
          this.backoffMs = 0;
        }
        this.stats.depth = this.depth;
      }
    } catch (err) {
      this.stats.lastError = (err as Error).message;
    }
  }
}
