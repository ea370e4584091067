import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { whileNoSchemaIsDropped } from './database.ts';
import type { TestHaven } from './haven.ts';

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The real `bin/haven.mjs <args>` running in a child process against the test's database. */
export class HavenProcess {
  #child: ChildProcess | undefined;
  #output = '';

  constructor(
    private readonly h: TestHaven,
    private readonly args: string[],
    private readonly env: Record<string, string>,
  ) {}

  /** Starts it and waits until it says it is running (after its migrations). */
  async start(ready: RegExp, ms = 60_000): Promise<this> {
    const bin = path.resolve(import.meta.dirname, '../../bin/haven.mjs');
    await whileNoSchemaIsDropped(
      () =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, [bin, ...this.args], {
            // info: the JSON line each command writes once it runs is what `ready` waits for.
            env: { PATH: process.env.PATH, HAVEN_LOG_LEVEL: 'info', ...this.h.db.env, ...this.env },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          this.#child = child;
          const timer = setTimeout(
            () => reject(new Error(`haven ${this.args.join(' ')} did not start: ${this.#output}`)),
            ms,
          );
          const listen = (chunk: Buffer) => {
            this.#output += chunk.toString();
            if (ready.test(this.#output)) {
              clearTimeout(timer);
              resolve();
            }
          };
          child.stdout!.on('data', listen);
          child.stderr!.on('data', listen);
          child.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`haven ${this.args.join(' ')} exited (${code}): ${this.#output}`));
          });
        }),
    );
    return this;
  }

  get output(): string {
    return this.#output;
  }

  /** Kills it outright (SIGKILL: no shutdown of any kind) and waits for it to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }
}
