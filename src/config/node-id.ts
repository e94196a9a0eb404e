import { randomInt, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { makePrivateDirectory, writePrivateFile } from '../common/private-files.js';
import { NODE_ID_PATTERN, type ClusterConfig } from './cluster-options.js';
import { ConfigError } from './config-error.js';

const NODE_ID_FILE = 'node-id';
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const GENERATED_LENGTH = 8;

/**
 * This node's id: cluster.nodeId, or else the one generated when the data directory was first used and kept in
 * <dataDir>/node-id (mode 0600), so it stays the same across restarts. Two processes starting at once get the same id.
 */
export function nodeIdOf(config: { dataDir: string; cluster: Pick<ClusterConfig, 'nodeId'> }): string {
  if (config.cluster.nodeId !== null) return config.cluster.nodeId;
  const path = join(config.dataDir, NODE_ID_FILE);
  const kept = readNodeIdFile(path);
  if (kept !== null) return kept;
  makePrivateDirectory(config.dataDir);
  // Written whole under another name, then linked into place: a reader never sees a half-written file, and of two
  // processes creating it at once the second finds the first's (link fails with EEXIST).
  const draft = `${path}.${randomBytes(6).toString('hex')}`;
  writePrivateFile(draft, `${Array.from({ length: GENERATED_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join('')}\n`);
  try {
    const fd = openSync(draft, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    linkSync(draft, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(draft);
  }
  return readNodeIdFile(path)!;
}

function readNodeIdFile(path: string): string | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const id = text.trim();
  if (!NODE_ID_PATTERN.test(id)) throw new ConfigError('cluster.nodeId', `${path} does not hold a node id (1 to 8 lower-case letters and digits); fix or remove it, or set cluster.nodeId`);
  return id;
}
