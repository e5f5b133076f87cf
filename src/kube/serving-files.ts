// --identity files: the serving certificate and key come from files someone else keeps fresh
// (cert-manager writing a Secret that is mounted, a host's own PKI). They are read at start-up and
// read again whenever their size or modification time changes (checked every 30 s), so a renewed
// certificate is served without a restart; a broken pair on disk is logged and the old one kept.
import { readFileSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import { KubeError } from './errors.js';
import { type ServingCertificate, servingCertificate } from './serving-cert.js';

/** How often the files are looked at. */
export const FILES_POLL_MS = 30_000;

export class ServingFiles {
  private stamp = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly certFile: string,
    private readonly keyFile: string,
    private readonly log: Logger,
    private readonly pollMs = FILES_POLL_MS,
  ) {}

  private currentStamp(): string {
    return [this.certFile, this.keyFile]
      .map((f) => {
        const st = statSync(f);
        return `${st.size}:${st.mtimeMs}:${st.ino}`;
      })
      .join('|');
  }

  /** Reads and checks the pair; KUBE_CRYPTO_FILES with the reason. */
  load(): ServingCertificate {
    try {
      this.stamp = this.currentStamp();
      const st = statSync(this.keyFile);
      if (st.mode & 0o004)
        this.log.warn({ identity: 'files', file: this.keyFile }, 'the TLS key file is readable by everyone: make it 0600 or 0640');
      return servingCertificate(readFileSync(this.keyFile, 'utf8'), readFileSync(this.certFile, 'utf8'));
    } catch (err) {
      throw new KubeError('KUBE_CRYPTO_FILES', `--tls-cert ${this.certFile} / --tls-key ${this.keyFile}: ${(err as Error).message}`);
    }
  }

  /** Calls back with the pair each time it changes on disk and still checks out. */
  watch(onChange: (c: ServingCertificate) => void): void {
    this.timer = setInterval(() => {
      let stamp: string;
      try {
        stamp = this.currentStamp();
      } catch (err) {
        return this.log.warn(
          { identity: 'files', err: (err as Error).message },
          'cannot stat the TLS files; keeping the certificate in use',
        );
      }
      if (stamp === this.stamp) return;
      try {
        const c = this.load();
        this.log.info({ identity: 'files', serial: c.serial, notAfter: c.notAfter }, 'serving certificate re-read from its files');
        onChange(c);
      } catch (err) {
        this.log.error(
          { identity: 'files', err: (err as Error).message },
          'the changed TLS files cannot be used; keeping the certificate in use',
        );
      }
    }, this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
