/** Settings read at start-up from `latchkey.json`, so a deployment changes them without a build. */
export interface RuntimeSettings {
  /** Base URL of the Latchkey server; empty for the app's own origin. */
  apiUrl: string;
}

/** Reads `latchkey.json` beside index.html; a missing or broken file means the defaults. */
export async function loadRuntimeSettings(baseUri: string): Promise<RuntimeSettings> {
  try {
    const response = await fetch(new URL('latchkey.json', baseUri), { cache: 'no-cache' });
    if (!response.ok) return { apiUrl: '' };
    const body = (await response.json()) as Partial<RuntimeSettings>;
    return { apiUrl: typeof body.apiUrl === 'string' ? body.apiUrl : '' };
  } catch {
    return { apiUrl: '' };
  }
}
