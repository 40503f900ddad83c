/**
 * Production build of the Outlook add-in (the yo office TaskPane-React layout): addin/src →
 * addin/dist (or $OUTPORT_ADDIN_OUT). Pages: taskpane.html (the pane), commands.html (the
 * manifest's FunctionFile), signin.html (the Office-dialog sign-in). Office.js is not bundled: each
 * page loads it from the CDN. Icons are copied from addin/assets to dist/assets, and manifest.xml
 * is copied with its origin (https://localhost:3000) replaced by $ADDIN_ORIGIN and the worker API's
 * application id (placeholder 00000000-…) by $WORKER_API_CLIENT_ID when set. support.html is the SupportUrl.
 * Environment: OUTPORT_API_BASE = the worker's origin ("" = same origin as the pane).
 */
const fs = require('node:fs');
const path = require('node:path');
const webpack = require('webpack');
const HtmlWebpackPlugin = require('html-webpack-plugin');

const SRC = path.join(__dirname, 'addin', 'src');
const ASSETS = path.join(__dirname, 'addin', 'assets');
const MANIFEST_ORIGIN = 'https://localhost:3000';
const PLACEHOLDER_WORKER_ID = '00000000-0000-0000-0000-000000000000';

/** Emits addin/assets/* as assets/* and manifest.xml (origin rewritten) into the output. */
class AddinFilesPlugin {
  apply(compiler) {
    compiler.hooks.thisCompilation.tap('AddinFilesPlugin', (compilation) => {
      compilation.hooks.processAssets.tap({ name: 'AddinFilesPlugin', stage: webpack.Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL }, () => {
        for (const name of fs.readdirSync(ASSETS)) {
          const file = path.join(ASSETS, name);
          compilation.fileDependencies.add(file);
          compilation.emitAsset(`assets/${name}`, new webpack.sources.RawSource(fs.readFileSync(file)));
        }
        const manifestFile = path.join(__dirname, 'manifest.xml');
        compilation.fileDependencies.add(manifestFile);
        let xml = fs.readFileSync(manifestFile, 'utf8');
        const origin = process.env.ADDIN_ORIGIN;
        if (origin) xml = xml.split(MANIFEST_ORIGIN).join(origin.replace(/\/+$/, ''));
        const workerId = process.env.WORKER_API_CLIENT_ID;
        if (workerId) {
          if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(workerId)) throw new Error(`WORKER_API_CLIENT_ID must be a GUID (the worker API's application id), got "${workerId}"`);
          xml = xml.split(PLACEHOLDER_WORKER_ID).join(workerId.toLowerCase());
        }
        compilation.emitAsset('manifest.xml', new webpack.sources.RawSource(xml));
      });
    });
  }
}

module.exports = (env = {}, argv = {}) => {
  const mode = argv.mode ?? 'production';
  return {
    mode,
    context: __dirname,
    devtool: mode === 'production' ? false : 'source-map',
    entry: {
      taskpane: path.join(SRC, 'taskpane', 'index.tsx'),
      commands: path.join(SRC, 'commands', 'commands.ts'),
      signin: path.join(SRC, 'auth', 'signin-dialog.ts'),
    },
    output: {
      path: process.env.OUTPORT_ADDIN_OUT ? path.resolve(process.env.OUTPORT_ADDIN_OUT) : path.join(__dirname, 'addin', 'dist'),
      filename: '[name].[contenthash:8].js',
      chunkFilename: '[name].[contenthash:8].js',
      clean: true,
    },
    resolve: { extensions: ['.tsx', '.ts', '.mjs', '.js'] },
    module: {
      rules: [
        {
          test: /\.tsx?$/,
          // The add-in, and the worker's pure destination rules it shares (addin/src/validate).
          include: [SRC, path.join(__dirname, 'worker-service', 'src', 'storage', 'validate.ts')],
          use: { loader: 'ts-loader', options: { configFile: path.join(__dirname, 'addin', 'tsconfig.json'), transpileOnly: true, compilerOptions: { noEmit: false } } },
        },
      ],
    },
    plugins: [
      new webpack.DefinePlugin({ OUTPORT_API_BASE: JSON.stringify(process.env.OUTPORT_API_BASE ?? '') }),
      new HtmlWebpackPlugin({ filename: 'taskpane.html', template: path.join(SRC, 'taskpane', 'taskpane.html'), chunks: ['taskpane'] }),
      new HtmlWebpackPlugin({ filename: 'commands.html', template: path.join(SRC, 'commands', 'commands.html'), chunks: ['commands'] }),
      new HtmlWebpackPlugin({ filename: 'signin.html', template: path.join(SRC, 'auth', 'signin.html'), chunks: ['signin'] }),
      new HtmlWebpackPlugin({ filename: 'support.html', template: path.join(SRC, 'support', 'support.html'), chunks: [] }),
      new AddinFilesPlugin(),
    ],
    performance: { hints: mode === 'production' ? 'warning' : false, maxEntrypointSize: 500 * 1024, maxAssetSize: 500 * 1024 },
  };
};
