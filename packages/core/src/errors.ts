/**
 * Errors a site owner can cause are values, not exceptions: a bad config must never
 * kill the page it is embedded in. Every error names the field it is about.
 */
export interface ConfigError {
  /** The config field or shortcode key at fault, e.g. `days` or `categories[1].id`. */
  readonly field: string;
  /** What is wrong, in words a site owner can act on. */
  readonly message: string;
}

/** Formats an error the way the banner prints it to the console. */
// biome-ignore lint/style/useTemplate: written as in the banner's other messages, it gzips 4 B smaller there
export const formatError = (e: ConfigError): string => 'assent: ' + e.field + ': ' + e.message;
