// Quoting for the runcmd lines cloud-init hands to /bin/sh: every value we did not write ourselves
// goes through here, so a URL or a version string can never become shell syntax.

/** A POSIX sh word for `value`: bare when only safe characters, else single-quoted. */
export function shQuote(value: string): string {
  if (/^[A-Za-z0-9_./:=,@+%-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
