// Run by scripts/test.mjs around a test run (through tsx):
//   database-templates-cli.ts create DIR   → prints the templates as JSON
//   database-templates-cli.ts drop JSON    → drops them
import { createDatabaseTemplates, dropDatabaseTemplates } from './database-templates.js';

const [command, arg] = process.argv.slice(2);
if (command === 'create' && arg) {
  process.stdout.write(JSON.stringify(await createDatabaseTemplates(arg)));
} else if (command === 'drop' && arg) {
  await dropDatabaseTemplates(JSON.parse(arg));
} else {
  console.error('usage: database-templates-cli.ts create DIR | drop JSON');
  process.exit(2);
}
