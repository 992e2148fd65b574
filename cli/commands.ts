// Every clipanion command sbx registers, one file each, loaded on demand: `sbx run` should not
// pay for parsing the diff renderer or the policy tools before the command starts. Add new
// commands here with the first word of their path.
import type { CommandClass } from 'clipanion';

type Loader = () => Promise<CommandClass>;

export const commandLoaders: Record<string, Loader[]> = {
  run: [async () => (await import('./run.js')).RunCommand],
  doctor: [async () => (await import('./doctor.js')).DoctorCommand],
  policy: [
    async () => (await import('./policy-ls.js')).PolicyLsCommand,
    async () => (await import('./policy-show.js')).PolicyShowCommand,
    async () => (await import('./policy-check.js')).PolicyCheckCommand,
    async () => (await import('./policy-compile.js')).PolicyCompileCommand,
    async () => (await import('./policy-secrets.js')).PolicySecretsCommand,
  ],
  diff: [async () => (await import('./diff.js')).DiffCommand],
  commit: [async () => (await import('./commit.js')).CommitCommand],
  ls: [async () => (await import('./ls.js')).LsCommand],
  prune: [async () => (await import('./prune.js')).PruneCommand],
  discard: [async () => (await import('./discard.js')).DiscardCommand],
  completion: [async () => (await import('./completion.js')).CompletionCommand],
  export: [async () => (await import('./export.js')).ExportCommand],
  images: [async () => (await import('./images.js')).ImagesCommand],
};

/** The commands argv can reach: just the named one, or all of them (help, typos). */
export async function loadCommands(argv: string[]): Promise<CommandClass[]> {
  const wanted = commandLoaders[argv[0] ?? ''];
  const loaders = wanted ?? Object.values(commandLoaders).flat();
  // `sbx run --image IMAGE` with no command runs the image's own: a second parser for it,
  // left out of help (both would match `run --help`), the man page and completion.
  if (argv[0] === 'run' && !argv.some((a) => a === '-h' || a === '--help')) {
    return Promise.all([...loaders, async () => (await import('./run.js')).RunImageDefaultCommand].map((l) => l()));
  }
  return Promise.all(loaders.map((l) => l()));
}
