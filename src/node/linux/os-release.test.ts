import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseKeyFile, parseOsRelease, unquoteValue } from './os-release.js';

const enc = (s: string) => new TextEncoder().encode(s);

// Expected values below were produced by the real qemu-ga 7.2 (QGA_OS_RELEASE pointed at each text).
describe('os-release parsing like qemu-ga', () => {
  it('unescapes \\" \\\' \\$ \\` \\\\ inside double quotes (test-qga get-osinfo case)', () => {
    const text = [
      'ID=agent-test',
      'NAME=AGENT',
      'PRETTY_NAME="Agent test build"',
      'VERSION="Test 2"',
      'VERSION_ID=2',
      'VARIANT="Quotes \\"\\\'\\$\\`\\\\ and \\\\\\\\ done."',
      'VARIANT_ID=unit',
      '',
    ].join('\n');
    assert.deepEqual(parseOsRelease(enc(text)), {
      id: 'agent-test',
      name: 'AGENT',
      prettyName: 'Agent test build',
      version: 'Test 2',
      versionId: '2',
      variant: 'Quotes "\'$`\\ and \\\\ done.',
      variantId: 'unit',
    });
  });

  it('cuts unquoted values at a space or semicolon, keeps unknown escapes, repeats the tail of an unterminated quote', () => {
    const r = parseOsRelease(enc('ID=a b;c\nVERSION="unterminated\nPRETTY_NAME="x\\ny" trailing\nNAME="\\q\\\\"\n'));
    assert.deepEqual(r, { id: 'a', version: 'unterminatedd', prettyName: 'x\\ny', name: '\\q\\' });
  });

  it('trims spaces around keys and before values, ignores comments, CRLF and keeps empty values', () => {
    assert.deepEqual(parseOsRelease(enc('  ID = spaced  \n# comment\n\nNAME="a"\r\nVARIANT=\n')), { id: 'spaced', name: 'a', variant: '' });
  });

  it('rejects the whole file on a line that is not key=value, as GKeyFile does', () => {
    assert.equal(parseOsRelease(enc('ID=x\nthis is not valid\n')), null);
    assert.equal(parseKeyFile('=novalue\n'), null);
  });

  it('reads only the os-release group; the last duplicate wins', () => {
    assert.deepEqual(parseOsRelease(enc('ID=x\n[other]\nNAME=y\n[os-release]\nVERSION=z\nID=dup\n')), { id: 'dup', version: 'z' });
  });

  it('rejects invalid UTF-8', () => {
    assert.equal(parseOsRelease(new Uint8Array([0x49, 0x44, 0x3d, 0xff, 0x0a])), null);
  });

  it('unquotes single-quoted values shell-style (qemu-ga 7.2 would return "\'Single")', () => {
    assert.equal(unquoteValue("'Single quoted'"), 'Single quoted');
  });
});
