import { crmEnabled, declaredNodes } from '../hacf.ts';
import { Findings, type Finding } from './codes.ts';
import { NodeFiles, type CheckOptions } from './context.ts';
import { checkAuthkeys } from './authkeys.ts';
import { checkFirewall, checkHaCf } from './hacf.ts';
import { checkHaresources } from './haresources.ts';
import { checkNode, checkWatch } from './node.ts';
import { checkDrbdFencing, checkOurResources } from './resources.ts';

// `ha-agent check`: reads ha.cf, authkeys and haresources the way heartbeat
// and its ResourceManager do, asks our agents' own parameter tables (and,
// on the node itself, their validate-all) about every resource, and looks at
// what the node would do at boot. Every finding names the file and line the
// user wrote, a stable code per kind (like shellcheck's SC codes, the table
// in codes.ts), what is wrong and how to fix it. Node-level checks read
// files under `root` (rc?.d links, systemd *.wants, /etc/fstab), never
// systemctl, so a test can point them at a scratch tree.
//
// One module per thing checked, run here in this order: hacf.ts, authkeys.ts,
// haresources.ts, resources.ts (our resources), node.ts.

export { CODES, type Finding, type FindingCode, type Severity } from './codes.ts';
export { closestWord, readErrorText, type CheckOptions } from './context.ts';

export interface CheckReport {
  ok: boolean;
  findings: Finding[];
}

/** The text form: `file:line: severity: message — fix` (line left out when 0). */
export function formatFinding(f: Finding): string {
  return `${f.file}${f.line ? `:${f.line}` : ''}: ${f.severity}: ${f.message} [${f.code}] — ${f.fix}`;
}

/** The JSON form the issue specifies: {ok, findings: [{severity, file, line, code, message}]}; message carries the fix. */
export function reportJson(report: CheckReport): string {
  return JSON.stringify({
    ok: report.ok,
    findings: report.findings.map((f) => ({ severity: f.severity, file: f.file, line: f.line, code: f.code, message: `${f.message} — ${f.fix}` })),
  }, null, 2);
}

export async function runCheck(options: CheckOptions): Promise<CheckReport> {
  const findings = new Findings();
  const files = new NodeFiles(options.root);
  const haDir = options.haDir.replace(/\/+$/, '') || '/';
  const node = options.node.toLowerCase();

  const entries = checkHaCf(files, `${haDir}/ha.cf`, node, options, findings);
  if (entries) await checkFirewall(entries, `${haDir}/ha.cf`, options, findings);
  const nodes = declaredNodes(entries ?? []);
  const crmOn = crmEnabled(entries ?? []) !== undefined;

  checkAuthkeys(files, `${haDir}/authkeys`, findings);

  // With crm on, heartbeat ignores haresources (HA105 says so): nothing of it is checked.
  if (crmOn) return report(findings);
  const haresourcesPath = `${haDir}/haresources`;
  const { parsed, resolved } = checkHaresources(files, haresourcesPath, nodes, entries !== undefined, options, findings);
  await checkOurResources(resolved, haresourcesPath, options, files, findings);
  checkDrbdFencing(resolved, entries ?? [], files, findings);

  if (entries !== undefined) {
    await checkNode(parsed, nodes, node, options, files, findings);
    checkWatch(entries, `${haDir}/ha.cf`, files, findings);
  }
  return report(findings);
}

function report(findings: Findings): CheckReport {
  return { ok: !findings.has((f) => f.severity === 'error'), findings: findings.list };
}
