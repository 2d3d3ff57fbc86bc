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
  .configureOutput(oneLineErrors('agentwire --help'))
  .exitOverride();

registerServeCommand(program);
registerCertCommand(program);
registerTailCommand(program);
registerDoctorCommand(program);
for (const command of program.commands) command.configureOutput(oneLineErrors(`agentwire ${command.name()} --help`));

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

/**
 * Commander's usage errors on one line, like every other CLI error: "agentwire: <what> (see: <help>)".
 * Its "(Did you mean …?)" suggestion comes on a second line, so newlines are folded.
 */
function oneLineErrors(help: string): { outputError: (text: string, write: (text: string) => void) => void } {
  return {
    outputError: (text, write) => write(`agentwire: ${text.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')} (see: ${help})\n`),
  };
}

/** Bad flags or flag values (including options a factory refused): exit code 2. */
function isUsageError(error: unknown): boolean {
  if (isAgentwireError(error)) return error.code === 'AW_INVALID_OPTION';
  return typeof error === 'object' && error !== null && (error as { usage?: unknown }).usage === true;
}
