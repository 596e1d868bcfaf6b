import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from './agents.ts';

// The application of both cluster rigs (heartbeat, cluster.ts; Pacemaker,
// pacemaker.ts): test/rig/client-writer.mjs in the client namespace,
// committing one row at a time through the VIP. Each line it prints is
// handed to `onRecord`.

export interface WriterRecord {
  ok?: number;
  fail?: number;
  /** A TCP connection (and MySQL handshake) through the VIP completed. */
  connect?: boolean;
  node?: string;
  t: number;
  error?: string;
}

export interface VipWriter {
  /** SIGTERM (it finishes the statement in flight), SIGKILL after 5 s; resolves once it has exited. */
  stop(): Promise<void>;
}

export function startVipWriter(clientNs: string, vip: string, firstId: number, intervalMs: number, env: NodeJS.ProcessEnv, onRecord: (record: WriterRecord) => void): VipWriter {
  const child = spawn('ip', ['netns', 'exec', clientNs, 'setpriv', '--pdeathsig', 'KILL', process.execPath, resolve(ROOT, 'test/rig/client-writer.mjs'), vip, String(firstId), String(intervalMs)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
    cwd: ROOT,
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let record: WriterRecord;
    try {
      record = JSON.parse(line) as WriterRecord;
    } catch {
      return; // not ours
    }
    onRecord(record);
  });
  child.stderr!.on('data', () => {});
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    async stop() {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}
