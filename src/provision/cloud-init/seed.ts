// The NoCloud seed: the rendered files under the names cloud-init looks for, and the `cidata` ISO
// that carries them (cloud-init's NoCloud data source finds a filesystem labelled cidata or CIDATA).

import { VERSION } from '../../version.js';
import { buildIso } from '../iso9660/writer.js';
import type { CloudInitConfig } from './config.js';
import { renderMetaData, renderNetworkConfig, renderUserData } from './render.js';

export interface SeedFile {
  name: 'user-data' | 'meta-data' | 'network-config' | 'vendor-data';
  text: string;
}

/** The label cloud-init's NoCloud data source looks for. */
export const SEED_LABEL = 'cidata';

/** The files of the seed in a fixed order; network-config and vendor-data only when configured. */
export function seedFiles(c: CloudInitConfig): SeedFile[] {
  const files: SeedFile[] = [
    { name: 'user-data', text: renderUserData(c) },
    { name: 'meta-data', text: renderMetaData(c) },
  ];
  const net = renderNetworkConfig(c);
  if (net !== undefined) files.push({ name: 'network-config', text: net });
  if (c.vendorData !== undefined) files.push({ name: 'vendor-data', text: c.vendorData });
  return files;
}

/**
 * The seed ISO. Files are readable by root only (mode 0400 through Rock Ridge): user-data may hold a
 * password hash, and cloud-init reads the seed as root.
 */
export function seedIso(files: readonly SeedFile[], date: Date): Buffer {
  return buildIso(
    files.map((f) => ({ name: f.name, data: Buffer.from(f.text, 'utf8'), mode: 0o400 })),
    { volumeId: SEED_LABEL, date, applicationId: `GUESTLINK ${VERSION}`, preparerId: 'GUESTLINK CLOUD-INIT' },
  );
}
