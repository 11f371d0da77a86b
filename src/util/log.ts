/** The logger the library writes to; the default discards everything. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}
