// Turns one raw value (a flag's or an environment variable's string, or a value from a config file)
// into the setting's type, and checks it against the spec. Every error names where the value came
// from and what was expected; a secret setting's value is never repeated.
import path from 'node:path';
import { SettingError, type SettingSpec, type SettingValue } from './spec.js';

const TRUE = /^(true|1|yes|on)$/i;
const FALSE = /^(false|0|no|off)$/i;
/** A plain decimal (1, 0.5, .5, 2e3): no hex, no Infinity, no empty string (which Number() reads as 0). */
const DECIMAL = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/** A list given as one string, split as the spec says (default ',' and ';' like qemu-ga's key files), blanks dropped. */
export function splitList(text: string, split: SettingSpec['split'] = ',;'): string[] {
  if (split === 'none') return text === '' ? [] : [text];
  const parts = split === 'lines' ? text.split(/\r?\n/) : split === ',' ? text.split(',') : text.split(/[;,]/);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

/** The most of a value an error repeats: a huge value (a pasted file) would bury the message. */
const SHOWN_MAX = 80;

/** `text` quoted for an error (newlines and control characters escaped), cut after SHOWN_MAX characters. */
export function clip(text: string): string {
  return text.length <= SHOWN_MAX ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, SHOWN_MAX))}... (${text.length} characters)`;
}

function shown(spec: SettingSpec, value: unknown): string {
  if (spec.secret) return '(the value)';
  return typeof value === 'string' ? clip(value) : JSON.stringify(value);
}

function scalar(spec: SettingSpec, value: unknown, from: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new SettingError(`${from}: a ${spec.type === 'list' ? 'list of strings' : 'string'} is expected`);
}

/** Checks one string (a string setting, or a list item) against choices, absolute and pattern. */
function checkText(spec: SettingSpec, s: string, from: string): void {
  if (spec.wildcard !== undefined && s === spec.wildcard) return;
  if (spec.choices && !spec.choices.includes(s))
    throw new SettingError(`${from}: ${shown(spec, s)} is not one of ${spec.choices.join(', ')}`);
  if (spec.absolute && !path.isAbsolute(s)) throw new SettingError(`${from}: ${shown(spec, s)} must be an absolute path`);
  if (spec.pattern && !spec.pattern.re.test(s)) throw new SettingError(`${from}: ${shown(spec, s)} must be ${spec.pattern.text}`);
}

/** The typed, checked value of `value` for `spec`; `from` names the source in errors (a flag, a variable, file:key). */
export function convert(spec: SettingSpec, value: unknown, from: string): SettingValue {
  let out: SettingValue;
  switch (spec.type) {
    case 'bool': {
      if (typeof value === 'boolean') out = value;
      else if (typeof value === 'string' && TRUE.test(value.trim())) out = true;
      else if (typeof value === 'string' && FALSE.test(value.trim())) out = false;
      else throw new SettingError(`${from}: ${shown(spec, value)} is not a boolean (true or false)`);
      break;
    }
    case 'int':
    case 'number': {
      const s = typeof value === 'number' ? String(value) : scalar(spec, value, from).trim();
      const n = Number(s);
      if (spec.type === 'int') {
        if (!/^-?\d+$/.test(s)) throw new SettingError(`${from}: ${shown(spec, value)} is not an integer`);
        if (!Number.isSafeInteger(n)) throw new SettingError(`${from}: ${shown(spec, value)} is too large`);
      } else if (!DECIMAL.test(s) || !Number.isFinite(n)) throw new SettingError(`${from}: ${shown(spec, value)} is not a number`);
      if (spec.min !== undefined && n < spec.min) throw new SettingError(`${from}: ${n} is below the minimum ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) throw new SettingError(`${from}: ${n} is above the maximum ${spec.max}`);
      out = n;
      break;
    }
    case 'list': {
      const items = Array.isArray(value) ? value : [value];
      const list: string[] = [];
      for (const item of items) list.push(...splitList(scalar(spec, item, from), spec.split));
      for (const item of list) checkText(spec, item, from);
      out = list;
      break;
    }
    default: {
      const s = scalar(spec, value, from).trim();
      checkText(spec, s, from);
      out = s;
    }
  }
  const problem = spec.check?.(out);
  if (problem !== undefined) throw new SettingError(`${from}: ${spec.secret ? '' : `${shown(spec, out)} `}${problem}`);
  return out;
}
