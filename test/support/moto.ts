import { ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/**
 * A local `moto_server` (the Python AWS emulator) for tests that want real HTTP, real error names
 * and real pagination from S3 and Glue. It is not an npm package: where it is not installed, the
 * tests that need it are skipped (see `motoServerPath`).
 */

/** What the SDK clients need to talk to moto: any region, any credentials (moto checks no IAM). */
export const MOTO_REGION = 'eu-west-1';
export const MOTO_CREDENTIALS = { accessKeyId: 'moto', secretAccessKey: 'moto' };

/** The `moto_server` executable on the PATH, or undefined. */
export function motoServerPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'moto_server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** A port that was free a moment ago (jest runs test files in parallel: no fixed port). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * One HTTP call to moto's own API; the status code, or undefined when nothing answers. No agent:
 * a kept-alive socket would outlive the server's tests.
 */
function call(method: 'GET' | 'POST', url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { method, agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** Whether the process has ended, or never started (then it has no id). */
const exited = (child: ChildProcess) =>
  child.pid === undefined || child.exitCode !== null || child.signalCode !== null;

/** A running moto_server on 127.0.0.1. */
export class MotoServer {
  private constructor(
    private readonly child: ChildProcess,
    /** The endpoint to give SDK clients. */
    readonly endpoint: string,
    private readonly killOnExit: () => void,
  ) {}

  /**
   * Starts moto_server on a free port and waits until it answers `GET /moto-api/`. Another process
   * may take the port between the check and moto's bind: moto then exits, and this tries again
   * on another port.
   */
  static async start(executable: string, attempts = 3, readyWithinMs = 30_000): Promise<MotoServer> {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const endpoint = `http://127.0.0.1:${port}`;
      // IAM checks stay off (moto's default: INITIAL_NO_AUTH_ACTION_COUNT unset): with them on,
      // moto rejects the signature of SDK requests whose key contains `=`, as every lake key does.
      const child = spawn(executable, ['-H', '127.0.0.1', '-p', String(port)], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, INITIAL_NO_AUTH_ACTION_COUNT: undefined },
      });
      // moto logs every request on stderr: read it (a full pipe would stall moto), keep the tail.
      let log = '';
      child.on('error', (error) => {
        log += `${error.message}\n`;
      });
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        log = (log + chunk).slice(-4_000);
      });
      // The last resort if afterAll never runs (a worker torn down): no moto outlives jest.
      const killOnExit = () => {
        if (!exited(child)) process.kill(child.pid as number);
      };
      process.once('exit', killOnExit);
      const server = new MotoServer(child, endpoint, killOnExit);
      const deadline = Date.now() + readyWithinMs;
      while (!exited(child) && Date.now() < deadline) {
        if ((await call('GET', `${endpoint}/moto-api/`)) === 200) return server;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const why = exited(child)
        ? `exited (${child.exitCode ?? child.signalCode ?? 'not started'})`
        : `did not answer within ${readyWithinMs} ms`;
      await server.stop();
      if (attempt >= attempts) throw new Error(`moto_server on ${endpoint} ${why}:\n${log}`);
    }
  }

  /** Forgets every bucket, object, database and table (`POST /moto-api/reset`). */
  async reset(): Promise<void> {
    const status = await call('POST', `${this.endpoint}/moto-api/reset`);
    if (status !== 200) throw new Error(`moto_server did not reset: ${status ?? 'no answer'}`);
  }

  /** Stops moto by its process id and waits until it has exited. */
  async stop(): Promise<void> {
    process.removeListener('exit', this.killOnExit);
    if (exited(this.child)) return;
    const pid = this.child.pid as number;
    const gone = new Promise((resolve) => this.child.once('exit', resolve));
    process.kill(pid, 'SIGTERM');
    const stubborn = setTimeout(() => {
      if (!exited(this.child)) process.kill(pid, 'SIGKILL');
    }, 5_000);
    await gone;
    clearTimeout(stubborn);
  }
}
