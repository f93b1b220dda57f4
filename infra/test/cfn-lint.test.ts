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

test.each([
  ['the app', {}, 4],
  ['the app with member accounts and the member stack', {
    'fleetopt:memberAccounts': '111122223333,444455556666', 'fleetopt:memberRegions': 'us-east-1,eu-west-1',
    'fleetopt:centralAccount': '123456789012',
  }, 5],
  ['the app over an organization', { 'fleetopt:memberAccounts': 'organization' }, 4],
])('cfn-lint finds nothing in any template of %s', (_name, context, count) => {
  execFileSync(path.join(REPO_ROOT, 'scripts', 'emulator'), ['install'], { stdio: 'inherit' });
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetopt-cfn-lint-'));
  try {
    synthApp(context, outdir);
    const templates = fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json')).map((f) => path.join(outdir, f));
    expect(templates).toHaveLength(count);
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
