// A command that cannot go on throws CliError: main prints its message (no stack) and exits with its code.
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
