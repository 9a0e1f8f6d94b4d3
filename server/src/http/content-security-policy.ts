import type { HelmetOptions } from 'helmet';

/**
 * helmet's options for documents: the web app and the docs page, which load only their own files
 * (OWASP HTTP Headers Cheat Sheet; Content Security Policy Cheat Sheet).
 */
export function documentHelmetOptions(https: boolean): HelmetOptions {
  return {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // Angular sets inline styles on elements; no inline script is allowed.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        // Only an HTTPS deployment may ask browsers to upgrade; on plain http it breaks.
        upgradeInsecureRequests: https ? [] : null,
      },
    },
    // HSTS only means something over HTTPS; a plain-http development server must not send it.
    strictTransportSecurity: https,
  };
}

/**
 * The headers OWASP's REST Security Cheat Sheet ("Security headers") asks of JSON API answers:
 * nothing may be loaded or framed (`default-src 'none'; frame-ancestors 'none'`, X-Frame-Options
 * DENY), no MIME sniffing, no referrer, HSTS over HTTPS. The document-only headers (cross-origin
 * isolation, DNS prefetch, IE download options, Flash policies…) mean nothing for JSON and cost
 * about a quarter of a status check's time (docs/benchmarks.md), so API answers leave them out.
 */
export function apiHelmetOptions(https: boolean): HelmetOptions {
  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
    crossOriginOpenerPolicy: false,
    crossOriginResourcePolicy: false,
    originAgentCluster: false,
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: https,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xFrameOptions: { action: 'deny' },
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  };
}
