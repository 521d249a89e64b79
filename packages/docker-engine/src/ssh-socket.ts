import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { Duplex } from 'node:stream';

/**
 * A socket-shaped stream over `ssh HOST docker system dial-stdio` (what the docker CLI does for
 * ssh:// hosts): the engine's HTTP API spoken through ssh's stdin/stdout. node:http expects a
 * net.Socket from createConnection — it calls setTimeout, setNoDelay, setKeepAlive — so those exist
 * here with the same meaning (an idle timeout that emits 'timeout'; the others are no-ops).
 */
export class SshStdioSocket extends Duplex {
  readonly #child: ChildProcessWithoutNullStreams;
  #stderr = '';
  #idleMs = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(program: string, args: string[]) {
    super();
    this.#child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stderr.on('data', (d: Buffer) => {
      this.#stderr = (this.#stderr + d.toString()).slice(-2000);
    });
    this.#child.stdout.on('data', (d: Buffer) => {
      this.#touch();
      if (!this.push(d)) this.#child.stdout.pause();
    });
    this.#child.stdout.on('end', () => this.push(null));
    this.#child.on('error', (e) => this.destroy(e));
    this.#child.on('exit', (code) => {
      // ssh's own failures (unreachable host, refused key) exit 255 before any HTTP byte: say why.
      if (code !== 0 && code !== null && !this.destroyed)
        this.destroy(new Error(`ssh exited with ${code}: ${this.#stderr.trim() || 'no message'}`));
    });
  }

  #touch(): void {
    if (this.#timer) this.#timer.refresh();
  }

  override _read(): void {
    this.#child.stdout.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.#touch();
    this.#child.stdin.write(chunk, encoding, done);
  }

  override _final(done: (error?: Error | null) => void): void {
    this.#child.stdin.end();
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#child.exitCode === null) this.#child.kill();
    done(error);
  }

  setTimeout(ms: number, onTimeout?: () => void): this {
    if (onTimeout) this.once('timeout', onTimeout);
    if (this.#timer) clearTimeout(this.#timer);
    this.#idleMs = ms;
    this.#timer = ms > 0 ? setTimeout(() => this.emit('timeout'), this.#idleMs) : undefined;
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}
