// The body of a CLI subcommand: its exit code becomes the process's, and an expected error (a typed error the user can
// act on) is printed as one line without a stack trace.

export async function runCommand(body: () => Promise<number | void>, isExpected: (error: Error) => boolean): Promise<void> {
  try {
    const code = await body();
    if (typeof code === 'number' && code !== 0) process.exitCode = code;
  } catch (error) {
    const e = error as Error;
    process.stderr.write(`dhts: error: ${isExpected(e) ? e.message : (e.stack ?? e.message)}\n`);
    process.exitCode = 1;
  }
}
