import type { Stats } from './measure.ts';

export type Side = 'ours' | 'stock';

/** One line of the results table. */
export interface Row {
  id: string;
  section: 'status' | 'start/stop' | 'group' | 'failover';
  label: string;
  unit: 'ms' | 's';
  ours?: Stats;
  stock?: Stats;
  /** Why a side has no numbers, or what it printed (one line each). */
  oursNote?: string;
  stockNote?: string;
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
