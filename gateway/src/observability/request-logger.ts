import type { Bindings, ChildLoggerOptions, LevelWithSilent, Logger } from 'pino';

type Level = Exclude<LevelWithSilent, 'silent'>;
type Args = [obj: unknown, msg?: string, ...rest: unknown[]];

/**
 * A request's logger (fastify's childLoggerFactory): it binds the request id
 * as a pino child would, but makes that child only when the request writes a
 * line. A long-poll held open for 30 s would keep a child the whole time (about
 * 0.4 KiB of the 16.9 KiB a waiting poll held, by a heap-snapshot diff), and most
 * requests write only the access line, which the server writes from the root
 * logger with the id in it.
 */
export class RequestLogger {
  readonly #root: Logger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;
  #child: Logger | undefined;

  constructor(root: Logger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#root = root;
    this.#bindings = bindings;
    this.#options = options;
    // A level of its own (a route's logLevel) decides what is written: make the child now.
    if (options.level !== undefined) this.#made();
  }

  get level(): string {
    return this.#child?.level ?? this.#root.level;
  }

  set level(level: string) {
    this.#made().level = level;
  }

  isLevelEnabled(level: string): boolean {
    return (this.#child ?? this.#root).isLevelEnabled(level);
  }

  fatal(...args: Args): void {
    this.#write('fatal', args);
  }
  error(...args: Args): void {
    this.#write('error', args);
  }
  warn(...args: Args): void {
    this.#write('warn', args);
  }
  info(...args: Args): void {
    this.#write('info', args);
  }
  debug(...args: Args): void {
    this.#write('debug', args);
  }
  trace(...args: Args): void {
    this.#write('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.#made().child(bindings, options);
  }

  #write(level: Level, args: Args): void {
    if (!this.isLevelEnabled(level)) return;
    (this.#made()[level] as (...a: Args) => void)(...args);
  }

  #made(): Logger {
    return (this.#child ??= this.#root.child(this.#bindings, this.#options));
  }
}
