// `moat` command line: one subcommand table, each command in its own file.
import { configCommand } from './config-cli.ts';
import { inspectCommand } from './inspect-cli.ts';
import { serveCommand } from './serve-cli.ts';
import { certCommand } from './cert-cli.ts';
import { fitCommand } from './fit-cli.ts';
import { userCommand } from './user-cli.ts';
import { auditCommand } from './audit-cli.ts';
import { oplogCommand } from './oplog-cli.ts';

const HELP = `moat — a secure-by-default HTTP front door for microcontroller-class devices

usage: moat <command> [options]
  serve     serve HTTP/HTTPS through the module (demo site on the embedded default config)
  config    check a config file, or compile it to the module's binary blob (or a C array)
  cert      create a self-signed development certificate and key for https listeners
  inspect   replay connections given as JSON Lines on stdin through the parser
  fit       check a config against a board profile's flash/RAM budget (boards/*.json); --kit DIR writes the firmware kit
  user      manage users and device credentials in a users file (add|passwd|revoke|rotate|list)
  audit     self-audit: probe a shadow instance of the config and report findings (text, JSON, SARIF)
  oplog     check the operator operation log's hash chain, or show its last records (verify|show)
  help      this text

moat <command> --help shows the command's options.`;

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  serve: serveCommand,
  inspect: inspectCommand,
  config: configCommand,
  cert: certCommand,
  fit: fitCommand,
  user: userCommand,
  audit: auditCommand,
  oplog: oplogCommand,
  help: async () => { process.stdout.write(HELP + '\n'); return 0; },
};

export async function main(argv: string[]): Promise<number> {
  const [name = 'help', ...rest] = argv;
  const cmd = COMMANDS[name === '--help' || name === '-h' ? 'help' : name];
  if (!cmd) {
    process.stderr.write(`moat: unknown command "${name}"\n\n${HELP}\n`);
    return 2;
  }
  return cmd(rest);
}
