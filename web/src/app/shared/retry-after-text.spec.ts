import { retryAfterText } from './retry-after-text';

describe('retryAfterText', () => {
  it('says seconds under a minute and rounds minutes up', () => {
    expect(retryAfterText(1)).toBe('Try again in 1 second.');
    expect(retryAfterText(45)).toBe('Try again in 45 seconds.');
    expect(retryAfterText(60)).toBe('Try again in 1 minute.');
    expect(retryAfterText(61)).toBe('Try again in 2 minutes.');
    expect(retryAfterText(900)).toBe('Try again in 15 minutes.');
  });

  it('says nothing without a delay', () => {
    expect(retryAfterText(undefined)).toBe('');
    expect(retryAfterText(0)).toBe('');
  });
});
