// Turns one raw value (a string from the command line or environment, or a
// native value from a config file) into a setting's type, or says what is allowed.
import { SettingError } from '../errors.js';
import type { SettingSpec } from './schema.js';

export function allowedValues(spec: SettingSpec): string {
  switch (spec.type) {
    case 'int':
    case 'number': {
      const bounds = [spec.min !== undefined ? `≥ ${spec.min}` : '', spec.max !== undefined ? `≤ ${spec.max}` : '']
        .filter(Boolean)
        .join(' and ');
      return `${spec.type === 'int' ? 'a whole number' : 'a number'}${bounds ? ` ${bounds}` : ''}`;
    }
    case 'boolean':
      return 'true or false';
    case 'list':
      return spec.headerObject ? "an object of header: value, or a list of 'HEADER: value'" : spec.commaSeparated ? 'comma-separated strings, or a list of strings' : 'a string or a list of strings';
    case 'string':
      return spec.choices ? `one of ${spec.choices.join(', ')}` : 'a string';
  }
}

const show = (raw: unknown) => (typeof raw === 'string' ? `'${raw}'` : JSON.stringify(raw) ?? String(raw));

export function convertSetting(spec: SettingSpec, raw: unknown, source: string): unknown {
  const invalid = (why = 'is not valid') => new SettingError(spec.name, `${source}: ${show(raw)} ${why}; use ${allowedValues(spec)}.`);
  switch (spec.type) {
    case 'int':
    case 'number': {
      const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(value) || (spec.type === 'int' && !Number.isInteger(value))) throw invalid();
      if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
        throw new SettingError(spec.name, `${source}: ${value} is out of range; use ${allowedValues(spec)}.`);
      }
      return value;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw invalid();
    }
    case 'list': {
      const given =
        spec.headerObject && raw !== null && typeof raw === 'object' && !Array.isArray(raw)
          ? Object.entries(raw).map(([name, value]) => `${name}: ${String(value)}`)
          : typeof raw === 'string'
            ? [raw]
            : raw;
      if (!Array.isArray(given) || !given.every((item) => typeof item === 'string')) throw invalid();
      // `--forwarded-allow-ips a,b` as gunicorn takes it; an empty value is an empty list.
      const items = spec.commaSeparated ? given.flatMap((item) => item.split(',')).map((item) => item.trim()).filter(Boolean) : [...given];
      for (const item of items) {
        const problem = spec.item?.(item);
        if (problem) throw new SettingError(spec.name, `${source}: '${item}' ${problem}.`);
      }
      return items;
    }
    case 'string': {
      if (raw === null && spec.default === null) return null;
      if (typeof raw !== 'string') throw invalid();
      if (spec.choices && !spec.choices.includes(raw)) {
        throw new SettingError(spec.name, `${source}: '${raw}' is not one of ${spec.choices.join(', ')}.`);
      }
      const problem = spec.check?.(raw);
      if (problem) throw new SettingError(spec.name, `${source}: '${raw}' ${problem}.`);
      return raw;
    }
  }
}
