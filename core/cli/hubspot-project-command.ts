import { z } from 'zod';
import { writeHubspotProject } from '../../plugins/hubspot/project.ts';
import { parseArguments, type Command } from './commands.ts';

const Args = z.object({
  out: z.string({ error: 'the directory to write the project to' }).min(1),
  'public-url': z.string({ error: 'set --public-url or PUBLIC_URL' }).min(1),
});

export const hubspotProjectCommand: Command = {
  summary: "Write the HubSpot developer project (app, cards, webhooks) for this Ledgerline's public URL, ready for `hs project upload`",
  usage: 'ledgerline hubspot-project --out <dir> [--public-url https://ledgerline.example.org]',
  options: {
    out: { type: 'string', doc: 'A new or empty directory for the project', valueName: 'dir' },
    'public-url': { type: 'string', doc: 'Where Ledgerline is reachable from HubSpot (default: PUBLIC_URL)', valueName: 'url' },
  },
  run(values) {
    const args = parseArguments(Args, { ...values, 'public-url': values['public-url'] ?? process.env.PUBLIC_URL });
    const publicUrl = args['public-url'];
    const files = writeHubspotProject(args.out, publicUrl);
    console.log(`Wrote the HubSpot project for ${new URL(publicUrl).origin} to ${args.out} (${files.length} files). Next: cd ${args.out} && hs project upload`);
    return Promise.resolve(0);
  },
};
