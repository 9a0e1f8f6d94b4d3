import { bootstrapApplication } from '@angular/platform-browser';
import { AppShell } from './app/shell/app-shell';
import { createAppConfig } from './app/app.config';
import { loadRuntimeSettings } from './app/runtime-settings';

// The API base URL is read at run time from latchkey.json next to index.html, so one build can
// be served from the API's origin (the default, apiUrl "") or from any other origin.
loadRuntimeSettings(document.baseURI)
  .then((settings) => bootstrapApplication(AppShell, createAppConfig(settings)))
  .catch((error: unknown) => console.error(error));
