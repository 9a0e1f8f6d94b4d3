import { safeReturnUrl } from './auth-guard';

describe('safeReturnUrl', () => {
  it('keeps a path of this app', () => {
    expect(safeReturnUrl('/sessions?tab=1', '/status')).toBe('/sessions?tab=1');
  });
  it('refuses absolute and protocol-relative URLs', () => {
    expect(safeReturnUrl('https://evil.example/', '/status')).toBe('/status');
    expect(safeReturnUrl('//evil.example/', '/status')).toBe('/status');
    expect(safeReturnUrl('/\\evil.example', '/status')).toBe('/status');
    expect(safeReturnUrl(null, '/status')).toBe('/status');
  });
});
