#!/usr/bin/env node
// Entry point of the `dreamfold` command.
import { buildProgram } from './program.js';
import { CliError } from './errors.js';

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  if (!(err instanceof CliError)) throw err;
  console.error(`dreamfold: ${err.message}`);
  process.exitCode = err.exitCode;
}
