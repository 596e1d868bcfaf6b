import type { Stats } from './measure.ts';

/** ours; stock = the tutorial's group (stock scripts, the tutorial's mysql.server); tuned = stock scripts + a readiness-polling LSB mysqld (bench/stock/mysqld-tuned). */
export type Side = 'ours' | 'stock' | 'tuned';
export const SIDES: readonly Side[] = ['ours', 'stock', 'tuned'];
export const noteKey = (side: Side) => `${side}Note` as 'oursNote' | 'stockNote' | 'tunedNote';

/** One line of the results table. */
export interface Row {
  id: string;
  section: 'status' | 'start/stop' | 'group' | 'failover';
  label: string;
  unit: 'ms' | 's';
  ours?: Stats;
  stock?: Stats;
  /** The tuned shell group (same as stock where the script is the same one: then tunedSameAsStock). */
  tuned?: Stats;
  tunedSameAsStock?: boolean;
  /** Why a side has no numbers, or what it printed (one line each). */
  oursNote?: string;
  stockNote?: string;
  tunedNote?: string;
  /** Whole-row note (method, pending reason). */
  note?: string;
  pending?: boolean;
}

export interface RssRow {
  label: string;
  oursKiB?: number;
  stockKiB?: number;
  note?: string;
}

export interface PhaseResult {
  rows: Row[];
  rss: RssRow[];
  notes: string[];
}

export interface Machine {
  date: string;
  nproc: number;
  cpu: string;
  kernel: string;
  hostname: string;
  agents: string;
  agentsBuild: string;
  bun?: string;
  hyperfine: string;
  stock: Record<string, string>;
}
