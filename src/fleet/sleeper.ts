/** A sleep that another part can end early (a stop, a reconnect). */
export class Sleeper {
  private wakeFn: (() => void) | null = null;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeFn = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeFn = done;
    });
  }

  /** Ends the current sleep, if any. */
  wake(): void {
    this.wakeFn?.();
  }
}
