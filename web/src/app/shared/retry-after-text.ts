/**
 * When to try again, in words, from a 429's Retry-After seconds: "Try again in 45 seconds." or
 * "Try again in 15 minutes."; empty when the server gave no delay.
 */
export function retryAfterText(seconds: number | undefined): string {
  if (seconds === undefined || seconds <= 0) return '';
  if (seconds < 60) return `Try again in ${seconds} ${seconds === 1 ? 'second' : 'seconds'}.`;
  const minutes = Math.ceil(seconds / 60);
  return `Try again in ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}.`;
}
