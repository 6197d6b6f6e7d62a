/** Default state location and file-safe device ids. */
import { describe, expect, it } from 'vitest';
import { defaultStatePath, fileSafeId } from '../../src/device/state-file.js';

describe('state file location', () => {
  it('device ids become injective, non-hidden file names', () => {
    expect(fileSafeId('IMEI:490154203237518')).toBe('IMEI_3A490154203237518');
    expect(fileSafeId('a_b')).toBe('a_5Fb');
    expect(fileSafeId('a:b')).not.toBe(fileSafeId('a_b'));
    expect(fileSafeId('..')).toBe('_2E.');
    expect(fileSafeId('../etc/passwd')).not.toContain('/');
    expect(fileSafeId('')).toBe('_');
    expect(fileSafeId('é')).toBe('_C3_A9');
  });

  it('$XDG_DATA_HOME wins, else ~/.local/share', () => {
    expect(defaultStatePath('d1', { XDG_DATA_HOME: '/x', HOME: '/h' })).toBe('/x/omadm/devices/d1.json');
    expect(defaultStatePath('d1', { HOME: '/h' })).toBe('/h/.local/share/omadm/devices/d1.json');
    expect(defaultStatePath('d1', { XDG_DATA_HOME: '', HOME: '/h' })).toBe(
      '/h/.local/share/omadm/devices/d1.json',
    );
  });
});
