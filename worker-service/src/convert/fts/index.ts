/**
 * FastTransfer streams (MS-OXCFXICS 2.2.4) as Graph's mailbox export/import APIs carry them:
 * framing records (framing.ts), the lexical layer (lexer.ts), one message's grammar → MapiItem
 * (decode.ts), the inverse (encode.ts), and `outport inspect-fts` (inspect.ts).
 * Format notes: docs/fts-format.md.
 */
export * from './errors';
export * from './markers';
export * from './codepage';
export * from './framing';
export * from './lexer';
export * from './decode';
export * from './encode';
export * from './inspect';
