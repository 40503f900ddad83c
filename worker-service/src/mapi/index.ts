/** MAPI vocabulary: types, tags, named properties and the item model (no I/O). */
export * from './types';
export * from './tags';
export * from './named';
export * from './guid';
export * from './item';
