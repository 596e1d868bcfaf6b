import { realpathSync } from 'node:fs';
import type { AgentDefinition } from '../../contract/agent.ts';
import { runAgent } from '../../contract/dispatch.ts';
import type { StatusOptions } from '../status.ts';

// Our agents' `status` answered inside the watcher: when resource.d/NAME
// resolves to this very executable, the link would run the same code with
// the same arguments; running it here saves a process start per resource
// per sample. The definitions come from the CLI (lib never imports agents/).

export function inProcessStatus(agents: Readonly<Record<string, AgentDefinition>>, executable = process.execPath): NonNullable<StatusOptions['inProcess']> {
  let self: string | undefined;
  try {
    self = realpathSync(executable);
  } catch {
    self = undefined;
  }
  return async (script, path, args, env) => {
    const definition = agents[script];
    if (!definition || !self) return undefined;
    try {
      if (realpathSync(path) !== self) return undefined;
    } catch {
      return undefined;
    }
    let stdout = '';
    let stderr = '';
    const exitCode = await runAgent(definition, [...args, 'status'], { ...process.env, ...env, LC_ALL: 'C' }, {
      stdout: (text) => { stdout += text; },
      stderr: (text) => { stderr += text; },
    });
    return { stdout, stderr, exitCode };
  };
}
