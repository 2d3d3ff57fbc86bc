#!/usr/bin/env node
/**
 * The `agentwire` command line.
 *
 * @module
 */
import { CommanderError, Command } from 'commander';
import { isAgentwireError } from '../protocol/errors.js';
import { registerCertCommand } from './commands/cert.js';
import { registerDoctorCommand } from './commands/doctor.js';
import { registerServeCommand } from './commands/serve.js';
import { registerTailCommand } from './commands/tail.js';
import { readPackageVersion } from './package-info.js';

const program = new Command('agentwire')
  .description('Stream AI agent runs over Server-Sent Events: gateway, run viewer and tools.')
  .version(readPackageVersion(), '-v, --version')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerServeCommand(program);
registerCertCommand(program);
registerTailCommand(program);
registerDoctorCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version exit 0; bad usage exits 2 (commander has already printed the one-line error).
    process.exit(error.exitCode === 0 ? 0 : 2);
  }
  console.error(`agentwire: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(isUsageError(error) ? 2 : 1);
}

/** Bad flags or flag values (including options a factory refused): exit code 2. */
function isUsageError(error: unknown): boolean {
  if (isAgentwireError(error)) return error.code === 'AW_INVALID_OPTION';
  return typeof error === 'object' && error !== null && (error as { usage?: unknown }).usage === true;
}
