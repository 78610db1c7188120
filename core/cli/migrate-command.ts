import { loadConfig } from '../config/index.ts';
import { openDatabase } from '../store/index.ts';
import type { Command } from './commands.ts';

export const migrateCommand: Command = {
  summary: 'Apply pending database migrations',
  options: { check: { type: 'boolean', doc: 'Only list pending migrations; exit 1 when there are any' } },
  async run(values) {
    const config = loadConfig();
    const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, embeddedDbPort: config.embeddedDbPort });
    try {
      const where = db.embedded ? `embedded database in ${config.dataDir}` : 'PostgreSQL (DATABASE_URL)';
      if (values.check) {
        const pending = await db.pendingMigrations();
        console.log(pending.length === 0 ? `${where}: up to date` : `${where}: ${pending.length} pending\n${pending.map((m) => `  ${m}`).join('\n')}`);
        return pending.length === 0 ? 0 : 1;
      }
      const applied = await db.migrate();
      console.log(applied.length === 0 ? `${where}: already up to date` : `${where}: applied\n${applied.map((m) => `  ${m}`).join('\n')}`);
      return 0;
    } finally {
      await db.close();
    }
  },
};
