import type { FirewallView } from '../firewall.ts';
import { constants, accessSync, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import type { AgentDefinition } from '../../contract/agent.ts';
import type { Interface, Route } from '../../ip/iproute-json.ts';
import type { OptionFileSource } from '../../mysql/mycnf.ts';

// What every check module reads: the options of the run, the node's files
// (under `root`: / on the node, a scratch tree in tests) and the
// did-you-mean helper.

export interface CheckOptions {
  /** Heartbeat's directory as the node sees it (default /etc/ha.d). */
  haDir: string;
  /** This node's name (default: uname -n). */
  node: string;
  /** Where the node's files are: / on the node, a scratch tree in tests. */
  root: string;
  /** Our agents by haresources name. */
  agents: Readonly<Record<string, AgentDefinition>>;
  /** The node's interfaces and routes (ip -j addr / route of this network namespace). */
  interfaces: readonly Interface[];
  routes: readonly Route[];
  env: NodeJS.ProcessEnv;
  /** Resolves a host name (the peer check); undefined = cannot. */
  resolveHost?: (name: string) => Promise<boolean>;
  /** Reads this node's packet filter for heartbeat's UDP port (HA119/HA120); undefined = not looked at. */
  firewall?: (port: number, ifaces: readonly string[]) => Promise<FirewallView>;
}

/** Why a file could not be read, in words. */
export function readErrorText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (code ?? String(error));
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const keep = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = keep;
    }
  }
  return row[b.length]!;
}

export function closestWord(word: string, candidates: Iterable<string>): string | undefined {
  let best: [string, number] | undefined;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (!best || d < best[1]) best = [c, d];
  }
  return best && best[1] <= Math.max(2, Math.floor(word.length / 3)) ? best[0] : undefined;
}

/** Reads under the root: the node's view of its own files. */
export class NodeFiles {
  constructor(readonly root: string) {}
  path(nodePath: string): string {
    return this.root === '/' ? nodePath : posix.join(this.root, nodePath);
  }
  read(nodePath: string): string | { error: string } {
    try {
      return readFileSync(this.path(nodePath), 'utf8');
    } catch (error) {
      return { error: readErrorText(error) };
    }
  }
  exists(nodePath: string): boolean {
    return existsSync(this.path(nodePath));
  }
  executable(nodePath: string): boolean {
    try {
      const p = this.path(nodePath);
      if (!statSync(p).isFile()) return false;
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }
  list(nodePath: string): string[] {
    try {
      return readdirSync(this.path(nodePath)).sort();
    } catch {
      return [];
    }
  }
  isSymlink(nodePath: string): boolean {
    try {
      return lstatSync(this.path(nodePath)).isSymbolicLink();
    } catch {
      return false;
    }
  }
  link(nodePath: string): string | undefined {
    try {
      return readlinkSync(this.path(nodePath));
    } catch {
      return undefined;
    }
  }
  optionSource(): OptionFileSource {
    // my.cnf names node paths (includes too): read them under the root, report them as the node sees them.
    return { readFile: (p) => readFileSync(this.path(p), 'utf8'), listDir: (p) => readdirSync(this.path(p)) };
  }
}
