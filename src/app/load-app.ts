// Finds, imports and recognises the user's app. Every failure is an AppLoadError
// that names the module and the cause, so the arbiter can halt with a clear reason.
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AppLoadError, describeError } from '../errors.js';
import { type AppModuleSpec, parseAppModule } from './app-module.js';
import { describeImportFailure } from './import-failure.js';
import { LISTEN_HINT } from './listen-hint.js';
import { type RecognisedApp, recogniseApp } from './recognise-app.js';
import { isTypeScript, prepareTypeScript } from './typescript-loader.js';

const EXTENSIONS = ['', '.js', '.mjs', '.cjs', '/index.js', '/index.mjs', '/index.cjs', '.ts', '.mts', '.cts', '/index.ts'];

const isFile = (path: string) => existsSync(path) && statSync(path).isFile();

/** A path relative to cwd first (as `corral app` users expect), then a package name. */
export function resolveAppModule(module: string, cwd: string): string {
  const base = isAbsolute(module) ? module : join(cwd, module);
  for (const extension of EXTENSIONS) if (isFile(base + extension)) return resolve(base + extension);
  const looksLikePath = module.startsWith('.') || isAbsolute(module);
  if (!looksLikePath) {
    try {
      return createRequire(join(cwd, 'noop.js')).resolve(module);
    } catch {
      // fall through to the error below
    }
  }
  throw new AppLoadError(
    'CORRAL_ERR_APP_NOT_FOUND',
    `Cannot find app module '${module}': no file ${module}{${EXTENSIONS.filter(Boolean).join(',')}} in ${cwd}` +
      (looksLikePath ? '' : ' and no installed package of that name') +
      '. Check APP_MODULE and the working directory.',
  );
}

function pickExport(namespace: Record<string, unknown>, spec: AppModuleSpec, file: string): unknown {
  if (spec.exportName in namespace) return namespace[spec.exportName];
  // CommonJS modules arrive as { default: module.exports }.
  const cjs = namespace.default as Record<string, unknown> | undefined;
  if (cjs && (typeof cjs === 'object' || typeof cjs === 'function') && spec.exportName in cjs) return cjs[spec.exportName];
  const available = Object.keys(namespace).join(', ') || 'none';
  throw new AppLoadError(
    'CORRAL_ERR_APP_EXPORT',
    `App module '${spec.module}' (${file}) has no export '${spec.exportName}' (it exports: ${available}). Name one with module:export.` +
      (available === 'none' ? ` ${LISTEN_HINT}` : ''),
  );
}

export async function loadApp(appModule: string, cwd: string): Promise<RecognisedApp> {
  const spec = parseAppModule(appModule);
  const file = resolveAppModule(spec.module, cwd);
  if (isTypeScript(file)) {
    try {
      await prepareTypeScript([dirname(file), cwd]);
    } catch (error) {
      throw new AppLoadError('CORRAL_ERR_APP_IMPORT', `App module '${spec.module}' (${file}) is TypeScript, and ${describeError(error)}`, { cause: error });
    }
  }
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new AppLoadError('CORRAL_ERR_APP_IMPORT', `App module '${spec.module}' (${file}) failed to import: ${describeImportFailure(error, file)}`, {
      cause: error,
    });
  }
  let app = pickExport(namespace, spec, file);
  if (spec.factoryArgs) {
    if (typeof app !== 'function') {
      throw new AppLoadError('CORRAL_ERR_APP_SHAPE', `'${spec.exportName}' in '${spec.module}' is not a function, so it cannot be called as a factory.`);
    }
    try {
      app = await (app as (...args: unknown[]) => unknown)(...spec.factoryArgs);
    } catch (error) {
      throw new AppLoadError('CORRAL_ERR_APP_IMPORT', `Factory '${spec.exportName}()' in '${spec.module}' threw: ${describeImportFailure(error)}`, {
        cause: error,
      });
    }
  }
  return recogniseApp(app, `${spec.module}:${spec.exportName}`);
}
