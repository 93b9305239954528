import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';

/** What every thread answers: the request's id, and an error (with its code) if it failed. */
export interface ThreadReply {
  readonly id: number;
  readonly error?: string;
  readonly code?: string;
}

/** A request waiting for its reply. */
export interface ThreadRequest {
  reject(e: unknown): void;
}

/**
 * The request thread's side of one of the SQLite threads (the writer, the reader): a worker
 * spoken to over a MessagePort (so the thread can take pending messages synchronously), one
 * reply per request, matched by id.
 *
 * The thread starts on the first request and keeps the process alive only while a request is
 * in flight (and, once closing, until it has ended). If it dies, the requests it held are
 * rejected, after settling the answers it posted before it ended, and the next request starts
 * a new thread. `close()` lets the requests in flight finish, then asks the thread to close its
 * connection and end (`{ close: true }`); later requests are refused.
 */
export abstract class SqliteThread<Reply extends ThreadReply, Request extends ThreadRequest> {
  protected worker: Worker | undefined;
  private port: MessagePort | undefined;
  private exited: Promise<void> | undefined;
  protected readonly pending = new Map<number, Request>();
  private nextId = 0;
  private closed = false;
  private idle: (() => void)[] = [];

  constructor(
    /** The thread's script (plain JavaScript: a worker does not inherit the TypeScript loader). */
    private readonly script: URL,
    /** What the thread is called in errors: "writer", "reader". */
    private readonly name: string,
  ) {}

  /** The thread's workerData, less its port. */
  protected abstract workerData(): Record<string, unknown>;

  /** Called when a new thread starts (it knows nothing of the last one's state). */
  protected onStart(): void {}

  /** Settles `request` with a reply that is not an error. */
  protected abstract answer(reply: Reply, request: Request): void;

  /** Sends `message(id)` with `request` waiting for its reply; rejects it once closed. */
  protected send(request: Request, message: (id: number) => object): void {
    if (this.closed) {
      request.reject(new Error(`the SQLite ${this.name} thread is closed`));
      return;
    }
    const port = this.start();
    const id = this.nextId++;
    this.pending.set(id, request);
    if (this.pending.size === 1) this.hold(true);
    port.postMessage(message(id));
  }

  private hold(on: boolean): void {
    if (on || this.closed) {
      this.worker?.ref();
      this.port?.ref();
    } else {
      this.worker?.unref();
      this.port?.unref();
    }
  }

  private start(): MessagePort {
    if (this.worker && this.port) return this.port;
    const { port1, port2 } = new MessageChannel();
    const w = new Worker(this.script, {
      workerData: { ...this.workerData(), port: port2 },
      transferList: [port2],
    });
    this.worker = w;
    this.port = port1;
    this.onStart();
    port1.on('message', (m: Reply) => this.settle(m));
    this.hold(false);
    const fail = (e: unknown) => {
      if (this.worker === w) {
        // Answers the thread posted before it ended may still wait in the port (its 'exit' and
        // its port are not ordered): settle those first, so a committed batch is reported so.
        for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1))
          this.settle(m.message as Reply);
        this.worker = undefined;
        this.port = undefined;
        port1.close();
      }
      const err = e instanceof Error ? e : new Error(`the SQLite ${this.name} thread stopped (${String(e)})`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      for (const f of this.idle.splice(0)) f();
    };
    w.on('error', fail);
    this.exited = new Promise((resolve) =>
      w.once('exit', (code) => {
        fail(new Error(`the SQLite ${this.name} thread exited with code ${code}`));
        resolve();
      }),
    );
    return port1;
  }

  private settle(m: Reply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (!this.pending.size) {
      this.hold(false);
      for (const f of this.idle.splice(0)) f();
    }
    if (m.error !== undefined) p.reject(this.errorOf(m));
    else this.answer(m, p);
  }

  /** The error a request that failed rejects with: the thread's message and code. */
  protected errorOf(m: Reply): Error {
    return Object.assign(new Error(m.error), m.code ? { code: m.code } : {});
  }

  /** Waits for the requests in flight, then closes the thread's connection and the thread. */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.worker) return;
    this.hold(true);
    if (this.pending.size) await new Promise<void>((r) => this.idle.push(r));
    const port = this.port;
    if (!port) return;
    port.postMessage({ close: true });
    await this.exited;
  }
}
