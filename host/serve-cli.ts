// `moat serve`: the demo site on the embedded default config.
import { MoatServer } from './server.ts';
import { demoApp } from './app.ts';

const USAGE = `usage: moat serve [--port N] [--host ADDR]
Serves the demo site through the module on the embedded default config (default 127.0.0.1:8080).`;

export async function serveCommand(args: string[]): Promise<number> {
  let port = 8080, host = '127.0.0.1';
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help' || a === '-h') { process.stdout.write(USAGE + '\n'); return 0; }
    if (a === '--port') port = Number(args[++i]);
    else if (a === '--host') host = args[++i] ?? '';
    else { process.stderr.write(`moat serve: unknown argument ${a}\n${USAGE}\n`); return 2; }
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) { process.stderr.write(`moat serve: --port must be 0..65535\n`); return 2; }
  const server = await MoatServer.start({ port, host, app: demoApp(), log: (l) => process.stdout.write(l + '\n') });
  process.stdout.write(`moat: serving the demo on http://${host}:${server.port}/ (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => { process.stdout.write('moat: shutting down\n'); server.close().then(resolve); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
