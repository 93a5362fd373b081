// `moat fit`: the module's flash/RAM budget for a config on a board profile (boards/*.json), and
// the firmware kit (C arrays of the module and config blob + the glue) for a config that fits.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MoatConfig } from './types.ts';
import { ConfigError, compileConfig, loadConfig } from './config.ts';
import { GLUE_DIR, GLUE_FILES, boardNames, fit, formatFit, kitSources, loadBoard, type BoardProfile } from './fit.ts';

const USAGE = `usage: moat fit --board NAME [--config FILE] [--json] [--kit DIR]
  --board NAME   a profile in boards/ (${boardNames().join(', ') || 'none found'}) or a path to a profile .json
  --config FILE  the config to size (default: the embedded default config)
  --json         print the budget as JSON
  --kit DIR      when it fits, write the firmware kit to DIR: moat_kit.h, moat_wasm.c (build/moat.wasm),
                 moat_config.c (the config blob) and the glue (moat_engine.h/.c, moat_wasm3.c, moat_wamr.c)
exit 0 = fits, 1 = over budget (the last line names the rows) or a bad profile/config, 2 = usage`;

function usage(reason: string): number {
  process.stderr.write(`moat fit: ${reason}\n`);
  return 2;
}

export async function fitCommand(args: string[]): Promise<number> {
  let boardArg: string | undefined, configFile: string | undefined, kitDir: string | undefined, json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      const v = args[++i];
      return v === undefined || v === '' ? undefined : v;
    };
    if (a === '--help' || a === '-h') { process.stdout.write(USAGE + '\n'); return 0; }
    else if (a === '--json') json = true;
    else if (a === '--board' || a === '-b') { if ((boardArg = value()) === undefined) return usage(`${a} needs a board name`); }
    else if (a === '--config' || a === '-c') { if ((configFile = value()) === undefined) return usage(`${a} needs a file name`); }
    else if (a === '--kit') { if ((kitDir = value()) === undefined) return usage(`${a} needs a folder`); }
    else return usage(`unknown argument ${a} (moat fit --help)`);
  }
  if (boardArg === undefined) return usage(`missing --board NAME (boards: ${boardNames().join(', ') || 'none found'})`);

  let board: BoardProfile, cfg: MoatConfig;
  try {
    board = loadBoard(boardArg);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`moat fit: ${e.message}\n`);
    return 1;
  }
  try {
    cfg = loadConfig(configFile);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`${e.key === null || configFile === undefined ? e.message : `${configFile}: ${e.message}`}\n`);
    return 1;
  }

  const report = await fit(board, cfg, configFile ?? 'default (embedded)');
  process.stdout.write(json ? JSON.stringify(report, null, 2) + '\n' : formatFit(report, board));
  if (!report.fits) {
    if (json) process.stderr.write(`moat fit: ${report.reason}\n`);
    if (kitDir !== undefined) process.stderr.write(`moat fit: kit not written (${board.name} has no room for this config)\n`);
    return 1;
  }
  if (kitDir !== undefined) {
    try {
      mkdirSync(kitDir, { recursive: true });
      const files = kitSources(board, report, compileConfig(cfg));
      for (const [name, text] of Object.entries(files)) writeFileSync(join(kitDir, name), text);
      for (const f of GLUE_FILES) copyFileSync(join(GLUE_DIR, f), join(kitDir, f));
      const names = [...Object.keys(files), ...GLUE_FILES];
      (json ? process.stderr : process.stdout).write(`kit: ${names.length} files in ${kitDir} (${names.join(', ')})\n`);
    } catch (e) {
      process.stderr.write(`moat fit: cannot write the kit to ${kitDir}: ${(e as Error).message}\n`);
      return 1;
    }
  }
  return 0;
}
