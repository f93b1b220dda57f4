/**
 * cfn-lint on every synthesized template (the app as `npm run synth:placeholder` builds it). cfn-lint is
 * pinned in scripts/requirements-emulator.lock and installed into the project's venv by
 * `scripts/emulator install`, which this test runs first (a no-op when the venv is current).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../lib/config';
import { INFRA, synthApp, venvPython } from './support';

test('cfn-lint finds nothing in any template', () => {
  execFileSync(path.join(REPO_ROOT, 'scripts', 'emulator'), ['install'], { stdio: 'inherit' });
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetopt-cfn-lint-'));
  try {
    synthApp({}, outdir);
    const templates = fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json')).map((f) => path.join(outdir, f));
    expect(templates).toHaveLength(4);
    const cfnLint = path.join(path.dirname(venvPython()), 'cfn-lint');
    let output = '';
    try {
      output = execFileSync(cfnLint, ['--config-file', path.join(INFRA, '.cfnlintrc.yaml'), '--', ...templates], { encoding: 'utf8' });
    } catch (e: any) {
      output = `cfn-lint exited with ${e.status}:\n${e.stdout}${e.stderr}`;
    }
    expect(output).toBe('');
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});
