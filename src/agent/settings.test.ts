import assert from 'node:assert/strict';
import { test } from 'node:test';
import { convert, FlagIndex, type SettingSpec } from '../settings/index.js';
import { AGENT_ACTIONS, SETTINGS } from './settings.js';

test('the agent settings table is consistent: unique flags, every default passes its own checks', () => {
  assert.doesNotThrow(() => new FlagIndex([...SETTINGS, ...AGENT_ACTIONS]));
  for (const spec of SETTINGS as readonly SettingSpec[]) {
    assert.ok(spec.group === 'general' || spec.group === 'guestlink', `${spec.key}: group`);
    if (spec.default !== undefined) assert.doesNotThrow(() => convert(spec, spec.default, `${spec.key} default`), spec.key);
  }
});
