/**
 * Where this project's Ledgerline runs (its PUBLIC_URL). `ledgerline hubspot-project` writes the
 * project with your URL here, in `permittedUrls.fetch`, the OAuth redirect URL and the webhook
 * target; HubSpot refuses `hubspot.fetch` to any URL not permitted.
 */
export const LEDGERLINE_URL = 'https://ledgerline.example.com';
